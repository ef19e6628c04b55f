#ifndef MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_LEARNER_H_
#define MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_LEARNER_H_

// Single-agent soft option learning (thesis §4.1, §4.3.1): a master policy
// pi^H(z|s) over m options, a termination policy pi^T(b|s, z_{t-1}) and a
// low-level policy pi(a|s, z) per option, trained off-policy, soft
// actor-critic style, from the closed-form optimal policies of eq. 4.5-4.7
// with the value networks V_L(s, z) (eq. 4.22), V_H(s) (4.23), U(s, z')
// (4.24) and Q(s, a, z) (4.28, with the target's sign as in eq. 4.8: beta r
// + gamma U(s', z)). Losses in soft_option_losses.h.
//
// Acting (per copy, kept per acting stream): at an episode's first step
// b = 1; else b ~ pi^T(.|s, z_{t-1}). With b = 1 the master draws z ~
// pi^H(.|s), with b = 0 the option stays exactly z_{t-1}; then a ~ pi(.|s,
// z). Evaluation is greedy at every level. During warm-up b and z come
// from the priors (P(b = 1) = termination_prior, z uniform) and actions are
// uniform. The option acted with is each transition's latent
// (DeepJointLearner::ChooseLatents), stored in the replay as a one-hot.
//
// Every value and policy of the losses is evaluated for all m options at
// each replayed state (they are networks with m heads), so only Q(s, a, z)
// needs the option that was taken; expectations over options, terminations
// and Discrete actions are exact sums, Box actions are sampled
// (reparameterised tanh Gaussian, uniform prior on [-1, 1]^d). Discrete or
// Box actions, one agent. Torch-free header.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agents/soft_option/soft_option_params.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

#define MARL_SOFT_OPTION_PARAMS(P)                                           \
  MARL_SOFT_OPTION_SHARED_PARAMS(P)                                          \
  P(bool, freeze_options, false, AnyValue(),                                 \
    "Transfer: train only the master policy (and the value networks); the "  \
    "options' low-level and termination policies keep their weights (those " \
    "of --restore's checkpoint).")                                           \
  P(bool, task_aware_termination, false, AnyValue(),                         \
    "With --task_features: the termination policy sees the task features "   \
    "too (as the master does), so an option's actions are shared across "    \
    "tasks but when to end it is decided per task.")

namespace marl {

struct SoftOptionOptions {
  MARL_PARAMS(MARL_SOFT_OPTION_PARAMS)
  // Networks' hidden layers, the value networks' learning rate
  // (critic_lr), gamma, tau (U's target copy), replay and update schedule.
  DeepJointParams base;
};

// The run's algorithm name: "soft_option_m<m>" (with "_expected" for the
// plain expectation of eq. 4.10, "_shared" for options that do not see the
// task features, then "_task_termination" if their termination does), or
// "soft_option_flat" for one option (a
// flat soft actor-critic: the master and the termination have nothing to
// choose).
std::string SoftOptionAlgorithmName(const SoftOptionOptions& options);

// INVALID_ARGUMENT unless the spec has one agent with Box or Discrete
// observations and actions, and the options are valid.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateSoftOptionLearner(
    const EnvSpec& spec, const SoftOptionOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_LEARNER_H_
