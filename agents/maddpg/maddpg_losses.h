#ifndef MARL_AGENTS_MADDPG_MADDPG_LOSSES_H_
#define MARL_AGENTS_MADDPG_MADDPG_LOSSES_H_

// MADDPG's loss pieces, exposed for tests (LibTorch header).

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "nn/q_network.h"

namespace marl {
namespace maddpg {

// Agent i's critic target r_i + gamma (1 - done) Q'_i(x', mu'_1(o'_1), ...,
// mu'_n(o'_n)): `next_actions` are the target actors' actions, one per agent.
torch::Tensor CriticTarget(nn::QNetwork& target_critic, int agent,
                           const torch::Tensor& next_joint_obs,
                           const std::vector<torch::Tensor>& next_actions,
                           const torch::Tensor& reward,
                           const torch::Tensor& done, double gamma);

// -mean Q_i(x, a_1, .., mu_i(o_i), .., a_n): the replayed actions of the
// others, agent i's replaced by its actor's (differentiable) action.
torch::Tensor ActorLoss(nn::QNetwork& critic, int agent,
                        const torch::Tensor& joint_obs,
                        std::vector<torch::Tensor> actions,
                        const torch::Tensor& own_action);

// A Discrete agent's differentiable action for its critic: the
// straight-through Gumbel-softmax of its logits (one-hot forward value,
// soft-sample gradient).
torch::Tensor DiscreteActorAction(
    const torch::Tensor& logits, double temperature,
    c10::optional<at::Generator> generator = c10::nullopt);

}  // namespace maddpg
}  // namespace marl

#endif  // MARL_AGENTS_MADDPG_MADDPG_LOSSES_H_
