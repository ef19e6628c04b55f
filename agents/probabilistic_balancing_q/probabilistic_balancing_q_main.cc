// Probabilistic Balancing-Q (thesis §3.5.2) for Box-action games on the
// shared training loop. See
// agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h.
//
//   bazel run //agents/probabilistic_balancing_q -- --beta_opponent=-0.1
//     --env=max_of_two_quadratics --env_settings=zero_sum=true
#include <memory>
#include <string>
#include <vector>

#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h"
#include "learners/deep_joint_params.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

MARL_PARAM_FLAGS(ProbabilisticBalancingQOptions,
                 MARL_PROBABILISTIC_BALANCING_Q_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeProbabilisticBalancingQAlgorithm() {
  ProbabilisticBalancingQOptions o;
  absl::Status valid = ParamsFromFlags(&o.base, &o);
  if (!valid.ok()) return valid;
  return AgentAlgorithm{"probabilistic_balancing_q",
                        FactoryOf(CreateProbabilisticBalancingQ, o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "probabilistic_balancing_q",
      "Probabilistic Balancing-Q (policy pi(a^i|s), opponent model "
      "rho(a^-i|s,a^i), joint Q, state value V; the sign of beta^-i makes "
      "the modelled others friends or foes) on an environment of the "
      "environment server.\n"
      "  probabilistic_balancing_q --env=max_of_two_quadratics "
      "--env_settings=zero_sum=true --beta_agent=0.1 --beta_opponent=-0.1",
      "agents/probabilistic_balancing_q/",
      [] { return marl::MakeProbabilisticBalancingQAlgorithm(); });
}
