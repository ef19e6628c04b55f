// Stackelberg learning (the Stackelberg paper) on the shared training
// loop. See agents/stackelberg/stackelberg_learner.h.
//
//   bazel run //agents/stackelberg -- --env=iterated_matrix_game
//     --env_settings=roles=stackelberg,query_states=[0,1,2,3,4],reward_offset=-2.5
#include "agents/stackelberg/stackelberg_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(StackelbergOptions, MARL_STACKELBERG_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeStackelbergAlgorithm() {
  StackelbergOptions o;
  absl::Status valid = ParamsFromFlags(&o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{StackelbergAlgorithmName(o),
                        FactoryOf(CreateStackelbergLearner, o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "stackelberg",
      "A Stackelberg leader trained by PPO against best-responding "
      "followers behind a query oracle: contextual followers pre-trained on "
      "the leader's answers, or an inner-outer loop (the Stackelberg "
      "paper).\n"
      "  stackelberg --env=iterated_matrix_game "
      "--env_settings=roles=stackelberg,query_states=[0,1,2,3,4],reward_offset="
      "-2.5",
      "agents/stackelberg/", [] { return marl::MakeStackelbergAlgorithm(); });
}
