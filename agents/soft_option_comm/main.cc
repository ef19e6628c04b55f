// Delayed soft-option communication (thesis §4.2, §4.3.2) on the shared
// training loop. See agents/soft_option_comm/soft_option_comm_learner.h.
//
//   bazel run //agents/soft_option_comm -- --env=taxi_meeting
//       --env_settings=message_size=4 --steps=100000
#include "agents/soft_option_comm/soft_option_comm_learner.h"
#include "learners/deep_joint_params.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(SoftOptionCommOptions, MARL_SOFT_OPTION_COMM_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeSoftOptionCommAlgorithm() {
  SoftOptionCommOptions o;
  absl::Status valid = ParamsFromFlags(&o.base, &o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{SoftOptionCommAlgorithmName(o),
                        FactoryOf(CreateSoftOptionCommLearner, o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "soft_option_comm",
      "Delayed soft-option communication between two agents (each sends the "
      "option it acts with as a message through the protocol's message "
      "channel; thesis ch. 4) on an environment of the environment server.\n"
      "  soft_option_comm --env=taxi_meeting "
      "--env_settings=message_size=4 --steps=100000",
      "agents/soft_option_comm/",
      [] { return marl::MakeSoftOptionCommAlgorithm(); });
}
