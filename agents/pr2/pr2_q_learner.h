#ifndef MARL_AGENTS_PR2_PR2_Q_LEARNER_H_
#define MARL_AGENTS_PR2_PR2_Q_LEARNER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/pair_tabular_learner.h"

namespace marl {

struct Pr2QOptions {
  PairTabularOptions tabular;
  // Temperature T_o of the opponent model and of the opponent-marginalised
  // value. T_o -> 0: the opponent is assumed to pick the agent's best
  // reply (log-sum-exp -> max, the optimistic closed form); large T_o: the
  // expectation under the estimated opponent policy P(b|s).
  double opponent_temperature = 10.0;
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
