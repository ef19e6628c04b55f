#include "envs/soccer/soccer.h"

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
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
using State = SoccerEnv::State;
constexpr int64_t N = SoccerEnv::kNorth;
constexpr int64_t S = SoccerEnv::kSouth;
constexpr int64_t E = SoccerEnv::kEast;
constexpr int64_t W = SoccerEnv::kWest;
constexpr int64_t X = SoccerEnv::kStand;

std::unique_ptr<Env> Make(const SettingMap& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("soccer", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

State MakeState(int a_row, int a_col, int b_row, int b_col, int holder) {
  State s;
  s.a_row = a_row;
  s.a_col = a_col;
  s.b_row = b_row;
  s.b_col = b_col;
  s.ball_holder = holder;
  return s;
}

// What one step from a hand-set state did.
struct StepResult {
  State state;
  float reward0 = 0, reward1 = 0;
  bool terminated = false;
  bool draw = false;
  int first_mover = -1;
  std::vector<float> observation0, observation1;
};

// Sets `state` on a fresh copy seeded with `seed` and applies one joint
// action.
StepResult StepFrom(const State& state, int64_t a0, int64_t a1, uint64_t seed,
                    const SettingMap& settings = {}) {
  std::unique_ptr<Env> env = Make(settings);
  auto* soccer = static_cast<SoccerEnv*>(env.get());
  EnvDriver driver(env.get());
  env->Seed(seed);
  driver.Reset();
  soccer->SetStateForTesting(state);
  driver.StepDiscrete({a0, a1});
  StepResult result;
  result.state = soccer->state();
  result.reward0 = driver.reward(0);
  result.reward1 = driver.reward(1);
  result.terminated = driver.terminated();
  result.draw = driver.info()[0] == 1.0f;
  result.first_mover = soccer->last_first_mover();
  result.observation0 = driver.observation(0);
  result.observation1 = driver.observation(1);
  return result;
}

// Seeds enough to see both move orders many times.
constexpr int kSeeds = 64;

TEST(SoccerTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make({});
  ASSERT_NE(env, nullptr);
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.agent_ids, (std::vector<std::string>{"player_0", "player_1"}));
  EXPECT_EQ(spec.observation_spaces[0], Space::Discrete(760));
  EXPECT_EQ(spec.observation_spaces[1], Space::Discrete(760));
  EXPECT_EQ(spec.action_spaces[0], Space::Discrete(5));
  EXPECT_EQ(spec.action_spaces[1], Space::Discrete(5));
  EXPECT_FALSE(spec.has_action_masks);
  EXPECT_FALSE(spec.sequential);
  EXPECT_EQ(spec.episode_limit, 100);
  EXPECT_EQ(spec.info_keys, (std::vector<std::string>{"draw"}));
}

TEST(SoccerTest, StateIndexByHand) {
  // 4 x 5: n = 20. A at (1,3) = square 8, B at (2,1) = square 11, which
  // skips A's: 10. index = (holder * 20 + 8) * 19 + 10.
  EXPECT_EQ(SoccerEnv::StateIndex(4, 5, MakeState(1, 3, 2, 1, 0)), 162);
  EXPECT_EQ(SoccerEnv::StateIndex(4, 5, MakeState(1, 3, 2, 1, 1)), 542);
  // B before A: no skip. A at (3,4) = 19, B at (0,0) = 0.
  EXPECT_EQ(SoccerEnv::StateIndex(4, 5, MakeState(3, 4, 0, 0, 1)),
            (20 + 19) * 19 + 0);
  EXPECT_EQ(SoccerEnv::StateIndex(4, 5, MakeState(0, 0, 0, 1, 0)), 0);
  EXPECT_EQ(SoccerEnv::StateIndex(4, 5, MakeState(3, 4, 3, 3, 1)), 759);
}

TEST(SoccerTest, StateIndexIsABijectionOverValidStates) {
  for (const auto& [rows, cols] :
       std::vector<std::pair<int, int>>{{4, 5}, {1, 2}, {3, 3}, {5, 7}}) {
    const int64_t count = SoccerEnv::StateCount(rows, cols);
    std::set<int64_t> seen;
    for (int holder = 0; holder < 2; ++holder) {
      for (int a = 0; a < rows * cols; ++a) {
        for (int b = 0; b < rows * cols; ++b) {
          if (a == b) continue;
          const State s =
              MakeState(a / cols, a % cols, b / cols, b % cols, holder);
          ASSERT_TRUE(SoccerEnv::IsValid(rows, cols, s));
          const int64_t index = SoccerEnv::StateIndex(rows, cols, s);
          ASSERT_GE(index, 0);
          ASSERT_LT(index, count);
          EXPECT_TRUE(seen.insert(index).second) << rows << "x" << cols;
          EXPECT_EQ(SoccerEnv::StateFromIndex(rows, cols, index), s);
        }
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), count) << rows << "x" << cols;
  }
  EXPECT_FALSE(SoccerEnv::IsValid(4, 5, MakeState(1, 1, 1, 1, 0)));
  EXPECT_FALSE(SoccerEnv::IsValid(4, 5, MakeState(4, 0, 1, 1, 0)));
  EXPECT_FALSE(SoccerEnv::IsValid(4, 5, MakeState(0, 0, 1, 1, 2)));
}

TEST(SoccerTest, ResetPlacesLittmansStartWithTheBallAtRandom) {
  int holders[2] = {0, 0};
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    std::unique_ptr<Env> env = Make({});
    auto* soccer = static_cast<SoccerEnv*>(env.get());
    env->Seed(seed);
    EnvDriver driver(env.get());
    driver.Reset();
    const State& s = soccer->state();
    EXPECT_EQ(s, MakeState(1, 3, 2, 1, s.ball_holder));
    ++holders[s.ball_holder];
    const float index = static_cast<float>(SoccerEnv::StateIndex(4, 5, s));
    EXPECT_EQ(driver.observation(0)[0], index);
    EXPECT_EQ(driver.observation(1)[0], index);
  }
  EXPECT_GT(holders[0], kSeeds / 4);
  EXPECT_GT(holders[1], kSeeds / 4);
  // The start is symmetric under the rotation that swaps the roles.
  for (const auto& [rows, cols] :
       std::vector<std::pair<int, int>>{{4, 5}, {1, 2}, {5, 6}, {2, 3}}) {
    const State start = SoccerEnv::StartState(rows, cols, 0);
    EXPECT_TRUE(SoccerEnv::IsValid(rows, cols, start));
    EXPECT_EQ(SoccerEnv::Mirror(rows, cols, start),
              SoccerEnv::StartState(rows, cols, 1));
  }
}

TEST(SoccerTest, MovingOffTheBoardStaysPut) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    // Corners: A north-west (no goal row), B south-east.
    StepResult r = StepFrom(MakeState(0, 0, 3, 4, 0), N, S, seed);
    EXPECT_EQ(r.state, MakeState(0, 0, 3, 4, 0));
    r = StepFrom(MakeState(0, 0, 3, 4, 1), W, E, seed);
    EXPECT_EQ(r.state, MakeState(0, 0, 3, 4, 1));
    EXPECT_FALSE(r.terminated);
    // An ordinary move does happen.
    r = StepFrom(MakeState(0, 0, 3, 4, 1), S, N, seed);
    EXPECT_EQ(r.state, MakeState(1, 0, 2, 4, 1));
  }
}

TEST(SoccerTest, CollisionGivesTheBallToTheStationaryPlayer) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    // A carries the ball east into a standing B: A stays, B gets the ball.
    StepResult r = StepFrom(MakeState(1, 2, 1, 3, 0), E, X, seed);
    EXPECT_EQ(r.state, MakeState(1, 2, 1, 3, 1));
    // B bumps into a standing A who has the ball: A keeps it.
    r = StepFrom(MakeState(1, 2, 1, 3, 0), X, W, seed);
    EXPECT_EQ(r.state, MakeState(1, 2, 1, 3, 0));
    // B with the ball bumps into A (vertical): A gets it.
    r = StepFrom(MakeState(2, 2, 1, 2, 1), X, S, seed);
    EXPECT_EQ(r.state, MakeState(2, 2, 1, 2, 0));
    EXPECT_FALSE(r.terminated);
    EXPECT_EQ(r.reward0, 0.0f);
    EXPECT_EQ(r.reward1, 0.0f);
  }
}

TEST(SoccerTest, RandomMoveOrderMattersAndBothOrdersOccur) {
  int firsts[2] = {0, 0};
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    // Swapping squares: both are blocked; the ball ends with whoever moved
    // first (the second mover bumps into the first).
    StepResult r = StepFrom(MakeState(1, 2, 1, 3, 0), E, W, seed);
    ++firsts[r.first_mover];
    EXPECT_EQ(r.state, MakeState(1, 2, 1, 3, r.first_mover));

    // Both into the same empty square (1,2): the first gets it, the second
    // is blocked and the ball goes to the first.
    r = StepFrom(MakeState(1, 1, 1, 3, 1), E, W, seed);
    if (r.first_mover == 0) {
      EXPECT_EQ(r.state, MakeState(1, 2, 1, 3, 0));
    } else {
      EXPECT_EQ(r.state, MakeState(1, 1, 1, 2, 1));
    }

    // Following: A (ball) steps into B's square while B steps away. If B
    // goes first both move; if A goes first, A is blocked and loses the
    // ball, then B moves away.
    r = StepFrom(MakeState(1, 2, 1, 3, 0), E, E, seed);
    if (r.first_mover == 1) {
      EXPECT_EQ(r.state, MakeState(1, 3, 1, 4, 0));
    } else {
      EXPECT_EQ(r.state, MakeState(1, 2, 1, 4, 1));
    }
  }
  EXPECT_GT(firsts[0], kSeeds / 4);
  EXPECT_GT(firsts[1], kSeeds / 4);
}

TEST(SoccerTest, TheMoveOrderFollowsTheSeed) {
  std::vector<int> orders[2];
  for (int run = 0; run < 2; ++run) {
    std::unique_ptr<Env> env = Make({{"max_steps", int64_t{0}}});
    auto* soccer = static_cast<SoccerEnv*>(env.get());
    env->Seed(7);
    EnvDriver driver(env.get());
    driver.Reset();
    for (int step = 0; step < 50; ++step) {
      driver.StepDiscrete({X, X});
      orders[run].push_back(soccer->last_first_mover());
    }
  }
  EXPECT_EQ(orders[0], orders[1]);
}

TEST(SoccerTest, ScoringIntoEachGoal) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    for (int row : {1, 2}) {
      // A carries the ball west out of the board: A scores.
      StepResult r = StepFrom(MakeState(row, 0, 3, 4, 0), W, X, seed);
      EXPECT_TRUE(r.terminated);
      EXPECT_FALSE(r.draw);
      EXPECT_EQ(r.reward0, 1.0f);
      EXPECT_EQ(r.reward1, -1.0f);
      // B carries the ball east: B scores.
      r = StepFrom(MakeState(0, 0, row, 4, 1), X, E, seed);
      EXPECT_TRUE(r.terminated);
      EXPECT_EQ(r.reward0, -1.0f);
      EXPECT_EQ(r.reward1, 1.0f);
      EXPECT_EQ(r.state, MakeState(0, 0, row, 4, 1));  // shot from (row, 4)
    }
    // A scores whatever the order while B runs into A: if B moves first it
    // is blocked (A keeps the ball), if A moves first the game is over and
    // B's move never happens.
    StepResult r = StepFrom(MakeState(1, 0, 1, 1, 0), W, W, seed);
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(r.reward0, 1.0f);
    EXPECT_EQ(r.state.b_col, 1);
    // Outside the goal rows the west side is a wall.
    r = StepFrom(MakeState(0, 0, 3, 4, 0), W, X, seed);
    EXPECT_FALSE(r.terminated);
    EXPECT_EQ(r.state, MakeState(0, 0, 3, 4, 0));
    r = StepFrom(MakeState(0, 0, 3, 4, 1), X, E, seed);
    EXPECT_FALSE(r.terminated);
  }
}

TEST(SoccerTest, NoGoalWithoutTheBall) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    StepResult r = StepFrom(MakeState(1, 0, 2, 4, 1), W, X, seed);
    EXPECT_FALSE(r.terminated);
    EXPECT_EQ(r.reward0, 0.0f);
    EXPECT_EQ(r.state, MakeState(1, 0, 2, 4, 1));
    r = StepFrom(MakeState(1, 0, 2, 4, 0), X, E, seed);
    EXPECT_FALSE(r.terminated);
    EXPECT_EQ(r.state, MakeState(1, 0, 2, 4, 0));
  }
}

TEST(SoccerTest, OwnGoalScoresForTheOpponentUnlessDisabled) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    // A carries the ball into the east goal (B's scoring goal).
    StepResult r = StepFrom(MakeState(2, 4, 0, 0, 0), E, X, seed);
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(r.reward0, -1.0f);
    EXPECT_EQ(r.reward1, 1.0f);
    // B carries the ball into the west goal.
    r = StepFrom(MakeState(3, 4, 1, 0, 1), X, W, seed);
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(r.reward0, 1.0f);
    EXPECT_EQ(r.reward1, -1.0f);

    const SettingMap no_own_goals = {{"own_goals", false}};
    r = StepFrom(MakeState(2, 4, 0, 0, 0), E, X, seed, no_own_goals);
    EXPECT_FALSE(r.terminated);
    EXPECT_EQ(r.reward0, 0.0f);
    EXPECT_EQ(r.state, MakeState(2, 4, 0, 0, 0));
    // The scoring goal still counts.
    r = StepFrom(MakeState(2, 0, 0, 4, 0), W, X, seed, no_own_goals);
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(r.reward0, 1.0f);
  }
}

TEST(SoccerTest, TruncatedAtMaxSteps) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("soccer", {{"max_steps", int64_t{3}}}, 2, 5, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE(batch.StepAll({{X, X}, {X, X}}, {{}, {}}).ok());
    for (int copy = 0; copy < 2; ++copy) {
      EXPECT_FALSE(batch.terminated(copy));
      EXPECT_EQ(batch.truncated(copy), step == 3);
      EXPECT_EQ(batch.episode_step(copy), step);
      EXPECT_EQ(batch.reward(0)[copy], 0.0f);
    }
  }
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0, 1}));
}

TEST(SoccerTest, DrawProbabilityOneEndsTheFirstStepAsADraw) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("soccer", {{"draw_probability", 1.0}}, 3, 11, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{W, E, N}, {E, W, X}}, {{}, {}}).ok());
  for (int copy = 0; copy < 3; ++copy) {
    EXPECT_TRUE(batch.terminated(copy));
    EXPECT_FALSE(batch.truncated(copy));
    EXPECT_EQ(batch.episode_step(copy), 1);
    EXPECT_EQ(batch.reward(0)[copy], 0.0f);
    EXPECT_EQ(batch.reward(1)[copy], 0.0f);
    EXPECT_EQ(batch.info()[copy], 1.0f);
  }
  // A goal takes precedence: the draw is only drawn after a goalless step.
  for (uint64_t seed = 0; seed < 8; ++seed) {
    StepResult r = StepFrom(MakeState(1, 0, 3, 4, 0), W, X, seed,
                            {{"draw_probability", 1.0}});
    EXPECT_TRUE(r.terminated);
    EXPECT_FALSE(r.draw);
    EXPECT_EQ(r.reward0, 1.0f);
  }
}

TEST(SoccerTest, DrawProbabilityIsTheChanceOfEndingPerStep) {
  // Standing still never scores, so episodes end only by draws: their
  // lengths are geometric with mean 1 / p.
  const double p = 0.25;
  absl::StatusOr<std::unique_ptr<EnvBatch>> made = EnvBatch::Create(
      "soccer", {{"draw_probability", p}, {"max_steps", int64_t{0}}}, 16, 3,
      true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  const std::vector<int64_t> stand(16, X);
  int64_t episodes = 0, steps = 0;
  while (episodes < 4000) {
    ASSERT_TRUE(batch.StepAll({stand, stand}, {{}, {}}).ok());
    for (int32_t row : batch.final_rows()) {
      EXPECT_TRUE(batch.terminated(row));
      EXPECT_EQ(batch.info()[row], 1.0f);
      steps += batch.episode_step(row);
      ++episodes;
    }
  }
  // Mean 4, standard deviation of the mean sqrt(12 / 4000) ~ 0.055.
  EXPECT_NEAR(static_cast<double>(steps) / episodes, 1.0 / p, 0.25);
}

TEST(SoccerTest, FeatureObservation) {
  std::unique_ptr<Env> env = Make({{"observation", std::string("features")}});
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.observation_spaces[0], Space::Box({5}, {0.0f}, {1.0f}));
  EXPECT_EQ(spec.observation_spaces[1], Space::Box({5}, {0.0f}, {1.0f}));
  StepResult r = StepFrom(MakeState(1, 2, 3, 4, 1), N, W, 0,
                          {{"observation", std::string("features")}});
  // A to (0,2), B to (3,3); B holds the ball.
  const std::vector<float> expected = {0.0f, 0.5f, 1.0f, 0.75f, 0.0f};
  EXPECT_EQ(r.observation0, expected);
  EXPECT_EQ(r.observation1, expected);
  r = StepFrom(MakeState(3, 0, 1, 3, 0), X, X, 0,
               {{"observation", std::string("features")}});
  EXPECT_EQ(r.observation0,
            (std::vector<float>{1.0f, 0.0f, 1.0f / 3, 0.75f, 1.0f}));
}

TEST(SoccerTest, EgocentricPerspectiveRotatesPlayerOnesBoard) {
  const SettingMap egocentric = {{"perspective", std::string("egocentric")}};
  std::unique_ptr<Env> env = Make(egocentric);
  EXPECT_EQ(env->spec().observation_spaces[1], Space::Discrete(760));
  // player_1 sees Mirror(state): itself as "A".
  StepResult r = StepFrom(MakeState(1, 3, 2, 1, 0), X, X, 0, egocentric);
  EXPECT_EQ(r.observation0[0], 162.0f);  // absolute, A holds
  EXPECT_EQ(r.observation1[0], 542.0f);  // the start with the other holding
  // player_1's west is absolute east: B carries the ball into its goal.
  r = StepFrom(MakeState(0, 0, 2, 4, 1), X, W, 0, egocentric);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward1, 1.0f);
  // player_1's north is absolute south.
  r = StepFrom(MakeState(0, 0, 2, 1, 1), X, N, 0, egocentric);
  EXPECT_EQ(r.state, MakeState(0, 0, 3, 1, 1));
  EXPECT_EQ(r.observation1[0], static_cast<float>(SoccerEnv::StateIndex(
                                   4, 5, SoccerEnv::Mirror(4, 5, r.state))));
  EXPECT_EQ(SoccerEnv::Mirror(4, 5, r.state), MakeState(0, 3, 3, 4, 0));
  // player_0's actions and view are unchanged.
  r = StepFrom(MakeState(1, 0, 3, 4, 0), W, X, 0, egocentric);
  EXPECT_EQ(r.reward0, 1.0f);

  r = StepFrom(MakeState(3, 0, 1, 3, 1), X, X, 0,
               {{"perspective", std::string("egocentric")},
                {"observation", std::string("features")}});
  // Mirror: A' = rotated B = (2, 1), B' = rotated A = (0, 4), A' holds.
  EXPECT_EQ(r.observation1,
            (std::vector<float>{2.0f / 3, 0.25f, 0.0f, 1.0f, 1.0f}));
}

// Under egocentric perspective the game is symmetric: a step from state s
// in which player k moves first equals, mirrored, the step from Mirror(s)
// with the actions exchanged in which player 1-k moves first.
TEST(SoccerTest, EgocentricGameIsSymmetric) {
  const SettingMap egocentric = {{"perspective", std::string("egocentric")}};
  std::mt19937_64 rng(5);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    State s;
    do {
      s = SoccerEnv::StateFromIndex(4, 5, rng() % 760);
    } while (!SoccerEnv::IsValid(4, 5, s));
    const int64_t a0 = rng() % 5, a1 = rng() % 5;
    StepResult r = StepFrom(s, a0, a1, trial, egocentric);
    // Find a seed whose first mover is the mirrored one.
    for (uint64_t seed = 1000; seed < 1000 + kSeeds; ++seed) {
      StepResult m =
          StepFrom(SoccerEnv::Mirror(4, 5, s), a1, a0, seed, egocentric);
      if (m.first_mover != 1 - r.first_mover) continue;
      EXPECT_EQ(m.observation0, r.observation1);
      EXPECT_EQ(m.observation1, r.observation0);
      EXPECT_EQ(m.reward0, r.reward1);
      EXPECT_EQ(m.reward1, r.reward0);
      EXPECT_EQ(m.terminated, r.terminated);
      ++checked;
      break;
    }
  }
  EXPECT_EQ(checked, 300);
}

void ExpectMakeFails(const SettingMap& settings, const std::string& fragment) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("soccer", settings);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(env.status().message().find(fragment), std::string::npos)
      << env.status();
}

TEST(SoccerTest, FactoryRejectsBadSettings) {
  ExpectMakeFails({{"rows", int64_t{0}}}, "rows");
  ExpectMakeFails({{"cols", int64_t{1}}}, "cols");
  ExpectMakeFails({{"cols", int64_t{1} << 40}}, "cols");
  ExpectMakeFails({{"rows", int64_t{100}}, {"cols", int64_t{100}}}, "2^24");
  ExpectMakeFails({{"draw_probability", -0.1}}, "draw_probability");
  ExpectMakeFails({{"draw_probability", 1.5}}, "draw_probability");
  ExpectMakeFails({{"draw_probability", std::nan("")}}, "draw_probability");
  ExpectMakeFails({{"max_steps", int64_t{-1}}}, "max_steps");
  ExpectMakeFails({{"observation", std::string("pixels")}}, "\"pixels\"");
  ExpectMakeFails({{"perspective", std::string("b")}}, "perspective");
}

TEST(SoccerTest, EstimateBoundsWhatACopyHolds) {
  for (const SettingMap& settings :
       {SettingMap{}, SettingMap{{"observation", std::string("features")}},
        SettingMap{{"rows", int64_t{40}}, {"cols", int64_t{50}}}}) {
    absl::StatusOr<CopyBytesMeasurement> check =
        CheckCopyBytesEstimate("soccer", settings, /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
  }
  EXPECT_EQ(CheckCopyBytesEstimate("soccer", {{"rows", int64_t{0}}}, 1.1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SoccerTest, PassesGenericChecks) {
  for (const SettingMap& settings : {
           SettingMap{},
           SettingMap{{"observation", std::string("features")}},
           SettingMap{{"perspective", std::string("egocentric")}},
           SettingMap{{"draw_probability", 0.1}, {"max_steps", int64_t{0}}},
           SettingMap{{"rows", int64_t{1}}, {"cols", int64_t{2}}},
           SettingMap{{"rows", int64_t{5}},
                      {"cols", int64_t{7}},
                      {"own_goals", false},
                      {"observation", std::string("features")},
                      {"perspective", std::string("egocentric")}},
       }) {
    EnvCheckOptions options;
    options.settings = settings;
    options.stochastic = true;  // move order and the ball at the start
    const absl::Status s = RunEnvChecks("soccer", options);
    EXPECT_TRUE(s.ok()) << s;
  }
}

}  // namespace
}  // namespace marl
