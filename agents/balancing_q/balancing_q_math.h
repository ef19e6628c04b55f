#ifndef MARL_AGENTS_BALANCING_Q_BALANCING_Q_MATH_H_
#define MARL_AGENTS_BALANCING_Q_BALANCING_Q_MATH_H_

#include <cstdint>

namespace marl {

// The closed forms of Balancing Q-learning (thesis §3.4, eq. 3.23-3.31) for
// one state: `q` is the agent's joint-action table Q(a, b), row-major
// [n own actions][m opponent actions]; beta_agent = beta^i and beta_opp =
// beta^-i are the inverse temperatures already multiplied by the schedule
// weight omega (Algorithm 1 step 4). Same signs: the opponent model assumes
// a friend; opposite signs: a foe. Priors have n (own) or m (opponent)
// entries summing to 1; null = uniform. Betas must be non-zero. All
// log-sum-exps are stabilised, so |beta * Q| may be large.

// Eq. 3.28 (Algorithm 1 step 4), for every own action a:
//   Q^i(a) = (beta^i / beta^-i) log sum_b P_prior(b) exp(beta^-i Q(a, b)).
// beta^-i > 0 tilts the sum towards the opponent's best reply for the
// agent (soft max over b), beta^-i < 0 towards its worst (soft min).
void BalancingAgentQ(const double* q, int64_t n, int64_t m,
                     const double* opponent_prior, double beta_agent,
                     double beta_opp, double* out);

// Eq. 3.28 (Algorithm 1 step 5, read with exp as EXPERIMENTS.md §5 does):
//   pi(a) = P_prior(a) exp(Q^i(a)) / exp(V^i).
void BalancingPolicy(const double* agent_q, const double* own_prior, int64_t n,
                     double* out);

// Eq. 3.28: V^i = log sum_a P_prior(a) exp(Q^i(a)).
double BalancingAgentValue(const double* agent_q, const double* own_prior,
                           int64_t n);

// Eq. 3.31: the value V = V^i / beta^i that the Bellman backup (eq. 3.32)
// bootstraps from, straight from the table.
double BalancingValue(const double* q, int64_t n, int64_t m,
                      const double* own_prior, const double* opponent_prior,
                      double beta_agent, double beta_opp);

// Eq. 3.23 / 3.49, the conditional opponent model behind eq. 3.28:
//   rho(b | a) = P_prior(b) exp(beta^-i Q(a, b)) / exp(beta^-i/beta^i Q^i(a)).
void BalancingConditionalOpponentModel(const double* q, int64_t n, int64_t m,
                                       int64_t a, const double* opponent_prior,
                                       double beta_opp, double* out);

// Eq. 3.30, for every opponent action b (the ROMMEO-like factorisation:
// the opponent model first, the agent conditioned on it):
//   Q^-i(b) = (beta^-i / beta^i) log sum_a P_prior(a) exp(beta^i Q(a, b)).
void BalancingOpponentQ(const double* q, int64_t n, int64_t m,
                        const double* own_prior, double beta_agent,
                        double beta_opp, double* out);

// Eq. 3.30: rho(b) = P_prior(b) exp(Q^-i(b)) / exp(V^-i).
void BalancingOpponentModel(const double* opponent_q,
                            const double* opponent_prior, int64_t m,
                            double* out);

// Eq. 3.30: V^-i = log sum_b P_prior(b) exp(Q^-i(b)).
double BalancingOpponentValue(const double* opponent_q,
                              const double* opponent_prior, int64_t m);

// The agent model inside eq. 3.30 (the policy of theorem 8's proof):
//   pi(a | b) = P_prior(a) exp(beta^i Q(a, b)) / sum_a' (same).
void BalancingConditionalPolicy(const double* q, int64_t n, int64_t m,
                                int64_t b, const double* own_prior,
                                double beta_agent, double* out);

}  // namespace marl

#endif  // MARL_AGENTS_BALANCING_Q_BALANCING_Q_MATH_H_
