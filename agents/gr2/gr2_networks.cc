#include "agents/gr2/gr2_networks.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

namespace marl {
namespace gr2 {

EnsembleMlpImpl::EnsembleMlpImpl(int64_t members, int64_t in,
                                 const std::vector<int64_t>& hidden,
                                 int64_t out, bool tanh_output)
    : tanh_output_(tanh_output) {
  std::vector<int64_t> sizes = {in};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(out);
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
    weights_.push_back(register_parameter(
        "w" + std::to_string(l), torch::empty({members, sizes[l], sizes[l + 1]})
                                     .uniform_(-bound, bound)));
    biases_.push_back(register_parameter(
        "b" + std::to_string(l),
        torch::empty({members, 1, sizes[l + 1]}).uniform_(-bound, bound)));
  }
}

torch::Tensor EnsembleMlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (size_t l = 0; l < weights_.size(); ++l) {
    h = torch::baddbmm(biases_[l], h, weights_[l]);
    if (l + 1 < weights_.size()) h = torch::relu(h);
  }
  return tanh_output_ ? torch::tanh(h) : h;
}

torch::Tensor LevelDominanceLoss(const torch::Tensor& q_level_k,
                                 const torch::Tensor& q_level_k_minus_2) {
  return torch::relu(q_level_k_minus_2 - q_level_k).mean();
}

}  // namespace gr2
}  // namespace marl
