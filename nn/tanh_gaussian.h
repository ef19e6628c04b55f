#ifndef MARL_NN_TANH_GAUSSIAN_H_
#define MARL_NN_TANH_GAUSSIAN_H_

// The tanh-squashed Gaussian policy of SAC / PR2-AC / ROMMEO-AC for Box
// actions: u ~ N(mean(s), std(s)), y = tanh(u) in (-1, 1), and the env action
// a = low + (y + 1) / 2 * (high - low).
//
// Log-probs are densities of y, in the normalised (-1, 1) space on purpose:
// an entropy target or a fixed temperature then means the same thing for any
// Box size (the affine map to the Box only shifts log-probs by the constant
// BoxLogAbsDet).

#include <ATen/core/Generator.h>
#include <torch/nn.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "nn/mlp.h"

namespace marl {
namespace nn {

struct TanhGaussianSample {
  torch::Tensor action;    // [..., d]: y = tanh(u), in (-1, 1)
  torch::Tensor log_prob;  // [...]: log density of y (tanh-corrected)
  torch::Tensor pre_tanh;  // [..., d]: u
};

// log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u)), elementwise. The
// naive form underflows to log(0) for |u| > ~9 in float.
torch::Tensor LogOneMinusTanhSquared(const torch::Tensor& u);

// Reparameterised sample from given noise ~ N(0, 1) [..., d]: u = mean +
// exp(log_std) * noise. Differentiable w.r.t. mean and log_std.
TanhGaussianSample TanhGaussianFromNoise(const torch::Tensor& mean,
                                         const torch::Tensor& log_std,
                                         const torch::Tensor& noise);

// log density of y = tanh(u), summed over the last dim:
//   sum_k [log N(u_k; mean_k, std_k) - log(1 - tanh(u_k)^2)].
torch::Tensor TanhGaussianLogProb(const torch::Tensor& mean,
                                  const torch::Tensor& log_std,
                                  const torch::Tensor& pre_tanh);

// atanh(y) with y clamped to [-1 + eps, 1 - eps], for log-probs of given
// actions (replayed or an opponent's). Actions exactly on the bounds have no
// finite pre-image; eps caps |u| at about 7.25 in float for the default.
torch::Tensor AtanhClamped(const torch::Tensor& y, double eps = 1e-6);

struct TanhGaussianPolicyOptions {
  int64_t obs_dim = 0;
  int64_t action_dim = 0;
  std::vector<int64_t> hidden = {100, 100};
  Activation activation = Activation::kRelu;
  // log_std is clamped to [min, max] (SAC code uses -20 / 2; the independent
  // SAC here used -5 / 2: std in [0.0067, 7.4]).
  double log_std_min = -5.0;
  double log_std_max = 2.0;
};

// obs -> (mean, log_std): one MLP with 2 * action_dim outputs, split in half.
class TanhGaussianPolicyImpl
    : public torch::nn::Cloneable<TanhGaussianPolicyImpl> {
 public:
  // Initial weights from `init` (MakeMlp).
  TanhGaussianPolicyImpl(const TanhGaussianPolicyOptions& options,
                         at::Generator& init);
  void reset() override;

  // obs [..., obs_dim] -> {mean, log_std}, each [..., action_dim].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& obs);

  // A reparameterised sample per observation row; noise from `generator`
  // (the global generator if nullopt).
  TanhGaussianSample rsample(
      const torch::Tensor& obs,
      c10::optional<at::Generator> generator = c10::nullopt);

  // tanh(mean): the evaluation action, in (-1, 1).
  torch::Tensor deterministic(const torch::Tensor& obs);

  // log density of given actions y in (-1, 1) ([..., action_dim] -> [...]).
  torch::Tensor log_prob(const torch::Tensor& obs, const torch::Tensor& action);

  const TanhGaussianPolicyOptions& options() const { return options_; }

 private:
  TanhGaussianPolicyOptions options_;
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(TanhGaussianPolicy);

// y in [-1, 1] -> a in [low, high]: low + (y + 1) / 2 * (high - low).
// low and high are [d] (or broadcastable) tensors of the Box bounds.
torch::Tensor ScaleToBox(const torch::Tensor& y, const torch::Tensor& low,
                         const torch::Tensor& high);
// The inverse: a -> 2 * (a - low) / (high - low) - 1.
torch::Tensor UnscaleFromBox(const torch::Tensor& action,
                             const torch::Tensor& low,
                             const torch::Tensor& high);
// sum_k log((high_k - low_k) / 2), a scalar tensor: log p_box(a) =
// log p(y) - BoxLogAbsDet(low, high).
torch::Tensor BoxLogAbsDet(const torch::Tensor& low, const torch::Tensor& high);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_TANH_GAUSSIAN_H_
