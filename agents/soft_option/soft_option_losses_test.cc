// The soft-option closed forms and losses against values worked out by
// hand on tiny inputs.
#include "agents/soft_option/soft_option_losses.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace soft_option {
namespace {

using torch::Tensor;

Tensor Row(std::vector<float> values) {
  return torch::tensor(values).unsqueeze(0);  // [1, k]
}

TEST(SoftOptionLossesTest, MasterValueSoftAndExpected) {
  // V_L = (0, ln 3); the optimal master is softmax = (1/4, 3/4).
  const Tensor v = Row({0.0f, static_cast<float>(std::log(3.0))});
  const Tensor optimal = torch::log(Row({0.25f, 0.75f}));
  // Soft (eq. 4.9): 1/4 (0 - ln(2/4)) + 3/4 (ln 3 - ln(6/4)) = ln 2, the
  // log of the mean of exp V_L (1 and 3).
  EXPECT_NEAR(MasterValueTarget(v, optimal, true).item<float>(), std::log(2.0),
              1e-6);
  // Expected (eq. 4.10): 3/4 ln 3, lower: no entropy.
  EXPECT_NEAR(MasterValueTarget(v, optimal, false).item<float>(),
              0.75 * std::log(3.0), 1e-6);
  // A uniform master: 1/2 (0 - 0) + 1/2 (ln 3 - 0) (log(m pi) = 0).
  const Tensor uniform = torch::log(Row({0.5f, 0.5f}));
  EXPECT_NEAR(MasterValueTarget(v, uniform, true).item<float>(),
              0.5 * std::log(3.0), 1e-6);
  // Loss 4.26: zero at the optimum; KL((1/2,1/2) || (1/4,3/4)) otherwise.
  EXPECT_NEAR(MasterPolicyLoss(optimal, v).item<float>(), 0.0, 1e-6);
  EXPECT_NEAR(MasterPolicyLoss(uniform, v).item<float>(),
              0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0), 1e-6);
}

TEST(SoftOptionLossesTest, TerminationClosedFormOfEquation47) {
  // V_H = ln 2, V_L = (0, ln 4), P(b = 1) = 0.05.
  const double p1 = 0.05;
  const Tensor v_high = Row({static_cast<float>(std::log(2.0))});  // [B, 1]
  const Tensor v_low = Row({0.0f, static_cast<float>(std::log(4.0))});
  const Tensor x = OptimalTerminationLogits(v_high, v_low, p1);
  // pi^T(1) ∝ 0.05 * 2, pi^T(0) ∝ 0.95 * exp V_L.
  EXPECT_NEAR(torch::sigmoid(x)[0][0].item<float>(), 0.1 / (0.1 + 0.95), 1e-6);
  EXPECT_NEAR(torch::sigmoid(x)[0][1].item<float>(), 0.1 / (0.1 + 3.8), 1e-6);
  // Loss 4.24's target at the optimal policy is U = log(0.1 + 0.95 e^V_L).
  const Tensor u = TerminationValueTarget(x, v_high, v_low, p1);
  EXPECT_NEAR(u[0][0].item<float>(), std::log(1.05), 1e-5);
  EXPECT_NEAR(u[0][1].item<float>(), std::log(3.9), 1e-5);
  // Any other termination policy gives less (the KL is subtracted):
  // p = 1/2: 1/2 (ln 2 - ln(1/2) + ln 0.05) + 1/2 (0 - ln(1/2) + ln 0.95).
  const Tensor half = torch::zeros({1, 2});
  EXPECT_NEAR(
      TerminationValueTarget(half, v_high, v_low, p1)[0][0].item<float>(),
      0.5 * (std::log(2.0) + std::log(2.0) + std::log(0.05)) +
          0.5 * (std::log(2.0) + std::log(0.95)),
      1e-5);
  // Loss 4.27: zero at the optimum, the Bernoulli KL elsewhere.
  EXPECT_NEAR(TerminationPolicyLoss(x, x).sum().item<float>(), 0.0, 1e-6);
  const double q = 0.1 / 1.05;
  EXPECT_NEAR(TerminationPolicyLoss(half, x)[0][0].item<float>(),
              0.5 * std::log(0.5 / q) + 0.5 * std::log(0.5 / (1 - q)), 1e-5);
}

TEST(SoftOptionLossesTest, DiscreteLowLevel) {
  // One option, two actions with Q = (1, 3), uniform prior 1/2.
  const Tensor q = torch::tensor({1.0f, 3.0f}).view({1, 1, 2});
  const Tensor uniform = torch::log(torch::full({1, 1, 2}, 0.5f));
  // Loss 4.22's target under a uniform pi: the mean of Q (log pi = log
  // prior).
  EXPECT_NEAR(DiscreteOptionValueTarget(uniform, q).item<float>(), 2.0, 1e-6);
  // Under the optimal pi = softmax(Q): log mean exp Q (eq. 4.5).
  const Tensor optimal = torch::log_softmax(q, -1);
  const double soft = std::log((std::exp(1.0) + std::exp(3.0)) / 2);
  EXPECT_NEAR(DiscreteOptionValueTarget(optimal, q).item<float>(), soft, 1e-5);
  // Loss 4.25: zero at the optimum, KL(uniform || softmax Q) at uniform.
  EXPECT_NEAR(DiscreteLowPolicyLoss(optimal, q).item<float>(), 0.0, 1e-6);
  const double p = 1 / (1 + std::exp(2.0));
  EXPECT_NEAR(DiscreteLowPolicyLoss(uniform, q).item<float>(),
              0.5 * std::log(0.5 / p) + 0.5 * std::log(0.5 / (1 - p)), 1e-5);
}

TEST(SoftOptionLossesTest, OptionsPersistUnlessTheyTerminate) {
  // Three copies, two options. Copy 0 starts an episode; copy 1 had option 1
  // and its termination probability is 0; copy 2 had option 0 and ends it
  // for sure.
  const Tensor termination =
      torch::tensor({{0.3f, 0.3f}, {1.0f, 0.0f}, {1.0f, 0.0f}});
  const Tensor master =
      torch::tensor({{0.2f, 0.8f}, {0.5f, 0.5f}, {0.9f, 0.1f}});
  // Uniforms: (termination, master) per copy.
  const Tensor u = torch::tensor({{0.99f, 0.1f}, {0.0f, 0.9f}, {0.5f, 0.95f}});
  std::vector<bool> ended;
  std::vector<int64_t> z = SelectOptions({-1, 1, 0}, {true, false, false},
                                         termination, master, u, false, &ended);
  EXPECT_EQ(ended, (std::vector<bool>{true, false, true}));
  // Copy 0: 0.1 < 0.2 -> option 0; copy 1 keeps 1 exactly; copy 2: 0.95 is
  // past 0.9 -> option 1.
  EXPECT_EQ(z, (std::vector<int64_t>{0, 1, 1}));
  // An episode start always terminates, whatever the previous option.
  z = SelectOptions({1, 1, 1}, {true, true, true}, termination, master, u,
                    false, &ended);
  EXPECT_EQ(ended, (std::vector<bool>{true, true, true}));
  // Deterministic: terminate when the probability is above 1/2, then the
  // master's most likely option.
  z = SelectOptions({0, 1, 0}, {false, false, false}, termination, master, u,
                    true, &ended);
  EXPECT_EQ(ended, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(z, (std::vector<int64_t>{0, 1, 0}));
}

}  // namespace
}  // namespace soft_option
}  // namespace marl
