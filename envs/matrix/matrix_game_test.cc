#include "envs/matrix/matrix_game.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "envs/core/env_batch.h"
#include "envs/core/registry.h"
#include "envs/matrix/payoffs.h"
#include "envs/testing/copy_bytes_check.h"
#include "envs/testing/env_checks.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using SettingMap = std::map<std::string, SettingValue>;

std::unique_ptr<Env> Make(const SettingMap& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("matrix_game", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

SettingMap Game(const std::string& name) {
  return {{"game", std::string(name)}};
}

// Plays one step from a fresh reset and returns both rewards.
std::pair<float, float> Play(Env* env, int64_t a0, int64_t a1) {
  EnvDriver driver(env);
  driver.Reset();
  driver.StepDiscrete({a0, a1});
  EXPECT_TRUE(driver.terminated());
  EXPECT_EQ(driver.observation(0)[0], 0.0f);
  EXPECT_EQ(driver.observation(1)[0], 0.0f);
  return {driver.reward(0), driver.reward(1)};
}

TEST(MatrixGameTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make({});
  ASSERT_NE(env, nullptr);
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.agent_ids, (std::vector<std::string>{"player_0", "player_1"}));
  EXPECT_EQ(spec.observation_spaces[0], Space::Discrete(1));
  EXPECT_EQ(spec.observation_spaces[1], Space::Discrete(1));
  EXPECT_EQ(spec.action_spaces[0], Space::Discrete(2));
  EXPECT_EQ(spec.action_spaces[1], Space::Discrete(2));
  EXPECT_TRUE(spec.info_keys.empty());
  EXPECT_EQ(spec.episode_limit, 0);
  EXPECT_FALSE(spec.has_action_masks);
  EXPECT_FALSE(spec.sequential);
}

TEST(MatrixGameTest, DefaultIsThePrisonersDilemma) {
  std::unique_ptr<Env> env = Make({});
  EXPECT_EQ(Play(env.get(), 0, 0), std::make_pair(3.0f, 3.0f));
  EXPECT_EQ(Play(env.get(), 0, 1), std::make_pair(0.0f, 5.0f));
  EXPECT_EQ(Play(env.get(), 1, 0), std::make_pair(5.0f, 0.0f));
  EXPECT_EQ(Play(env.get(), 1, 1), std::make_pair(1.0f, 1.0f));
}

TEST(MatrixGameTest, WolfRewardsForEveryJointAction) {
  std::unique_ptr<Env> env = Make(Game("wolf"));
  // [[0,3],[1,2]] / [[3,2],[0,1]]
  EXPECT_EQ(Play(env.get(), 0, 0), std::make_pair(0.0f, 3.0f));
  EXPECT_EQ(Play(env.get(), 0, 1), std::make_pair(3.0f, 2.0f));
  EXPECT_EQ(Play(env.get(), 1, 0), std::make_pair(1.0f, 0.0f));
  EXPECT_EQ(Play(env.get(), 1, 1), std::make_pair(2.0f, 1.0f));
}

TEST(MatrixGameTest, ThesisZeroSumNegatesThesisCoop) {
  std::unique_ptr<Env> coop = Make(Game("thesis_coop"));
  std::unique_ptr<Env> zero_sum = Make(Game("thesis_zero_sum"));
  ASSERT_EQ(zero_sum->spec().action_spaces[0], Space::Discrete(3));
  const float thesis[3][3] = {{2, 3, 3}, {1, 4, 0}, {1, 0, 10}};
  for (int a0 = 0; a0 < 3; ++a0) {
    for (int a1 = 0; a1 < 3; ++a1) {
      const float v = thesis[a0][a1];
      EXPECT_EQ(Play(coop.get(), a0, a1), std::make_pair(v, v));
      EXPECT_EQ(Play(zero_sum.get(), a0, a1), std::make_pair(v, -v));
    }
  }
}

TEST(MatrixGameTest, EveryPresetPaysItsTable) {
  for (const MatrixGamePreset& preset : MatrixGamePresets()) {
    SCOPED_TRACE(preset.name);
    std::unique_ptr<Env> env = Make(Game(preset.name));
    ASSERT_NE(env, nullptr);
    const PayoffMatrices& p = preset.payoffs;
    EXPECT_EQ(env->spec().action_spaces[0], Space::Discrete(p.rows));
    EXPECT_EQ(env->spec().action_spaces[1], Space::Discrete(p.cols));
    for (int a0 = 0; a0 < p.rows; ++a0) {
      for (int a1 = 0; a1 < p.cols; ++a1) {
        EXPECT_EQ(Play(env.get(), a0, a1),
                  std::make_pair(static_cast<float>(p.RowPayoff(a0, a1)),
                                 static_cast<float>(p.ColumnPayoff(a0, a1))));
      }
    }
  }
}

TEST(MatrixGameTest, CustomThreeByTwoWithRewardScale) {
  std::unique_ptr<Env> env =
      Make({{"payoffs_row", DoubleArray{{3, 2}, {1, 2, 3, 4, 5, 6}}},
            {"payoffs_column", DoubleArray{{3, 2}, {0, -1, -2, -3, -4, -5}}},
            {"reward_scale", 0.5}});
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->spec().action_spaces[0], Space::Discrete(3));
  EXPECT_EQ(env->spec().action_spaces[1], Space::Discrete(2));
  EXPECT_EQ(Play(env.get(), 0, 0), std::make_pair(0.5f, 0.0f));
  EXPECT_EQ(Play(env.get(), 1, 1), std::make_pair(2.0f, -1.5f));
  EXPECT_EQ(Play(env.get(), 2, 0), std::make_pair(2.5f, -2.0f));
  EXPECT_EQ(Play(env.get(), 2, 1), std::make_pair(3.0f, -2.5f));
}

TEST(MatrixGameTest, IntegerRewardScaleIsWidened) {
  std::unique_ptr<Env> env =
      Make({{"game", std::string("wolf")}, {"reward_scale", int64_t{-2}}});
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(Play(env.get(), 0, 1), std::make_pair(-6.0f, -4.0f));
}

void ExpectMakeFails(const SettingMap& settings, const std::string& fragment) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("matrix_game", settings);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(env.status().message().find(fragment), std::string::npos)
      << env.status();
}

TEST(MatrixGameTest, FactoryRejectsBadSettings) {
  ExpectMakeFails({{"payoffs_row", DoubleArray{{2, 2}, {1, 2, 3, 4}}},
                   {"payoffs_column", DoubleArray{{2, 1}, {1, 2}}}},
                  "same shape");
  ExpectMakeFails({{"payoffs_row", DoubleArray{{2, 2}, {1, 2, 3, 4}}}},
                  "only payoffs_row");
  ExpectMakeFails({{"payoffs_row", DoubleArray{{4}, {1, 2, 3, 4}}},
                   {"payoffs_column", DoubleArray{{4}, {1, 2, 3, 4}}}},
                  "2-D matrix");
  ExpectMakeFails(Game("tic_tac_toe"), "unknown matrix game 'tic_tac_toe'");
  ExpectMakeFails({{"reward_scale", std::string("big")}}, "reward_scale");
  ExpectMakeFails({{"rows", int64_t{2}}}, "unknown setting 'rows'");
  // Issue 9: infinite rewards from a finite but absurd scale.
  ExpectMakeFails({{"reward_scale", 1e308}},
                  "reward_scale must be in [-2e+29, 2e+29], got 1e+308");
  ExpectMakeFails({{"reward_scale", double{NAN}}}, "reward_scale");
  ExpectMakeFails({{"reward_scale", double{-INFINITY}}}, "reward_scale");
  ExpectMakeFails({{"payoffs_row", DoubleArray{{1, 1}, {1e308}}},
                   {"payoffs_column", DoubleArray{{1, 1}, {1}}},
                   {"reward_scale", 10.0}},
                  "reward_scale");
  // Issue 9: shapes whose size wraps in int64 arithmetic.
  const int64_t big = int64_t{1} << 32;
  ExpectMakeFails({{"payoffs_row", DoubleArray{{big, big}, {}}},
                   {"payoffs_column", DoubleArray{{big, big}, {}}}},
                  "payoffs_row has 0 values for shape 4294967296 x 4294967296");
  const DoubleArray four{{(int64_t{1} << 62) + 1, 4}, {1, 2, 3, 4}};
  ExpectMakeFails({{"payoffs_row", four}, {"payoffs_column", four}},
                  "payoffs_row has 4 values");
}

TEST(MatrixGameTest, LargestAllowedScaleGivesFiniteRewardsWithinTheBound) {
  // Prisoner's dilemma: max|payoff| = 5, so |reward_scale| <= 2e29.
  for (double scale : {1.999e29, -1.999e29}) {
    std::unique_ptr<Env> env = Make({{"reward_scale", scale}});
    ASSERT_NE(env, nullptr);
    const auto [r0, r1] = Play(env.get(), 1, 0);  // defect on cooperate: 5, 0
    EXPECT_TRUE(std::isfinite(r0));
    EXPECT_LE(std::abs(r0), kMaxAbsReward);
    EXPECT_GT(std::abs(r0), 9e29);
    EXPECT_EQ(r1, 0.0f);
  }
}

TEST(MatrixGameTest, EstimateRefusesWhatTheFactoryRefuses) {
  const EnvRegistration* registration =
      *EnvRegistry::Global().Find("matrix_game");
  ASSERT_NE(registration->estimate_copy_bytes, nullptr);
  const int64_t big = int64_t{1} << 32;
  for (const SettingMap& given :
       {SettingMap{{"reward_scale", 1e308}},
        SettingMap{{"payoffs_row", DoubleArray{{big, big}, {}}},
                   {"payoffs_column", DoubleArray{{big, big}, {}}}},
        Game("tic_tac_toe")}) {
    absl::StatusOr<Settings> settings =
        Settings::Resolve(registration->settings, given);
    ASSERT_TRUE(settings.ok());
    EXPECT_EQ(EstimateCopyBytes(*registration, *settings).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// Each copy holds its own rewards (two floats per joint action): a
// 1000 x 1000 game takes 8 MB a copy.
TEST(MatrixGameTest, EstimateBoundsWhatACopyHolds) {
  for (int n : {1, 30, 1000}) {
    DoubleArray payoffs{{n, n}, std::vector<double>(n * n, 1.0)};
    absl::StatusOr<CopyBytesMeasurement> check = CheckCopyBytesEstimate(
        "matrix_game", {{"payoffs_row", payoffs}, {"payoffs_column", payoffs}},
        /*max_factor=*/1.1);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_GE(check->measured, 2 * 4 * n * n);
  }
  absl::StatusOr<CopyBytesMeasurement> preset =
      CheckCopyBytesEstimate("matrix_game", Game("climbing"), 1.1);
  EXPECT_TRUE(preset.ok()) << preset.status();
}

TEST(MatrixGameTest, EveryStepEndsTheEpisodeInABatch) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("matrix_game", Game("climbing"), 2, 5, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{0, 1}, {0, 1}}, {{}, {}}).ok());
  for (int c = 0; c < 2; ++c) {
    EXPECT_TRUE(batch.terminated(c));
    EXPECT_FALSE(batch.truncated(c));
    EXPECT_EQ(batch.episode_step(c), 1);
  }
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(batch.reward(0), (std::vector<float>{11, 7}));
  EXPECT_EQ(batch.reward(1), (std::vector<float>{11, 7}));
  EXPECT_EQ(batch.observation(0), (std::vector<float>{0, 0}));
}

TEST(MatrixGameTest, ABatchStepsEveryRowAsOneCopyWould) {
  // The batch steps all rows in one StepRows call per run of 64 rows; 70
  // copies make a second, shorter run. A 3x2 game whose players are paid
  // differently; copy c plays cell (c * 5) % 6, so neighbouring rows
  // differ.
  constexpr int kCopies = 70;
  const SettingMap game = {
      {"payoffs_row", DoubleArray{{3, 2}, {1, 2, 3, 4, 5, 6}}},
      {"payoffs_column", DoubleArray{{3, 2}, {10, 20, 30, 40, 50, 60}}}};
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("matrix_game", game, kCopies, 5, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  std::vector<std::vector<int64_t>> actions(2);
  for (int c = 0; c < kCopies; ++c) {
    const int cell = (c * 5) % 6;
    actions[0].push_back(cell / 2);
    actions[1].push_back(cell % 2);
  }
  ASSERT_TRUE(batch.StepAll(actions, {{}, {}}).ok());
  std::unique_ptr<Env> one = Make(game);
  ASSERT_NE(one, nullptr);
  for (int c = 0; c < kCopies; ++c) {
    SCOPED_TRACE(c);
    const auto [r0, r1] = Play(one.get(), actions[0][c], actions[1][c]);
    EXPECT_EQ(r1, 10 * r0);
    EXPECT_EQ(batch.reward(0)[c], r0);
    EXPECT_EQ(batch.reward(1)[c], r1);
    EXPECT_TRUE(batch.terminated(c));
    EXPECT_EQ(batch.observation(0)[c], 0.0f);
    EXPECT_EQ(batch.final_observation(1)[c], 0.0f);
  }
  EXPECT_EQ(batch.final_rows().size(), static_cast<size_t>(kCopies));
}

TEST(MatrixGameTest, PassesGenericChecks) {
  for (const SettingMap& settings :
       {SettingMap{}, Game("climbing"), Game("thesis_zero_sum"),
        SettingMap{
            {"payoffs_row", DoubleArray{{3, 2}, {1, 2, 3, 4, 5, 6}}},
            {"payoffs_column", DoubleArray{{3, 2}, {6, 5, 4, 3, 2, 1}}}}}) {
    EnvCheckOptions options;
    options.settings = settings;
    const absl::Status s = RunEnvChecks("matrix_game", options);
    EXPECT_TRUE(s.ok()) << s;
  }
}

}  // namespace
}  // namespace marl
