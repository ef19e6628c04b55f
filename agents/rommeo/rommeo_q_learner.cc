#include "agents/rommeo/rommeo_q_learner.h"

#include "learners/soft_math.h"

namespace marl {

namespace {

PairTabularOptions Tabular(const RommeoQOptions& o) {
  PairTabularOptions t;
  t.learning_rate = o.lr;
  t.gamma = o.gamma;
  t.prior_rate = o.prior_rate;
  t.temperature =
      TemperatureSchedule::Rommeo(o.temperature_min, o.temperature_initial,
                                  o.temperature_rate, o.temperature_delay);
  return t;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RommeoQLearner>> RommeoQLearner::Create(
    const EnvSpec& spec, const RommeoQOptions& options, uint64_t seed) {
  if (absl::Status s = CheckSpec(spec, "rommeo_q"); !s.ok()) return s;
  if (absl::Status s = ValidateParams(options); !s.ok()) return s;
  return std::unique_ptr<RommeoQLearner>(
      new RommeoQLearner(spec, options, seed));
}

RommeoQLearner::RommeoQLearner(const EnvSpec& spec,
                               const RommeoQOptions& options, uint64_t seed)
    : PairTabularLearner(spec, Tabular(options), seed, "rommeo_q", "") {}

void RommeoQLearner::OpponentQ(int agent, int64_t s, double t,
                               std::vector<double>* out) const {
  const int64_t n = num_actions(agent), m = num_actions(1 - agent);
  const std::vector<double> uniform(n, 1.0 / n);
  std::vector<double> column(n);
  out->resize(m);
  for (int64_t b = 0; b < m; ++b) {
    for (int64_t a = 0; a < n; ++a) column[a] = q(agent, s, a, b);
    (*out)[b] = SoftMaxWithPrior(column.data(), uniform.data(), n, t);
  }
}

void RommeoQLearner::ConditionalPolicy(int agent, int64_t s, int64_t b,
                                       double t,
                                       std::vector<double>* out) const {
  const int64_t n = num_actions(agent);
  std::vector<double> column(n);
  for (int64_t a = 0; a < n; ++a) column[a] = q(agent, s, a, b);
  out->resize(n);
  // A uniform P_prior(a|b) cancels in the normalisation.
  SoftmaxPolicy(column.data(), nullptr, nullptr, n, t, out->data());
}

void RommeoQLearner::OpponentModel(int agent, int64_t s, double t,
                                   std::vector<double>* out) const {
  std::vector<double> qb;
  OpponentQ(agent, s, t, &qb);
  out->resize(qb.size());
  SoftmaxPolicy(qb.data(), prior(agent, s), nullptr, qb.size(), t, out->data());
}

void RommeoQLearner::Policy(int agent, int64_t s, double t,
                            std::vector<double>* out) const {
  std::vector<double> rho, pi;
  OpponentModel(agent, s, t, &rho);
  out->assign(num_actions(agent), 0.0);
  for (size_t b = 0; b < rho.size(); ++b) {
    if (rho[b] <= 0) continue;
    ConditionalPolicy(agent, s, b, t, &pi);
    for (size_t a = 0; a < pi.size(); ++a) (*out)[a] += rho[b] * pi[a];
  }
}

double RommeoQLearner::Value(int agent, int64_t s, double t) const {
  std::vector<double> qb;
  OpponentQ(agent, s, t, &qb);
  return SoftMaxWithPrior(qb.data(), prior(agent, s), qb.size(), t);
}

int64_t RommeoQLearner::Greedy(int agent, int64_t s, double t) const {
  std::vector<double> rho;
  OpponentModel(agent, s, t, &rho);
  const int64_t b = ArgMax(rho.data(), nullptr, rho.size());
  const int64_t n = num_actions(agent);
  std::vector<double> column(n);
  for (int64_t a = 0; a < n; ++a) column[a] = q(agent, s, a, b);
  return ArgMax(column.data(), nullptr, n);
}

}  // namespace marl
