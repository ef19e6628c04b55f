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

#include "agents/pr2/pr2_ac_learner.h"
#include "learners/deep_joint_params.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(Pr2AcOptions, MARL_PR2_AC_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakePr2AcAlgorithm() {
  Pr2AcOptions o;
  absl::Status valid = ParamsFromFlags(&o.base, &o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{"pr2_ac", FactoryOf(CreatePr2AcLearner, o)};
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
