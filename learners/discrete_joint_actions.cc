#include "learners/discrete_joint_actions.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace marl {
namespace deep {

absl::StatusOr<OtherJointActions> OtherJointActions::Enumerate(
    const std::vector<int64_t>& num_actions, int agent,
    int64_t max_joint_actions, const std::string& algorithm) {
  const int n = static_cast<int>(num_actions.size());
  if (agent < 0 || agent >= n) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": no agent ", agent));
  }
  std::vector<int> others;
  int64_t m = 1;
  int64_t width = 0;
  for (int j = 0; j < n; ++j) {
    if (num_actions[j] < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(algorithm, ": agent ", j, " has no Discrete actions"));
    }
    if (j == agent) continue;
    others.push_back(j);
    width += num_actions[j];
    // Checked as it grows, so the product cannot overflow.
    m *= num_actions[j];
    if (m * num_actions[agent] > max_joint_actions) {
      return absl::InvalidArgumentError(absl::StrCat(
          algorithm, ": agent ", agent, " would enumerate more than ",
          max_joint_actions,
          " joint actions (own actions times the other agents' joint "
          "actions) per state; the exact Discrete expectations need fewer"));
    }
  }
  OtherJointActions out;
  out.one_hots_ = torch::zeros({m, width});
  out.index_weights_ = torch::zeros({width});
  auto table = out.one_hots_.accessor<float, 2>();
  auto weights = out.index_weights_.accessor<float, 1>();
  int64_t stride = m;
  int64_t offset = 0;
  for (int j : others) {
    const int64_t k = num_actions[j];
    stride /= k;
    for (int64_t a = 0; a < k; ++a) {
      weights[offset + a] = static_cast<float>(a * stride);
    }
    for (int64_t row = 0; row < m; ++row) {
      table[row][offset + (row / stride) % k] = 1.0f;
    }
    offset += k;
  }
  out.own_one_hots_ = torch::eye(num_actions[agent]);
  return out;
}

absl::StatusOr<std::vector<OtherJointActions>>
OtherJointActions::EnumerateForEveryAgent(
    const std::vector<int64_t>& num_actions, int64_t max_joint_actions,
    const std::string& algorithm) {
  for (int64_t k : num_actions) {
    if (k < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          algorithm,
          ": all agents must have Box actions or all Discrete actions; mixed "
          "action kinds are not supported"));
    }
  }
  std::vector<OtherJointActions> out;
  for (int i = 0; i < static_cast<int>(num_actions.size()); ++i) {
    absl::StatusOr<OtherJointActions> view =
        Enumerate(num_actions, i, max_joint_actions, algorithm);
    if (!view.ok()) return view.status();
    out.push_back(*std::move(view));
  }
  return out;
}

torch::Tensor OtherJointActions::Index(const torch::Tensor& others) const {
  return (others * index_weights_).sum(-1).round().to(torch::kLong);
}

torch::Tensor OtherJointActions::QTable(nn::QNetwork& critic,
                                        const torch::Tensor& obs) const {
  const int64_t k = num_own_actions();
  const int64_t m = size();
  // Broadcast [B, 1, 1, .] x [1, k, 1, k] x [1, 1, m, .].
  return critic
      ->forward(obs.unsqueeze(1).unsqueeze(1), own_one_hots_.view({1, k, 1, k}),
                one_hots_.view({1, 1, m, -1}))
      .squeeze(-1);
}

}  // namespace deep
}  // namespace marl
