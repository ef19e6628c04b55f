#include "agents/gr2/gr2_networks.h"

#include <torch/torch.h>

#include <utility>

namespace marl {
namespace gr2 {

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
