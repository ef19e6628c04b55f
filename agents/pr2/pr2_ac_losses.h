#ifndef MARL_AGENTS_PR2_PR2_AC_LOSSES_H_
#define MARL_AGENTS_PR2_PR2_AC_LOSSES_H_

// PR2-AC's loss pieces, exposed for tests (LibTorch header).

#include <torch/types.h>

#include "common/nn/q_network.h"

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

}  // namespace pr2
}  // namespace marl

#endif  // MARL_AGENTS_PR2_PR2_AC_LOSSES_H_
