#include "nn/categorical.h"

#include <torch/torch.h>

namespace marl {
namespace nn {

torch::Tensor SampleGumbel(torch::IntArrayRef shape,
                           c10::optional<at::Generator> generator,
                           const torch::TensorOptions& options) {
  // 1e-10 is representable in float; both logs then stay finite.
  torch::Tensor u =
      torch::rand(shape, generator, options).clamp(1e-10, 1.0 - 1e-7);
  return -torch::log(-torch::log(u));
}

torch::Tensor SampleCategorical(const torch::Tensor& logits,
                                c10::optional<at::Generator> generator) {
  torch::NoGradGuard no_grad;
  return (logits + SampleGumbel(logits.sizes(), generator, logits.options()))
      .argmax(-1);
}

torch::Tensor CategoricalLogProb(const torch::Tensor& logits,
                                 const torch::Tensor& actions) {
  return torch::log_softmax(logits, -1)
      .gather(-1, actions.to(torch::kLong).unsqueeze(-1))
      .squeeze(-1);
}

torch::Tensor CategoricalEntropy(const torch::Tensor& logits) {
  torch::Tensor log_p = torch::log_softmax(logits, -1);
  // p log p -> 0 where p = 0 (log p = -inf would give NaN).
  torch::Tensor plogp = torch::where(log_p.isinf(), torch::zeros_like(log_p),
                                     log_p.exp() * log_p);
  return -plogp.sum(-1);
}

torch::Tensor GumbelSoftmax(const torch::Tensor& logits, double temperature,
                            bool straight_through,
                            c10::optional<at::Generator> generator) {
  TORCH_CHECK(temperature > 0, "GumbelSoftmax: temperature must be > 0");
  torch::Tensor g = SampleGumbel(logits.sizes(), generator, logits.options());
  torch::Tensor soft = torch::softmax((logits + g) / temperature, -1);
  if (!straight_through) return soft;
  torch::Tensor hard = torch::zeros_like(soft).scatter_(
      -1, soft.argmax(-1, /*keepdim=*/true), 1.0);
  return hard - soft.detach() + soft;
}

torch::Tensor OneHot(const torch::Tensor& actions, int64_t num_actions) {
  return torch::one_hot(actions.to(torch::kLong), num_actions)
      .to(torch::kFloat);
}

CategoricalPolicyImpl::CategoricalPolicyImpl(
    const CategoricalPolicyOptions& options, at::Generator& init)
    : options_(options) {
  reset();
  InitializeMlp(mlp_, init);
}

void CategoricalPolicyImpl::reset() {
  mlp_ = register_module(
      "mlp",
      MakeMlpLayers(options_.obs_dim, options_.hidden, options_.num_actions,
                    options_.activation, Activation::kNone));
}

torch::Tensor CategoricalPolicyImpl::forward(const torch::Tensor& obs) {
  return mlp_->forward(obs);
}

torch::Tensor CategoricalPolicyImpl::sample(
    const torch::Tensor& obs, c10::optional<at::Generator> generator) {
  return SampleCategorical(forward(obs), generator);
}

torch::Tensor CategoricalPolicyImpl::greedy(const torch::Tensor& obs) {
  return forward(obs).argmax(-1);
}

torch::Tensor CategoricalPolicyImpl::log_prob(const torch::Tensor& obs,
                                              const torch::Tensor& actions) {
  return CategoricalLogProb(forward(obs), actions);
}

torch::Tensor CategoricalPolicyImpl::entropy(const torch::Tensor& obs) {
  return CategoricalEntropy(forward(obs));
}

torch::Tensor CategoricalPolicyImpl::gumbel_softmax(
    const torch::Tensor& obs, double temperature, bool straight_through,
    c10::optional<at::Generator> generator) {
  return GumbelSoftmax(forward(obs), temperature, straight_through, generator);
}

}  // namespace nn
}  // namespace marl
