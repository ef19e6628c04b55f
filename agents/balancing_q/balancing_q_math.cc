#include "agents/balancing_q/balancing_q_math.h"

#include <vector>

#include "learners/soft_math.h"

namespace marl {
namespace {

// log sum_k prior[k] exp(z[k]) (null prior = uniform), stabilised.
double LogExpectedExp(const double* z, const double* prior, int64_t n) {
  if (prior != nullptr) return SoftMaxWithPrior(z, prior, n, 1.0);
  const std::vector<double> uniform(n, 1.0 / n);
  return SoftMaxWithPrior(z, uniform.data(), n, 1.0);
}

}  // namespace

void BalancingAgentQ(const double* q, int64_t n, int64_t m,
                     const double* opponent_prior, double beta_agent,
                     double beta_opp, double* out) {
  std::vector<double> z(m);
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = 0; b < m; ++b) z[b] = beta_opp * q[a * m + b];
    // Eq. 3.28: (beta^i / beta^-i) log sum_b P(b) exp(beta^-i Q(a,b)).
    out[a] =
        beta_agent / beta_opp * LogExpectedExp(z.data(), opponent_prior, m);
  }
}

void BalancingPolicy(const double* agent_q, const double* own_prior, int64_t n,
                     double* out) {
  // Eq. 3.28: pi(a) ∝ P(a) exp(Q^i(a)) (temperature 1: the betas are
  // already inside Q^i).
  SoftmaxPolicy(agent_q, own_prior, nullptr, n, 1.0, out);
}

double BalancingAgentValue(const double* agent_q, const double* own_prior,
                           int64_t n) {
  // Eq. 3.28: V^i = log sum_a P(a) exp(Q^i(a)).
  return LogExpectedExp(agent_q, own_prior, n);
}

double BalancingValue(const double* q, int64_t n, int64_t m,
                      const double* own_prior, const double* opponent_prior,
                      double beta_agent, double beta_opp) {
  std::vector<double> agent_q(n);
  BalancingAgentQ(q, n, m, opponent_prior, beta_agent, beta_opp,
                  agent_q.data());
  // Eq. 3.31: V = V^i / beta^i.
  return BalancingAgentValue(agent_q.data(), own_prior, n) / beta_agent;
}

void BalancingConditionalOpponentModel(const double* q, int64_t n, int64_t m,
                                       int64_t a, const double* opponent_prior,
                                       double beta_opp, double* out) {
  // Eq. 3.23: rho(b|a) ∝ P(b) exp(beta^-i Q(a,b)). Scaled first, not by
  // temperature 1/beta^-i: SoftmaxPolicy stabilises with the maximum, which
  // is only right for a positive temperature.
  std::vector<double> z(m);
  for (int64_t b = 0; b < m; ++b) z[b] = beta_opp * q[a * m + b];
  SoftmaxPolicy(z.data(), opponent_prior, nullptr, m, 1.0, out);
}

void BalancingOpponentQ(const double* q, int64_t n, int64_t m,
                        const double* own_prior, double beta_agent,
                        double beta_opp, double* out) {
  std::vector<double> z(n);
  for (int64_t b = 0; b < m; ++b) {
    for (int64_t a = 0; a < n; ++a) z[a] = beta_agent * q[a * m + b];
    // Eq. 3.30: (beta^-i / beta^i) log sum_a P(a) exp(beta^i Q(a,b)).
    out[b] = beta_opp / beta_agent * LogExpectedExp(z.data(), own_prior, n);
  }
}

void BalancingOpponentModel(const double* opponent_q,
                            const double* opponent_prior, int64_t m,
                            double* out) {
  // Eq. 3.30: rho(b) ∝ P(b) exp(Q^-i(b)).
  SoftmaxPolicy(opponent_q, opponent_prior, nullptr, m, 1.0, out);
}

double BalancingOpponentValue(const double* opponent_q,
                              const double* opponent_prior, int64_t m) {
  // Eq. 3.30: V^-i = log sum_b P(b) exp(Q^-i(b)).
  return LogExpectedExp(opponent_q, opponent_prior, m);
}

void BalancingConditionalPolicy(const double* q, int64_t n, int64_t m,
                                int64_t b, const double* own_prior,
                                double beta_agent, double* out) {
  std::vector<double> z(n);
  for (int64_t a = 0; a < n; ++a) z[a] = beta_agent * q[a * m + b];
  // pi(a|b) ∝ P(a) exp(beta^i Q(a,b)), the agent model of eq. 3.30.
  SoftmaxPolicy(z.data(), own_prior, nullptr, n, 1.0, out);
}

}  // namespace marl
