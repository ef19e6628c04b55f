// Probabilistic Balancing-Q (thesis §3.5.2) for Box-action games on the
// shared training loop. See
// agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h.
//
//   bazel run //agents/probabilistic_balancing_q -- --beta_opponent=-0.1
//     --env=max_of_two_quadratics --env_settings=zero_sum=true
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h"
#include "learners/deep_joint_flags.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(std::string, beta_agent, "0.1",
          "beta^i, the agent's inverse temperature: one value for every "
          "agent or one per agent, comma-separated (non-zero).");
ABSL_FLAG(
    std::string, beta_opponent, "0.1",
    "beta^-i, the inverse temperature each agent assumes for the "
    "others: same sign as --beta_agent models them as friends (cooperative), "
    "the opposite sign as foes (competitive). One value or one per "
    "agent, comma-separated (non-zero).");
ABSL_FLAG(double, beta_growth, 1.01,
          "Both inverse temperatures are multiplied by min(beta_growth^u, "
          "beta_scale_max), u = gradient updates (the thesis' omega = 1.01 "
          "per step; 1 = constant).");
ABSL_FLAG(double, beta_scale_max, 100, "Cap of that multiplier.");
ABSL_FLAG(std::string, marginal, "variational",
          "Estimator of the opponent-marginalised value Q^i(s,a^i): "
          "\"variational\" (E_rho[Q - log rho/P_prior / beta^-i], eq. "
          "3.53/3.55) or \"importance\" (eq. 3.59).");
ABSL_FLAG(std::string, proposal, "mixture",
          "Proposal of --marginal=importance: \"opponent_model\" (rho), "
          "\"prior\" (uniform) or \"mixture\" (half each).");
ABSL_FLAG(int, marginal_particles, 16,
          "Opponent-action samples per marginal estimate (and per rho "
          "update).");
ABSL_FLAG(double, policy_lr, 1e-2, "Policy pi(a^i|s) (Adam) learning rate.");
ABSL_FLAG(double, opponent_lr, 1e-2,
          "Opponent model rho(a^-i|s,a^i) (Adam) learning rate.");
ABSL_FLAG(double, value_lr, 1e-2, "State value V(s) (Adam) learning rate.");

namespace marl {
namespace {

absl::StatusOr<std::vector<double>> ParseDoubles(const std::string& text,
                                                 const std::string& flag) {
  std::vector<double> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    double v = 0;
    if (!absl::SimpleAtod(part, &v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, ": \"", part, "\" is not a number (in \"", text, "\")"));
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

absl::StatusOr<AgentAlgorithm> MakeProbabilisticBalancingQAlgorithm() {
  absl::StatusOr<DeepJointFlags> deep = DeepJointFlagsFromFlags();
  if (!deep.ok()) return deep.status();
  using Options = ProbabilisticBalancingQOptions;
  Options o;
  o.hidden = deep->hidden;
  o.critic_lr = deep->critic_lr;
  o.tau = deep->tau;
  o.base = deep->base;
  absl::StatusOr<std::vector<double>> beta =
      ParseDoubles(absl::GetFlag(FLAGS_beta_agent), "beta_agent");
  if (!beta.ok()) return beta.status();
  o.beta = *beta;
  absl::StatusOr<std::vector<double>> beta_opponent =
      ParseDoubles(absl::GetFlag(FLAGS_beta_opponent), "beta_opponent");
  if (!beta_opponent.ok()) return beta_opponent.status();
  o.beta_opponent = *beta_opponent;
  o.beta_growth = absl::GetFlag(FLAGS_beta_growth);
  o.beta_scale_max = absl::GetFlag(FLAGS_beta_scale_max);
  const std::string marginal = absl::GetFlag(FLAGS_marginal);
  if (marginal == "variational") {
    o.marginal = Options::Marginal::kVariational;
  } else if (marginal == "importance") {
    o.marginal = Options::Marginal::kImportance;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--marginal must be variational or importance, got \"",
                     marginal, "\""));
  }
  const std::string proposal = absl::GetFlag(FLAGS_proposal);
  if (proposal == "opponent_model") {
    o.proposal = Options::Proposal::kOpponentModel;
  } else if (proposal == "prior") {
    o.proposal = Options::Proposal::kPrior;
  } else if (proposal == "mixture") {
    o.proposal = Options::Proposal::kMixture;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--proposal must be opponent_model, prior or mixture, "
                     "got \"",
                     proposal, "\""));
  }
  o.marginal_particles = absl::GetFlag(FLAGS_marginal_particles);
  o.policy_lr = absl::GetFlag(FLAGS_policy_lr);
  o.opponent_lr = absl::GetFlag(FLAGS_opponent_lr);
  o.value_lr = absl::GetFlag(FLAGS_value_lr);
  return AgentAlgorithm{"probabilistic_balancing_q",
                        FactoryOf(CreateProbabilisticBalancingQ, o),
                        {}};
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
