#include "envs/beauty_contest/beauty_contest.h"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>

#include "envs/core/env_batch.h"
#include "envs/core/registry.h"
#include "envs/testing/copy_bytes_check.h"
#include "envs/testing/env_checks.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using SettingMap = std::map<std::string, SettingValue>;

std::unique_ptr<Env> Make(const SettingMap& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("beauty_contest", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

SettingMap ThreeAgents(const std::string& reward) {
  return {{"num_agents", int64_t{3}}, {"reward", reward}};
}

TEST(BeautyContestTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make({});
  const EnvSpec& spec = env->spec();
  ASSERT_EQ(spec.num_agents(), 10);
  EXPECT_EQ(spec.agent_ids[0], "player_0");
  EXPECT_EQ(spec.agent_ids[9], "player_9");
  for (int agent = 0; agent < 10; ++agent) {
    EXPECT_EQ(spec.action_spaces[agent], Space::Box({1}, {0.0f}, {100.0f}));
    EXPECT_EQ(spec.observation_spaces[agent], Space::Box({1}, {0.0f}, {1.0f}));
  }
  EXPECT_EQ(spec.info_keys, (std::vector<std::string>{"target"}));
  EXPECT_EQ(spec.episode_limit, 0);
}

// Guesses (10, 20, 60), p = 0.7: mean 30, target 21; distances 11, 1, 39.
TEST(BeautyContestTest, AbsoluteRewardByHand) {
  std::unique_ptr<Env> env = Make(ThreeAgents("absolute"));
  EnvDriver driver(env.get());
  driver.Reset();
  EXPECT_EQ(driver.info()[0], 0.0f);
  driver.StepContinuous({10.0f, 20.0f, 60.0f});
  EXPECT_FLOAT_EQ(driver.info()[0], 21.0f);
  EXPECT_FLOAT_EQ(driver.reward(0), -11.0f);
  EXPECT_FLOAT_EQ(driver.reward(1), -1.0f);
  EXPECT_FLOAT_EQ(driver.reward(2), -39.0f);
  EXPECT_TRUE(driver.terminated());
  EXPECT_EQ(driver.observation(2)[0], 0.0f);
}

TEST(BeautyContestTest, SquaredRewardByHand) {
  std::unique_ptr<Env> env = Make(ThreeAgents("squared"));
  EnvDriver driver(env.get());
  driver.Reset();
  driver.StepContinuous({10.0f, 20.0f, 60.0f});
  EXPECT_FLOAT_EQ(driver.info()[0], 21.0f);
  EXPECT_FLOAT_EQ(driver.reward(0), -121.0f);
  EXPECT_FLOAT_EQ(driver.reward(1), -1.0f);
  EXPECT_FLOAT_EQ(driver.reward(2), -1521.0f);
}

TEST(BeautyContestTest, ClosestRewardByHand) {
  std::unique_ptr<Env> env = Make(ThreeAgents("closest"));
  EnvDriver driver(env.get());
  driver.Reset();
  driver.StepContinuous({10.0f, 20.0f, 60.0f});
  EXPECT_FLOAT_EQ(driver.info()[0], 21.0f);
  EXPECT_EQ(driver.reward(0), 0.0f);
  EXPECT_EQ(driver.reward(1), 1.0f);
  EXPECT_EQ(driver.reward(2), 0.0f);
  // Ties all win: (4, 10, 16): mean 10, target 7; 4 and 10 are 3 away.
  driver.StepContinuous({4.0f, 10.0f, 16.0f});
  EXPECT_FLOAT_EQ(driver.info()[0], 7.0f);
  EXPECT_EQ(driver.reward(0), 1.0f);
  EXPECT_EQ(driver.reward(1), 1.0f);
  EXPECT_EQ(driver.reward(2), 0.0f);
  // Equal guesses tie too: everyone at 50, target 35.
  driver.StepContinuous({50.0f, 50.0f, 50.0f});
  EXPECT_FLOAT_EQ(driver.info()[0], 35.0f);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(driver.reward(i), 1.0f);
}

TEST(BeautyContestTest, ClosestTiesSurviveRoundingOfTheTarget) {
  // Guesses 0.1 and 0.3 around a target of 0.2: in doubles the distances
  // come out as 0.10000000000000003 and 0.09999999999999995, so an exact
  // comparison would crown 0.3 alone; the tolerance keeps the tie.
  std::vector<double> rewards;
  // x makes target = 0.7 * (0.1 + 0.3 + x) / 3 = 0.2 (up to rounding).
  const double x = 0.2 * 3 / 0.7 - 0.4;
  const double target = BeautyContestEnv::Score(
      BeautyContestEnv::Reward::kClosest, 0.7, {0.1, 0.3, x}, &rewards);
  EXPECT_NEAR(target, 0.2, 1e-12);
  EXPECT_EQ(rewards, (std::vector<double>{1, 1, 0}));
}

TEST(BeautyContestTest, TargetUsesP) {
  std::unique_ptr<Env> env = Make({{"num_agents", int64_t{2}},
                                   {"p", 1.1},
                                   {"reward", std::string("absolute")}});
  EnvDriver driver(env.get());
  driver.Reset();
  // mean 50, target 55: distances 15 and 5.
  driver.StepContinuous({40.0f, 60.0f});
  EXPECT_FLOAT_EQ(driver.info()[0], 55.0f);
  EXPECT_FLOAT_EQ(driver.reward(0), -15.0f);
  EXPECT_FLOAT_EQ(driver.reward(1), -5.0f);
}

TEST(BeautyContestTest, BatchKeepsTheTargetOfTheEndedEpisode) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("beauty_contest", ThreeAgents("absolute"), 1, 0, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{}, {}, {}}, {{10.0f}, {20.0f}, {60.0f}}).ok());
  EXPECT_TRUE(batch.terminated(0));
  EXPECT_FALSE(batch.truncated(0));
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0}));
  ASSERT_EQ(batch.info().size(), 1u);
  EXPECT_FLOAT_EQ(batch.info()[0], 21.0f);
  EXPECT_FLOAT_EQ(batch.reward(1)[0], -1.0f);
}

void ExpectMakeFails(const SettingMap& settings, const std::string& fragment) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("beauty_contest", settings);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(env.status().message().find(fragment), std::string::npos)
      << env.status();
}

TEST(BeautyContestTest, FactoryRejectsBadSettings) {
  ExpectMakeFails({{"num_agents", int64_t{1}}}, "num_agents");
  ExpectMakeFails({{"num_agents", int64_t{-3}}}, "num_agents");
  ExpectMakeFails({{"p", -0.5}}, "p must be");
  ExpectMakeFails({{"p", std::numeric_limits<double>::infinity()}},
                  "p must be");
  ExpectMakeFails({{"reward", std::string("relative")}}, "\"relative\"");
  ExpectMakeFails({{"p", std::nan("")}}, "p must be");
  ExpectMakeFails({{"num_agents", int64_t{1} << 31}},
                  "num_agents must be in [2, 2147483647], got 2147483648");
}

// Issue 9: p = 1e308 gave infinite rewards. The bound depends on the
// reward kind, and the message names it.
TEST(BeautyContestTest, PIsBoundedSoThatRewardsStayFinite) {
  ExpectMakeFails({{"p", 1e308}}, "p must be in [0, 1e+27], got 1e+308");
  ExpectMakeFails({{"p", 1e308}, {"reward", std::string("closest")}},
                  "p must be in [0, 1e+27]");
  ExpectMakeFails({{"p", 1.1e12}, {"reward", std::string("squared")}},
                  "p must be in [0, 1e+12], got 1.1e+12 (with reward "
                  "\"squared\"");
  // The largest p of each kind, with the guesses that push the reward
  // furthest: every reward and the target are finite and within the bound.
  for (const auto& [reward, p] : std::vector<std::pair<std::string, double>>{
           {"absolute", 1e27}, {"closest", 1e27}, {"squared", 1e12}}) {
    std::unique_ptr<Env> env = Make({{"num_agents", int64_t{3}},
                                     {"p", p},
                                     {"reward", std::string(reward)}});
    ASSERT_NE(env, nullptr) << reward;
    EnvDriver driver(env.get());
    for (const std::vector<float>& guesses :
         {std::vector<float>{100, 100, 100}, std::vector<float>{0, 0, 100},
          std::vector<float>{0, 100, 100}}) {
      driver.Reset();
      driver.StepContinuous(guesses);
      for (int agent = 0; agent < 3; ++agent) {
        EXPECT_TRUE(std::isfinite(driver.reward(agent))) << reward;
        EXPECT_LE(std::abs(driver.reward(agent)), kMaxAbsReward) << reward;
      }
      EXPECT_LE(driver.info()[0], kMaxAbsReward) << reward;
    }
    if (reward != "closest") {
      // All guess 100: the reward is (about) -(100 p)^k, the extreme.
      driver.Reset();
      driver.StepContinuous({100, 100, 100});
      EXPECT_LT(driver.reward(0), reward == "squared" ? -9e27 : -9e28);
    }
  }
}

// Issue 9: num_agents = 10^6 allocated 1.8 GB per make before any check.
// The estimate covers it before anything is built, and bounds what a copy
// really holds (the allocator model of envs/core/memory_estimate.h, within
// 10%: it mirrors the copy's members).
TEST(BeautyContestTest, EstimateBoundsWhatACopyHolds) {
  for (int64_t n : {2, 1000, 100000}) {
    absl::StatusOr<CopyBytesMeasurement> check = CheckCopyBytesEstimate(
        "beauty_contest", {{"num_agents", n}}, /*max_factor=*/1.1);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_GE(check->measured, n * 400);  // two spaces and an id per agent
  }
  const EnvRegistration* registration =
      *EnvRegistry::Global().Find("beauty_contest");
  ASSERT_NE(registration->estimate_copy_bytes, nullptr);
  for (int64_t n : {int64_t{1000000}, int64_t{2147483647}}) {
    absl::StatusOr<Settings> settings =
        Settings::Resolve(registration->settings, {{"num_agents", n}});
    ASSERT_TRUE(settings.ok());
    absl::StatusOr<int64_t> bytes = EstimateCopyBytes(*registration, *settings);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_GT(*bytes, n * 400);
    EXPECT_LT(*bytes, n * 600 + 65536);
  }
  // Settings the factory refuses, the estimate refuses alike.
  absl::StatusOr<Settings> bad =
      Settings::Resolve(registration->settings, {{"p", 1e308}});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(EstimateCopyBytes(*registration, *bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BeautyContestTest, PassesGenericChecks) {
  for (const SettingMap& settings :
       {SettingMap{}, ThreeAgents("squared"), ThreeAgents("closest"),
        SettingMap{{"num_agents", int64_t{2}}, {"p", 1.1}}}) {
    EnvCheckOptions options;
    options.settings = settings;
    const absl::Status s = RunEnvChecks("beauty_contest", options);
    EXPECT_TRUE(s.ok()) << s;
  }
}

}  // namespace
}  // namespace marl
