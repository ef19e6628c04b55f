#include "nn/mlp.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace marl {
namespace nn {
namespace {

void AppendActivation(torch::nn::Sequential& seq, Activation activation) {
  switch (activation) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      seq->push_back(torch::nn::ReLU());
      break;
    case Activation::kTanh:
      seq->push_back(torch::nn::Tanh());
      break;
  }
}

}  // namespace

std::vector<torch::Tensor> ParametersOf(
    const std::vector<torch::nn::Sequential*>& nets) {
  std::vector<torch::Tensor> all;
  for (torch::nn::Sequential* net : nets) {
    for (const torch::Tensor& p : (*net)->parameters()) all.push_back(p);
  }
  return all;
}

bool ParseActivation(std::string_view name, Activation* out) {
  if (name == "none" || name == "linear") {
    *out = Activation::kNone;
  } else if (name == "relu") {
    *out = Activation::kRelu;
  } else if (name == "tanh") {
    *out = Activation::kTanh;
  } else {
    return false;
  }
  return true;
}

torch::nn::Sequential MakeMlpLayers(int64_t in,
                                    const std::vector<int64_t>& hidden,
                                    int64_t out, Activation activation,
                                    Activation output_activation) {
  TORCH_CHECK(in > 0 && out > 0, "MakeMlp: sizes must be positive");
  torch::nn::Sequential seq;
  int64_t width = in;
  for (int64_t h : hidden) {
    TORCH_CHECK(h > 0, "MakeMlp: hidden sizes must be positive");
    seq->push_back(torch::nn::Linear(width, h));
    AppendActivation(seq, activation);
    width = h;
  }
  seq->push_back(torch::nn::Linear(width, out));
  AppendActivation(seq, output_activation);
  return seq;
}

double LinearInitBound(int64_t fan_in) {
  return 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(fan_in, 1)));
}

void InitializeMlp(torch::nn::Sequential& mlp, at::Generator& init,
                   double output_init_range) {
  std::vector<torch::nn::LinearImpl*> layers;
  for (const std::shared_ptr<torch::nn::Module>& m : mlp->children()) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      layers.push_back(linear);
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < layers.size(); ++l) {
    torch::nn::LinearImpl& layer = *layers[l];
    const double bound = l + 1 == layers.size() && output_init_range > 0
                             ? output_init_range
                             : LinearInitBound(layer.weight.size(1));
    layer.weight.uniform_(-bound, bound, init);
    layer.bias.uniform_(-bound, bound, init);
  }
}

torch::nn::Sequential MakeMlp(int64_t in, const std::vector<int64_t>& hidden,
                              int64_t out, at::Generator& init,
                              Activation activation,
                              Activation output_activation,
                              double output_init_range) {
  torch::nn::Sequential seq =
      MakeMlpLayers(in, hidden, out, activation, output_activation);
  InitializeMlp(seq, init, output_init_range);
  return seq;
}

}  // namespace nn
}  // namespace marl
