#ifndef MARL_AGENTS_BALANCING_Q_BALANCING_Q_LEARNER_H_
#define MARL_AGENTS_BALANCING_Q_BALANCING_Q_LEARNER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/pair_tabular_learner.h"

namespace marl {

struct BalancingQOptions {
  PairTabularOptions tabular = Defaults();
  // Per agent (spec order), from its own point of view with its own
  // reward: beta^i (its policy) and beta^-i (its opponent model). Same
  // signs: cooperative; opposite signs: competitive. Thesis B.3.1: 0.1 and
  // 0.1 (cooperative), 0.1 and -0.1 (competitive).
  double beta_agent[2] = {0.1, 0.1};
  double beta_opponent[2] = {0.1, 0.1};

  // Algorithm 1's schedule weight omega_t = omega0 * growth^t (t =
  // iterations), capped at omega_max, as the shared schedule's temperature
  // 1 / omega_t (the effective inverse temperatures are beta * omega_t).
  static TemperatureSchedule OmegaSchedule(double omega0, double growth,
                                           double omega_max) {
    return TemperatureSchedule::Exponential(1.0 / omega0, 1.0 / growth,
                                            1.0 / omega_max);
  }
  static PairTabularOptions Defaults() {
    PairTabularOptions o;
    o.learning_rate = 0.6;  // thesis B.3.1
    o.gamma = 0.9;          // matrix games end every step: unused there
    o.prior_rate = 0.0;     // Algorithm 1: uniform priors
    o.temperature = OmegaSchedule(1.0, 1.01, 1e6);
    o.iteration_updates = true;  // 50 roll-outs (copies) per iteration
    return o;
  }
};

// Balancing Q-learning, tabular (Grau-Moya et al. 2018 as the thesis
// re-derives it, §3.4, eq. 3.28-3.32, Algorithm 1 of appendix B.3.1), for
// two-player games with Discrete states and actions. Agent i keeps
// Q(s, a, b) over the joint action (own a, opponent b) and, with
// b_i = beta^i omega_t and b_o = beta^-i omega_t,
//   Q^i(s,a) = (b_i / b_o) log sum_b P(b|s) exp(b_o Q(s,a,b))   (3.28)
//   pi(a|s)  ∝ P(a) exp(Q^i(s,a))                               (3.28)
//   V(s)     = (1 / b_i) log sum_a P(a) exp(Q^i(s,a))           (3.28, 3.31)
//   Q(s,a,b) += lr (mean over the iteration's roll-outs of
//               r + gamma (1 - terminated) V(s') - Q(s,a,b))    (3.32, alg. 1)
// (so omega multiplies both betas: Algorithm 1's step 4 puts omega inside
// the exp and (beta_agent / beta_opp) outside, which is b_i/b_o exactly).
// Own prior P(a) uniform; opponent prior P(b|s) uniform, or the running
// estimate of the opponent's observed policy with prior_rate > 0.
class BalancingQLearner : public PairTabularLearner {
 public:
  static absl::StatusOr<std::unique_ptr<BalancingQLearner>> Create(
      const EnvSpec& spec, const BalancingQOptions& options, uint64_t seed);

  // The effective inverse temperatures beta * omega at temperature t =
  // 1 / omega.
  double agent_beta(int agent, double t) const {
    return beta_agent_[agent] / t;
  }
  double opponent_beta(int agent, double t) const {
    return beta_opponent_[agent] / t;
  }
  // Q(s, ., .) of `agent`, [own][opponent].
  std::vector<double> Table(int agent, int64_t s) const;
  // Q^i(s, .) (eq. 3.28).
  void AgentQ(int agent, int64_t s, double t, std::vector<double>* out) const;

  // pi(. | s) (eq. 3.28).
  void Policy(int agent, int64_t s, double t,
              std::vector<double>* out) const override;
  // rho(. | s) of eq. 3.30.
  void OpponentModel(int agent, int64_t s, double t,
                     std::vector<double>* out) const override;
  // V(s) = V^i(s) / beta^i (eq. 3.31).
  double Value(int agent, int64_t s, double t) const override;
  // Adds omega and the effective betas to the shared tabular metrics.
  std::vector<std::pair<std::string, double>> Metrics(int agent) const override;

 private:
  BalancingQLearner(const EnvSpec& spec, const BalancingQOptions& options,
                    uint64_t seed);
  static std::string ConfigExtra(const BalancingQOptions& options);

  double beta_agent_[2];
  double beta_opponent_[2];
};

}  // namespace marl

#endif  // MARL_AGENTS_BALANCING_Q_BALANCING_Q_LEARNER_H_
