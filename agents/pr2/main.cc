// PR2-Q (tabular probabilistic recursive reasoning) for two-player matrix
// and other small Discrete games, and the naive gradient-ascent baseline
// it is compared with, on the shared training loop.
//
//   bazel run //agents/pr2:pr2_q -- --env=matrix_game
//       --env_settings=game=wolf --steps=40000
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/pr2/gradient_ascent_learner.h"
#include "agents/pr2/pr2_q_learner.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(std::string, learner, "pr2_q",
          "'pr2_q' (PR2-Q) or 'iga' (naive independent gradient ascent with "
          "exact expected payoffs, the PR2 paper's baseline).");
ABSL_FLAG(double, lr, 0.1, "pr2_q: learning rate of Q(s, a^i, a^-i).");
ABSL_FLAG(double, gamma, 0.95, "pr2_q: discount factor.");
ABSL_FLAG(double, prior_rate, 0.002,
          "pr2_q: rate of the running estimate of the opponent's policy, the "
          "prior of the opponent model (0 = uniform, fixed).");
ABSL_FLAG(double, alpha, 1.0,
          "pr2_q: initial policy temperature alpha0 of pi(a) ∝ "
          "exp(Q(a)/alpha).");
ABSL_FLAG(double, alpha_decay, 0.999,
          "pr2_q: temperature decay per transition learned: alpha_t = "
          "max(alpha_min, alpha0 * decay^t).");
ABSL_FLAG(double, alpha_min, 0.3, "pr2_q: temperature floor.");
ABSL_FLAG(double, opponent_temperature, 10.0,
          "pr2_q: temperature T_o of the opponent model rho(b|a) ∝ P(b) "
          "exp(Q(a,b)/T_o) and of Q(a) = T_o log sum_b P(b) exp(Q(a,b)/T_o); "
          "small = optimistic (max over the opponent), large = expectation "
          "under the estimated opponent policy.");
ABSL_FLAG(double, iga_step_size, 0.01, "iga: gradient step per batched step.");
ABSL_FLAG(std::string, iga_initial_p0, "0.8,0.2",
          "iga: starting probability of action 0 for each agent, "
          "comma-separated.");

namespace marl {
namespace {

absl::StatusOr<AgentAlgorithm> MakePr2QAlgorithm() {
  const std::string learner = absl::GetFlag(FLAGS_learner);
  LearnerFactory factory;
  if (learner == "pr2_q") {
    Pr2QOptions o;
    o.tabular.learning_rate = absl::GetFlag(FLAGS_lr);
    o.tabular.gamma = absl::GetFlag(FLAGS_gamma);
    o.tabular.prior_rate = absl::GetFlag(FLAGS_prior_rate);
    o.tabular.temperature = TemperatureSchedule::Exponential(
        absl::GetFlag(FLAGS_alpha), absl::GetFlag(FLAGS_alpha_decay),
        absl::GetFlag(FLAGS_alpha_min));
    o.opponent_temperature = absl::GetFlag(FLAGS_opponent_temperature);
    factory =
        [o](const EnvSpec& spec,
            uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      absl::StatusOr<std::unique_ptr<Pr2QLearner>> l =
          Pr2QLearner::Create(spec, o, DeriveSeed(seed, 1));
      if (!l.ok()) return l.status();
      return std::unique_ptr<JointLearner>(*std::move(l));
    };
  } else if (learner == "iga") {
    GradientAscentOptions o;
    o.step_size = absl::GetFlag(FLAGS_iga_step_size);
    o.initial_p0.clear();
    for (absl::string_view part :
         absl::StrSplit(absl::GetFlag(FLAGS_iga_initial_p0), ',')) {
      double p = 0;
      if (!absl::SimpleAtod(part, &p)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--iga_initial_p0: '", part, "' is not a number"));
      }
      o.initial_p0.push_back(p);
    }
    factory =
        [o](const EnvSpec& spec,
            uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      absl::StatusOr<std::unique_ptr<GradientAscentLearner>> l =
          GradientAscentLearner::Create(spec, o, DeriveSeed(seed, 1));
      if (!l.ok()) return l.status();
      return std::unique_ptr<JointLearner>(*std::move(l));
    };
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--learner must be 'pr2_q' or 'iga', got '", learner, "'"));
  }
  return AgentAlgorithm{learner, factory, {}};
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "pr2_q",
      "PR2-Q (tabular probabilistic recursive reasoning) or naive gradient "
      "ascent on a two-player Discrete game.\n"
      "  pr2_q --env=matrix_game --env_settings=game=wolf --steps=40000",
      "agents/pr2/", [] { return marl::MakePr2QAlgorithm(); });
}
