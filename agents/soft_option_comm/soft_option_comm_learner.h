#ifndef MARL_AGENTS_SOFT_OPTION_COMM_SOFT_OPTION_COMM_LEARNER_H_
#define MARL_AGENTS_SOFT_OPTION_COMM_SOFT_OPTION_COMM_LEARNER_H_

// Multi-agent delayed soft-option communication (thesis §4.2, §4.3.2): two
// agents, each with its own master q^H(z|s, z'_partner), termination
// q^T(b|s, z_prev, z'_partner) and low-level pi(a|s, z, z'_partner)
// policies, where z'_partner is the option the partner acted with at the
// previous step, received as a message; and each with a model of its
// partner's termination, master and low-level policies given its own
// option and action. Values (losses 4.29-4.34, 4.41 with the target's sign
// of eq. 4.21) and policies (KL losses 4.35-4.40) are the closed forms of
// soft_option_losses.h composed along the chain of eq. 4.16-4.21; see
// README.md.
//
// The message travels through the environment protocol's message channel
// (docs/PROTOCOL.md): the environment is made with message_size = m (the
// number of options); each agent's action is [a, z] and its observation
// ends with the one-hot of the partner's last option. Torch-free header.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agents/soft_option/soft_option_params.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

#define MARL_SOFT_OPTION_COMM_PARAMS(P)                                     \
  MARL_SOFT_OPTION_SHARED_PARAMS(P)                                         \
  P(bool, zero_messages, false, AnyValue(),                                 \
    "Baseline: each agent ignores its partner's messages (it reads their "  \
    "observation floats as zeros and never knows the partner's previous "   \
    "option); the agents still send theirs.")                               \
  P(bool, fitted_partner, false, AnyValue(),                                \
    "Outside the thesis: fit the partner models to the partner's replayed " \
    "actions and options (maximum likelihood) instead of the variational "  \
    "closed forms, which model the partner as acting for this agent's own " \
    "soft Q.")

namespace marl {

struct SoftOptionCommOptions {
  MARL_PARAMS(MARL_SOFT_OPTION_COMM_PARAMS)
  // Networks' hidden layers, the value networks' learning rate
  // (critic_lr), gamma, tau (the termination value's target copy), replay
  // and update schedule.
  DeepJointParams base;
};

// "soft_option_comm_m<m>", with "_zeroed" (zero_messages), "_expected"
// (soft_master_value = false) and "_shared" (task_features > 0).
std::string SoftOptionCommAlgorithmName(const SoftOptionCommOptions& options);

// INVALID_ARGUMENT unless the spec has two agents with Discrete actions
// under a message channel of num_options messages, and the options are
// valid.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateSoftOptionCommLearner(
    const EnvSpec& spec, const SoftOptionCommOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_SOFT_OPTION_COMM_SOFT_OPTION_COMM_LEARNER_H_
