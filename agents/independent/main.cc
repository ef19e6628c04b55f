// Independent learners: each agent learns alone, treating the others as
// part of the environment — the baseline the multi-agent algorithms are
// compared against. Tabular soft Q-learning for Discrete games, soft
// actor-critic for Box actions, or PPO for either. See README.md beside
// this file.
//
//   bazel run //agents/independent -- --env=matrix_game
//       --env_settings=game=climbing --steps=50000
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "agents/independent/trainer.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"

// What the binary itself adds: which learner, and the discount they use.
#define MARL_INDEPENDENT_PARAMS(P)                                         \
  P(std::string, learner, "auto", AnyValue(),                              \
    "'auto' (soft_q for Discrete actions, sac for Box actions), 'soft_q', " \
    "'sac' or 'ppo' (either kind of action).")                             \
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
namespace {

absl::StatusOr<IndependentOptions> OptionsFromFlags() {
  absl::StatusOr<TrainingOptions> loop = TrainingOptionsFromFlags();
  if (!loop.ok()) return loop.status();
  IndependentOptions o;
  static_cast<TrainingOptions&>(o) = *std::move(loop);
  IndependentParams binary;
  absl::Status valid = ParamsFromFlags(&binary, &o.soft_q, &o.sac, &o.ppo);
  if (!valid.ok()) return valid;
  o.learner = binary.learner;
  o.soft_q.gamma = o.sac.gamma = o.ppo.gamma = binary.gamma;
  return o;
}

int Main() {
  absl::StatusOr<IndependentOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "independent: error: " << options.status().message()
              << std::endl;
    return 2;
  }
  absl::StatusOr<IndependentResult> result = RunIndependent(*options);
  if (!result.ok()) {
    std::cerr << "independent: error: " << result.status() << std::endl;
    return 1;
  }
  std::cout << FormatIndependentResult(*result);
  return 0;
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  if (!marl::ParseAgentCommandLine(
          argc, argv, "independent",
          "Independent learners (tabular soft Q-learning / soft actor-critic "
          "/ PPO per agent) on an environment of the environment server.\n"
          "  independent --env=matrix_game --env_settings=game=climbing "
          "--steps=50000",
          "agents/independent/")) {
    return 2;
  }
  // Nothing should throw past the Status boundary; this is the last guard
  // so a library exception still ends with a message, not an abort.
  try {
    return marl::Main();
  } catch (const std::exception& e) {
    std::cerr << "independent: error: " << e.what() << std::endl;
    return 1;
  }
}
