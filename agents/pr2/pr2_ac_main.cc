// PR2-AC (deep probabilistic recursive reasoning) for Box-action and
// Discrete-action games on the shared training loop. See
// agents/pr2/pr2_ac_learner.h.
//
//   bazel run //agents/pr2:pr2_ac -- --env=max_of_two_quadratics --steps=8000
//   bazel run //agents/pr2:pr2_ac -- --env=matrix_game
//       --env_settings=game=climbing --steps=20000
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "agents/pr2/pr2_ac_learner.h"
#include "learners/deep_joint_flags.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(double, policy_lr, 1e-2, "Policy (Adam) learning rate.");
ABSL_FLAG(double, opponent_lr, 1e-2,
          "Opponent model learning rate: the amortised SVGD sampler (Box "
          "actions) or the fitted opponent prior (Discrete actions, "
          "--fit_opponent_prior).");
ABSL_FLAG(double, alpha, 0.1,
          "Final entropy temperature of the policy (Box: in the normalised "
          "action space): alpha + alpha_initial * exp(-alpha_rate * max(u - "
          "alpha_delay, 0)), u = gradient updates.");
ABSL_FLAG(double, alpha_initial, 2.0,
          "Annealed part of the entropy temperature (0 = constant alpha).");
ABSL_FLAG(double, alpha_rate, 0.01, "Entropy temperature decay per update.");
ABSL_FLAG(double, alpha_delay, 0.0,
          "Updates before the entropy temperature starts decaying.");
ABSL_FLAG(double, opponent_temperature, 1.0,
          "T of the opponent model rho ∝ exp(Q/T) and of the marginal value "
          "T log mean exp(Q/T).");
ABSL_FLAG(int32_t, value_particles, 16,
          "Box actions: opponent samples per opponent-marginalised value "
          "(Discrete actions enumerate the opponents' joint actions).");
ABSL_FLAG(int32_t, kernel_particles, 32,
          "Box actions: opponent samples per state for SVGD (half kernel, "
          "half updated).");
ABSL_FLAG(bool, fit_opponent_prior, false,
          "Discrete actions: weight the closed-form opponent model and the "
          "marginal value by a categorical P(a^-i|s) fitted to the replayed "
          "joint actions of the other agents (rho ∝ P exp(Q/T), as PR2-Q); "
          "false = uniform, the notes' closed form.");
ABSL_FLAG(double, noise_initial, 0.5,
          "Box actions: extra Gaussian exploration noise std (normalised "
          "space) on sampled actions (Discrete actions explore by sampling "
          "the policy): noise_min + noise_initial * exp(-noise_rate * max(t - "
          "noise_delay, 0)), t = transitions.");
ABSL_FLAG(double, noise_min, 0.0, "Exploration noise floor.");
ABSL_FLAG(double, noise_rate, 1e-3, "Exploration noise decay per transition.");
ABSL_FLAG(double, noise_delay, 1000,
          "Transitions before the exploration noise starts decaying.");

namespace marl {

absl::StatusOr<AgentAlgorithm> MakePr2AcAlgorithm() {
  absl::StatusOr<DeepJointFlags> deep = DeepJointFlagsFromFlags();
  if (!deep.ok()) return deep.status();
  Pr2AcOptions o;
  o.hidden = deep->hidden;
  o.critic_lr = deep->critic_lr;
  o.tau = deep->tau;
  o.base = deep->base;
  o.policy_lr = absl::GetFlag(FLAGS_policy_lr);
  o.opponent_lr = absl::GetFlag(FLAGS_opponent_lr);
  o.alpha = absl::GetFlag(FLAGS_alpha);
  o.alpha_initial = absl::GetFlag(FLAGS_alpha_initial);
  o.alpha_rate = absl::GetFlag(FLAGS_alpha_rate);
  o.alpha_delay = absl::GetFlag(FLAGS_alpha_delay);
  o.opponent_temperature = absl::GetFlag(FLAGS_opponent_temperature);
  o.value_particles = absl::GetFlag(FLAGS_value_particles);
  o.kernel_particles = absl::GetFlag(FLAGS_kernel_particles);
  o.fit_opponent_prior = absl::GetFlag(FLAGS_fit_opponent_prior);
  o.noise_initial = absl::GetFlag(FLAGS_noise_initial);
  o.noise_min = absl::GetFlag(FLAGS_noise_min);
  o.noise_rate = absl::GetFlag(FLAGS_noise_rate);
  o.noise_delay = absl::GetFlag(FLAGS_noise_delay);
  return AgentAlgorithm{"pr2_ac", FactoryOf(CreatePr2AcLearner, o), {}};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "pr2_ac",
      "PR2-AC (joint soft Q and conditional opponent model; Box actions: "
      "tanh-Gaussian policy, amortised-SVGD opponent sampler; Discrete "
      "actions: categorical policy, exact closed-form opponent model over "
      "the enumerated joint actions) on an environment of the environment "
      "server.\n"
      "  pr2_ac --env=max_of_two_quadratics --steps=8000\n"
      "  pr2_ac --env=matrix_game --env_settings=game=climbing --steps=20000",
      "agents/pr2/pr2_ac", [] { return marl::MakePr2AcAlgorithm(); });
}
