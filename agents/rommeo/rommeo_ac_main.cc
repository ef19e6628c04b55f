// ROMMEO-AC (regularised opponent model, maximum-entropy objective) for
// Box-action games on the shared training loop. See
// agents/rommeo/rommeo_ac_learner.h.
//
//   bazel run //agents/rommeo:rommeo_ac -- --env=max_of_two_quadratics
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "agents/rommeo/rommeo_ac_learner.h"
#include "common/deep_joint_flags.h"
#include "common/training_flags.h"
#include "common/training_loop.h"

ABSL_FLAG(double, policy_lr, 1e-2,
          "Conditional policy pi(a^i|s,a^-i) (Adam) learning rate.");
ABSL_FLAG(double, opponent_lr, 1e-2,
          "Opponent model rho(a^-i|s) (Adam) learning rate.");
ABSL_FLAG(double, alpha_min, 0.1,
          "Temperature floor: alpha_t = alpha_min + alpha_initial * "
          "exp(-alpha_rate * max(t - alpha_delay, 0)), t = gradient updates "
          "(the authors' 0.1 + 500 exp(-0.1 max(t - 10, 0))).");
ABSL_FLAG(double, alpha_initial, 500, "Annealed part of the temperature.");
ABSL_FLAG(double, alpha_rate, 0.1, "Temperature decay rate per update.");
ABSL_FLAG(double, alpha_delay, 10,
          "Updates before the temperature starts decaying.");

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeRommeoAcAlgorithm() {
  absl::StatusOr<DeepJointFlags> deep = DeepJointFlagsFromFlags();
  if (!deep.ok()) return deep.status();
  RommeoAcOptions o;
  o.hidden = deep->hidden;
  o.critic_lr = deep->critic_lr;
  o.tau = deep->tau;
  o.base = deep->base;
  o.policy_lr = absl::GetFlag(FLAGS_policy_lr);
  o.opponent_lr = absl::GetFlag(FLAGS_opponent_lr);
  o.alpha_min = absl::GetFlag(FLAGS_alpha_min);
  o.alpha_initial = absl::GetFlag(FLAGS_alpha_initial);
  o.alpha_rate = absl::GetFlag(FLAGS_alpha_rate);
  o.alpha_delay = absl::GetFlag(FLAGS_alpha_delay);
  return AgentAlgorithm{"rommeo_ac",
                        [o](const EnvSpec& spec, uint64_t seed) {
                          return CreateRommeoAcLearner(spec, o,
                                                       DeriveSeed(seed, 1));
                        },
                        {}};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "rommeo_ac",
      "ROMMEO-AC (joint Q, opponent model rho(a^-i|s), conditional policy "
      "pi(a^i|s,a^-i), annealed temperature) on an environment of the "
      "environment server.\n"
      "  rommeo_ac --env=max_of_two_quadratics --steps=8000",
      "agents/rommeo/rommeo_ac", [] { return marl::MakeRommeoAcAlgorithm(); });
}
