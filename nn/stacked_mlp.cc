#include "nn/stacked_mlp.h"

#include <torch/torch.h>

#include <string>

namespace marl {
namespace nn {

StackedMlpImpl::StackedMlpImpl(const StackedMlpOptions& options)
    : options_(options) {
  reset();
}

void StackedMlpImpl::reset() {
  weights_.clear();
  biases_.clear();
  std::vector<int64_t> sizes = {options_.in};
  sizes.insert(sizes.end(), options_.hidden.begin(), options_.hidden.end());
  sizes.push_back(options_.out);
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    weights_.push_back(register_parameter(
        "weight" + std::to_string(l),
        torch::zeros({options_.groups, sizes[l], sizes[l + 1]})));
    biases_.push_back(
        register_parameter("bias" + std::to_string(l),
                           torch::zeros({options_.groups, 1, sizes[l + 1]})));
  }
}

void StackedMlpImpl::Initialize(at::Generator& generator) {
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < weights_.size(); ++l) {
    const double bound = LinearInitBound(weights_[l].size(1));
    weights_[l].uniform_(-bound, bound, generator);
    biases_[l].uniform_(-bound, bound, generator);
  }
}

torch::Tensor StackedMlpImpl::forward(const torch::Tensor& x) {
  return Run(x, [this](size_t l, const torch::Tensor& h) {
    return torch::baddbmm(biases_[l], h, weights_[l]);
  });
}

torch::Tensor StackedMlpImpl::ForwardOne(int64_t g, const torch::Tensor& x) {
  return Run(x, [this, g](size_t l, const torch::Tensor& h) {
    return torch::addmm(biases_[l][g], h, weights_[l][g]);
  });
}

template <typename Layer>
torch::Tensor StackedMlpImpl::Run(const torch::Tensor& x, Layer layer) {
  torch::Tensor h = x;
  for (size_t l = 0; l < weights_.size(); ++l) {
    h = layer(l, h);
    if (l + 1 == weights_.size()) break;
    if (options_.activation == Activation::kRelu) {
      h = torch::relu(h);
    } else if (options_.activation == Activation::kTanh) {
      h = torch::tanh(h);
    }
  }
  return h;
}

}  // namespace nn
}  // namespace marl
