#ifndef MARL_LEARNERS_DISCRETE_JOINT_ACTIONS_H_
#define MARL_LEARNERS_DISCRETE_JOINT_ACTIONS_H_

// Exact expectations over the other agents' joint actions, for deep agents
// on small Discrete games (PR2-AC, ROMMEO-AC): agent i's view of every joint
// action j of the others, enumerated in mixed radix (the last other agent
// varies fastest), laid out as the replay buffer lays out a^-i
// (concatenated one-hots in agent order). A LibTorch header.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nn/q_network.h"

namespace marl {
namespace deep {

class OtherJointActions {
 public:
  // `num_actions` holds every agent's action count. INVALID_ARGUMENT (naming
  // `algorithm`) if agent `agent`'s own actions times the others' joint
  // actions exceed `max_joint_actions`: each exact update evaluates the
  // critic on batch x that many rows.
  static absl::StatusOr<OtherJointActions> Enumerate(
      const std::vector<int64_t>& num_actions, int agent,
      int64_t max_joint_actions, const std::string& algorithm);

  // Every agent's view, for games whose agents all have Discrete actions
  // (`num_actions` 0 marks a Box agent: INVALID_ARGUMENT, mixed kinds).
  static absl::StatusOr<std::vector<OtherJointActions>> EnumerateForEveryAgent(
      const std::vector<int64_t>& num_actions, int64_t max_joint_actions,
      const std::string& algorithm);

  int64_t size() const { return one_hots_.size(0); }  // m joint actions
  int64_t num_own_actions() const { return own_one_hots_.size(0); }
  // [m, sum_{j != i} k_j]: row j is joint action j as concatenated one-hots.
  const torch::Tensor& one_hots() const { return one_hots_; }
  // Replayed a^-i rows [B, sum k_j] (concatenated one-hots) -> int64 [B].
  torch::Tensor Index(const torch::Tensor& others) const;
  // Q(s, a, j) for every own action a and joint action j: [B, k, m].
  torch::Tensor QTable(nn::QNetwork& critic, const torch::Tensor& obs) const;

 private:
  torch::Tensor one_hots_, index_weights_, own_one_hots_;
};

}  // namespace deep
}  // namespace marl

#endif  // MARL_LEARNERS_DISCRETE_JOINT_ACTIONS_H_
