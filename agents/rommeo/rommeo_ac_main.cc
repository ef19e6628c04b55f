// ROMMEO-AC (regularised opponent model, maximum-entropy objective) for
// Box- or Discrete-action games on the shared training loop. See
// agents/rommeo/rommeo_ac_learner.h.
//
//   bazel run //agents/rommeo:rommeo_ac -- --env=max_of_two_quadratics
//   bazel run //agents/rommeo:rommeo_ac -- --env=matrix_game
//     --env_settings=game=climbing
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "agents/rommeo/rommeo_ac_learner.h"
#include "learners/deep_joint_flags.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(double, policy_lr, 1e-2,
          "Conditional policy pi(a^i|s,a^-i) (Adam) learning rate.");
ABSL_FLAG(double, opponent_lr, 1e-2,
          "Opponent model rho(a^-i|s) (Adam) learning rate.");
ABSL_FLAG(double, alpha_min, 0.1,
          "Temperature floor: alpha_t = alpha_min + alpha_initial * "
          "exp(-alpha_rate * max(t - alpha_delay, 0)), t counted by "
          "--alpha_clock (the authors' 0.1 + 500 exp(-0.1 max(t - 10, 0))).");
ABSL_FLAG(double, alpha_initial, 500, "Annealed part of the temperature.");
ABSL_FLAG(double, alpha_rate, 0.1,
          "Temperature decay rate per --alpha_clock unit.");
ABSL_FLAG(double, alpha_delay, 10,
          "--alpha_clock units before the temperature starts decaying.");
ABSL_FLAG(std::string, alpha_clock, "updates",
          "What the temperature schedule's t counts: \"updates\" (gradient "
          "updates; the authors' loop makes one per iteration) or "
          "\"transitions\" (transitions learned from, over all copies).");
ABSL_FLAG(double, opponent_prior_weight, 0,
          "0: uniform opponent prior, rho(a^-i|s) regularised by its entropy "
          "at the temperature. > 0: rho regularised by this weight times "
          "KL(rho || P), P(a^-i|s) fitted to the other agents' replayed "
          "actions (the authors' code: 1).");

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
  const std::string clock = absl::GetFlag(FLAGS_alpha_clock);
  if (clock == "updates") {
    o.alpha_clock = RommeoAcOptions::AlphaClock::kUpdates;
  } else if (clock == "transitions") {
    o.alpha_clock = RommeoAcOptions::AlphaClock::kTransitions;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--alpha_clock must be \"updates\" or \"transitions\", got \"", clock,
        "\""));
  }
  o.opponent_prior_weight = absl::GetFlag(FLAGS_opponent_prior_weight);
  return AgentAlgorithm{"rommeo_ac", FactoryOf(CreateRommeoAcLearner, o), {}};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "rommeo_ac",
      "ROMMEO-AC (joint Q, opponent model rho(a^-i|s), conditional policy "
      "pi(a^i|s,a^-i), annealed temperature) on a Box- or Discrete-action "
      "environment of the environment server (Discrete: exact expectations "
      "over the enumerated joint actions, at most 256 per agent).\n"
      "  rommeo_ac --env=max_of_two_quadratics --steps=8000\n"
      "  rommeo_ac --env=matrix_game --env_settings=game=climbing",
      "agents/rommeo/rommeo_ac", [] { return marl::MakeRommeoAcAlgorithm(); });
}
