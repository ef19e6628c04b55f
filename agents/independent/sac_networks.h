#ifndef MARL_AGENTS_INDEPENDENT_SAC_NETWORKS_H_
#define MARL_AGENTS_INDEPENDENT_SAC_NETWORKS_H_

// The torch pieces of soft actor-critic. Only sac_learner.cc and its test
// include this; everything else sees the torch-free sac_learner.h.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace marl {
namespace sac {

// A ReLU multilayer perceptron with a linear output layer.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t in, const std::vector<int64_t>& hidden, int64_t out);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential layers_;
};
TORCH_MODULE(Mlp);

// A tanh-squashed Gaussian sample, reparameterised: u = mean + exp(log_std)
// * noise, y = tanh(u) in (-1, 1), action = center + scale * y.
struct SquashedSample {
  torch::Tensor action;      // [batch, dim], in the Box bounds
  torch::Tensor normalized;  // [batch, dim], y in (-1, 1)
  // [batch]: log density of y (change of variables through tanh),
  //   sum_i [log N(u_i; mean_i, std_i) - log(1 - tanh(u_i)^2)].
  // Measured in the normalised (-1, 1) space on purpose: the entropy target
  // and a fixed alpha then mean the same thing for any Box size (the affine
  // rescale only shifts log-probs by a constant, -sum log(scale)).
  torch::Tensor log_prob;
};

SquashedSample SquashedGaussian(const torch::Tensor& mean,
                                const torch::Tensor& log_std,
                                const torch::Tensor& noise,
                                const torch::Tensor& center,
                                const torch::Tensor& scale);

// log(1 - tanh(u)^2) computed stably: 2 * (log 2 - u - softplus(-2u)).
torch::Tensor LogOneMinusTanhSquared(const torch::Tensor& u);

// target <- (1 - tau) * target + tau * source, parameter by parameter (the
// modules must have the same architecture).
void PolyakUpdate(torch::nn::Module& target, const torch::nn::Module& source,
                  double tau);
// target <- source.
void HardUpdate(torch::nn::Module& target, const torch::nn::Module& source);

}  // namespace sac
}  // namespace marl

#endif  // MARL_AGENTS_INDEPENDENT_SAC_NETWORKS_H_
