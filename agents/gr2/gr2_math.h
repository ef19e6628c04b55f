#ifndef MARL_AGENTS_GR2_GR2_MATH_H_
#define MARL_AGENTS_GR2_GR2_MATH_H_

// Torch-free pieces of GR2 (generalized recursive reasoning, Wen et al.
// 2019) that can be checked by hand: the Poisson level weights of GR2-M and
// the level-k recursive roll-out of GR2-L. The roll-out is a template so
// the learner runs it on tensors and the tests on doubles.

#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace marl {
namespace gr2 {

// GR2-M's weights of levels 0..max_level: w_j = f(j) / Z with the Poisson
// pmf f(j) = e^-lambda lambda^j / j! and Z = sum_{j=0..max_level} f(j), the
// normaliser over the levels actually mixed (EXPERIMENTS.md §5; the notes'
// "sum from 1" is a slip). INVALID_ARGUMENT for max_level < 0 or a lambda
// that is not finite and > 0.
absl::StatusOr<std::vector<double>> PoissonLevelWeights(double lambda,
                                                        int max_level);

// Both sides of one agent's recursive reasoning, levels 0..k.
template <typename T>
struct LevelRollout {
  std::vector<T> self;      // self[j]: the agent's level-j action
  std::vector<T> opponent;  // opponent[j]: the opponents' level-j action
};

// The level-k recursion of GR2-L: a level-j agent best-responds to
// opponents at level j-1, who best-respond to it at level j-2, and so on:
//
//   self[0] = self0,        self[j]     = best_response_self(opponent[j-1])
//   opponent[0] = opp0,     opponent[j] = best_response_opponent(self[j-1])
//
// so self[2] = BR_self(BR_opp(self0)) and self[1] = BR_self(opp0). Both
// best responses are deterministic (the paper's approximation that keeps
// the variance of deep roll-outs down). Needs k >= 0.
template <typename T, typename SelfBr, typename OppBr>
LevelRollout<T> RollOutLevels(int k, T self0, T opp0,
                              const SelfBr& best_response_self,
                              const OppBr& best_response_opponent) {
  LevelRollout<T> out;
  out.self.reserve(k + 1);
  out.opponent.reserve(k + 1);
  out.self.push_back(std::move(self0));
  out.opponent.push_back(std::move(opp0));
  for (int j = 1; j <= k; ++j) {
    // Both from level j-1, so each reads the other's previous level.
    T s = best_response_self(out.opponent[j - 1]);
    T o = best_response_opponent(out.self[j - 1]);
    out.self.push_back(std::move(s));
    out.opponent.push_back(std::move(o));
  }
  return out;
}

// The per-sample auxiliary (dominance) loss of GR2 in its hinge form:
// max(0, Q(level k-2 action) - Q(level k action)), both against the
// opponents' level k-1 action. Zero once level k weakly dominates k-2.
inline double DominanceHinge(double q_level_k, double q_level_k_minus_2) {
  const double gap = q_level_k_minus_2 - q_level_k;
  return gap > 0 ? gap : 0.0;
}

}  // namespace gr2
}  // namespace marl

#endif  // MARL_AGENTS_GR2_GR2_MATH_H_
