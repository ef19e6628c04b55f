#include "envs/matrix/iterated_matrix_game.h"

#include <cmath>
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
      EnvRegistry::Global().Make("iterated_matrix_game", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

TEST(IteratedMatrixGameTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make({});
  ASSERT_NE(env, nullptr);
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.agent_ids, (std::vector<std::string>{"player_0", "player_1"}));
  EXPECT_EQ(spec.observation_spaces[0], Space::Discrete(5));
  EXPECT_EQ(spec.observation_spaces[1], Space::Discrete(5));
  EXPECT_EQ(spec.action_spaces[0], Space::Discrete(2));
  EXPECT_EQ(spec.action_spaces[1], Space::Discrete(2));
  EXPECT_EQ(spec.episode_limit, 10);
  EXPECT_TRUE(spec.info_keys.empty());
}

TEST(IteratedMatrixGameTest, FullMemoryEncodesTheLastJointAction) {
  // Default game stackelberg_pd: leader [[3,1],[4,2]], follower
  // [[3,4],[1,2]]; with the Stackelberg code's offset -2.5.
  std::unique_ptr<Env> env = Make({{"reward_offset", -2.5}});
  EnvDriver driver(env.get());
  driver.Reset();
  EXPECT_EQ(driver.observation(0)[0], 0.0f);
  EXPECT_EQ(driver.observation(1)[0], 0.0f);
  const struct {
    int64_t a0, a1;
    float observation, reward0, reward1;
  } steps[] = {
      {1, 0, 2, 1.5f, -1.5f},   // 1 + 1 + 2*0; (4, 1) - 2.5
      {0, 1, 3, -1.5f, 1.5f},   // 1 + 0 + 2*1; (1, 4) - 2.5
      {1, 1, 4, -0.5f, -0.5f},  // 1 + 1 + 2*1; (2, 2) - 2.5
      {0, 0, 1, 0.5f, 0.5f},    // 1 + 0 + 2*0; (3, 3) - 2.5
  };
  for (const auto& step : steps) {
    driver.StepDiscrete({step.a0, step.a1});
    EXPECT_EQ(driver.observation(0)[0], step.observation);
    EXPECT_EQ(driver.observation(1)[0], step.observation);
    EXPECT_EQ(driver.reward(0), step.reward0);
    EXPECT_EQ(driver.reward(1), step.reward1);
    EXPECT_FALSE(driver.terminated());  // the batch runner truncates
  }
  driver.Reset();
  EXPECT_EQ(driver.observation(0)[0], 0.0f);
}

TEST(IteratedMatrixGameTest, SmallMemorySeesTheOtherAgentsLastAction) {
  std::unique_ptr<Env> env = Make({{"memory", std::string("small")},
                                   {"game", std::string("stackelberg_hero")}});
  EXPECT_EQ(env->spec().observation_spaces[0], Space::Discrete(3));
  EXPECT_EQ(env->spec().observation_spaces[1], Space::Discrete(3));
  EnvDriver driver(env.get());
  driver.Reset();
  EXPECT_EQ(driver.observation(0)[0], 0.0f);
  EXPECT_EQ(driver.observation(1)[0], 0.0f);
  driver.StepDiscrete({1, 0});
  EXPECT_EQ(driver.observation(0)[0], 1.0f);  // 1 + a1
  EXPECT_EQ(driver.observation(1)[0], 2.0f);  // 1 + a0
  // hero: leader [[1,3],[4,2]], follower [[1,4],[3,2]]
  EXPECT_EQ(driver.reward(0), 4.0f);
  EXPECT_EQ(driver.reward(1), 3.0f);
  driver.StepDiscrete({0, 1});
  EXPECT_EQ(driver.observation(0)[0], 2.0f);
  EXPECT_EQ(driver.observation(1)[0], 1.0f);
  EXPECT_EQ(driver.reward(0), 3.0f);
  EXPECT_EQ(driver.reward(1), 4.0f);
}

TEST(IteratedMatrixGameTest, GeneralGamesUseOnePlusA0PlusNTimesA1) {
  const SettingMap three_by_two = {
      {"payoffs_row", DoubleArray{{3, 2}, {1, 2, 3, 4, 5, 6}}},
      {"payoffs_column", DoubleArray{{3, 2}, {6, 5, 4, 3, 2, 1}}},
      {"reward_scale", 2.0},
      {"reward_offset", 1.0}};
  std::unique_ptr<Env> env = Make(three_by_two);
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->spec().observation_spaces[0], Space::Discrete(7));
  EnvDriver driver(env.get());
  driver.Reset();
  driver.StepDiscrete({2, 1});
  EXPECT_EQ(driver.observation(0)[0], 6.0f);  // 1 + 2 + 3*1
  EXPECT_EQ(driver.reward(0), 13.0f);         // 2 * 6 + 1
  EXPECT_EQ(driver.reward(1), 3.0f);          // 2 * 1 + 1
  driver.StepDiscrete({1, 0});
  EXPECT_EQ(driver.observation(1)[0], 2.0f);  // 1 + 1 + 3*0

  SettingMap small = three_by_two;
  small["memory"] = std::string("small");
  env = Make(small);
  EXPECT_EQ(env->spec().observation_spaces[0], Space::Discrete(3));  // 1 + m
  EXPECT_EQ(env->spec().observation_spaces[1], Space::Discrete(4));  // 1 + n
}

TEST(IteratedMatrixGameTest, BatchTruncatesAtEpisodeLengthAndResets) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made = EnvBatch::Create(
      "iterated_matrix_game", {{"episode_length", int64_t{3}}}, 2, 9, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  EXPECT_EQ(batch.observation(0), (std::vector<float>{0, 0}));

  // Copy 0 plays (0,0) (0,1) (1,0); copy 1 plays (1,1) throughout.
  const std::vector<std::vector<int64_t>> a0 = {{0, 1}, {0, 1}, {1, 1}};
  const std::vector<std::vector<int64_t>> a1 = {{0, 1}, {1, 1}, {0, 1}};
  for (int step = 0; step < 2; ++step) {
    ASSERT_TRUE(batch.StepAll({a0[step], a1[step]}, {{}, {}}).ok());
    for (int c = 0; c < 2; ++c) {
      EXPECT_FALSE(batch.terminated(c));
      EXPECT_FALSE(batch.truncated(c));
      EXPECT_EQ(batch.episode_step(c), step + 1);
    }
    EXPECT_TRUE(batch.final_rows().empty());
  }
  EXPECT_EQ(batch.observation(0), (std::vector<float>{3, 4}));
  EXPECT_EQ(batch.observation(1), (std::vector<float>{3, 4}));

  ASSERT_TRUE(batch.StepAll({a0[2], a1[2]}, {{}, {}}).ok());
  for (int c = 0; c < 2; ++c) {
    EXPECT_FALSE(batch.terminated(c));
    EXPECT_TRUE(batch.truncated(c));
    EXPECT_EQ(batch.episode_step(c), 3);  // the ended episode's length
  }
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0, 1}));
  // Final observations: the last joint actions (1,0) -> 2 and (1,1) -> 4.
  EXPECT_EQ(batch.final_observation(0), (std::vector<float>{2, 4}));
  EXPECT_EQ(batch.final_observation(1), (std::vector<float>{2, 4}));
  // Rewards of the ended step (stackelberg_pd: (1,0) -> (4,1), (1,1) ->
  // (2,2)); observations already the next episode's first.
  EXPECT_EQ(batch.reward(0), (std::vector<float>{4, 2}));
  EXPECT_EQ(batch.reward(1), (std::vector<float>{1, 2}));
  EXPECT_EQ(batch.observation(0), (std::vector<float>{0, 0}));
  EXPECT_EQ(batch.observation(1), (std::vector<float>{0, 0}));

  ASSERT_TRUE(batch.StepAll({{0, 0}, {1, 0}}, {{}, {}}).ok());
  EXPECT_EQ(batch.episode_step(0), 1);
  EXPECT_FALSE(batch.truncated(0));
  EXPECT_TRUE(batch.final_rows().empty());
  EXPECT_EQ(batch.observation(0), (std::vector<float>{3, 1}));
}

// Roles in the spec: the same agents, named for what they are.
TEST(IteratedMatrixGameTest, StackelbergRolesNameTheAgents) {
  std::unique_ptr<Env> env = Make({{"roles", std::string("stackelberg")}});
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->spec().agent_ids,
            (std::vector<std::string>{"leader", "follower"}));
  EXPECT_EQ(env->spec().observation_spaces[1], Space::Discrete(5));
}

// Query steps: the leader answers in each queried state as it would act
// there; the follower's action does nothing, rewards are 0, info "query"
// is 1; then play as usual, the follower seeing the answers throughout.
TEST(IteratedMatrixGameTest, QueryStepsShowTheLeadersAnswersToTheFollower) {
  std::unique_ptr<Env> env =
      Make({{"roles", std::string("stackelberg")},
            {"query_states", DoubleArray{{3}, {0, 4, 2}}},
            {"episode_length", int64_t{2}}});
  ASSERT_NE(env, nullptr);
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.episode_limit, 3 + 2);
  EXPECT_EQ(spec.info_keys, (std::vector<std::string>{"query"}));
  EXPECT_EQ(spec.observation_spaces[0], Space::Discrete(5));
  // 5 follower states + 3 queries x 2 leader actions.
  EXPECT_EQ(spec.observation_spaces[1], Space::Box({11}, {0.0f}, {1.0f}));
  EnvDriver driver(env.get());
  driver.Reset();
  EXPECT_EQ(driver.observation(0)[0], 0.0f);  // queried state 0
  EXPECT_EQ(driver.observation(1), std::vector<float>(11, 0.0f));
  const int64_t answers[] = {1, 0, 1};     // for states 0, 4, 2
  const float next_queried[] = {4, 2, 0};  // then play starts at 0
  for (int k = 0; k < 3; ++k) {
    driver.StepDiscrete({answers[k], /*ignored=*/k % 2});
    EXPECT_EQ(driver.reward(0), 0.0f);
    EXPECT_EQ(driver.reward(1), 0.0f);
    EXPECT_EQ(driver.info(), std::vector<float>{1.0f});
    EXPECT_EQ(driver.observation(0)[0], next_queried[k]);
  }
  // Play: the follower sees state 0 and all three answers.
  std::vector<float> expected(11, 0.0f);
  expected[0] = 1;              // its observation, state 0
  expected[5 + 0 * 2 + 1] = 1;  // state 0 -> 1
  expected[5 + 1 * 2 + 0] = 1;  // state 4 -> 0
  expected[5 + 2 * 2 + 1] = 1;  // state 2 -> 1
  EXPECT_EQ(driver.observation(1), expected);
  driver.StepDiscrete({1, 0});  // stackelberg_pd: (4, 1)
  EXPECT_EQ(driver.reward(0), 4.0f);
  EXPECT_EQ(driver.reward(1), 1.0f);
  EXPECT_EQ(driver.info(), std::vector<float>{0.0f});
  EXPECT_EQ(driver.observation(0)[0], 2.0f);  // 1 + 1 + 2*0
  expected[0] = 0;
  expected[2] = 1;
  EXPECT_EQ(driver.observation(1), expected);
  // A new episode forgets the answers.
  driver.Reset();
  EXPECT_EQ(driver.observation(1), std::vector<float>(11, 0.0f));
}

// The batch runner's time limit counts the query steps.
// With a clock the follower's Box carries the play step after its memory
// one-hot: all 0 in query steps, then 0, 1, ... in play; the leader's
// observation is unchanged.
TEST(IteratedMatrixGameTest, TheClockShowsThePlayStepToTheFollower) {
  std::unique_ptr<Env> env = Make({{"roles", std::string("stackelberg")},
                                   {"query_states", DoubleArray{{1}, {3}}},
                                   {"episode_length", int64_t{3}},
                                   {"follower_clock", true}});
  ASSERT_NE(env, nullptr);
  // 5 follower states + 3 steps + 1 query x 2 leader actions.
  EXPECT_EQ(env->spec().observation_spaces[1],
            Space::Box({10}, {0.0f}, {1.0f}));
  EXPECT_EQ(env->spec().observation_spaces[0], Space::Discrete(5));
  EnvDriver driver(env.get());
  driver.Reset();
  EXPECT_EQ(driver.observation(1), std::vector<float>(10, 0.0f));
  driver.StepDiscrete({1, 0});  // the answer for state 3
  std::vector<float> expected(10, 0.0f);
  expected[0] = 1;              // memory state 0
  expected[5 + 0] = 1;          // play step 0
  expected[8 + 0 * 2 + 1] = 1;  // state 3 -> 1
  EXPECT_EQ(driver.observation(1), expected);
  driver.StepDiscrete({0, 1});  // (C, D): state 1 + 0 + 2 = 3
  expected[0] = expected[5] = 0;
  expected[3] = expected[6] = 1;
  EXPECT_EQ(driver.observation(1), expected);
  EXPECT_EQ(driver.observation(0)[0], 3.0f);

  // Without queries the follower's observation is a Box all the same.
  std::unique_ptr<Env> plain =
      Make({{"episode_length", int64_t{2}}, {"follower_clock", true}});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->spec().observation_spaces[1],
            Space::Box({7}, {0.0f}, {1.0f}));
  EXPECT_TRUE(plain->spec().info_keys.empty());
  EnvDriver play(plain.get());
  play.Reset();
  EXPECT_EQ(play.observation(1), (std::vector<float>{1, 0, 0, 0, 0, 1, 0}));
  play.StepDiscrete({1, 1});  // (D, D): state 4 at step 1
  EXPECT_EQ(play.observation(1), (std::vector<float>{0, 0, 0, 0, 1, 0, 1}));
}

TEST(IteratedMatrixGameTest, TheEpisodeLimitCountsQuerySteps) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("iterated_matrix_game",
                       {{"query_states", DoubleArray{{5}, {0, 1, 2, 3, 4}}},
                        {"episode_length", int64_t{3}}},
                       1, 7, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  for (int t = 0; t < 8; ++t) {
    ASSERT_TRUE(batch.StepAll({{0}, {0}}, {{}, {}}).ok());
    EXPECT_EQ(batch.truncated(0), t == 7) << t;
  }
}

void ExpectMakeFails(const SettingMap& settings, const std::string& fragment) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("iterated_matrix_game", settings);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(env.status().message().find(fragment), std::string::npos)
      << env.status();
}

TEST(IteratedMatrixGameTest, FactoryRejectsBadSettings) {
  ExpectMakeFails({{"episode_length", int64_t{0}}}, "episode_length");
  ExpectMakeFails({{"episode_length", int64_t{1} << 40}}, "episode_length");
  ExpectMakeFails({{"memory", std::string("medium")}}, "memory must be");
  ExpectMakeFails({{"roles", std::string("boss")}}, "roles must be");
  ExpectMakeFails({{"query_states", DoubleArray{{2}, {0, 5}}}},
                  "5 is not a leader observation (the leader observes 0 .. 4)");
  ExpectMakeFails({{"query_states", DoubleArray{{2}, {1.5, 2}}}},
                  "1.5 is not a leader observation");
  ExpectMakeFails({{"query_states", DoubleArray{{2}, {3, 3}}}},
                  "3 is queried twice");
  ExpectMakeFails(
      {{"follower_clock", true}, {"episode_length", int64_t{1} << 25}},
      "at most 2^24");
  ExpectMakeFails({{"query_states", DoubleArray{{1, 2}, {0, 1}}}},
                  "must be a list");
  // Small memory: the leader observes 1 + the follower's action (0 .. 2).
  ExpectMakeFails({{"memory", std::string("small")},
                   {"query_states", DoubleArray{{1}, {3}}}},
                  "the leader observes 0 .. 2");
  ExpectMakeFails({{"game", std::string("pd")}}, "unknown matrix game 'pd'");
  ExpectMakeFails({{"payoffs_column", DoubleArray{{1, 1}, {1}}}},
                  "only payoffs_column");
  // Rewards reward_scale * payoff + reward_offset within 1e30
  // (stackelberg_pd: max|payoff| = 4).
  ExpectMakeFails({{"reward_scale", 1e308}},
                  "reward_scale must be in [-2.5e+29, 2.5e+29], got 1e+308");
  ExpectMakeFails({{"reward_offset", 1e31}},
                  "reward_offset must be in [-1e+30, 1e+30], got 1e+31");
  ExpectMakeFails({{"reward_offset", double{NAN}}}, "reward_offset");
  ExpectMakeFails({{"reward_scale", 2e29}, {"reward_offset", -5e29}},
                  "reward_scale must be in [-1.25e+29, 1.25e+29]");
  // Issue 9's overflowing shapes.
  const DoubleArray four{{(int64_t{1} << 62) + 1, 4}, {1, 2, 3, 4}};
  ExpectMakeFails({{"payoffs_row", four}, {"payoffs_column", four}},
                  "payoffs_row has 4 values");
}

TEST(IteratedMatrixGameTest, ExtremeAllowedSettingsGiveRewardsWithinTheBound) {
  std::unique_ptr<Env> env =
      Make({{"reward_scale", -1.2e29}, {"reward_offset", -5e29}});
  ASSERT_NE(env, nullptr);
  EnvDriver driver(env.get());
  driver.Reset();
  driver.StepDiscrete({1, 0});  // stackelberg_pd: leader 4, follower 1
  EXPECT_FLOAT_EQ(driver.reward(0), -4 * 1.2e29f - 5e29f);
  EXPECT_LE(std::abs(driver.reward(0)), kMaxAbsReward);
}

TEST(IteratedMatrixGameTest, EstimateBoundsWhatACopyHolds) {
  for (int n : {1, 50, 700}) {
    DoubleArray payoffs{{n, n}, std::vector<double>(n * n, -2.0)};
    for (const char* memory : {"full", "small"}) {
      absl::StatusOr<CopyBytesMeasurement> check =
          CheckCopyBytesEstimate("iterated_matrix_game",
                                 {{"payoffs_row", payoffs},
                                  {"payoffs_column", payoffs},
                                  {"memory", std::string(memory)}},
                                 /*max_factor=*/1.1);
      EXPECT_TRUE(check.ok()) << check.status();
    }
    // Queries on every state of the small memory's leader (1 + n).
    DoubleArray states{{n + 1}, {}};
    for (int s = 0; s <= n; ++s) states.values.push_back(s);
    absl::StatusOr<CopyBytesMeasurement> check =
        CheckCopyBytesEstimate("iterated_matrix_game",
                               {{"payoffs_row", payoffs},
                                {"payoffs_column", payoffs},
                                {"memory", std::string("small")},
                                {"query_states", states}},
                               /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
    check = CheckCopyBytesEstimate("iterated_matrix_game",
                                   {{"payoffs_row", payoffs},
                                    {"payoffs_column", payoffs},
                                    {"follower_clock", true},
                                    {"episode_length", int64_t{1000}}},
                                   /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
  }
}

TEST(IteratedMatrixGameTest, PassesGenericChecks) {
  for (const SettingMap& settings :
       {SettingMap{}, SettingMap{{"memory", std::string("small")}},
        SettingMap{{"game", std::string("climbing")},
                   {"episode_length", int64_t{1}}},
        SettingMap{{"roles", std::string("stackelberg")},
                   {"query_states", DoubleArray{{5}, {0, 1, 2, 3, 4}}}},
        SettingMap{{"memory", std::string("small")},
                   {"query_states", DoubleArray{{2}, {2, 0}}}},
        SettingMap{{"payoffs_row", DoubleArray{{3, 2}, {1, 2, 3, 4, 5, 6}}},
                   {"payoffs_column", DoubleArray{{3, 2}, {6, 5, 4, 3, 2, 1}}},
                   {"memory", std::string("small")}}}) {
    EnvCheckOptions options;
    options.settings = settings;
    const absl::Status s = RunEnvChecks("iterated_matrix_game", options);
    EXPECT_TRUE(s.ok()) << s;
  }
}

}  // namespace
}  // namespace marl
