// ROMMEO-Q (tabular regularised opponent model with maximum entropy
// objective, thesis §3.2) for two-player matrix and other small Discrete
// games, on the shared training loop.
//
//   bazel run //agents/rommeo:rommeo_q -- --env=matrix_game
//       --env_settings=game=climbing --steps=20000
#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "agents/rommeo/rommeo_q_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(RommeoQOptions, MARL_ROMMEO_Q_PARAMS)

namespace marl {
namespace {

absl::StatusOr<AgentAlgorithm> MakeRommeoQAlgorithm() {
  RommeoQOptions o;
  if (absl::Status s = ParamsFromFlags(&o); !s.ok()) return s;
  LearnerFactory factory =
      [o](const EnvSpec& spec,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<RommeoQLearner>> l =
        RommeoQLearner::Create(spec, o, DeriveSeed(seed, 1));
    if (!l.ok()) return l.status();
    return std::unique_ptr<JointLearner>(*std::move(l));
  };
  return AgentAlgorithm{"rommeo_q", factory};
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "rommeo_q",
      "ROMMEO-Q (tabular regularised opponent model with maximum entropy "
      "objective) on a two-player Discrete game.\n"
      "  rommeo_q --env=matrix_game --env_settings=game=climbing "
      "--steps=20000",
      "agents/rommeo/", [] { return marl::MakeRommeoQAlgorithm(); });
}
