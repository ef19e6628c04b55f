#include "agents/pr2/pr2_q_learner.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/pr2/gradient_ascent_learner.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

EnvSpec MatrixSpec(int64_t n0, int64_t n1) {
  EnvSpec spec;
  spec.agent_ids = {"player_0", "player_1"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(n0), Space::Discrete(n1)};
  return spec;
}

std::unique_ptr<Pr2QLearner> Make(double t_o, double alpha) {
  Pr2QOptions o;
  o.opponent_temperature = t_o;
  o.alpha = o.alpha_min = alpha;  // constant
  o.alpha_decay = 1;
  absl::StatusOr<std::unique_ptr<Pr2QLearner>> l =
      Pr2QLearner::Create(MatrixSpec(2, 2), o, 1);
  EXPECT_TRUE(l.ok()) << l.status();
  return *std::move(l);
}

// Agent 0 with the wolf payoffs [[0,3],[1,2]] in its table.
void SetWolf(Pr2QLearner* l) {
  const double r[2][2] = {{0, 3}, {1, 2}};
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) l->set_q(0, 0, a, b, r[a][b]);
  }
}

TEST(Pr2QLearnerTest, OpponentMarginalisedValueByHand) {
  std::unique_ptr<Pr2QLearner> l = Make(1.0, 1.0);
  SetWolf(l.get());
  std::vector<double> q;
  l->MarginalQ(0, 0, &q);
  // Uniform prior: log(0.5 e^0 + 0.5 e^3), log(0.5 e^1 + 0.5 e^2).
  EXPECT_NEAR(q[0], std::log(0.5 + 0.5 * std::exp(3.0)), 1e-12);
  EXPECT_NEAR(q[1], std::log(0.5 * std::exp(1.0) + 0.5 * std::exp(2.0)), 1e-12);
  // pi(0) = e^q0 / (e^q0 + e^q1) = (1 + e^3) / (1 + e^3 + e + e^2).
  std::vector<double> pi;
  l->Policy(0, 0, 1.0, &pi);
  const double e = std::exp(1.0);
  EXPECT_NEAR(pi[0], (1 + e * e * e) / (1 + e * e * e + e + e * e), 1e-12);
  // rho(b | a=0) ∝ exp(Q(0,b)): e^3 / (1 + e^3) for b = 1.
  std::vector<double> rho;
  l->ConditionalOpponentModel(0, 0, 0, &rho);
  EXPECT_NEAR(rho[1], e * e * e / (1 + e * e * e), 1e-12);
  // V = log sum_a exp(Q(a)).
  EXPECT_NEAR(l->Value(0, 0, 1.0), std::log(std::exp(q[0]) + std::exp(q[1])),
              1e-12);

  // A prior reweights: P = (0.9, 0.1), T_o = 2.
  std::unique_ptr<Pr2QLearner> w = Make(2.0, 1.0);
  SetWolf(w.get());
  w->set_prior(0, 0, {0.9, 0.1});
  w->MarginalQ(0, 0, &q);
  EXPECT_NEAR(q[0], 2.0 * std::log(0.9 + 0.1 * std::exp(1.5)), 1e-12);
}

TrainingOptions WolfOptions(uint64_t seed) {
  TrainingOptions o;
  o.env = "matrix_game";
  o.env_settings = {{"game", "wolf"}};
  o.seed = seed;
  o.steps = 40000;
  o.eval_episodes = 8;
  o.log_every = 4000;
  o.runs_root = ::testing::TempDir() + "/pr2_runs";
  o.run_name = absl::StrCat("wolf_seed", seed);
  return o;
}

// Both PR2-Q players end near the mixed equilibrium (0.5, 0.5) of the
// PR2 matrix game.
TEST(Pr2QLearnerTest, WolfGameEndsNearMixedEquilibrium) {
  for (uint64_t seed : {1, 2}) {
    std::shared_ptr<Pr2QLearner> learner;
    LearnerFactory factory =
        [&](const EnvSpec& spec,
            uint64_t s) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      absl::StatusOr<std::unique_ptr<Pr2QLearner>> l =
          Pr2QLearner::Create(spec, Pr2QOptions(), s);
      if (!l.ok()) return l.status();
      learner = *std::move(l);
      return std::unique_ptr<JointLearner>(new SharedLearner(learner));
    };
    absl::StatusOr<TrainingResult> r =
        RunTraining(WolfOptions(seed), "pr2_q", factory);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<double> pi0, pi1;
    learner->Policy(0, 0, learner->temperature(), &pi0);
    learner->Policy(1, 0, learner->temperature(), &pi1);
    EXPECT_NEAR(pi0[0], 0.5, 0.15) << "seed " << seed;
    EXPECT_NEAR(pi1[0], 0.5, 0.15) << "seed " << seed;
  }
}

TEST(GradientAscentTest, ProjectionAndCycling) {
  std::vector<double> v = {0.8, 0.6};
  ProjectToSimplex(&v);
  EXPECT_NEAR(v[0], 0.6, 1e-12);
  EXPECT_NEAR(v[1], 0.4, 1e-12);
  v = {2.0, -1.0};
  ProjectToSimplex(&v);
  EXPECT_EQ(v, (std::vector<double>{1.0, 0.0}));

  // On the wolf game IGA keeps moving: its policies do not settle at
  // (0.5, 0.5) — far from it at the end of a run of PR2-Q's length.
  std::shared_ptr<GradientAscentLearner> learner;
  LearnerFactory factory =
      [&](const EnvSpec& spec,
          uint64_t s) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<GradientAscentLearner>> l =
        GradientAscentLearner::Create(spec, GradientAscentOptions(), s);
    if (!l.ok()) return l.status();
    learner = *std::move(l);
    return std::unique_ptr<JointLearner>(new SharedLearner(learner));
  };
  TrainingOptions o = WolfOptions(3);
  o.run_name = "iga";
  o.steps = 16000;
  absl::StatusOr<TrainingResult> r = RunTraining(o, "iga", factory);
  ASSERT_TRUE(r.ok()) << r.status();
  const double d0 = learner->policy(0)[0] - 0.5;
  const double d1 = learner->policy(1)[0] - 0.5;
  EXPECT_GT(std::sqrt(d0 * d0 + d1 * d1), 0.2);
}

}  // namespace
}  // namespace marl
