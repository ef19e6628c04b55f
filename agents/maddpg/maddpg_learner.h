#ifndef MARL_AGENTS_MADDPG_MADDPG_LEARNER_H_
#define MARL_AGENTS_MADDPG_MADDPG_LEARNER_H_

// MADDPG (Lowe et al. 2017), the classic form: per agent a deterministic
// tanh actor mu_i(o_i) scaled to its Box and a centralised critic
// Q_i(o_1..o_n, a_1..a_n), both with Polyak-averaged target copies;
// Gaussian exploration noise that decays. Any number of Box-action agents.
// Discrete-action agents (the paper's discrete games): the actor outputs
// logits, acting samples the categorical (argmax when deterministic), the
// critics see one-hot joint actions and the actor update feeds the
// straight-through Gumbel-softmax of its own logits to its critic.
// Torch-free header: the learner lives in maddpg_learner.cc.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

// MADDPG's own hyperparameters (runtime/params.h); the shared ones are
// MARL_DEEP_JOINT_PARAMS.
#define MARL_MADDPG_PARAMS(P)                                               \
  P(double, actor_lr, 1e-2, Positive(), "Actor (Adam) learning rate.")      \
  P(double, noise_initial, 0.5, NonNegative(),                              \
    "Exploration noise std (normalised [-1, 1] action space) added to the " \
    "decaying part: std = noise_min + noise_initial * exp(-noise_rate * "   \
    "max(t - noise_delay, 0)), t = transitions.")                           \
  P(double, noise_min, 0.05, NonNegative(), "Exploration noise floor.")     \
  P(double, noise_rate, 1e-3, NonNegative(),                                \
    "Exploration noise decay per transition.")                              \
  P(double, noise_delay, 1000, NonNegative(),                               \
    "Transitions before the exploration noise starts decaying.")            \
  P(double, gumbel_temperature, 1.0, Positive(),                            \
    "Gumbel-softmax temperature of Discrete agents' actor updates.")

namespace marl {

struct MaddpgOptions {
  MARL_PARAMS(MARL_MADDPG_PARAMS)
  DeepJointParams base;
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreateMaddpgLearner(
    const EnvSpec& spec, const MaddpgOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_MADDPG_MADDPG_LEARNER_H_
