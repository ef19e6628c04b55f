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
#include "learners/deep_joint_options.h"
#include "runtime/joint_learner.h"

namespace marl {

struct MaddpgOptions {
  deep::DeepJointOptions base;
  std::vector<int64_t> hidden = {100, 100};
  double actor_lr = 1e-2;
  double critic_lr = 1e-2;
  double tau = 0.01;
  // Exploration noise std in the normalised [-1, 1] action space:
  // noise_min + noise_initial * exp(-noise_rate * max(t - noise_delay, 0)),
  // t = transitions observed.
  double noise_initial = 0.5;
  double noise_min = 0.05;
  double noise_rate = 1e-3;
  double noise_delay = 1000;
  // Gumbel-softmax temperature of Discrete agents' actor updates.
  double gumbel_temperature = 1.0;
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreateMaddpgLearner(
    const EnvSpec& spec, const MaddpgOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_MADDPG_MADDPG_LEARNER_H_
