#include "envs/quadratics/max_of_two_quadratics.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "envs/core/env_batch.h"
#include "envs/core/registry.h"
#include "envs/testing/copy_bytes_check.h"
#include "envs/testing/env_checks.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using SettingMap = std::map<std::string, SettingValue>;
using Variant = MaxOfTwoQuadraticsEnv::Variant;

std::unique_ptr<Env> Make(const SettingMap& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("max_of_two_quadratics", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

TEST(MaxOfTwoQuadraticsTest, Spec) {
  std::unique_ptr<Env> env = Make({});
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.agent_ids, (std::vector<std::string>{"player_0", "player_1"}));
  for (int agent = 0; agent < 2; ++agent) {
    EXPECT_EQ(spec.action_spaces[agent], Space::Box({1}, {-10.0f}, {10.0f}));
    EXPECT_EQ(spec.observation_spaces[agent], Space::Box({1}, {0.0f}, {1.0f}));
  }
  EXPECT_EQ(spec.episode_limit, 0);
  EXPECT_TRUE(spec.info_keys.empty());
}

TEST(MaxOfTwoQuadraticsTest, OptimaAreTheSameInBothVariants) {
  for (Variant v : {Variant::kPaper, Variant::kCode}) {
    // (-5,-5): f1 = 0, f2 = -100 - 100 + 10 = -190.
    EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(v, -5, -5), 0.0);
    // (5,5): f2 = 10, f1 = 0.8 * (-200/9 or -200/3) < 0.
    EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(v, 5, 5), 10.0);
  }
}

TEST(MaxOfTwoQuadraticsTest, OriginByHand) {
  // f1 = 0.8 * (-25/9 - 25/9) = -40/9 (paper), 0.8 * (-25/3 - 25/3) = -40/3
  // (code); f2 = -25 - 25 + 10 = -40.
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kPaper, 0, 0),
                   -40.0 / 9.0);
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kCode, 0, 0),
                   -40.0 / 3.0);
}

TEST(MaxOfTwoQuadraticsTest, MoreValuesByHand) {
  // (4,4): f2 = -1 - 1 + 10 = 8 beats f1 = 0.8 * (-81/9 * 2) = -14.4.
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kPaper, 4, 4), 8.0);
  // (-2,-5): paper f1 = 0.8 * -9/9 = -0.8; code f1 = 0.8 * -9/3 = -2.4;
  // f2 = -49 - 100 + 10 = -139.
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kPaper, -2, -5),
                   -0.8);
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kCode, -2, -5), -2.4);
  // (10,-10): f1 paper = 0.8 * (-225/9 - 25/9) = -200/9 = -22.2; f2 = -25
  // - 225 + 10 = -240.
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kPaper, 10, -10),
                   -200.0 / 9.0);
}

TEST(MaxOfTwoQuadraticsTest, BothAgentsGetTheRewardAndTheEpisodeEnds) {
  for (const char* variant : {"paper", "code"}) {
    SCOPED_TRACE(variant);
    std::unique_ptr<Env> env = Make({{"variant", std::string(variant)}});
    EnvDriver driver(env.get());
    driver.Reset();
    EXPECT_EQ(driver.observation(0)[0], 0.0f);
    driver.StepContinuous({0.0f, 0.0f});
    const float expected = std::string(variant) == "paper"
                               ? static_cast<float>(-40.0 / 9.0)
                               : static_cast<float>(-40.0 / 3.0);
    EXPECT_EQ(driver.reward(0), expected);
    EXPECT_EQ(driver.reward(1), expected);
    EXPECT_TRUE(driver.terminated());
    EXPECT_EQ(driver.observation(1)[0], 0.0f);
    driver.StepContinuous({5.0f, 5.0f});
    EXPECT_EQ(driver.reward(0), 10.0f);
    driver.StepContinuous({-5.0f, -5.0f});
    EXPECT_EQ(driver.reward(1), 0.0f);
  }
}

TEST(MaxOfTwoQuadraticsTest, ZeroSumNegatesPlayerOnesReward) {
  for (const char* variant : {"paper", "code"}) {
    SCOPED_TRACE(variant);
    std::unique_ptr<Env> shared = Make({{"variant", std::string(variant)}});
    std::unique_ptr<Env> zero_sum =
        Make({{"variant", std::string(variant)}, {"zero_sum", true}});
    EnvDriver a(shared.get()), b(zero_sum.get());
    a.Reset();
    b.Reset();
    for (const auto& [a1, a2] : std::vector<std::pair<float, float>>{
             {0.0f, 0.0f}, {5.0f, 10.0f}, {-5.0f, -5.0f}, {2.5f, -7.0f}}) {
      a.StepContinuous({a1, a2});
      b.StepContinuous({a1, a2});
      EXPECT_EQ(b.reward(0), a.reward(0));  // player_0 unchanged
      EXPECT_EQ(b.reward(1), -a.reward(0));
      EXPECT_EQ(a.reward(1), a.reward(0));  // default stays cooperative
      EXPECT_TRUE(b.terminated());
    }
  }
  // The paper variant's saddle point (5, 10): f2 = 0 - 25 + 10 = -15 beats
  // f1 = 0.8 * (-100/9 - 225/9) = -28.9.
  EXPECT_DOUBLE_EQ(MaxOfTwoQuadraticsEnv::Reward(Variant::kPaper, 5, 10),
                   -15.0);
}

TEST(MaxOfTwoQuadraticsTest, ZeroSumDefaultsToFalse) {
  std::unique_ptr<Env> env = Make({{"zero_sum", false}});
  EnvDriver driver(env.get());
  driver.Reset();
  driver.StepContinuous({5.0f, 5.0f});
  EXPECT_EQ(driver.reward(1), 10.0f);
  absl::StatusOr<std::unique_ptr<Env>> bad = EnvRegistry::Global().Make(
      "max_of_two_quadratics", {{"zero_sum", std::string("yes")}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MaxOfTwoQuadraticsTest, RejectsUnknownVariant) {
  absl::StatusOr<std::unique_ptr<Env>> env = EnvRegistry::Global().Make(
      "max_of_two_quadratics", {{"variant", std::string("thesis")}});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(env.status().message().find("\"thesis\""), std::string::npos);
}

TEST(MaxOfTwoQuadraticsTest, BatchRunsOneStepEpisodes) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("max_of_two_quadratics", {}, 2, 0, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{}, {}}, {{5.0f, -5.0f}, {5.0f, -5.0f}}).ok());
  EXPECT_EQ(batch.reward(0), (std::vector<float>{10.0f, 0.0f}));
  EXPECT_EQ(batch.reward(1), (std::vector<float>{10.0f, 0.0f}));
  EXPECT_TRUE(batch.terminated(0));
  EXPECT_TRUE(batch.terminated(1));
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0, 1}));
  // Outside the box: the batch runner rejects it before the env sees it.
  EXPECT_EQ(batch.StepAll({{}, {}}, {{10.5f, 0.0f}, {0.0f, 0.0f}}).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(MaxOfTwoQuadraticsTest, EstimateBoundsWhatACopyHolds) {
  for (const char* variant : {"paper", "code"}) {
    absl::StatusOr<CopyBytesMeasurement> check = CheckCopyBytesEstimate(
        "max_of_two_quadratics", {{"variant", std::string(variant)}},
        /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
  }
  EXPECT_EQ(CheckCopyBytesEstimate("max_of_two_quadratics",
                                   {{"variant", std::string("poster")}}, 1.1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MaxOfTwoQuadraticsTest, PassesGenericChecks) {
  for (const char* variant : {"paper", "code"}) {
    for (bool zero_sum : {false, true}) {
      EnvCheckOptions options;
      options.settings = {{"variant", std::string(variant)},
                          {"zero_sum", zero_sum}};
      const absl::Status s = RunEnvChecks("max_of_two_quadratics", options);
      EXPECT_TRUE(s.ok()) << s;
    }
  }
}

}  // namespace
}  // namespace marl
