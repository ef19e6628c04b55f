#ifndef MARL_NN_MLP_H_
#define MARL_NN_MLP_H_

// A multilayer-perceptron builder shared by every deep agent.

#include <ATen/core/Generator.h>
#include <torch/nn.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace marl {
namespace nn {

enum class Activation { kNone, kRelu, kTanh };

// "none" / "linear", "relu", "tanh" (for flags and settings). Returns false
// and leaves *out alone on anything else.
bool ParseActivation(std::string_view name, Activation* out);

// Every parameter of `nets`, in order: what one optimizer over several
// networks takes.
std::vector<torch::Tensor> ParametersOf(
    const std::vector<torch::nn::Sequential*>& nets);

// Linear(in, hidden[0]), act, ..., Linear(hidden.back(), out), output_act.
// With no hidden sizes it is a single Linear layer.
//
// Weights and biases are drawn from `init` (the learner's own generator: no
// global state, so initial weights depend on the learner's seed only) with
// LibTorch's Linear default distribution, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// (kaiming_uniform with a = sqrt(5)); it matches PyTorch, so ported
// hyper-parameters keep their meaning. If output_init_range > 0, the last
// Linear's weights and biases are drawn from U(-range, range) instead (the
// 3e-3 trick of DDPG/SAC code: small initial outputs keep early Q values and
// policy means near zero).
torch::nn::Sequential MakeMlp(int64_t in, const std::vector<int64_t>& hidden,
                              int64_t out, at::Generator& init,
                              Activation activation = Activation::kRelu,
                              Activation output_activation = Activation::kNone,
                              double output_init_range = 0.0);

// The layers of MakeMlp with LibTorch's own initial weights (drawn from the
// global generator, and meant to be overwritten): for the reset() of a
// Cloneable module, which clone() calls before copying the weights in.
// Everything else calls MakeMlp.
torch::nn::Sequential MakeMlpLayers(int64_t in,
                                    const std::vector<int64_t>& hidden,
                                    int64_t out, Activation activation,
                                    Activation output_activation);

// LibTorch's (and PyTorch's) Linear initial range for a layer with
// `fan_in` inputs: weights and biases from U(-bound, bound), bound =
// 1/sqrt(fan_in).
double LinearInitBound(int64_t fan_in);

// Draws every Linear layer of `mlp` from `init` as MakeMlp does.
void InitializeMlp(torch::nn::Sequential& mlp, at::Generator& init,
                   double output_init_range = 0.0);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_MLP_H_
