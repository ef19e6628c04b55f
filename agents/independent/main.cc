// Independent learners: each agent learns alone, treating the others as
// part of the environment — the baseline the multi-agent algorithms are
// compared against. Tabular soft Q-learning for Discrete games, soft
// actor-critic for Box actions, or PPO for either. See README.md beside
// this file.
//
//   bazel run //agents/independent -- --env=matrix_game
//       --env_settings=game=climbing --steps=50000
#include "agents/independent/independent_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"

// What the binary itself adds: which learner, and the discount they use.
#define MARL_INDEPENDENT_PARAMS(P)                                          \
  P(std::string, learner, "auto", AnyValue(),                               \
    "'auto' (soft_q for Discrete actions, sac for Box actions), 'soft_q', " \
    "'sac' or 'ppo' (either kind of action).")                              \
  P(double, gamma, 0.95, InRange(0, 1), "Discount factor (every learner).")

namespace marl {
struct IndependentParams {
  MARL_PARAMS(MARL_INDEPENDENT_PARAMS)
};
}  // namespace marl

MARL_PARAM_FLAGS(IndependentParams, MARL_INDEPENDENT_PARAMS)
MARL_PARAM_FLAGS(SoftQOptions, MARL_SOFT_Q_PARAMS)
MARL_PARAM_FLAGS(SacOptions, MARL_SAC_PARAMS)
MARL_PARAM_FLAGS(PpoOptions, MARL_PPO_PARAMS)

namespace marl {

absl::StatusOr<AgentAlgorithm> MakeIndependentAlgorithm() {
  IndependentParams binary;
  IndependentOptions o;
  absl::Status valid = ParamsFromFlags(&binary, &o.soft_q, &o.sac, &o.ppo);
  if (valid.ok()) valid = CheckLearnerName(binary.learner);
  if (!valid.ok()) return valid;
  o.learner = binary.learner;
  o.soft_q.gamma = o.sac.gamma = o.ppo.gamma = binary.gamma;
  return AgentAlgorithm{"independent", IndependentFactory(o)};
}

}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "independent",
      "Independent learners (tabular soft Q-learning / soft actor-critic / "
      "PPO per agent) on an environment of the environment server.\n"
      "  independent --env=matrix_game --env_settings=game=climbing "
      "--steps=50000",
      "agents/independent/", [] { return marl::MakeIndependentAlgorithm(); });
}
