#ifndef MARL_NN_CATEGORICAL_H_
#define MARL_NN_CATEGORICAL_H_

// Categorical policy heads for Discrete actions: sampling, log-probs and
// entropy from logits, and the Gumbel-softmax relaxation (Jang et al. 2017;
// Maddison et al. 2017) that MADDPG and the deep opponent models use to pass
// gradients through discrete actions.

#include <ATen/core/Generator.h>
#include <torch/nn.h>

#include <cstdint>
#include <vector>

#include "nn/mlp.h"

namespace marl {
namespace nn {

// Standard Gumbel noise -log(-log(U)), U ~ Uniform(0, 1) kept away from 0
// and 1 so the result is finite.
torch::Tensor SampleGumbel(torch::IntArrayRef shape,
                           c10::optional<at::Generator> generator,
                           const torch::TensorOptions& options = {});

// Samples actions from logits [..., k] (Gumbel-max: argmax(logits + G), which
// works for any leading dims). Returns int64 [...].
torch::Tensor SampleCategorical(
    const torch::Tensor& logits,
    c10::optional<at::Generator> generator = c10::nullopt);

// log softmax(logits)[action]: logits [..., k], actions int64 [...] -> [...].
torch::Tensor CategoricalLogProb(const torch::Tensor& logits,
                                 const torch::Tensor& actions);

// -sum_a p(a) log p(a) -> [...]. Finite for -inf logits (masked actions).
torch::Tensor CategoricalEntropy(const torch::Tensor& logits);

// softmax((logits + G) / temperature) [..., k], a differentiable stand-in
// for a one-hot sample. With straight_through, the forward value is the
// one-hot of its argmax while the gradient is the soft sample's
// (y_hard - stop_grad(y_soft) + y_soft).
torch::Tensor GumbelSoftmax(
    const torch::Tensor& logits, double temperature, bool straight_through,
    c10::optional<at::Generator> generator = c10::nullopt);

// int64 actions [...] -> float one-hot [..., k].
torch::Tensor OneHot(const torch::Tensor& actions, int64_t num_actions);

struct CategoricalPolicyOptions {
  int64_t obs_dim = 0;
  int64_t num_actions = 0;
  std::vector<int64_t> hidden = {100, 100};
  Activation activation = Activation::kRelu;
};

// obs -> logits through an MLP; the methods apply the functions above.
class CategoricalPolicyImpl
    : public torch::nn::Cloneable<CategoricalPolicyImpl> {
 public:
  // Initial weights from `init` (MakeMlp).
  CategoricalPolicyImpl(const CategoricalPolicyOptions& options,
                        at::Generator& init);
  void reset() override;

  torch::Tensor forward(const torch::Tensor& obs);  // logits [..., k]
  torch::Tensor sample(const torch::Tensor& obs,
                       c10::optional<at::Generator> generator = c10::nullopt);
  torch::Tensor greedy(const torch::Tensor& obs);  // argmax, int64 [...]
  torch::Tensor log_prob(const torch::Tensor& obs,
                         const torch::Tensor& actions);
  torch::Tensor entropy(const torch::Tensor& obs);
  torch::Tensor gumbel_softmax(
      const torch::Tensor& obs, double temperature, bool straight_through,
      c10::optional<at::Generator> generator = c10::nullopt);

  const CategoricalPolicyOptions& options() const { return options_; }

 private:
  CategoricalPolicyOptions options_;
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(CategoricalPolicy);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_CATEGORICAL_H_
