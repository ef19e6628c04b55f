// Single-agent soft option learning (thesis §4.1, §4.3.1) on the shared
// training loop. See agents/soft_option/soft_option_learner.h.
//
//   bazel run //agents/soft_option -- --env=taxi --steps=100000
#include "agents/soft_option/soft_option_learner.h"
#include "learners/deep_joint_params.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(SoftOptionOptions, MARL_SOFT_OPTION_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeSoftOptionAlgorithm() {
  SoftOptionOptions o;
  absl::Status valid = ParamsFromFlags(&o.base, &o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{SoftOptionAlgorithmName(o),
                        FactoryOf(CreateSoftOptionLearner, o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "soft_option",
      "Single-agent soft option learning (master, termination and low-level "
      "policies trained soft actor-critic style, thesis ch. 4) on an "
      "environment of the environment server.\n"
      "  soft_option --env=taxi --steps=100000",
      "agents/soft_option/", [] { return marl::MakeSoftOptionAlgorithm(); });
}
