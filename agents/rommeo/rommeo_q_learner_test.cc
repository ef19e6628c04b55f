#include "agents/rommeo/rommeo_q_learner.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"

namespace marl {
namespace {

EnvSpec MatrixSpec() {
  EnvSpec spec;
  spec.agent_ids = {"player_0", "player_1"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
  return spec;
}

// Q(a, b) = [[1, 0], [0, 2]] (own action rows), T = 1, prior P(b) =
// (0.75, 0.25).
TEST(RommeoQLearnerTest, OpponentModelAndConditionalPolicyByHand) {
  RommeoQOptions o;
  o.temperature_min = 1.0;  // constant
  o.temperature_initial = 0;
  absl::StatusOr<std::unique_ptr<RommeoQLearner>> made =
      RommeoQLearner::Create(MatrixSpec(), o, 1);
  ASSERT_TRUE(made.ok()) << made.status();
  RommeoQLearner& l = **made;
  l.set_q(0, 0, 0, 0, 1.0);
  l.set_q(0, 0, 1, 1, 2.0);
  l.set_prior(0, 0, {0.75, 0.25});
  const double e = std::exp(1.0);

  // Q(b) = log sum_a 0.5 exp(Q(a,b)): b=0: log((e + 1)/2), b=1:
  // log((1 + e^2)/2).
  std::vector<double> qb;
  l.OpponentQ(0, 0, 1.0, &qb);
  EXPECT_NEAR(qb[0], std::log((e + 1) / 2), 1e-12);
  EXPECT_NEAR(qb[1], std::log((1 + e * e) / 2), 1e-12);

  // rho(b) ∝ exp(Q(b)) P(b): 0.75 (e+1)/2 vs 0.25 (1+e^2)/2.
  std::vector<double> rho;
  l.OpponentModel(0, 0, 1.0, &rho);
  const double w0 = 0.75 * (e + 1) / 2, w1 = 0.25 * (1 + e * e) / 2;
  EXPECT_NEAR(rho[0], w0 / (w0 + w1), 1e-12);
  EXPECT_NEAR(rho[1], w1 / (w0 + w1), 1e-12);

  // pi(a | b=1) ∝ exp(Q(a,1)): (1, e^2) / (1 + e^2).
  std::vector<double> pi;
  l.ConditionalPolicy(0, 0, 1, 1.0, &pi);
  EXPECT_NEAR(pi[1], e * e / (1 + e * e), 1e-12);
  l.ConditionalPolicy(0, 0, 0, 1.0, &pi);
  EXPECT_NEAR(pi[0], e / (1 + e), 1e-12);

  // The marginal policy (eq. 3.18) and V = log sum_b P(b) exp(Q(b)).
  std::vector<double> marginal;
  l.Policy(0, 0, 1.0, &marginal);
  EXPECT_NEAR(marginal[0], rho[0] * e / (1 + e) + rho[1] * 1 / (1 + e * e),
              1e-12);
  EXPECT_NEAR(l.Value(0, 0, 1.0), std::log(w0 + w1), 1e-12);
  // Greedy: rho's argmax, then the best reply to it.
  EXPECT_EQ(l.Greedy(0, 0, 1.0), rho[1] > rho[0] ? 1 : 0);
}

// ROMMEO-Q reaches the optimum (2, 2) = 10 of the thesis cooperative game
// in most seeds.
TEST(RommeoQLearnerTest, ThesisCoopReachesOptimum) {
  int optimal = 0;
  const int seeds = 4;
  for (int seed = 1; seed <= seeds; ++seed) {
    TrainingOptions t;
    t.env = "matrix_game";
    t.env_settings = {{"game", "thesis_coop"}};
    t.seed = seed;
    t.steps = 16000;
    t.eval_episodes = 8;
    t.log_every = 4000;
    t.runs_root = ::testing::TempDir() + "/rommeo_runs";
    t.run_name = absl::StrCat("coop_seed", seed);
    LearnerFactory factory =
        [](const EnvSpec& spec,
           uint64_t s) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      absl::StatusOr<std::unique_ptr<RommeoQLearner>> l =
          RommeoQLearner::Create(spec, RommeoQOptions(), s);
      if (!l.ok()) return l.status();
      return std::unique_ptr<JointLearner>(*std::move(l));
    };
    absl::StatusOr<TrainingResult> r = RunTraining(t, "rommeo_q", factory);
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->agents[0].eval_return == 10.0) ++optimal;
  }
  EXPECT_GE(optimal, 3) << optimal << " of " << seeds << " seeds";
}

}  // namespace
}  // namespace marl
