// Balancing Q-learning, tabular (thesis §3.4, Algorithm 1 of appendix
// B.3.1) for two-player matrix games and small stochastic games with
// Discrete observations, on the shared training loop.
//
//   bazel run //agents/balancing_q -- --env=matrix_game
//       --env_settings=game=thesis_zero_sum --beta_opponent=-0.1
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "agents/balancing_q/balancing_q_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_DECLARE_FLAG(int, num_copies);

MARL_PARAM_FLAGS(BalancingQOptions, MARL_BALANCING_Q_PARAMS)

namespace marl {
namespace {

absl::StatusOr<AgentAlgorithm> MakeBalancingQAlgorithm() {
  BalancingQOptions o;
  if (absl::Status s = ParamsFromFlags(&o); !s.ok()) return s;
  LearnerFactory factory =
      [o](const EnvSpec& spec,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<BalancingQLearner>> l =
        BalancingQLearner::Create(spec, o, DeriveSeed(seed, 1));
    if (!l.ok()) return l.status();
    return std::unique_ptr<JointLearner>(*std::move(l));
  };
  return AgentAlgorithm{"balancing_q", factory};
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  // The thesis averages 50 roll-outs per step: 50 batched copies, unless
  // --num_copies says otherwise.
  absl::SetFlag(&FLAGS_num_copies, 50);
  return marl::RunAgentMain(
      argc, argv, "balancing_q",
      "Balancing Q-learning (tabular, thesis §3.4 / Algorithm 1) on a "
      "two-player Discrete game; --num_copies defaults to 50 here (the "
      "thesis's roll-outs per step).\n"
      "  balancing_q --env=matrix_game --env_settings=game=thesis_zero_sum "
      "--beta_opponent=-0.1 --steps=25000",
      "agents/balancing_q/", [] { return marl::MakeBalancingQAlgorithm(); });
}
