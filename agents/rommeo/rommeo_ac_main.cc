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

#include "agents/rommeo/rommeo_ac_learner.h"
#include "learners/deep_joint_params.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(RommeoAcOptions, MARL_ROMMEO_AC_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeRommeoAcAlgorithm() {
  RommeoAcOptions o;
  absl::Status valid = ParamsFromFlags(&o.base, &o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{"rommeo_ac", FactoryOf(CreateRommeoAcLearner, o)};
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
