#include "agents/soft_option_comm/soft_option_comm_losses.h"

#include <cmath>

#include "agents/soft_option/soft_option_losses.h"
#include "gtest/gtest.h"

namespace marl {
namespace soft_option_comm {
namespace {

using torch::Tensor;

TEST(SoftOptionCommLossesTest, ReadsThePartnersMessage) {
  const PartnerMessage message =
      ReadMessage(torch::tensor({0.f, 1.f, 0.f, 0.f, 0.f, 0.f}).view({2, 3}));
  EXPECT_EQ(message.option[0].item<int64_t>(), 1);
  EXPECT_TRUE(message.sent[0].item<bool>());
  EXPECT_FALSE(message.sent[1].item<bool>());
}

TEST(SoftOptionCommLossesTest, JointQAtTheTakenIndices) {
  const Tensor q = torch::arange(24, torch::kFloat32).view({1, 2, 3, 2, 2});
  const auto at = [](int64_t v) { return torch::tensor({v}, torch::kInt64); };
  // ((z n + a) mp + z_p) np + a_p = ((1 * 3 + 2) * 2 + 0) * 2 + 1 = 21.
  EXPECT_EQ(JointQAt(q, at(1), at(2), at(0), at(1)).item<float>(), 21.0f);
  EXPECT_EQ(JointQAt(q, at(0), at(0), at(1), at(0)).item<float>(), 2.0f);
}

// Eq. 4.17 / loss 4.31: one own option and action (m = n = 1), two partner
// options. Row 0: the partner said option 1, whose value of being kept is
// ln 4; the partner master's value is ln 2. Row 1: no message.
TEST(SoftOptionCommLossesTest, PartnerTerminationOfEquation417) {
  const double p1 = 0.05;
  const float ln2 = static_cast<float>(std::log(2.0));
  const float ln4 = static_cast<float>(std::log(4.0));
  const Tensor q1 = torch::tensor({0.f, ln4, 0.f, ln4}).view({2, 1, 1, 2});
  const Tensor q2 = torch::full({2, 1, 1}, ln2);
  const PartnerMessage message =
      ReadMessage(torch::tensor({0.f, 1.f, 0.f, 0.f}).view({2, 2}));
  const Tensor optimal = soft_option::OptimalTerminationLogits(
      q2, AtPartnerOption(q1, message), p1);
  // q^T(1) ∝ 0.05 * 2, q^T(0) ∝ 0.95 * 4.
  EXPECT_NEAR(torch::sigmoid(optimal)[0][0][0].item<float>(), 0.1 / (0.1 + 3.8),
              1e-6);
  const Tensor target =
      PartnerTerminationValueTarget(optimal, q2, q1, message, p1);
  EXPECT_NEAR(target[0][0][0].item<float>(), std::log(3.9), 1e-5);
  // Without a message the partner's option starts: the master's value.
  EXPECT_NEAR(target[1][0][0].item<float>(), ln2, 1e-6);
  // Loss 4.37: zero at the optimum; rows without a message do not count.
  Tensor logits = optimal.clone();
  logits[1][0][0] = 3.0f;
  EXPECT_NEAR(PartnerTerminationPolicyLoss(logits, q2, q1, message, p1)
                  .sum()
                  .item<float>(),
              0.0, 1e-6);
  // A policy of 1/2 in row 0: the Bernoulli KL to q = 0.1 / 3.9.
  logits[0][0][0] = 0.0f;
  const double q = 0.1 / 3.9;
  const Tensor kl = PartnerTerminationPolicyLoss(logits, q2, q1, message, p1);
  EXPECT_NEAR(kl[0][0][0].item<float>(),
              0.5 * std::log(0.5 / q) + 0.5 * std::log(0.5 / (1 - q)), 1e-5);
  EXPECT_EQ(kl[1][0][0].item<float>(), 0.0f);
}

// --fitted_partner: the likelihood of the partner's option under its
// modelled termination (sigma = 1/4) and master (1/3, 2/3).
TEST(SoftOptionCommLossesTest, PartnerOptionLikelihood) {
  const Tensor logits = torch::full({3}, static_cast<float>(std::log(1.0 / 3)));
  const Tensor master =
      torch::log(torch::tensor({1.f / 3, 2.f / 3})).repeat({3, 1});
  // Rows: said 0 and kept it; said 0 and switched to 1; said nothing.
  const PartnerMessage message =
      ReadMessage(torch::tensor({1.f, 0.f, 1.f, 0.f, 0.f, 0.f}).view({3, 2}));
  const Tensor nll = PartnerOptionNll(
      logits, master, torch::tensor({0, 1, 1}, torch::kInt64), message);
  EXPECT_NEAR(nll[0].item<float>(), -std::log(0.75 + 0.25 / 3), 1e-6);
  EXPECT_NEAR(nll[1].item<float>(), -std::log(0.25 * 2 / 3), 1e-6);
  EXPECT_NEAR(nll[2].item<float>(), -std::log(2.0 / 3), 1e-6);
}

// The chain of eq. 4.16-4.20 from a joint Q: at the optimal policies the
// targets of losses 4.29-4.34 (the single agent's closed forms, composed
// as the learner composes them) are the soft maxima written out by hand.
TEST(SoftOptionCommLossesTest, ValueChainAtTheOptimalPolicies) {
  torch::manual_seed(3);
  const int64_t m = 2, n = 3, np = 2;
  const double p1 = 0.2;
  const Tensor joint_q = torch::randn({1, m, n, m, np}, torch::kFloat64);
  const PartnerMessage message =
      ReadMessage(torch::tensor({0.0, 1.0}, torch::kFloat64).view({1, 2}));
  auto log_mean_exp = [](const Tensor& x, int64_t dim) {
    return torch::logsumexp(x, dim) -
           std::log(static_cast<double>(x.size(dim)));
  };
  // 4.29 (rho optimal): Q1 = log mean_{a_p} exp Q.
  const Tensor q1 = soft_option::DiscreteOptionValueTarget(
      torch::log_softmax(joint_q, -1), joint_q);
  EXPECT_TRUE(torch::allclose(q1, log_mean_exp(joint_q, -1)));
  // 4.30 (q^H_p optimal): Q2 = log mean_{z_p} exp Q1.
  const Tensor q2 = soft_option::MasterValueTarget(
      q1, torch::log_softmax(q1, -1), /*soft=*/true);
  EXPECT_TRUE(torch::allclose(q2, log_mean_exp(q1, -1)));
  // 4.31 (q^T_p optimal, partner said option 1): Q3 = log(p e^Q2 + (1 - p)
  // e^Q1[..., 1]).
  const Tensor q1_kept = q1.select(-1, 1);
  const Tensor q3 = PartnerTerminationValueTarget(
      soft_option::OptimalTerminationLogits(q2, q1_kept, p1), q2, q1, message,
      p1);
  EXPECT_TRUE(torch::allclose(
      q3, torch::log(p1 * q2.exp() + (1 - p1) * q1_kept.exp())));
  // 4.32 (pi optimal): Q4 = log mean_a exp Q3.
  const Tensor q4 =
      soft_option::DiscreteOptionValueTarget(torch::log_softmax(q3, -1), q3);
  EXPECT_TRUE(torch::allclose(q4, log_mean_exp(q3, -1)));
  // 4.33 (q^H optimal): Q5 = log mean_z exp Q4.
  const Tensor q5 = soft_option::MasterValueTarget(
      q4, torch::log_softmax(q4, -1), /*soft=*/true);
  EXPECT_TRUE(torch::allclose(q5, log_mean_exp(q4, -1)));
  // 4.34 (q^T optimal): U(z') = log(p e^Q5 + (1 - p) e^Q4(z')).
  const Tensor u = soft_option::TerminationValueTarget(
      soft_option::OptimalTerminationLogits(q5.unsqueeze(-1), q4, p1),
      q5.unsqueeze(-1), q4, p1);
  EXPECT_TRUE(torch::allclose(
      u, torch::log(p1 * q5.exp().unsqueeze(-1) + (1 - p1) * q4.exp())));
}

}  // namespace
}  // namespace soft_option_comm
}  // namespace marl
