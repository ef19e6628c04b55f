#include "agents/balancing_q/balancing_q_learner.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"

namespace marl {
namespace {

EnvSpec MatrixSpec(int n) {
  EnvSpec spec;
  spec.agent_ids = {"player_0", "player_1"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(n), Space::Discrete(n)};
  return spec;
}

std::unique_ptr<BalancingQLearner> Make(const EnvSpec& spec,
                                        const BalancingQOptions& o) {
  absl::StatusOr<std::unique_ptr<BalancingQLearner>> made =
      BalancingQLearner::Create(spec, o, 7);
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *std::move(made) : nullptr;
}

// One iteration of three roll-outs: two play (0, 0) with rewards 1 and 3,
// one plays (1, 1) with reward 5. Algorithm 1 step 7 with the roll-outs'
// mean reward: Q(0,0) = 0.6 * 2, Q(1,1) = 0.6 * 5; omega grows once.
TEST(BalancingQLearnerTest, OneUpdatePerEntryTowardsTheRollOutMean) {
  std::unique_ptr<BalancingQLearner> l = Make(MatrixSpec(2), {});
  ASSERT_NE(l, nullptr);
  const float obs[3] = {0, 0, 0};
  const int64_t acts[3] = {0, 0, 1};
  const float reward0[3] = {1, 3, 5}, reward1[3] = {-1, -3, -5};
  const bool terminated[3] = {true, true, true}, truncated[3] = {};
  TransitionBatch batch;
  batch.num_copies = 3;
  batch.observation = {obs, obs};
  batch.next_observation = {obs, obs};
  batch.discrete_action = {acts, acts};
  batch.continuous_action = {nullptr, nullptr};
  batch.reward = {reward0, reward1};
  batch.terminated = terminated;
  batch.truncated = truncated;
  l->Learn(batch);
  ASSERT_TRUE(l->status().ok()) << l->status();
  EXPECT_NEAR(l->q(0, 0, 0, 0), 1.2, 1e-12);  // not 0.6 then 0.6 + 1.44
  EXPECT_NEAR(l->q(0, 0, 1, 1), 3.0, 1e-12);
  EXPECT_NEAR(l->q(1, 0, 0, 0), -1.2, 1e-12);
  EXPECT_EQ(l->q(0, 0, 0, 1), 0.0);
  EXPECT_EQ(l->step(), 1);
  EXPECT_NEAR(1.0 / l->temperature(), 1.01, 1e-12);
}

// Q(a, b) = [[2, 3], [0, 4]] for agent 0 at a large omega: a friend model
// (same signs) replies with the agent's best column, so row 1 (max 4) wins;
// a foe model (opposite signs) with its worst, so row 0 (min 2) wins.
TEST(BalancingQLearnerTest, SignsOfTheBetasDecideTheReply) {
  for (double beta_opp : {0.1, -0.1}) {
    BalancingQOptions o;
    o.beta_opponent.values = {beta_opp, 0.1};
    o.omega_initial = 1e4;
    std::unique_ptr<BalancingQLearner> l = Make(MatrixSpec(2), o);
    ASSERT_NE(l, nullptr);
    l->set_q(0, 0, 0, 0, 2);
    l->set_q(0, 0, 0, 1, 3);
    l->set_q(0, 0, 1, 1, 4);
    std::vector<double> pi;
    l->Policy(0, 0, l->temperature(), &pi);
    EXPECT_NEAR(pi[beta_opp > 0 ? 1 : 0], 1.0, 1e-9) << beta_opp;
    // V -> max_a max_b Q = 4 for a friend, max_a min_b Q = 2 for a foe.
    EXPECT_NEAR(l->Value(0, 0, l->temperature()), beta_opp > 0 ? 4 : 2, 1e-2);
  }
}

TrainingResult Train(const std::string& game, const BalancingQOptions& o,
                     int seed, const std::string& name) {
  TrainingOptions t;
  t.env = "matrix_game";
  t.env_settings = {{"game", game}};
  t.num_copies = 50;   // the thesis's 50 roll-outs per step
  t.steps = 50 * 400;  // 400 iterations: omega = 1.01^400 = 53
  t.seed = seed;
  t.eval_episodes = 8;
  t.log_every = 5000;
  t.runs_root = ::testing::TempDir() + "/balancing_q_runs";
  t.run_name = absl::StrCat(name, "_seed", seed);
  LearnerFactory factory =
      [o](const EnvSpec& spec,
          uint64_t s) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<BalancingQLearner>> l =
        BalancingQLearner::Create(spec, o, s);
    if (!l.ok()) return l.status();
    return std::unique_ptr<JointLearner>(*std::move(l));
  };
  absl::StatusOr<TrainingResult> r = RunTraining(t, "balancing_q", factory);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : TrainingResult{};
}

// Thesis Fig 3.1 setting: beta 0.1 / 0.1 for both players on the
// cooperative game: the optimum (3, 3) (0-based (2, 2)), reward 10.
TEST(BalancingQLearnerTest, CooperativeThesisGameReachesTheOptimum) {
  for (int seed = 1; seed <= 3; ++seed) {
    const TrainingResult r = Train("thesis_coop", {}, seed, "coop");
    ASSERT_EQ(r.agents.size(), 2u);
    EXPECT_EQ(r.agents[0].greedy_action, std::vector<double>{2}) << seed;
    EXPECT_EQ(r.agents[1].greedy_action, std::vector<double>{2}) << seed;
    EXPECT_EQ(r.agents[0].eval_return, 10.0) << seed;
    EXPECT_EQ(r.agents[1].eval_return, 10.0) << seed;
  }
}

// Thesis Fig 3.2a setting: beta 0.1 / -0.1 for both players (each with its
// own reward) on the zero-sum game: the Nash equilibrium (1, 1) (0-based
// (0, 0)), reward 2 for player 1 and -2 for player 2.
TEST(BalancingQLearnerTest, ZeroSumThesisGameReachesNash) {
  BalancingQOptions o;
  o.beta_opponent.values = {-0.1};
  for (int seed = 1; seed <= 3; ++seed) {
    const TrainingResult r = Train("thesis_zero_sum", o, seed, "zero_sum");
    ASSERT_EQ(r.agents.size(), 2u);
    EXPECT_EQ(r.agents[0].greedy_action, std::vector<double>{0}) << seed;
    EXPECT_EQ(r.agents[1].greedy_action, std::vector<double>{0}) << seed;
    EXPECT_EQ(r.agents[0].eval_return, 2.0) << seed;
    EXPECT_EQ(r.agents[1].eval_return, -2.0) << seed;
  }
}

// A fixed uniform second player: it never learns and plays every action
// about equally often, also in evaluation; the learner against it still
// picks the maximin row of the zero-sum game.
TEST(BalancingQLearnerTest, FixedUniformOpponentNeverLearns) {
  BalancingQOptions o;
  o.beta_opponent.values = {-0.1, 0.1};
  o.opponent = BalancingQOptions::Opponent::kUniform;
  absl::StatusOr<std::unique_ptr<BalancingQLearner>> made =
      BalancingQLearner::Create(MatrixSpec(3), o, 3);
  ASSERT_TRUE(made.ok()) << made.status();
  BalancingQLearner& l = **made;
  const float thesis[3][3] = {{2, 3, 3}, {1, 4, 0}, {1, 0, 10}};
  const int copies = 3000;
  std::vector<float> obs(copies, 0.0f), reward0(copies), reward1(copies);
  std::vector<std::vector<int64_t>> acts(2, std::vector<int64_t>(copies));
  std::vector<std::vector<float>> unused(2);
  std::unique_ptr<bool[]> terminated(new bool[copies]),
      truncated(new bool[copies]);
  for (int iteration = 0; iteration < 300; ++iteration) {
    l.Act({obs.data(), obs.data()}, copies, false, &acts, &unused);
    for (int r = 0; r < copies; ++r) {
      reward0[r] = thesis[acts[0][r]][acts[1][r]];
      reward1[r] = -reward0[r];
      terminated[r] = true;
      truncated[r] = false;
    }
    TransitionBatch batch;
    batch.num_copies = copies;
    batch.observation = batch.next_observation = {obs.data(), obs.data()};
    batch.discrete_action = {acts[0].data(), acts[1].data()};
    batch.continuous_action = {nullptr, nullptr};
    batch.reward = {reward0.data(), reward1.data()};
    batch.terminated = terminated.get();
    batch.truncated = truncated.get();
    l.Learn(batch);
  }
  ASSERT_TRUE(l.status().ok()) << l.status();
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) EXPECT_EQ(l.q(1, 0, a, b), 0.0);
    EXPECT_NEAR(l.q(0, 0, a, a), thesis[a][a], 1e-6);
  }
  l.Act({obs.data(), obs.data()}, copies, true, &acts, &unused);
  int counts[3] = {0, 0, 0};
  for (int r = 0; r < copies; ++r) {
    EXPECT_EQ(acts[0][r], 0);  // maximin row, greedy
    ++counts[acts[1][r]];
  }
  for (int b = 0; b < 3; ++b) EXPECT_NEAR(counts[b], copies / 3, 120) << b;
}

TEST(BalancingQLearnerTest, CheckpointRoundTrip) {
  BalancingQOptions o;
  std::unique_ptr<BalancingQLearner> a = Make(MatrixSpec(3), o);
  std::unique_ptr<BalancingQLearner> b = Make(MatrixSpec(3), o);
  ASSERT_NE(a, nullptr);
  a->set_q(0, 0, 1, 2, 4.5);
  a->set_q(1, 0, 2, 0, -1.25);
  absl::StatusOr<std::string> bytes = a->Save();
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(b->Load(*bytes).ok());
  EXPECT_EQ(b->q(0, 0, 1, 2), 4.5);
  EXPECT_EQ(b->q(1, 0, 2, 0), -1.25);
  EXPECT_FALSE(b->Load("marl-pair-tabular-v1 rommeo_q\n").ok());
}

TEST(BalancingQLearnerTest, RejectsBadOptionsAndSpaces) {
  BalancingQOptions zero;
  zero.beta_opponent.values = {0.1, 0};
  EXPECT_FALSE(BalancingQLearner::Create(MatrixSpec(2), zero, 1).ok());
  BalancingQOptions lr;
  lr.lr = 1.5;
  EXPECT_FALSE(BalancingQLearner::Create(MatrixSpec(2), lr, 1).ok());
  EnvSpec box = MatrixSpec(2);
  box.action_spaces[1] = Space::Box({1}, {-1.0f}, {1.0f});
  absl::StatusOr<std::unique_ptr<BalancingQLearner>> r =
      BalancingQLearner::Create(box, {}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Discrete"), std::string::npos);
}

}  // namespace
}  // namespace marl
