#ifndef MARL_AGENTS_MADDPG_MADDPG_LOSSES_H_
#define MARL_AGENTS_MADDPG_MADDPG_LOSSES_H_

// MADDPG's loss pieces for every agent at once, the agents' critics stacked
// (nn::StackedMlp, network i = agent i's critic); exposed for tests
// (LibTorch header).
//
// Agent i's critic reads the joint observation, then its own action, then
// the others' in agent order: Q_i(x, a_i, a_-i).

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "nn/stacked_mlp.h"

namespace marl {
namespace maddpg {

// Which columns of the joint action (every agent's action, in agent order,
// widths `action_dims`) agent i's critic reads, own first: [N, T] indices.
torch::Tensor OwnFirstColumns(const std::vector<int64_t>& action_dims);

// Every agent's critic input [N, B, O + T]: the joint observation [B, O],
// then the joint action of `actions` (one [B, A_i] per agent) in agent i's
// order (`columns`, from OwnFirstColumns).
torch::Tensor CriticInputs(const torch::Tensor& joint_obs,
                           const std::vector<torch::Tensor>& actions,
                           const torch::Tensor& columns);

// Every agent's critic target r_i + gamma (1 - done) Q'_i(x', mu'_1(o'_1),
// ..., mu'_n(o'_n)), [N, B]: `next_actions` are the target actors',
// `rewards` [N, B], `done` [B].
torch::Tensor CriticTargets(nn::StackedMlp& target_critics,
                            const torch::Tensor& next_joint_obs,
                            const std::vector<torch::Tensor>& next_actions,
                            const torch::Tensor& columns,
                            const torch::Tensor& rewards,
                            const torch::Tensor& done, double gamma);

// Every agent's -mean Q_i(x, a_1, .., own_i, .., a_n), [N]: the replayed
// actions of the others, agent i's replaced by its actor's (differentiable)
// action own[i].
torch::Tensor ActorLosses(nn::StackedMlp& critics,
                          const torch::Tensor& joint_obs,
                          const std::vector<torch::Tensor>& replayed,
                          const std::vector<torch::Tensor>& own,
                          const torch::Tensor& columns);

// A Discrete agent's differentiable action for its critic: the
// straight-through Gumbel-softmax of its logits (one-hot forward value,
// soft-sample gradient).
torch::Tensor DiscreteActorAction(
    const torch::Tensor& logits, double temperature,
    c10::optional<at::Generator> generator = c10::nullopt);

}  // namespace maddpg
}  // namespace marl

#endif  // MARL_AGENTS_MADDPG_MADDPG_LOSSES_H_
