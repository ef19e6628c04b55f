#include "agents/balancing_q/balancing_q_learner.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "agents/balancing_q/balancing_q_math.h"
#include "runtime/json.h"

namespace marl {

absl::StatusOr<std::unique_ptr<BalancingQLearner>> BalancingQLearner::Create(
    const EnvSpec& spec, const BalancingQOptions& options, uint64_t seed) {
  if (absl::Status s = CheckSpec(spec, "balancing_q"); !s.ok()) return s;
  const PairTabularOptions& t = options.tabular;
  if (absl::Status s = t.temperature.Validate("--omega_*"); !s.ok()) return s;
  if (!(t.learning_rate > 0 && t.learning_rate <= 1) ||
      !(t.prior_rate >= 0 && t.prior_rate <= 1) ||
      !(t.gamma >= 0 && t.gamma <= 1)) {
    return absl::InvalidArgumentError(
        "--lr must be in (0, 1], --prior_rate and --gamma in [0, 1]");
  }
  for (int i = 0; i < 2; ++i) {
    for (double beta : {options.beta_agent[i], options.beta_opponent[i]}) {
      if (!(std::isfinite(beta) && beta != 0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--beta_agent and --beta_opponent must be finite and non-zero, "
            "got ",
            beta, " for agent ", i));
      }
    }
  }
  if (t.fixed_uniform_agent < -1 || t.fixed_uniform_agent > 1) {
    return absl::InvalidArgumentError("fixed_uniform_agent must be -1, 0 or 1");
  }
  return std::unique_ptr<BalancingQLearner>(
      new BalancingQLearner(spec, options, seed));
}

BalancingQLearner::BalancingQLearner(const EnvSpec& spec,
                                     const BalancingQOptions& options,
                                     uint64_t seed)
    : PairTabularLearner(spec, options.tabular, seed, "balancing_q",
                         ConfigExtra(options)),
      beta_agent_{options.beta_agent[0], options.beta_agent[1]},
      beta_opponent_{options.beta_opponent[0], options.beta_opponent[1]} {}

std::string BalancingQLearner::ConfigExtra(const BalancingQOptions& options) {
  JsonObject o;
  o.Add("beta_agent_0", options.beta_agent[0])
      .Add("beta_agent_1", options.beta_agent[1])
      .Add("beta_opponent_0", options.beta_opponent[0])
      .Add("beta_opponent_1", options.beta_opponent[1]);
  return o.Build();
}

std::vector<double> BalancingQLearner::Table(int agent, int64_t s) const {
  const int64_t n = num_actions(agent), m = num_actions(1 - agent);
  std::vector<double> table(n * m);
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = 0; b < m; ++b) table[a * m + b] = q(agent, s, a, b);
  }
  return table;
}

void BalancingQLearner::AgentQ(int agent, int64_t s, double t,
                               std::vector<double>* out) const {
  const int64_t n = num_actions(agent), m = num_actions(1 - agent);
  const std::vector<double> table = Table(agent, s);
  out->resize(n);
  // Eq. 3.28 / Algorithm 1 step 4 with omega_t = 1 / t in both betas.
  BalancingAgentQ(table.data(), n, m, prior(agent, s), agent_beta(agent, t),
                  opponent_beta(agent, t), out->data());
}

void BalancingQLearner::Policy(int agent, int64_t s, double t,
                               std::vector<double>* out) const {
  std::vector<double> agent_q;
  AgentQ(agent, s, t, &agent_q);
  out->resize(agent_q.size());
  // Eq. 3.28 / Algorithm 1 step 5: pi ∝ P_prior(a) exp(Q^i(a)), uniform P.
  BalancingPolicy(agent_q.data(), nullptr, agent_q.size(), out->data());
}

void BalancingQLearner::OpponentModel(int agent, int64_t s, double t,
                                      std::vector<double>* out) const {
  const int64_t n = num_actions(agent), m = num_actions(1 - agent);
  const std::vector<double> table = Table(agent, s);
  std::vector<double> opponent_q(m);
  BalancingOpponentQ(table.data(), n, m, nullptr, agent_beta(agent, t),
                     opponent_beta(agent, t), opponent_q.data());
  out->resize(m);
  BalancingOpponentModel(opponent_q.data(), prior(agent, s), m, out->data());
}

double BalancingQLearner::Value(int agent, int64_t s, double t) const {
  const int64_t n = num_actions(agent), m = num_actions(1 - agent);
  const std::vector<double> table = Table(agent, s);
  // Eq. 3.31: the backup of eq. 3.32 bootstraps from V^i / beta^i.
  return BalancingValue(table.data(), n, m, nullptr, prior(agent, s),
                        agent_beta(agent, t), opponent_beta(agent, t));
}

std::vector<std::pair<std::string, double>> BalancingQLearner::Metrics(
    int agent) const {
  std::vector<std::pair<std::string, double>> values =
      PairTabularLearner::Metrics(agent);
  const double t = temperature();
  values.push_back({"omega", 1.0 / t});
  values.push_back({"beta_agent_effective", agent_beta(agent, t)});
  values.push_back({"beta_opponent_effective", opponent_beta(agent, t)});
  return values;
}

}  // namespace marl
