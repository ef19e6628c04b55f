#include "agents/pr2/pr2_ac_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "agents/pr2/pr2_ac_losses.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

LearnerFactory Factory(const Pr2AcOptions& o) {
  return FactoryOf(CreatePr2AcLearner, o);
}

TEST(Pr2AcLossTest, SoftMarginalIsLogMeanExp) {
  // Particles' Q values 0, 1, 2: log((1 + e + e^2) / 3).
  const torch::Tensor v = torch::tensor({{0.0f, 1.0f, 2.0f}});
  const double expected = std::log((1 + std::exp(1.0) + std::exp(2.0)) / 3);
  EXPECT_NEAR(pr2::SoftMarginal(v, -1, 1.0).item<float>(), expected, 1e-5);
  // Temperature 2: 2 log mean exp(v / 2).
  const double expected2 =
      2 * std::log((1 + std::exp(0.5) + std::exp(1.0)) / 3);
  EXPECT_NEAR(pr2::SoftMarginal(v, -1, 2.0).item<float>(), expected2, 1e-5);
  // Equal particles give back their value (no log K bias).
  EXPECT_NEAR(
      pr2::SoftMarginal(torch::full({1, 16}, 3.0f), -1, 1.0).item<float>(), 3.0,
      1e-5);
}

TEST(Pr2AcLossTest, MarginalQOnFixedParticles) {
  // Linear Q = 1 * s + 2 * a + 3 * b + 0.5.
  nn::QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 1;
  o.other_action_dim = 1;
  o.hidden = {};
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  nn::QNetwork q(o, init);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : q->named_parameters()) {
      if (p.key().find("weight") != std::string::npos) {
        p.value().copy_(torch::tensor({{1.0f, 2.0f, 3.0f}}));
      } else {
        p.value().fill_(0.5f);
      }
    }
  }
  const torch::Tensor s = torch::tensor({{1.0f}, {0.0f}});
  const torch::Tensor a = torch::tensor({{0.5f}, {-0.5f}});
  // Two particles per row: b in {0, 1} and {-1, 1}.
  const torch::Tensor b = torch::tensor({{{0.0f}, {1.0f}}, {{-1.0f}, {1.0f}}});
  const torch::Tensor m = pr2::MarginalQ(q, s, a, b, 1.0);
  ASSERT_EQ(m.sizes(), torch::IntArrayRef({2}));
  // Row 0: Q = 2.5, 5.5; row 1: Q = -3.5, 2.5.
  EXPECT_NEAR(m[0].item<float>(), std::log((std::exp(2.5) + std::exp(5.5)) / 2),
              1e-4);
  EXPECT_NEAR(m[1].item<float>(),
              std::log((std::exp(-3.5) + std::exp(2.5)) / 2), 1e-4);
}

// The 2x2 example: own action a (rows) x the opponent's action j
// (columns), Q = [[1, 0], [0, 2]], T = 1, alpha = 1, pi = (1/4, 3/4).
struct TinyExample {
  torch::Tensor q = torch::tensor({1.0f, 0.0f, 0.0f, 2.0f}).view({1, 2, 2});
  torch::Tensor pi_logits = torch::tensor({0.0f, std::log(3.0f)}).view({1, 2});
};

TEST(Pr2AcLossTest, DiscreteMarginalAndOpponentModelByHand) {
  TinyExample x;
  // Q(a=0) = log((e + 1) / 2) = 0.620115, Q(a=1) = log((1 + e^2) / 2) =
  // 1.433781.
  const torch::Tensor m = pr2::DiscreteMarginalQ(x.q, 1.0);
  ASSERT_EQ(m.sizes(), torch::IntArrayRef({1, 2}));
  EXPECT_NEAR(m[0][0].item<float>(), std::log((std::exp(1.0) + 1) / 2), 1e-5);
  EXPECT_NEAR(m[0][1].item<float>(), std::log((1 + std::exp(2.0)) / 2), 1e-5);
  // T = 2: 2 log((e^0.5 + 1) / 2).
  EXPECT_NEAR(pr2::DiscreteMarginalQ(x.q, 2.0)[0][0].item<float>(),
              2 * std::log((std::exp(0.5) + 1) / 2), 1e-5);
  // A prior P = (3/4, 1/4): Q(a=0) = log(3/4 e + 1/4) = 0.835884.
  const torch::Tensor prior =
      torch::tensor({std::log(3.0f), 0.0f}).view({1, 2});
  EXPECT_NEAR(pr2::DiscreteMarginalQ(x.q, 1.0, prior)[0][0].item<float>(),
              std::log(0.75 * std::exp(1.0) + 0.25), 1e-5);
  // rho(j|a=0) = (e, 1) / (e + 1); with the prior (3e, 1) / (3e + 1).
  const torch::Tensor rho = pr2::DiscreteOpponentModel(x.q, 1.0);
  EXPECT_NEAR(rho[0][0][0].item<float>(), std::exp(1.0) / (std::exp(1.0) + 1),
              1e-5);
  EXPECT_NEAR(rho[0][1][1].item<float>(), std::exp(2.0) / (std::exp(2.0) + 1),
              1e-5);
  EXPECT_NEAR(
      pr2::DiscreteOpponentModel(x.q, 1.0, prior)[0][0][0].item<float>(),
      3 * std::exp(1.0) / (3 * std::exp(1.0) + 1), 1e-5);
}

TEST(Pr2AcLossTest, DiscreteSoftValueAndPolicyLossByHand) {
  TinyExample x;
  const double m0 = std::log((std::exp(1.0) + 1) / 2);
  const double m1 = std::log((1 + std::exp(2.0)) / 2);
  // V = sum_a pi_a (Q(a) - log pi_a) = 1/4 (m0 + ln 4) + 3/4 (m1 + ln 4/3).
  const double v =
      0.25 * (m0 + std::log(4.0)) + 0.75 * (m1 + std::log(4.0 / 3.0));
  const torch::Tensor marginal = pr2::DiscreteMarginalQ(x.q, 1.0);
  EXPECT_NEAR(
      pr2::DiscreteSoftValue(marginal, x.pi_logits, 1.0)[0].item<float>(), v,
      1e-5);
  // alpha = 0: the expected marginal.
  EXPECT_NEAR(
      pr2::DiscreteSoftValue(marginal, x.pi_logits, 0.0)[0].item<float>(),
      0.25 * m0 + 0.75 * m1, 1e-5);
  // The policy loss is -V; its gradient w.r.t. the logits is pi_a (alpha
  // log pi_a - Q_a - L) with L the loss (the softmax Jacobian), and
  // none reaches the marginal.
  const torch::Tensor logits = x.pi_logits.clone().requires_grad_(true);
  const torch::Tensor marginal_leaf = marginal.clone().requires_grad_(true);
  const torch::Tensor loss =
      pr2::DiscretePolicyLoss(marginal_leaf, logits, 1.0);
  EXPECT_NEAR(loss.item<float>(), -v, 1e-5);
  loss.backward();
  const double g0 = 0.25 * (std::log(0.25) - m0 + v);
  const double g1 = 0.75 * (std::log(0.75) - m1 + v);
  EXPECT_NEAR(logits.grad()[0][0].item<float>(), g0, 1e-5);
  EXPECT_NEAR(logits.grad()[0][1].item<float>(), g1, 1e-5);
  EXPECT_FALSE(marginal_leaf.grad().defined() &&
               marginal_leaf.grad().abs().sum().item<float>() > 0);
}

TEST(Pr2AcDiscreteTest, RejectsTooManyJointActionsAndMixedKinds) {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(16), Space::Discrete(17)};
  EXPECT_EQ(CreatePr2AcLearner(spec, Pr2AcOptions(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  spec.action_spaces = {Space::Discrete(16), Space::Discrete(16)};
  EXPECT_TRUE(CreatePr2AcLearner(spec, Pr2AcOptions(), 1).ok());
  spec.action_spaces = {Space::Discrete(3), Space::Box({1}, {-1.0f}, {1.0f})};
  EXPECT_EQ(CreatePr2AcLearner(spec, Pr2AcOptions(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TrainingOptions MatrixOptions(const std::string& name, uint64_t seed,
                              int64_t steps) {
  return ShortTrainingRun("matrix_game", seed, steps,
                          absl::StrCat(name, "_seed", seed));
}

Pr2AcOptions SmallDiscreteOptions() {
  Pr2AcOptions o;
  o.base.hidden.sizes = {32, 32};
  o.base.batch_size = 64;
  o.base.warmup = 128;
  o.base.update_ratio = 0.25;
  return o;
}

// The coordination game [[4,0],[0,2]] (both players): the greedy joint
// action ends at the payoff-dominant pure Nash (0,0) = 4 in every seed.
TEST(Pr2AcDiscreteTest, CoordinationGameReachesPayoffDominantNash) {
  for (uint64_t seed : {1, 2, 3}) {
    TrainingOptions t = MatrixOptions("pr2_ac_coordination", seed, 800);
    t.env_settings = {{"payoffs_row", "[[4,0],[0,2]]"},
                      {"payoffs_column", "[[4,0],[0,2]]"}};
    absl::StatusOr<TrainingResult> result =
        RunTraining(t, "pr2_ac", Factory(SmallDiscreteOptions()));
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->agents.size(), 2u);
    EXPECT_EQ(result->agents[0].greedy_action[0], 0.0) << "seed " << seed;
    EXPECT_EQ(result->agents[1].greedy_action[0], 0.0) << "seed " << seed;
    EXPECT_EQ(result->agents[0].eval_return, 4.0) << "seed " << seed;
  }
}

// The thesis cooperative game [[2,3,3],[1,4,0],[1,0,10]] (both players):
// the optimum (2,2) = 10 in at least 2 of 3 seeds.
TEST(Pr2AcDiscreteTest, ThesisCoopReachesOptimum) {
  int optimum = 0;
  for (uint64_t seed : {1, 2, 3}) {
    TrainingOptions t = MatrixOptions("pr2_ac_thesis_coop", seed, 1200);
    t.env_settings = {{"game", "thesis_coop"}};
    absl::StatusOr<TrainingResult> result =
        RunTraining(t, "pr2_ac", Factory(SmallDiscreteOptions()));
    ASSERT_TRUE(result.ok()) << result.status();
    if (result->agents[0].eval_return == 10.0) ++optimum;
  }
  EXPECT_GE(optimum, 2);
}

// A short run on the max of two quadratics: from the untrained policies'
// start near (0, 0) (reward about -4.4) the shared return rises to an
// optimum's basin.
TEST(Pr2AcTrainingTest, ImprovesOnMaxOfTwoQuadratics) {
  Pr2AcOptions o;
  o.base.batch_size = 64;
  o.value_particles = 8;
  o.kernel_particles = 16;
  o.base.hidden.sizes = {64, 64};
  TrainingOptions t;
  t.env = "max_of_two_quadratics";
  t.num_copies = 8;
  t.seed = 1;
  t.steps = 2000;
  t.eval_episodes = 8;
  t.log_every = 500;
  t.runs_root = ::testing::TempDir() + "/runs";
  t.run_name = "pr2_ac_quadratics";
  absl::StatusOr<TrainingResult> result = RunTraining(t, "pr2_ac", Factory(o));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  EXPECT_GT(result->agents[0].eval_return, -1.0);
  EXPECT_GT(result->steps_per_second, 0);
}

Pr2AcOptions SmallBoxOptions() {
  Pr2AcOptions o;
  o.base.hidden.sizes = {32, 32};
  o.base.batch_size = 32;
  o.base.warmup = 64;
  o.value_particles = 4;
  o.kernel_particles = 8;
  return o;
}

TEST(Pr2AcCheckpointTest, BoxRoundTrip) {
  const Pr2AcOptions o = SmallBoxOptions();
  TrainingOptions t = MatrixOptions("pr2_ac_box_checkpoint", 2, 400);
  t.env = "max_of_two_quadratics";
  ExpectCheckpointRoundTrip(t, "pr2_ac", Factory(o));
}

// The closed-form policy fit over uniform candidates, with the uniform
// marginal: trains and restores like the reference path.
TEST(Pr2AcCheckpointTest, BoxRoundTripWithClosedFormPolicyFit) {
  Pr2AcOptions o = SmallBoxOptions();
  o.policy_fit_sampled = true;
  o.uniform_marginal = true;
  o.policy_candidates = 8;
  TrainingOptions t = MatrixOptions("pr2_ac_box_fit_checkpoint", 2, 400);
  t.env = "max_of_two_quadratics";
  ExpectCheckpointRoundTrip(t, "pr2_ac", Factory(o));
}

TEST(Pr2AcCheckpointTest, DiscreteRoundTrip) {
  Pr2AcOptions o = SmallDiscreteOptions();
  o.fit_opponent_prior = true;  // the prior network is saved too
  TrainingOptions t = MatrixOptions("pr2_ac_discrete_checkpoint", 2, 400);
  t.env_settings = {{"game", "climbing"}};
  ExpectCheckpointRoundTrip(t, "pr2_ac", Factory(o));
}

}  // namespace
}  // namespace marl
