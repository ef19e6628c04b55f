#ifndef MARL_AGENTS_ROMMEO_ROMMEO_AC_LOSSES_H_
#define MARL_AGENTS_ROMMEO_ROMMEO_AC_LOSSES_H_

// ROMMEO-AC's loss pieces, exposed for tests (LibTorch header).

#include <torch/types.h>

namespace marl {
namespace rommeo {

// The regularised soft value of eq. 3.16 at sampled actions (uniform
// priors): Q - alpha (log rho(a^-i|s) + log pi(a^i|s, a^-i)), all [B].
torch::Tensor RegularisedValue(const torch::Tensor& q,
                               const torch::Tensor& log_rho,
                               const torch::Tensor& log_pi, double alpha);

// The same with a fitted opponent prior P: Q - alpha log pi - prior_weight
// (log rho - log P), all [B].
torch::Tensor RegularisedValueWithPrior(const torch::Tensor& q,
                                        const torch::Tensor& log_rho,
                                        const torch::Tensor& log_prior,
                                        const torch::Tensor& log_pi,
                                        double alpha, double prior_weight);

// The critic target of eq. 3.17: r + gamma (1 - done) RegularisedValue at
// the next state's sampled actions (from the target Q).
torch::Tensor RegularisedTarget(const torch::Tensor& reward,
                                const torch::Tensor& done,
                                const torch::Tensor& next_q,
                                const torch::Tensor& next_log_rho,
                                const torch::Tensor& next_log_pi, double alpha,
                                double gamma);

// Discrete actions, exact expectations. Shapes: q [B, m, k] = Q(s, a^i = a,
// a^-i = j) for the m joint actions j of the others and the k own actions
// a; pi_logits [B, m, k] (pi(.|s, j) per row j); rho_logits [B, m];
// prior_logits [B, m] or undefined (uniform prior).
//
// Regulariser of rho per j: alpha log rho_j (uniform prior) or
// prior_weight (log rho_j - log P_j).
//
// Eq. 3.16 exactly: sum_j rho_j [sum_a pi_ja (q_ja - alpha log pi_ja) -
// R_j]. [B].
torch::Tensor DiscreteRegularisedValue(const torch::Tensor& q,
                                       const torch::Tensor& pi_logits,
                                       const torch::Tensor& rho_logits,
                                       double alpha,
                                       const torch::Tensor& prior_logits = {},
                                       double prior_weight = 0);

// The conditional policy's loss: mean_B sum_j w_j sum_a pi_ja (alpha log
// pi_ja - q_ja), with w = softmax(rho_logits) taken as constants (the
// expectation of eq. 3.7 under the opponent model). Scalar.
torch::Tensor DiscretePolicyLoss(const torch::Tensor& q,
                                 const torch::Tensor& pi_logits,
                                 const torch::Tensor& rho_logits, double alpha);

// The opponent model's loss: -mean_B DiscreteRegularisedValue with pi held
// fixed (rho ∝ P exp(soft value of j), eq. 3.14). Scalar.
torch::Tensor DiscreteOpponentLoss(const torch::Tensor& q,
                                   const torch::Tensor& pi_logits,
                                   const torch::Tensor& rho_logits,
                                   double alpha,
                                   const torch::Tensor& prior_logits = {},
                                   double prior_weight = 0);

}  // namespace rommeo
}  // namespace marl

#endif  // MARL_AGENTS_ROMMEO_ROMMEO_AC_LOSSES_H_
