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
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/balancing_q/balancing_q_learner.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_DECLARE_FLAG(int, num_copies);

ABSL_FLAG(std::string, beta_agent, "0.1",
          "Inverse temperature beta^i of each agent's own policy, from its "
          "own point of view (its own reward): one value for both agents or "
          "two, comma-separated, in spec order. Thesis: 0.1.");
ABSL_FLAG(std::string, beta_opponent, "0.1",
          "Inverse temperature beta^-i of each agent's opponent model: "
          "same sign as --beta_agent = cooperative (the opponent is assumed "
          "to help), opposite sign = competitive (it is assumed to hurt). "
          "One value or two, comma-separated. Thesis: 0.1 cooperative, -0.1 "
          "competitive.");
ABSL_FLAG(double, lr, 0.6,
          "Learning rate alpha of Q(s, a^i, a^-i) (thesis B.3.1: 0.6).");
ABSL_FLAG(double, gamma, 0.9,
          "Discount of the soft Bellman backup Q = r + gamma V(s') (eq. "
          "3.27/3.32); unused by matrix games, whose episodes end every "
          "step.");
ABSL_FLAG(double, omega_initial, 1.0,
          "Schedule weight omega_0 (Algorithm 1): the effective inverse "
          "temperatures are beta * omega_t.");
ABSL_FLAG(double, omega_growth, 1.01,
          "Factor of omega per iteration (one batched step of --num_copies "
          "roll-outs): omega_t = omega_0 * growth^t. Thesis: 1.01.");
ABSL_FLAG(double, omega_max, 1e6,
          "Cap on omega (a numerical guard: beyond it the policies are "
          "greedy to double precision for payoff gaps of 1e-4 and more).");
ABSL_FLAG(double, prior_rate, 0.0,
          "0 (Algorithm 1): uniform priors P_prior(a^-i|s). > 0: the prior of "
          "the opponent model is a running estimate of the opponent's "
          "observed actions, moved by this rate per roll-out. The own prior "
          "P_prior(a^i) stays uniform.");
ABSL_FLAG(std::string, opponent, "learn",
          "'learn': both players are Balancing-Q learners. 'uniform': the "
          "second player plays uniformly at random and never learns (a fixed "
          "opponent, also during evaluation).");
ABSL_FLAG(std::string, eval_policy, "greedy",
          "Evaluation actions: 'greedy' (argmax of pi) or 'sample' (drawn "
          "from pi at the current omega).");

namespace marl {
namespace {

absl::Status ParseBetas(const std::string& text, const std::string& flag,
                        double out[2]) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() != 1 && parts.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " needs one or two numbers, got '", text, "'"));
  }
  for (size_t k = 0; k < parts.size(); ++k) {
    if (!absl::SimpleAtod(parts[k], &out[k])) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": '", parts[k], "' is not a number"));
    }
  }
  if (parts.size() == 1) out[1] = out[0];
  return absl::OkStatus();
}

absl::StatusOr<AgentAlgorithm> MakeBalancingQAlgorithm() {
  BalancingQOptions o;
  if (absl::Status s = ParseBetas(absl::GetFlag(FLAGS_beta_agent), "beta_agent",
                                  o.beta_agent);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ParseBetas(absl::GetFlag(FLAGS_beta_opponent),
                                  "beta_opponent", o.beta_opponent);
      !s.ok()) {
    return s;
  }
  o.tabular.learning_rate = absl::GetFlag(FLAGS_lr);
  o.tabular.gamma = absl::GetFlag(FLAGS_gamma);
  o.tabular.prior_rate = absl::GetFlag(FLAGS_prior_rate);
  const double omega0 = absl::GetFlag(FLAGS_omega_initial);
  const double growth = absl::GetFlag(FLAGS_omega_growth);
  const double omega_max = absl::GetFlag(FLAGS_omega_max);
  if (!(omega0 > 0) || !(growth >= 1) || !(omega_max >= omega0)) {
    return absl::InvalidArgumentError(
        "--omega_initial must be > 0, --omega_growth >= 1 and --omega_max >= "
        "--omega_initial");
  }
  o.tabular.temperature =
      BalancingQOptions::OmegaSchedule(omega0, growth, omega_max);
  const std::string opponent = absl::GetFlag(FLAGS_opponent);
  if (opponent == "uniform") {
    o.tabular.fixed_uniform_agent = 1;
  } else if (opponent != "learn") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--opponent must be 'learn' or 'uniform', got '", opponent, "'"));
  }
  const std::string eval_policy = absl::GetFlag(FLAGS_eval_policy);
  if (eval_policy != "greedy" && eval_policy != "sample") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--eval_policy must be 'greedy' or 'sample', got '", eval_policy, "'"));
  }
  o.tabular.sample_in_evaluation = eval_policy == "sample";
  LearnerFactory factory =
      [o](const EnvSpec& spec,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<BalancingQLearner>> l =
        BalancingQLearner::Create(spec, o, DeriveSeed(seed, 1));
    if (!l.ok()) return l.status();
    return std::unique_ptr<JointLearner>(*std::move(l));
  };
  std::vector<std::string> notes;
  for (int i = 0; i < 2; ++i) {
    if (i == o.tabular.fixed_uniform_agent) {
      notes.push_back("uniform, fixed");
    } else {
      notes.push_back(absl::StrCat("beta ", o.beta_agent[i], ", opponent beta ",
                                   o.beta_opponent[i]));
    }
  }
  return AgentAlgorithm{"balancing_q", factory, notes};
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
