// MADDPG (centralised critics, deterministic actors) for Box-action
// and Discrete-action environments on the shared training loop.
//
//   bazel run //agents/maddpg -- --env=max_of_two_quadratics --steps=8000
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "agents/maddpg/maddpg_learner.h"
#include "learners/deep_joint_flags.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(double, actor_lr, 1e-2, "Actor (Adam) learning rate.");
ABSL_FLAG(double, noise_initial, 0.5,
          "Exploration noise std (normalised [-1, 1] action space) added to "
          "the decaying part: std = noise_min + noise_initial * "
          "exp(-noise_rate * max(t - noise_delay, 0)), t = transitions.");
ABSL_FLAG(double, noise_min, 0.05, "Exploration noise floor.");
ABSL_FLAG(double, noise_rate, 1e-3, "Exploration noise decay per transition.");
ABSL_FLAG(double, noise_delay, 1000,
          "Transitions before the exploration noise starts decaying.");
ABSL_FLAG(double, gumbel_temperature, 1.0,
          "Gumbel-softmax temperature of Discrete agents' actor updates.");

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeMaddpgAlgorithm() {
  absl::StatusOr<DeepJointFlags> deep = DeepJointFlagsFromFlags();
  if (!deep.ok()) return deep.status();
  MaddpgOptions o;
  o.hidden = deep->hidden;
  o.critic_lr = deep->critic_lr;
  o.tau = deep->tau;
  o.base = deep->base;
  o.actor_lr = absl::GetFlag(FLAGS_actor_lr);
  o.noise_initial = absl::GetFlag(FLAGS_noise_initial);
  o.noise_min = absl::GetFlag(FLAGS_noise_min);
  o.noise_rate = absl::GetFlag(FLAGS_noise_rate);
  o.noise_delay = absl::GetFlag(FLAGS_noise_delay);
  o.gumbel_temperature = absl::GetFlag(FLAGS_gumbel_temperature);
  return AgentAlgorithm{"maddpg", FactoryOf(CreateMaddpgLearner, o), {}};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "maddpg",
      "MADDPG (centralised critics; deterministic actors for Box actions, "
      "Gumbel-softmax categorical actors for Discrete ones) on an "
      "environment of the environment server.\n"
      "  maddpg --env=max_of_two_quadratics --steps=8000\n"
      "  maddpg --env=matrix_game --env_settings=game=climbing",
      "agents/maddpg/", [] { return marl::MakeMaddpgAlgorithm(); });
}
