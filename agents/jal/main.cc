// Joint-action learners with fictitious play. See README.md beside this file.
//
//   bazel run //agents/jal -- --env=matrix_game --env_settings=game=climbing
#include "agents/jal/jal_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(JalOptions, MARL_JAL_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeJalAlgorithm() {
  JalOptions options;
  if (absl::Status s = ParamsFromFlags(&options); !s.ok()) return s;
  return AgentAlgorithm{"jal", FactoryOf(CreateJalLearner, options)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "jal",
      "Joint-action learners with fictitious play (Claus & Boutilier 1998) "
      "on an environment of the environment server.\n"
      "  jal --env=matrix_game --env_settings=game=climbing --steps=20000",
      "agents/jal/", [] { return marl::MakeJalAlgorithm(); });
}
