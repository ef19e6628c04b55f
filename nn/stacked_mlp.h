#ifndef MARL_NN_STACKED_MLP_H_
#define MARL_NN_STACKED_MLP_H_

// G multilayer perceptrons of one shape, evaluated together: layer l holds
// weights [G, in_l, out_l] and biases [G, 1, out_l], and an input
// [G, B, in] becomes [G, B, out] with one batched matrix product per layer
// (torch::baddbmm). Why: the agents' networks here are small, so a step
// costs its per-op overhead far more than its arithmetic; G networks in one
// op each train nearly G times as fast (docs/BENCHMARKS.md). Network g is
// what an nn::MakeMlp of the same sizes computes with network g's weights.

#include <ATen/core/Generator.h>
#include <torch/nn.h>

#include <cstdint>
#include <vector>

#include "nn/mlp.h"

namespace marl {
namespace nn {

struct StackedMlpOptions {
  int64_t groups = 1;  // G, the networks stacked
  int64_t in = 0;
  std::vector<int64_t> hidden;
  int64_t out = 0;
  Activation activation = Activation::kRelu;  // after each hidden layer
};

// Cloneable, so CloneTarget (nn/q_network.h) makes a target copy.
class StackedMlpImpl : public torch::nn::Cloneable<StackedMlpImpl> {
 public:
  // Weights start at zero: Initialize draws them.
  explicit StackedMlpImpl(const StackedMlpOptions& options);
  void reset() override;

  // Every network's weights and biases from U(-1/sqrt(fan_in),
  // 1/sqrt(fan_in)), LibTorch's (and PyTorch's) Linear default, drawn from
  // `generator` (the learner's own: no global state).
  void Initialize(at::Generator& generator);

  // x [G, B, in] -> [G, B, out].
  torch::Tensor forward(const torch::Tensor& x);
  // Network g alone: x [B, in] -> [B, out] (acting for one agent).
  torch::Tensor ForwardOne(int64_t g, const torch::Tensor& x);

  const StackedMlpOptions& options() const { return options_; }
  int64_t num_layers() const { return static_cast<int64_t>(weights_.size()); }
  torch::Tensor& weight(int64_t layer) { return weights_[layer]; }
  torch::Tensor& bias(int64_t layer) { return biases_[layer]; }

 private:
  // The layers in order, layer(l, h) applying layer l, the activation
  // between them.
  template <typename Layer>
  torch::Tensor Run(const torch::Tensor& x, Layer layer);

  StackedMlpOptions options_;
  std::vector<torch::Tensor> weights_, biases_;
};
TORCH_MODULE(StackedMlp);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_STACKED_MLP_H_
