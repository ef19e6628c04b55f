#ifndef MARL_AGENTS_ROMMEO_ROMMEO_Q_LEARNER_H_
#define MARL_AGENTS_ROMMEO_ROMMEO_Q_LEARNER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/pair_tabular_learner.h"
#include "runtime/params.h"

namespace marl {

// ROMMEO-Q's hyperparameters (runtime/params.h). The temperature follows
// the authors' annealing shape (0.1 + 500 exp(-0.1 max(t - 10, 0)) per
// iteration), rescaled to transitions and matrix-game payoffs.
#define MARL_ROMMEO_Q_PARAMS(P)                                                \
  P(double, lr, 0.1, (InRange(1e-12, 1)), "Learning rate of Q(s, a^i, a^-i).") \
  P(double, gamma, 0.95, InRange(0, 1), "Discount factor.")                    \
  P(double, prior_rate, 0.01, InRange(0, 1),                                   \
    "Rate of the running estimate of the opponent's policy, the prior "        \
    "P_prior(a^-i|s) of the opponent model (0 = uniform, fixed).")             \
  P(double, temperature_min, 0.1, Positive(),                                  \
    "Temperature schedule T_t = min + initial * exp(-rate * max(t - delay, "   \
    "0)), t = transitions learned: the floor.")                                \
  P(double, temperature_initial, 5.0, NonNegative(),                           \
    "Annealed part of the temperature at the start.")                          \
  P(double, temperature_rate, 5e-4, NonNegative(),                             \
    "Annealing rate per transition learned.")                                  \
  P(double, temperature_delay, 1000, NonNegative(),                            \
    "Transitions learned before the annealing starts.")

struct RommeoQOptions {
  MARL_PARAMS(MARL_ROMMEO_Q_PARAMS)
};

// ROMMEO-Q, tabular (thesis §3.2, eq. 3.14-3.18), for agent i with
// temperature T (= 1/beta) and Q = Q^i(s, a, b), own action a, opponent b:
//   Q(s, b)   = T log sum_a P_prior(a|b) exp(Q(s,a,b)/T)  (uniform P_prior)
//   rho(b|s)  ∝ exp(Q(s,b)/T) P_prior(b|s)   (regularised opponent model)
//   pi(a|s,b) ∝ exp(Q(s,a,b)/T) P_prior(a|b)  (conditional policy)
//   V(s)      = T log sum_b P_prior(b|s) exp(Q(s,b)/T)
// and it acts by sampling b ~ rho, then a ~ pi(.|s,b) (eq. 3.18). The
// opponent prior P_prior(b|s) is the running estimate of the opponent's
// observed policy (the ROMMEO paper fits it by maximum likelihood).
class RommeoQLearner : public PairTabularLearner {
 public:
  static absl::StatusOr<std::unique_ptr<RommeoQLearner>> Create(
      const EnvSpec& spec, const RommeoQOptions& options, uint64_t seed);

  // Q(s, b) for every opponent action b.
  void OpponentQ(int agent, int64_t s, double t,
                 std::vector<double>* out) const;
  // pi(. | s, b).
  void ConditionalPolicy(int agent, int64_t s, int64_t b, double t,
                         std::vector<double>* out) const;

  // The marginal sum_b rho(b) pi(a|b).
  void Policy(int agent, int64_t s, double t,
              std::vector<double>* out) const override;
  // rho(. | s).
  void OpponentModel(int agent, int64_t s, double t,
                     std::vector<double>* out) const override;
  double Value(int agent, int64_t s, double t) const override;
  // b* = argmax rho, then argmax_a pi(a | s, b*).
  int64_t Greedy(int agent, int64_t s, double t) const override;

 private:
  RommeoQLearner(const EnvSpec& spec, const RommeoQOptions& options,
                 uint64_t seed);
};

}  // namespace marl

#endif  // MARL_AGENTS_ROMMEO_ROMMEO_Q_LEARNER_H_
