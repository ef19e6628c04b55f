#include "nn/mlp.h"

#include <torch/torch.h>

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

torch::nn::Sequential MakeMlp(int64_t in, const std::vector<int64_t>& hidden,
                              int64_t out, Activation activation,
                              Activation output_activation,
                              double output_init_range) {
  TORCH_CHECK(in > 0 && out > 0, "MakeMlp: sizes must be positive");
  torch::nn::Sequential seq;
  int64_t width = in;
  for (int64_t h : hidden) {
    TORCH_CHECK(h > 0, "MakeMlp: hidden sizes must be positive");
    seq->push_back(torch::nn::Linear(width, h));
    AppendActivation(seq, activation);
    width = h;
  }
  torch::nn::Linear last(width, out);
  if (output_init_range > 0) {
    torch::NoGradGuard no_grad;
    last->weight.uniform_(-output_init_range, output_init_range);
    last->bias.uniform_(-output_init_range, output_init_range);
  }
  seq->push_back(last);
  AppendActivation(seq, output_activation);
  return seq;
}

}  // namespace nn
}  // namespace marl
