// GR2 (generalized recursive reasoning): GR2-L, level-k recursive
// reasoning with deterministic best responses, and GR2-M, a Poisson
// mixture over levels 0..k, for Box-action games (gr2_learner.h) and
// Discrete-action games (gr2_discrete_learner.h) on the shared training
// loop.
//
//   bazel run //agents/gr2 -- --env=beauty_contest
//       --env_settings=num_agents=10,p=0.7 --variant=level --level=2
//   bazel run //agents/gr2 -- --env=matrix_game --env_settings=game=wolf
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "agents/gr2/gr2_discrete_learner.h"
#include "agents/gr2/gr2_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(Gr2Options, MARL_GR2_PARAMS)

namespace marl {
namespace {

absl::StatusOr<AgentAlgorithm> MakeGr2Algorithm() {
  Gr2Options o;
  absl::Status valid = ParamsFromFlags(&o);
  if (!valid.ok()) return valid;
  LearnerFactory factory = FactoryOf(CreateGr2Learner, o);
  // The algorithm name tells the modes apart in run names and plots.
  return AgentAlgorithm{Gr2AlgorithmName(o), factory};
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "gr2",
      "GR2-L (level-k recursive reasoning) or GR2-M (Poisson mixture of "
      "levels) on a Box- or Discrete-action game.\n"
      "  gr2 --env=beauty_contest --env_settings=num_agents=10,p=0.7 "
      "--variant=level --level=2\n"
      "  gr2 --env=matrix_game --env_settings=game=climbing "
      "--variant=mixture --level=3",
      "agents/gr2/", [] { return marl::MakeGr2Algorithm(); });
}
