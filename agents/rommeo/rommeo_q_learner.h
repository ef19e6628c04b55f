#ifndef MARL_AGENTS_ROMMEO_ROMMEO_Q_LEARNER_H_
#define MARL_AGENTS_ROMMEO_ROMMEO_Q_LEARNER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/pair_tabular_learner.h"

namespace marl {

struct RommeoQOptions {
  PairTabularOptions tabular = Defaults();
  static PairTabularOptions Defaults() {
    PairTabularOptions o;
    o.prior_rate = 0.01;
    // The authors' annealing shape (0.1 + 500 exp(-0.1 max(t - 10, 0)) per
    // iteration), rescaled to transitions and matrix-game payoffs.
    o.temperature = TemperatureSchedule::Rommeo(0.1, 5.0, 5e-4, 1000);
    return o;
  }
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
