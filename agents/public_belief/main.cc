// The probabilistic public agent (thesis §5.3-5.4) on the shared training
// loop. See agents/public_belief/public_belief_learner.h.
//
//   bazel run //agents/public_belief -- --env=tiny_hanabi --steps=20000
#include "agents/public_belief/public_belief_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(PublicBeliefOptions, MARL_PUBLIC_BELIEF_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakePublicBeliefAlgorithm() {
  PublicBeliefOptions o;
  absl::Status valid = ParamsFromFlags(&o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{PublicBeliefAlgorithmName(o),
                        FactoryOf(CreatePublicBeliefLearner, o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "public_belief",
      "Cooperative agents sharing one probabilistic public agent: a particle "
      "belief over the hidden state from public observations and actions, "
      "and a common message (thesis ch. 5).\n"
      "  public_belief --env=tiny_hanabi --steps=20000",
      "agents/public_belief/",
      [] { return marl::MakePublicBeliefAlgorithm(); });
}
