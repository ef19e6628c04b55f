#ifndef MARL_AGENTS_GR2_GR2_NETWORKS_H_
#define MARL_AGENTS_GR2_GR2_NETWORKS_H_

// LibTorch parts of GR2: the auxiliary dominance loss and the greedy level
// roll-out of Discrete actions (one-hots). (Its agents' networks are
// nn::StackedMlp: ten agents' tiny 10-unit nets cost one call, not ten.)
// Include only from .cc files.

#include <torch/nn.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "agents/gr2/gr2_math.h"
#include "nn/q_network.h"

namespace marl {
namespace gr2 {

// GR2's auxiliary loss in hinge form, mean over all elements:
// mean(relu(Q(s, a^i_{k-2}, a^-i_{k-1}) - Q(s, a^i_k, a^-i_{k-1}))). Zero
// when level k weakly dominates level k-2 everywhere, positive otherwise;
// its gradient pushes Q(level k) up where it is behind.
torch::Tensor LevelDominanceLoss(const torch::Tensor& q_level_k,
                                 const torch::Tensor& q_level_k_minus_2);

// ---- Discrete actions: one-hots [..., k] ----

// Scores of each of one side's k actions given the other side's one-hot
// action: [..., k] -> [..., k] (Q values of the own actions, or an
// opponent model's logits).
using ActionScores = std::function<torch::Tensor(const torch::Tensor&)>;

// The one-hot [..., k] of argmax(scores) (ties: the lowest index).
torch::Tensor GreedyOneHot(const torch::Tensor& scores);

// q(s, a, opp) for every own action a in 0..k-1: obs [..., obs dim] and
// opp [..., k] broadcast against each other; returns [..., k]. Exact and
// cheap for small action sets (k one-hots through the network at once).
torch::Tensor EveryActionQ(nn::QNetworkImpl& q, const torch::Tensor& obs,
                           const torch::Tensor& opp, int64_t k);

// GR2's level roll-out (RollOutLevels in gr2_math.h) for Discrete actions:
// every best response is deterministic and greedy,
//   self[j]     = onehot(argmax self_scores(opponent[j-1])),
//   opponent[j] = onehot(argmax opponent_scores(self[j-1])),
// from the one-hot level-0 actions self0 and opp0.
LevelRollout<torch::Tensor> RollOutDiscreteLevels(
    int level, torch::Tensor self0, torch::Tensor opp0,
    const ActionScores& self_scores, const ActionScores& opponent_scores);

// The greedy action of a mixture over levels whose actions are
// deterministic: argmax_a sum_j weights[j] * level_one_hots[j][..., a], the
// mode of the mixed policy (ties: the lowest index). int64 [...].
torch::Tensor MixtureVote(const std::vector<torch::Tensor>& level_one_hots,
                          const std::vector<double>& weights);

}  // namespace gr2
}  // namespace marl

#endif  // MARL_AGENTS_GR2_GR2_NETWORKS_H_
