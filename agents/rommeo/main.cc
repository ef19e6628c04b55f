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

#include "absl/flags/flag.h"
#include "agents/rommeo/rommeo_q_learner.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(double, lr, 0.1, "Learning rate of Q(s, a^i, a^-i).");
ABSL_FLAG(double, gamma, 0.95, "Discount factor.");
ABSL_FLAG(double, prior_rate, 0.01,
          "Rate of the running estimate of the opponent's policy, the prior "
          "P_prior(a^-i|s) of the opponent model (0 = uniform, fixed).");
ABSL_FLAG(double, temperature_min, 0.1,
          "Temperature schedule T_t = min + initial * exp(-rate * max(t - "
          "delay, 0)), t = transitions learned: the floor.");
ABSL_FLAG(double, temperature_initial, 5.0,
          "Annealed part of the temperature at the start.");
ABSL_FLAG(double, temperature_rate, 5e-4,
          "Annealing rate per transition learned.");
ABSL_FLAG(double, temperature_delay, 1000,
          "Transitions learned before the annealing starts.");

namespace marl {
namespace {

absl::StatusOr<AgentAlgorithm> MakeRommeoQAlgorithm() {
  RommeoQOptions o;
  o.tabular.learning_rate = absl::GetFlag(FLAGS_lr);
  o.tabular.gamma = absl::GetFlag(FLAGS_gamma);
  o.tabular.prior_rate = absl::GetFlag(FLAGS_prior_rate);
  o.tabular.temperature =
      TemperatureSchedule::Rommeo(absl::GetFlag(FLAGS_temperature_min),
                                  absl::GetFlag(FLAGS_temperature_initial),
                                  absl::GetFlag(FLAGS_temperature_rate),
                                  absl::GetFlag(FLAGS_temperature_delay));
  LearnerFactory factory =
      [o](const EnvSpec& spec,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<RommeoQLearner>> l =
        RommeoQLearner::Create(spec, o, DeriveSeed(seed, 1));
    if (!l.ok()) return l.status();
    return std::unique_ptr<JointLearner>(*std::move(l));
  };
  return AgentAlgorithm{"rommeo_q", factory, {}};
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
