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
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

#define MARL_SOFT_OPTION_COMM_PARAMS(P)                                       \
  P(int32_t, num_options, 4, (InRange(1, 64)),                                \
    "m: the options each agent's master chooses among, sent as messages: "    \
    "make the environment with message_size=m.")                              \
  P(double, beta, 10.0, (InRange(1e-6, 1e6)),                                 \
    "beta: rewards enter the Bellman target as beta * r (eq. 4.21); 1/beta "  \
    "is the policies' entropy temperature.")                                  \
  P(double, termination_prior, 0.05, (InRange(1e-6, 1 - 1e-6)),               \
    "P(b = 1): the termination prior's chance of ending an option at a step " \
    "(the agent's own and its model of the partner's).")                      \
  P(bool, soft_master_value, true, AnyValue(),                                \
    "true: master values are soft maxima over options with their entropy "    \
    "(eq. 4.9, losses 4.30 and 4.33); false: plain expectations (eq. "        \
    "4.10).")                                                                 \
  P(double, policy_lr, 3e-4, Positive(),                                      \
    "Adam learning rate of the policies and the partner models.")             \
  P(bool, every_option, false, AnyValue(),                                    \
    "true: every option's (and option-action pair's) value and policy are "   \
    "trained at every replayed state, exact sums over the options; false "    \
    "(the thesis's expectations over (s, z) ~ D): only at the options and "   \
    "actions the transition was acted with, so an option learns where its "   \
    "master chose it.")                                                       \
  P(bool, zero_messages, false, AnyValue(),                                   \
    "Baseline: each agent ignores its partner's messages (it reads their "    \
    "observation floats as zeros and never knows the partner's previous "     \
    "option); the agents still send theirs.")                                 \
  P(int32_t, task_features, 0, (InRange(0, 1 << 20)),                         \
    "The last N floats of the environment's own observation (before the "     \
    "messages; e.g. taxi_meeting's room block) reach only the master "        \
    "policies and the value networks: the options' low-level and "            \
    "termination policies do not see them, so an agent that knows the task "  \
    "must choose an option for it.")

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
