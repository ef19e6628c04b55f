#ifndef MARL_AGENTS_PR2_PR2_AC_LOSSES_H_
#define MARL_AGENTS_PR2_PR2_AC_LOSSES_H_

// PR2-AC's loss pieces, exposed for tests (LibTorch header).

#include <torch/types.h>

#include "nn/q_network.h"

namespace marl {
namespace pr2 {

// T * log mean_k exp(values_k / T) along `dim`: the particle estimate of
// the soft (log-integral) marginal over opponent actions.
torch::Tensor SoftMarginal(const torch::Tensor& values, int64_t dim,
                           double temperature);

// Q^i(s, a^i) from particles: obs [B, ds], own [B, da], particles
// [B, K, d_-i] -> [B] = T log mean_k exp(Q(s, a^i, a^-i_k) / T).
torch::Tensor MarginalQ(nn::QNetwork& q, const torch::Tensor& obs,
                        const torch::Tensor& own,
                        const torch::Tensor& particles, double temperature);

// Discrete actions, exact over the enumerated actions. q [B, k, m] =
// Q^i(s, a^i = a, a^-i = j) for the k own actions a and the m joint actions
// j of the other agents; prior_logits [B, m] (a fitted P(a^-i|s)) or
// undefined for the uniform 1/m of the notes' closed form.
//
// Q^i(s, a) = T log sum_j P_j exp(q_aj / T) (uniform P: T log mean_j
// exp(q_aj / T)). [B, k].
torch::Tensor DiscreteMarginalQ(const torch::Tensor& q, double temperature,
                                const torch::Tensor& prior_logits = {});

// The closed-form conditional opponent model rho(j | s, a) ∝ P_j exp(q_aj /
// T). [B, k, m], rows sum to 1.
torch::Tensor DiscreteOpponentModel(const torch::Tensor& q, double temperature,
                                    const torch::Tensor& prior_logits = {});

// The soft value of the state under pi: sum_a pi_a (marginal_a - alpha log
// pi_a), marginal [B, k] from DiscreteMarginalQ, pi_logits [B, k]. [B].
torch::Tensor DiscreteSoftValue(const torch::Tensor& marginal,
                                const torch::Tensor& pi_logits, double alpha);

// The policy's loss: mean_B sum_a pi_a (alpha log pi_a - marginal_a), the
// marginal held constant. Scalar.
torch::Tensor DiscretePolicyLoss(const torch::Tensor& marginal,
                                 const torch::Tensor& pi_logits, double alpha);

}  // namespace pr2
}  // namespace marl

#endif  // MARL_AGENTS_PR2_PR2_AC_LOSSES_H_
