// MADDPG (centralised critics, deterministic actors) for Box-action
// and Discrete-action environments on the shared training loop.
//
//   bazel run //agents/maddpg -- --env=max_of_two_quadratics --steps=8000
#include <memory>
#include <string>
#include <vector>

#include "agents/maddpg/maddpg_learner.h"
#include "learners/deep_joint_params.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(MaddpgOptions, MARL_MADDPG_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeMaddpgAlgorithm() {
  MaddpgOptions o;
  absl::Status valid = ParamsFromFlags(&o.base, &o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{"maddpg", FactoryOf(CreateMaddpgLearner, o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "maddpg",
      "MADDPG (centralised critics; deterministic actors for Box actions, "
      "Gumbel-softmax categorical actors for Discrete ones) on an "
      "environment of the environment server.\n"
      "  maddpg --env=max_of_two_quadratics --steps=8000\n"
      "  maddpg --env=matrix_game --env_settings=game=climbing",
      "agents/maddpg/", [] { return marl::MakeMaddpgAlgorithm(); });
}
