#include "envs/cards/tiny_hanabi.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "envs/cards/tiny_hanabi_game.h"
#include "envs/core/env.h"
#include "envs/core/env_batch.h"
#include "envs/core/registry.h"
#include "envs/core/settings.h"
#include "envs/testing/copy_bytes_check.h"
#include "envs/testing/env_checks.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using SettingMap = std::map<std::string, SettingValue>;

std::unique_ptr<Env> Make(const SettingMap& settings = {}) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("tiny_hanabi", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

absl::Status MakeError(const SettingMap& settings) {
  return EnvRegistry::Global().Make("tiny_hanabi", settings).status();
}

DoubleArray Flat(const std::vector<double>& values) {
  return DoubleArray{{static_cast<int64_t>(values.size())}, values};
}

TinyHanabiEnv* Tiny(const std::unique_ptr<Env>& env) {
  return static_cast<TinyHanabiEnv*>(env.get());
}

TEST(TinyHanabiTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make();
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.agent_ids, (std::vector<std::string>{"player_0", "player_1"}));
  for (int agent = 0; agent < 2; ++agent) {
    EXPECT_EQ(spec.observation_spaces[agent], Space::Discrete(2));
    EXPECT_EQ(spec.action_spaces[agent], Space::Discrete(3));
  }
  EXPECT_TRUE(spec.has_public_observation);
  EXPECT_EQ(spec.public_observation_space, Space::Box({5}, {0.0f}, {1.0f}));
  EXPECT_TRUE(spec.has_state);
  EXPECT_EQ(spec.state_space, Space::Box({9}, {0.0f}, {1.0f}));
  EXPECT_TRUE(spec.sequential);
  EXPECT_FALSE(spec.has_action_masks);
  EXPECT_EQ(spec.episode_limit, 0);
  EXPECT_TRUE(spec.info_keys.empty());

  std::unique_ptr<Env> wide =
      Make({{"num_cards", int64_t{3}},
            {"num_actions", int64_t{4}},
            {"payoff", Flat(std::vector<double>(144, 1.0))}});
  EXPECT_EQ(wide->spec().observation_spaces[1], Space::Discrete(3));
  EXPECT_EQ(wide->spec().action_spaces[0], Space::Discrete(4));
  EXPECT_EQ(wide->spec().public_observation_space,
            Space::Box({6}, {0.0f}, {1.0f}));
  EXPECT_EQ(wide->spec().state_space, Space::Box({12}, {0.0f}, {1.0f}));
}

// Every entry of the BAD table, read back by stepping the env with the
// cards dealt by hand. The agent that does not act sends a different
// action each time: only the acting agent's action counts.
TEST(TinyHanabiTest, EveryBadPayoffThroughTheEnv) {
  const TinyHanabiPayoffs bad = TinyHanabiPayoffs::Bad();
  std::unique_ptr<Env> env = Make();
  EnvDriver driver(env.get());
  for (int c0 = 0; c0 < 2; ++c0) {
    for (int c1 = 0; c1 < 2; ++c1) {
      for (int a0 = 0; a0 < 3; ++a0) {
        for (int a1 = 0; a1 < 3; ++a1) {
          driver.Reset();
          ASSERT_TRUE(Tiny(env)->game_for_testing()->Deal(c0, c1).ok());
          driver.StepDiscrete({a0, (a0 + a1 + 1) % 3});
          EXPECT_EQ(driver.reward(0), 0.0f);
          EXPECT_EQ(driver.reward(1), 0.0f);
          EXPECT_FALSE(driver.terminated());
          EXPECT_EQ(driver.current_agent(), 1);
          driver.StepDiscrete({(a0 + 2 * a1) % 3, a1});
          const float payoff = static_cast<float>(bad(c0, c1, a0, a1));
          EXPECT_EQ(driver.reward(0), payoff) << c0 << c1 << a0 << a1;
          EXPECT_EQ(driver.reward(1), payoff) << c0 << c1 << a0 << a1;
          EXPECT_TRUE(driver.terminated());
        }
      }
    }
  }
}

// The layout documented in tiny_hanabi.h, at every point of an episode.
TEST(TinyHanabiTest, ObservationsPublicObservationAndState) {
  std::unique_ptr<Env> env = Make();
  EnvDriver driver(env.get());
  for (int episode = 0; episode < 8; ++episode) {
    driver.Reset();
    const int c0 = Tiny(env)->game().card(0);
    const int c1 = Tiny(env)->game().card(1);
    auto expect = [&](const std::vector<float>& public_observation,
                      const char* when) {
      EXPECT_EQ(driver.observation(0), std::vector<float>{float(c0)}) << when;
      EXPECT_EQ(driver.observation(1), std::vector<float>{float(c1)}) << when;
      EXPECT_EQ(driver.public_observation(), public_observation) << when;
      std::vector<float> state(4, 0.0f);
      state[c0] = 1.0f;
      state[2 + c1] = 1.0f;
      state.insert(state.end(), public_observation.begin(),
                   public_observation.end());
      EXPECT_EQ(driver.state(), state) << when;
    };
    expect({1, 0, 0, 0, 0}, "after the reset");
    EXPECT_EQ(driver.current_agent(), 0);
    const int a0 = episode % 3;
    driver.StepDiscrete({a0, 0});
    std::vector<float> after_a0 = {0, 1, 0, 0, 0};
    after_a0[2 + a0] = 1.0f;
    expect(after_a0, "after player_0's action");
    EXPECT_EQ(driver.current_agent(), 1);
    driver.StepDiscrete({0, 1});
    std::vector<float> over = {0, 0, 0, 0, 0};
    over[2 + a0] = 1.0f;
    expect(over, "at the end");
  }
}

// The cards of many copies, reset with fixed seeds (so the counts are
// always the same): every pair about equally often, both cards independent.
TEST(TinyHanabiTest, DealingIsUniform) {
  constexpr int kCards = 3, kCopies = 3000;
  const SettingMap three = {{"num_cards", int64_t{kCards}},
                            {"num_actions", int64_t{1}},
                            {"payoff", Flat(std::vector<double>(9, 0.0))}};
  int counts[kCards][kCards] = {};
  for (uint64_t seed : {1, 2, 3}) {
    absl::StatusOr<std::unique_ptr<EnvBatch>> made =
        EnvBatch::Create("tiny_hanabi", three, kCopies, seed, true);
    ASSERT_TRUE(made.ok()) << made.status();
    LocalBatch batch(*std::move(made));
    ASSERT_TRUE(batch.ResetAll().ok());
    for (int c = 0; c < kCopies; ++c) {
      ++counts[static_cast<int>(batch.observation(0)[c])]
              [static_cast<int>(batch.observation(1)[c])];
    }
  }
  // Pearson's chi-square over the 9 pairs (8 degrees of freedom): 26.1 is
  // its 0.999 quantile.
  const double expected = 3.0 * kCopies / (kCards * kCards);
  double chi_square = 0;
  for (const auto& row : counts) {
    for (const int count : row) {
      chi_square += (count - expected) * (count - expected) / expected;
    }
  }
  EXPECT_LT(chi_square, 26.1);
}

TEST(TinyHanabiTest, PassesTheGenericChecks) {
  for (const SettingMap& settings :
       {SettingMap{},
        SettingMap{{"num_cards", int64_t{3}},
                   {"num_actions", int64_t{2}},
                   {"payoff", Flat(std::vector<double>(36, -2.5))}}}) {
    EnvCheckOptions options;
    options.settings = settings;
    options.stochastic = true;  // the cards depend on the copy's seed
    const absl::Status s = RunEnvChecks("tiny_hanabi", options);
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST(TinyHanabiTest, BadSettingsGetClearErrors) {
  auto message = [](const SettingMap& settings) {
    const absl::Status status = MakeError(settings);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  };
  std::vector<double> bad = TinyHanabiPayoffs::BadValues();
  EXPECT_EQ(message({{"payoff", Flat({bad.begin(), bad.end() - 1})}}),
            "payoff has 35 values; num_cards=2 and num_actions=3 need 2*2*3*3 "
            "= 36, indexed [card0][card1][a0][a1]");
  EXPECT_EQ(message({{"num_cards", int64_t{3}}}),
            "payoff has 36 values; num_cards=3 and num_actions=3 need 3*3*3*3 "
            "= 81, indexed [card0][card1][a0][a1]");
  EXPECT_EQ(message({{"num_cards", int64_t{0}}}),
            "num_cards must be in [1, 2147483647], got 0");
  EXPECT_EQ(message({{"num_actions", int64_t{-3}}}),
            "num_actions must be in [1, 2147483647], got -3");
  EXPECT_EQ(message({{"num_actions", int64_t{1} << 40}}),
            "num_actions must be in [1, 2147483647], got 1099511627776");
  EXPECT_EQ(message({{"payoff", DoubleArray{{6, 6}, bad}}}),
            "payoff must be flat, [v0,v1,...], or of shape [num_cards, "
            "num_cards, num_actions, num_actions] = [2,2,3,3]; got shape "
            "[6,6]");
  EXPECT_NE(message({{"payoff", DoubleArray{}}}).find("got shape []"),
            std::string::npos);
  // A flat shape must say how many values there are.
  EXPECT_NE(
      message({{"payoff", DoubleArray{{35}, bad}}}).find("got shape [35]"),
      std::string::npos);
  bad[4] = std::nan("");
  EXPECT_EQ(message({{"payoff", Flat(bad)}}),
            "payoff entry 4 is not finite: nan");
  bad[4] = -1e31;
  EXPECT_EQ(message({{"payoff", Flat(bad)}}),
            "payoff entry 4 is -1e+31: every payoff, as a float reward, must "
            "be within +-1e+30");
  // 1e30 rounds up as a float.
  bad[4] = 1e30;
  EXPECT_NE(message({{"payoff", Flat(bad)}}).find("payoff entry 4 is 1e+30"),
            std::string::npos);
  bad[4] = 9.9e29;
  EXPECT_TRUE(MakeError({{"payoff", Flat(bad)}}).ok());
}

TEST(TinyHanabiTest, TheTableMayBeFourDimensional) {
  const std::vector<double>& bad = TinyHanabiPayoffs::BadValues();
  std::unique_ptr<Env> env = Make({{"payoff", DoubleArray{{2, 2, 3, 3}, bad}}});
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(Tiny(env)->game().payoffs().values(), bad);
}

// Counts whose table no memory holds are refused by the estimate the
// server checks first and by the factory, never built.
TEST(TinyHanabiTest, AHugeTableIsResourceExhausted) {
  const SettingMap huge = {{"num_cards", int64_t{2147483647}}};
  const absl::Status made = MakeError(huge);
  EXPECT_EQ(made.code(), absl::StatusCode::kResourceExhausted) << made;
  EXPECT_NE(made.message().find("num_cards=2147483647 and num_actions=3"),
            std::string::npos);
  const EnvRegistration* registration =
      *EnvRegistry::Global().Find("tiny_hanabi");
  ASSERT_NE(registration->estimate_copy_bytes, nullptr);
  absl::StatusOr<Settings> settings =
      Settings::Resolve(registration->settings, huge);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(EstimateCopyBytes(*registration, *settings).status().code(),
            absl::StatusCode::kResourceExhausted);
  const absl::Status batch =
      EnvBatch::Create("tiny_hanabi", huge, 1, 1, true).status();
  EXPECT_EQ(batch.code(), absl::StatusCode::kResourceExhausted) << batch;

  // A table within reach counts against the server's budget: 64 cards and
  // 16 actions are 2^20 payoffs, 8 MiB a copy.
  const SettingMap big = {
      {"num_cards", int64_t{64}},
      {"num_actions", int64_t{16}},
      {"payoff", Flat(std::vector<double>(int64_t{1} << 20, 0.0))}};
  settings = Settings::Resolve(registration->settings, big);
  ASSERT_TRUE(settings.ok());
  absl::StatusOr<int64_t> bytes = EstimateCopyBytes(*registration, *settings);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_GT(*bytes, int64_t{8} << 20);
  const absl::Status over_budget =
      EnvBatch::Create("tiny_hanabi", big, 4, 1, true, [](int64_t estimate) {
        return estimate > (int64_t{16} << 20)
                   ? absl::ResourceExhaustedError("budget")
                   : absl::OkStatus();
      }).status();
  EXPECT_EQ(over_budget.code(), absl::StatusCode::kResourceExhausted);
}

TEST(TinyHanabiTest, EstimateBoundsWhatACopyHolds) {
  for (const SettingMap& settings :
       {SettingMap{},
        SettingMap{{"num_cards", int64_t{10}},
                   {"num_actions", int64_t{10}},
                   {"payoff", Flat(std::vector<double>(10000, 1.0))}}}) {
    absl::StatusOr<CopyBytesMeasurement> check =
        CheckCopyBytesEstimate("tiny_hanabi", settings, /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
  }
}

}  // namespace
}  // namespace marl
