#ifndef MARL_AGENTS_PR2_PR2_Q_LEARNER_H_
#define MARL_AGENTS_PR2_PR2_Q_LEARNER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/pair_tabular_learner.h"
#include "runtime/params.h"

namespace marl {

// PR2-Q's hyperparameters (runtime/params.h). The opponent temperature T_o
// -> 0: the opponent is assumed to pick the agent's best reply (log-sum-exp
// -> max, the optimistic closed form); large T_o: the expectation under the
// estimated opponent policy P(b|s).
#define MARL_PR2_Q_PARAMS(P)                                                   \
  P(double, lr, 0.1, (InRange(1e-12, 1)), "Learning rate of Q(s, a^i, a^-i).") \
  P(double, gamma, 0.95, InRange(0, 1), "Discount factor.")                    \
  P(double, prior_rate, 0.002, InRange(0, 1),                                  \
    "Rate of the running estimate of the opponent's policy, the prior of "     \
    "the opponent model (0 = uniform, fixed).")                                \
  P(double, alpha, 1.0, Positive(),                                            \
    "Initial policy temperature alpha0 of pi(a) ∝ exp(Q(a)/alpha).")           \
  P(double, alpha_decay, 0.999, (InRange(1e-12, 1)),                           \
    "Temperature decay per transition learned: alpha_t = max(alpha_min, "      \
    "alpha0 * decay^t).")                                                      \
  P(double, alpha_min, 0.3, Positive(), "Temperature floor.")                  \
  P(double, opponent_temperature, 10.0, Positive(),                            \
    "Temperature T_o of the opponent model rho(b|a) ∝ P(b) exp(Q(a,b)/T_o) " \
    "and of Q(a) = T_o log sum_b P(b) exp(Q(a,b)/T_o); small = optimistic "    \
    "(max over the opponent), large = expectation under the estimated "        \
    "opponent policy.")

struct Pr2QOptions {
  MARL_PARAMS(MARL_PR2_Q_PARAMS)
};

// PR2-Q, tabular (level-1 probabilistic recursive reasoning): agent i's
// opponent model is the closed form
//   rho^i(b | s, a) ∝ P^i(b|s) exp(Q^i(s,a,b) / T_o),
// its opponent-marginalised value
//   Q^i(s, a) = T_o log sum_b P^i(b|s) exp(Q^i(s,a,b) / T_o)
// (the log of the normaliser, as EXPERIMENTS.md §5 reads the notes; with a
// uniform P this is the notes' log ∫ exp Q da^-i up to a constant), and
// its policy pi^i(a|s) ∝ exp(Q^i(s,a) / alpha), alpha on the schedule.
// P^i, the prior of the opponent model, is the running estimate of the
// opponent's observed actions (uniform and fixed with prior_rate 0).
class Pr2QLearner : public PairTabularLearner {
 public:
  static absl::StatusOr<std::unique_ptr<Pr2QLearner>> Create(
      const EnvSpec& spec, const Pr2QOptions& options, uint64_t seed);

  // Q^i(s, a) for every own action a.
  void MarginalQ(int agent, int64_t s, std::vector<double>* out) const;
  // rho^i(. | s, a).
  void ConditionalOpponentModel(int agent, int64_t s, int64_t a,
                                std::vector<double>* out) const;

  void Policy(int agent, int64_t s, double t,
              std::vector<double>* out) const override;
  void OpponentModel(int agent, int64_t s, double t,
                     std::vector<double>* out) const override;
  double Value(int agent, int64_t s, double t) const override;

 private:
  Pr2QLearner(const EnvSpec& spec, const Pr2QOptions& options, uint64_t seed);
  double opponent_temperature_;
};

}  // namespace marl

#endif  // MARL_AGENTS_PR2_PR2_Q_LEARNER_H_
