#ifndef MARL_AGENTS_JAL_JAL_LEARNER_H_
#define MARL_AGENTS_JAL_JAL_LEARNER_H_

// Joint-action learners with fictitious play (Claus & Boutilier 1998): each
// of two agents learns Q(s, own action, other's action) and a model of the
// other's policy from the counts of its actions, and plays the best
// response to that model. The example docs/ADDING_AGENTS.md builds.

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

namespace marl {

// Every hyperparameter once: its type, flag name, default, check and help
// (runtime/params.h makes the flags, the checks and the config from it).
#define MARL_JAL_PARAMS(P)                                             \
  P(double, jal_lr, 0.1, (InRange(1e-9, 1)), "jal: Q-learning rate.")  \
  P(double, jal_gamma, 0.95, (InRange(0, 1)), "jal: discount factor.") \
  P(double, jal_epsilon, 0.1, (InRange(0, 1)),                         \
    "jal: probability of a uniformly random action while training.")   \
  P(double, jal_prior_count, 1.0, Positive(),                          \
    "jal: pseudo-count of each of the other's actions in the model.")

struct JalOptions {
  MARL_PARAMS(MARL_JAL_PARAMS)
};

// Two agents with Discrete observations (the state) and Discrete actions;
// INVALID_ARGUMENT for anything else. Draws its randomness from `seed`.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateJalLearner(
    const EnvSpec& spec, const JalOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_JAL_JAL_LEARNER_H_
