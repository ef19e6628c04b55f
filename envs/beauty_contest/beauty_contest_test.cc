#include "envs/beauty_contest/beauty_contest.h"

#include <limits>
#include <map>
#include <memory>
#include <string>

#include "envs/core/env_batch.h"
#include "envs/core/registry.h"
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
