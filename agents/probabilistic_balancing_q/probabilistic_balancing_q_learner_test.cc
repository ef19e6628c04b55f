#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_losses.h"
#include "gtest/gtest.h"
#include "nn/q_network.h"
#include "nn/tanh_gaussian.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

using Options = ProbabilisticBalancingQOptions;
const double kLog2 = std::log(2.0);

float At(const torch::Tensor& t, int64_t i) { return t[i].item<float>(); }

TEST(PbqLossTest, QLossByHand) {
  // Row 0: target 0.5 + 0.9 * 2 = 2.3, error -1.3; row 1 terminal: target
  // 1, error 1. 0.5 * mean(1.69, 1) = 0.6725.
  const torch::Tensor loss = pbq::QLoss(
      torch::tensor({1.0f, 2.0f}), torch::tensor({0.5f, 1.0f}),
      torch::tensor({0.0f, 1.0f}), torch::tensor({2.0f, 100.0f}), 0.9);
  EXPECT_NEAR(loss.item<float>(), 0.6725, 1e-5);
}

TEST(PbqLossTest, VariationalMarginalByHand) {
  // mean_k [Q_k - (log rho_k - log P) / beta^-i] with log P = -log 2.
  const torch::Tensor q = torch::tensor({{1.0f, 3.0f}});
  const torch::Tensor log_rho = torch::tensor({{-0.5f, 0.5f}});
  const double expected_pos =
      0.5 * ((1.0 - (-0.5 + kLog2) / 2.0) + (3.0 - (0.5 + kLog2) / 2.0));
  EXPECT_NEAR(At(pbq::VariationalMarginal(q, log_rho, -kLog2, 2.0), 0),
              expected_pos, 1e-5);
  // A foe's entropy bonus enters with the opposite sign.
  const double expected_neg =
      0.5 * ((1.0 + (-0.5 + kLog2) / 2.0) + (3.0 + (0.5 + kLog2) / 2.0));
  EXPECT_NEAR(At(pbq::VariationalMarginal(q, log_rho, -kLog2, -2.0), 0),
              expected_neg, 1e-5);
}

TEST(PbqLossTest, ImportanceMarginalByHand) {
  // Q = (0, log 3), proposal = prior: beta^-i = 1 gives log((1 + 3) / 2) =
  // log 2; beta^-i = -1 gives -log((1 + 1/3) / 2) = log 1.5.
  const torch::Tensor q =
      torch::tensor({{0.0f, static_cast<float>(std::log(3.0))}});
  const torch::Tensor log_q = torch::full({1, 2}, -kLog2);
  EXPECT_NEAR(At(pbq::ImportanceMarginal(q, log_q, -kLog2, 1.0), 0), kLog2,
              1e-5);
  EXPECT_NEAR(At(pbq::ImportanceMarginal(q, log_q, -kLog2, -1.0), 0),
              std::log(1.5), 1e-5);
  // Weights P/q: a proposal twice as dense as the prior at particle 1
  // halves its weight: log((1 + 3/2) / 2) = log 1.25.
  const torch::Tensor log_q2 =
      torch::tensor({{0.0f, 0.0f}}) - kLog2 +
      torch::tensor({{0.0f, static_cast<float>(kLog2)}});
  EXPECT_NEAR(At(pbq::ImportanceMarginal(q, log_q2, -kLog2, 1.0), 0),
              std::log(1.25), 1e-5);
}

TEST(PbqLossTest, ValuePolicyAndOpponentLossesByHand) {
  // V target = M - (log pi - log P) / beta = 2 - (0.3 + log 2) / 0.5.
  const torch::Tensor m = torch::tensor({2.0f});
  const torch::Tensor log_pi = torch::tensor({0.3f});
  const double target = 2.0 - (0.3 + kLog2) / 0.5;
  EXPECT_NEAR(At(pbq::ValueTarget(m, log_pi, -kLog2, 0.5), 0), target, 1e-5);
  EXPECT_NEAR(pbq::ValueLoss(torch::tensor({1.0f}),
                             pbq::ValueTarget(m, log_pi, -kLog2, 0.5))
                  .item<float>(),
              0.5 * (1.0 - target) * (1.0 - target), 1e-5);
  // Policy KL: log pi - log P - beta M + beta V = 0.3 + log 2 - 1 + 0.5 * 4.
  EXPECT_NEAR(pbq::PolicyLoss(log_pi, m, torch::tensor({4.0f}), -kLog2, 0.5)
                  .item<float>(),
              0.3 + kLog2 - 1.0 + 2.0, 1e-5);
  // Opponent KL: mean(log rho - beta^-i Q - log P) over (rows, particles).
  const torch::Tensor q = torch::tensor({{1.0f, -2.0f}});
  const torch::Tensor log_rho = torch::tensor({{0.1f, 0.2f}});
  EXPECT_NEAR(pbq::OpponentLoss(q, log_rho, -kLog2, -3.0).item<float>(),
              0.5 * ((0.1 + 3.0 + kLog2) + (0.2 - 6.0 + kLog2)), 1e-5);
}

TEST(PbqLossTest, ConsistencyResidualVanishesAtTheTargetPolicy) {
  // Eq. 3.52: log pi = beta (M - V) + log P  =>  eq. 3.58 holds exactly.
  const double beta = 0.7;
  const torch::Tensor m = torch::tensor({1.0f, -2.0f});
  const torch::Tensor v = torch::tensor({0.5f, 0.25f});
  const torch::Tensor log_pi = beta * (m - v) - kLog2;
  EXPECT_NEAR(
      pbq::ConsistencyResidual(m, v, log_pi, -kLog2, beta).item<float>(), 0.0,
      1e-6);
  // Off by 0.35 nats in row 0: residual 0.5 * mean((0.35 / 0.7)^2, 0).
  const torch::Tensor off = log_pi + torch::tensor({0.35f, 0.0f});
  EXPECT_NEAR(pbq::ConsistencyResidual(m, v, off, -kLog2, beta).item<float>(),
              0.5 * 0.5 * 0.25, 1e-5);
}

// A linear Q(s, a, a') = w a + c a' as a QNetwork with no hidden layer. With
// the uniform prior on (-1, 1) the marginal has a closed form:
//   M(a) = w a + (1/beta) log(sinh(beta c) / (beta c)).
nn::QNetwork LinearQ(float w, float c) {
  nn::QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 1;
  o.other_action_dim = 1;
  o.hidden = {};
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  nn::QNetwork q(o, init);
  torch::NoGradGuard no_grad;
  for (auto& p : q->named_parameters()) {
    if (p.key().find("weight") != std::string::npos) {
      p.value().copy_(torch::tensor({{0.0f, w, c}}));
    } else {
      p.value().zero_();
    }
  }
  return q;
}

double ExactMarginal(double w, double c, double a, double beta) {
  const double x = beta * c;
  return w * a + std::log(std::sinh(x) / x) / beta;
}

// Q at K particles for rows (s = 0, a): [B, K].
torch::Tensor QAt(nn::QNetwork& q, const torch::Tensor& own,
                  const torch::Tensor& particles) {
  const torch::Tensor s = torch::zeros({own.size(0), 1, 1});
  return q->forward(s, own.unsqueeze(1), particles).squeeze(-1);
}

TEST(PbqEstimatorTest, ImportanceSamplingMatchesTheExactMarginal) {
  nn::QNetwork q = LinearQ(0.5f, 1.5f);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const torch::Tensor own = torch::tensor({{0.4f}, {-0.8f}});
  // rho: a tanh Gaussian leaning right, as a learned model might.
  const torch::Tensor mean = torch::full({2, 1}, 0.3f);
  const torch::Tensor log_std = torch::full({2, 1}, -0.5f);
  torch::NoGradGuard no_grad;
  auto estimate = [&](Options::Proposal proposal, double beta_opp) {
    pbq::OpponentParticles p =
        pbq::SampleOpponentParticles(mean, log_std, 40000, proposal, gen);
    EXPECT_EQ(p.action.sizes(), (std::vector<int64_t>{2, 40000, 1}));
    return pbq::ImportanceMarginal(QAt(q, own, p.action), p.log_proposal,
                                   -kLog2, beta_opp);
  };
  // The prior and the mixture bound the weights P/q (by 1 and 2), so the
  // estimate is tight for a friend and a foe alike.
  for (Options::Proposal proposal :
       {Options::Proposal::kPrior, Options::Proposal::kMixture}) {
    for (double beta_opp : {2.0, -2.0}) {
      SCOPED_TRACE(absl::StrCat(static_cast<int>(proposal), " ", beta_opp));
      const torch::Tensor m = estimate(proposal, beta_opp);
      EXPECT_NEAR(At(m, 0), ExactMarginal(0.5, 1.5, 0.4, beta_opp), 0.02);
      EXPECT_NEAR(At(m, 1), ExactMarginal(0.5, 1.5, -0.8, beta_opp), 0.02);
    }
  }
  // rho alone is consistent too, but a tanh Gaussian's density vanishes at
  // the box edges faster than the uniform prior's, so P/rho is unbounded
  // there (infinite variance; why the mixture is the default). Checked
  // where rho leans the way the target does, with a looser tolerance.
  const torch::Tensor m = estimate(Options::Proposal::kOpponentModel, 2.0);
  EXPECT_NEAR(At(m, 0), ExactMarginal(0.5, 1.5, 0.4, 2.0), 0.1);
  EXPECT_NEAR(At(m, 1), ExactMarginal(0.5, 1.5, -0.8, 2.0), 0.1);
}

// Theorem 8's direction in the estimators: a friend (beta^-i > 0) makes the
// marginal a soft max over a^-i, above the mean-opponent value E_P[Q]; a
// foe (beta^-i < 0) a soft min, below it. On the same prior particles the
// importance estimate obeys this exactly (Jensen), and so does the exact
// value; the variational estimate bounds the exact value from below for a
// friend and from above for a foe.
TEST(PbqEstimatorTest, SignOfBetaOpponentOrdersMarginalAndMeanValue) {
  nn::QNetwork q = LinearQ(0.0f, 1.5f);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  torch::NoGradGuard no_grad;
  const torch::Tensor own = torch::zeros({1, 1});
  const torch::Tensor mean = torch::full({1, 1}, -0.2f);
  const torch::Tensor log_std = torch::full({1, 1}, -1.0f);
  pbq::OpponentParticles prior = pbq::SampleOpponentParticles(
      mean, log_std, 64, Options::Proposal::kPrior, gen);
  const torch::Tensor q_prior = QAt(q, own, prior.action);
  const double mean_value = q_prior.mean().item<double>();
  pbq::OpponentParticles rho = pbq::SampleOpponentParticles(
      mean, log_std, 40000, Options::Proposal::kOpponentModel, gen);
  const torch::Tensor q_rho = QAt(q, own, rho.action);
  for (double beta_opp : {0.5, 3.0, -0.5, -3.0}) {
    SCOPED_TRACE(beta_opp);
    const double is = At(
        pbq::ImportanceMarginal(q_prior, prior.log_proposal, -kLog2, beta_opp),
        0);
    const double exact = ExactMarginal(0.0, 1.5, 0.0, beta_opp);
    const double variational =
        At(pbq::VariationalMarginal(q_rho, rho.log_rho, -kLog2, beta_opp), 0);
    if (beta_opp > 0) {
      EXPECT_GE(is, mean_value);
      EXPECT_GT(exact, 0.0);  // E_P[Q] = 0 exactly
      EXPECT_LE(variational, exact + 1e-3);
    } else {
      EXPECT_LE(is, mean_value);
      EXPECT_LT(exact, 0.0);
      EXPECT_GE(variational, exact - 1e-3);
    }
  }
}

// Theorem 8 in the deep model: rho's update (eq. 3.57) against a fixed Q
// raises the soft value E_rho[Q - (log rho - log P) / beta^-i] when
// beta^-i > 0 and lowers it when beta^-i < 0, and moves rho towards the
// a^-i that helps (friend) or hurts (foe) the agent.
TEST(PbqEstimatorTest, OpponentUpdateMovesValueBySignOfBetaOpponent) {
  nn::QNetwork q = LinearQ(0.0f, 1.5f);
  nn::Freeze(*q);
  for (double beta_opp : {2.0, -2.0}) {
    SCOPED_TRACE(beta_opp);
    at::Generator init = at::make_generator<at::CPUGeneratorImpl>(11);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
    nn::TanhGaussianPolicyOptions ro;
    ro.obs_dim = 2;  // (s, a^i)
    ro.action_dim = 1;
    ro.hidden = {16};
    nn::TanhGaussianPolicy rho(ro, init);
    torch::optim::Adam opt(rho->parameters(), torch::optim::AdamOptions(1e-2));
    const torch::Tensor own = torch::zeros({32, 1});
    const torch::Tensor input = torch::zeros({32, 2});
    auto soft_value = [&](int64_t k) {
      torch::NoGradGuard no_grad;
      auto [mean, log_std] = rho->forward(input);
      pbq::OpponentParticles p = pbq::SampleOpponentParticles(
          mean, log_std, k, Options::Proposal::kOpponentModel, gen);
      return pbq::VariationalMarginal(QAt(q, own, p.action), p.log_rho, -kLog2,
                                      beta_opp)
          .mean()
          .item<double>();
    };
    auto mean_action = [&] {
      torch::NoGradGuard no_grad;
      return rho->deterministic(input).mean().item<double>();
    };
    const double before = soft_value(4000);
    const double before_action = mean_action();
    for (int step = 0; step < 150; ++step) {
      auto [mean, log_std] = rho->forward(input);
      pbq::OpponentParticles p = pbq::SampleOpponentParticles(
          mean, log_std, 16, Options::Proposal::kOpponentModel, gen);
      const torch::Tensor loss =
          pbq::OpponentLoss(QAt(q, own, p.action), p.log_rho, -kLog2, beta_opp);
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    const double after = soft_value(4000);
    if (beta_opp > 0) {
      EXPECT_GT(after, before + 0.05);
      EXPECT_GT(mean_action(), before_action + 0.2);  // towards +1 (Q up)
    } else {
      EXPECT_LT(after, before - 0.05);
      EXPECT_LT(mean_action(), before_action - 0.2);  // towards -1 (Q down)
    }
  }
}

TrainingOptions Quadratics(uint64_t seed, int64_t steps,
                           const std::string& name) {
  TrainingOptions t =
      ShortTrainingRun("max_of_two_quadratics", seed, steps, name);
  t.eval_episodes = 4;
  return t;
}

LearnerFactory Factory(const Options& o) {
  return FactoryOf(CreateProbabilisticBalancingQ, o);
}

Options Small() {
  Options o;
  o.base.hidden.sizes = {64, 64};
  o.base.batch_size = 64;
  o.marginal = Options::Marginal::kImportance;
  o.marginal_particles = 8;
  return o;
}

// The zero-sum quadratic game with opposite-sign betas (competitive): the
// paper variant's saddle point is (5, 10), value -15. From the untrained
// start near (0, 0) player_1 learns to push a2 to the edge (+10) and
// player_0 moves to the right basin, beyond its value at the start (about
// -4.4 for player_0 there, but a2 at 10 alone drops it to about -40).
TEST(PbqTrainingTest, ZeroSumQuadraticsWithOppositeSigns) {
  Options o = Small();
  o.beta_opponent.values = {-0.1};
  o.beta_growth = 1.02;
  TrainingOptions t = Quadratics(1, 2400, "pbq_zero_sum");
  t.env_settings = {{"zero_sum", "true"}};
  absl::StatusOr<TrainingResult> result =
      RunTraining(t, "probabilistic_balancing_q", Factory(o));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  EXPECT_GT(result->agents[1].greedy_action[0], 8.0);
  EXPECT_GT(result->agents[0].greedy_action[0], 3.0);
  EXPECT_LT(result->agents[0].greedy_action[0], 7.0);
  EXPECT_GT(result->agents[0].eval_return, -20.0);
  EXPECT_DOUBLE_EQ(result->agents[0].eval_return,
                   -result->agents[1].eval_return);
}

// The cooperative game with same-sign betas: friends coordinate on one of
// the two optima together (the untrained start near (0, 0) earns about
// -4.4). Which one depends on the budget and the seed (this short run's
// seed ends at the wide local optimum (-5, -5), whose value is 0: seeds 1-6
// of this run end within 0.02-1.6 of it); the experiment
// tools/experiments/probabilistic_balancing_q.sh measures that.
TEST(PbqTrainingTest, CooperativeQuadraticsWithSameSigns) {
  Options o = Small();
  o.beta_growth = 1.02;
  absl::StatusOr<TrainingResult> result = RunTraining(
      Quadratics(1, 2400, "pbq_coop"), "probabilistic_balancing_q", Factory(o));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  const double a1 = result->agents[0].greedy_action[0];
  const double a2 = result->agents[1].greedy_action[0];
  EXPECT_TRUE((a1 > 3 && a2 > 3) || (a1 < -3 && a2 < -3))
      << "miscoordinated: (" << a1 << ", " << a2 << ")";
  EXPECT_GT(result->agents[0].eval_return, -2.0);
  EXPECT_DOUBLE_EQ(result->agents[0].eval_return,
                   result->agents[1].eval_return);
}

// Any number of agents (3 in the beauty contest), and a checkpoint restores
// into a fresh learner in eval mode with the same greedy actions.
TEST(PbqTrainingTest, ThreeAgentsAndCheckpointRoundTrip) {
  Options o = Small();
  o.base.batch_size = 32;
  o.base.warmup = 64;
  o.beta_opponent.values = {0.1, -0.1, 0.1};  // one per agent
  TrainingOptions t = Quadratics(2, 400, "pbq_beauty");
  t.env = "beauty_contest";
  t.env_settings = {{"num_agents", "3"}};
  ExpectCheckpointRoundTrip(t, "probabilistic_balancing_q", Factory(o));
}

TEST(PbqTrainingTest, RejectsBadSettings) {
  Options o = Small();
  TrainingOptions t = Quadratics(1, 16, "pbq_bad");
  o.beta_opponent.values = {0.1, 0.1, 0.1};  // 3 values, 2 agents
  absl::StatusOr<TrainingResult> r =
      RunTraining(t, "probabilistic_balancing_q", Factory(o));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("beta_opponent"), std::string::npos);
  o = Small();
  o.beta_agent.values = {0.0};
  r = RunTraining(t, "probabilistic_balancing_q", Factory(o));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  o = Small();
  o.beta_growth = 0.5;
  r = RunTraining(t, "probabilistic_balancing_q", Factory(o));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // Discrete actions are not handled (Box only).
  t.env = "matrix_game";
  r = RunTraining(t, "probabilistic_balancing_q", Factory(Small()));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace marl
