#include "agents/pr2/pr2_q_learner.h"

#include "absl/strings/str_cat.h"
#include "learners/soft_math.h"
#include "runtime/json.h"

namespace marl {

namespace {

PairTabularOptions Tabular(const Pr2QOptions& o) {
  PairTabularOptions t;
  t.learning_rate = o.lr;
  t.gamma = o.gamma;
  t.prior_rate = o.prior_rate;
  t.temperature =
      TemperatureSchedule::Exponential(o.alpha, o.alpha_decay, o.alpha_min);
  return t;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pr2QLearner>> Pr2QLearner::Create(
    const EnvSpec& spec, const Pr2QOptions& options, uint64_t seed) {
  if (absl::Status s = CheckSpec(spec, "pr2_q"); !s.ok()) return s;
  if (absl::Status s = ValidateParams(options); !s.ok()) return s;
  return std::unique_ptr<Pr2QLearner>(new Pr2QLearner(spec, options, seed));
}

Pr2QLearner::Pr2QLearner(const EnvSpec& spec, const Pr2QOptions& options,
                         uint64_t seed)
    : PairTabularLearner(
          spec, Tabular(options), seed, "pr2_q",
          JsonObject()
              .Add("opponent_temperature", options.opponent_temperature)
              .Build()),
      opponent_temperature_(options.opponent_temperature) {}

void Pr2QLearner::MarginalQ(int agent, int64_t s,
                            std::vector<double>* out) const {
  const int64_t n = num_actions(agent), m = num_actions(1 - agent);
  out->resize(n);
  std::vector<double> row(m);
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = 0; b < m; ++b) row[b] = q(agent, s, a, b);
    (*out)[a] =
        SoftMaxWithPrior(row.data(), prior(agent, s), m, opponent_temperature_);
  }
}

void Pr2QLearner::ConditionalOpponentModel(int agent, int64_t s, int64_t a,
                                           std::vector<double>* out) const {
  const int64_t m = num_actions(1 - agent);
  std::vector<double> row(m);
  for (int64_t b = 0; b < m; ++b) row[b] = q(agent, s, a, b);
  out->resize(m);
  SoftmaxPolicy(row.data(), prior(agent, s), nullptr, m, opponent_temperature_,
                out->data());
}

void Pr2QLearner::Policy(int agent, int64_t s, double t,
                         std::vector<double>* out) const {
  std::vector<double> marginal;
  MarginalQ(agent, s, &marginal);
  out->resize(marginal.size());
  SoftmaxPolicy(marginal.data(), nullptr, nullptr, marginal.size(), t,
                out->data());
}

void Pr2QLearner::OpponentModel(int agent, int64_t s, double t,
                                std::vector<double>* out) const {
  // sum_a pi(a|s) rho(b|s,a): what the agent expects the opponent to play.
  std::vector<double> pi, rho;
  Policy(agent, s, t, &pi);
  out->assign(num_actions(1 - agent), 0.0);
  for (int64_t a = 0; a < num_actions(agent); ++a) {
    ConditionalOpponentModel(agent, s, a, &rho);
    for (size_t b = 0; b < rho.size(); ++b) (*out)[b] += pi[a] * rho[b];
  }
}

double Pr2QLearner::Value(int agent, int64_t s, double t) const {
  std::vector<double> marginal;
  MarginalQ(agent, s, &marginal);
  return SoftMax(marginal.data(), marginal.size(), t);
}

}  // namespace marl
