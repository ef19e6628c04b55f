#include "agents/balancing_q/balancing_q_learner.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "agents/balancing_q/balancing_q_math.h"
#include "runtime/json.h"

namespace marl {

namespace {

PairTabularOptions Tabular(const BalancingQOptions& o) {
  PairTabularOptions t;
  t.learning_rate = o.lr;
  t.gamma = o.gamma;
  t.prior_rate = o.prior_rate;
  t.temperature = TemperatureSchedule::Exponential(
      1.0 / o.omega_initial, 1.0 / o.omega_growth, 1.0 / o.omega_max);
  t.iteration_updates = true;  // a batch's copies are one iteration's roll-outs
  t.fixed_uniform_agent =
      o.opponent == BalancingQOptions::Opponent::kUniform ? 1 : -1;
  t.sample_in_evaluation =
      o.eval_policy == BalancingQOptions::EvalPolicy::kSample;
  return t;
}

// One value for both agents, or one each.
double PerAgent(const Numbers& numbers, int agent) {
  return numbers.values.size() == 1 ? numbers.values[0] : numbers.values[agent];
}

}  // namespace

absl::StatusOr<std::unique_ptr<BalancingQLearner>> BalancingQLearner::Create(
    const EnvSpec& spec, const BalancingQOptions& options, uint64_t seed) {
  if (absl::Status s = CheckSpec(spec, "balancing_q"); !s.ok()) return s;
  if (absl::Status s = ValidateParams(options); !s.ok()) return s;
  if (!(options.omega_max >= options.omega_initial)) {
    return absl::InvalidArgumentError("--omega_max must be >= --omega_initial");
  }
  for (const auto& [betas, name] :
       {std::pair{&options.beta_agent, "beta_agent"},
        std::pair{&options.beta_opponent, "beta_opponent"}}) {
    if (betas->values.size() != 1 && betas->values.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs one or two numbers, got '",
                       AbslUnparseFlag(*betas), "'"));
    }
    for (double beta : betas->values) {
      if (beta == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " must be non-zero (its sign matters)"));
      }
    }
  }
  return std::unique_ptr<BalancingQLearner>(
      new BalancingQLearner(spec, options, seed));
}

BalancingQLearner::BalancingQLearner(const EnvSpec& spec,
                                     const BalancingQOptions& options,
                                     uint64_t seed)
    : PairTabularLearner(spec, Tabular(options), seed, "balancing_q",
                         ConfigExtra(options)),
      beta_agent_{PerAgent(options.beta_agent, 0),
                  PerAgent(options.beta_agent, 1)},
      beta_opponent_{PerAgent(options.beta_opponent, 0),
                     PerAgent(options.beta_opponent, 1)} {}

std::string BalancingQLearner::AgentNote(int agent) const {
  if (agent == fixed_uniform_agent()) return "uniform, fixed";
  return absl::StrCat("beta ", beta_agent_[agent], ", opponent beta ",
                      beta_opponent_[agent]);
}

std::string BalancingQLearner::ConfigExtra(const BalancingQOptions& options) {
  JsonObject o;
  return AddParams(options, o).Build();
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
