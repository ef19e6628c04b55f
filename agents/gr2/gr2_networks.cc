#include "agents/gr2/gr2_networks.h"

#include <torch/torch.h>

#include <cmath>
#include <string>
#include <utility>

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

torch::Tensor GreedyOneHot(const torch::Tensor& scores) {
  return torch::zeros_like(scores).scatter_(
      -1, scores.argmax(-1, /*keepdim=*/true), 1.0);
}

torch::Tensor EveryActionQ(nn::QNetworkImpl& q, const torch::Tensor& obs,
                           const torch::Tensor& opp, int64_t k) {
  // Row a of the identity is own action a: [..., 1, *] against [k, k].
  const torch::Tensor own = torch::eye(k, opp.options());
  return q.forward(obs.unsqueeze(-2), own, opp.unsqueeze(-2)).squeeze(-1);
}

LevelRollout<torch::Tensor> RollOutDiscreteLevels(
    int level, torch::Tensor self0, torch::Tensor opp0,
    const ActionScores& self_scores, const ActionScores& opponent_scores) {
  return RollOutLevels(
      level, std::move(self0), std::move(opp0),
      [&](const torch::Tensor& opp) { return GreedyOneHot(self_scores(opp)); },
      [&](const torch::Tensor& self) {
        return GreedyOneHot(opponent_scores(self));
      });
}

torch::Tensor MixtureVote(const std::vector<torch::Tensor>& level_one_hots,
                          const std::vector<double>& weights) {
  TORCH_CHECK(
      !level_one_hots.empty() && level_one_hots.size() == weights.size(),
      "MixtureVote: one weight per level needed");
  torch::Tensor votes = torch::zeros_like(level_one_hots[0]);
  for (size_t j = 0; j < weights.size(); ++j) {
    votes = votes + weights[j] * level_one_hots[j];
  }
  return votes.argmax(-1);
}

}  // namespace gr2
}  // namespace marl
