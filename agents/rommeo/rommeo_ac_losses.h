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

// The critic target of eq. 3.17: r + gamma (1 - done) RegularisedValue at
// the next state's sampled actions (from the target Q).
torch::Tensor RegularisedTarget(const torch::Tensor& reward,
                                const torch::Tensor& done,
                                const torch::Tensor& next_q,
                                const torch::Tensor& next_log_rho,
                                const torch::Tensor& next_log_pi, double alpha,
                                double gamma);

}  // namespace rommeo
}  // namespace marl

#endif  // MARL_AGENTS_ROMMEO_ROMMEO_AC_LOSSES_H_
