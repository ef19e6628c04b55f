#ifndef MARL_AGENTS_BALANCING_Q_BALANCING_Q_LEARNER_H_
#define MARL_AGENTS_BALANCING_Q_BALANCING_Q_LEARNER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/pair_tabular_learner.h"
#include "runtime/params.h"

namespace marl {

// Balancing-Q's hyperparameters (runtime/params.h). Per agent (spec order),
// from its own point of view with its own reward: beta^i (its policy) and
// beta^-i (its opponent model). Same signs: cooperative; opposite signs:
// competitive. Thesis B.3.1: 0.1 and 0.1 (cooperative), 0.1 and -0.1
// (competitive), lr 0.6, uniform priors. Algorithm 1's schedule weight
// omega_t = omega0 * growth^t (t = iterations), capped at omega_max, is the
// shared schedule's temperature 1 / omega_t (the effective inverse
// temperatures are beta * omega_t).
#define MARL_BALANCING_Q_PARAMS(P)                                            \
  P(Numbers, beta_agent, Numbers("0.1"), AnyValue(),                          \
    "Inverse temperature beta^i of each agent's own policy, from its own "    \
    "point of view (its own reward): one value for both agents or two, "      \
    "comma-separated, in spec order. Thesis: 0.1.")                           \
  P(Numbers, beta_opponent, Numbers("0.1"), AnyValue(),                       \
    "Inverse temperature beta^-i of each agent's opponent model: same sign "  \
    "as --beta_agent = cooperative (the opponent is assumed to help), "       \
    "opposite sign = competitive (it is assumed to hurt). One value or two, " \
    "comma-separated. Thesis: 0.1 cooperative, -0.1 competitive.")            \
  P(double, lr, 0.6, (InRange(1e-12, 1)),                                     \
    "Learning rate alpha of Q(s, a^i, a^-i) (thesis B.3.1: 0.6).")            \
  P(double, gamma, 0.9, InRange(0, 1),                                        \
    "Discount of the soft Bellman backup Q = r + gamma V(s') (eq. "           \
    "3.27/3.32); unused by matrix games, whose episodes end every step.")     \
  P(double, omega_initial, 1.0, Positive(),                                   \
    "Schedule weight omega_0 (Algorithm 1): the effective inverse "           \
    "temperatures are beta * omega_t.")                                       \
  P(double, omega_growth, 1.01, AtLeast(1),                                   \
    "Factor of omega per iteration (one batched step of --num_copies "        \
    "roll-outs): omega_t = omega_0 * growth^t. Thesis: 1.01.")                \
  P(double, omega_max, 1e6, Positive(),                                       \
    "Cap on omega, >= --omega_initial (a numerical guard: beyond it the "     \
    "policies are greedy to double precision for payoff gaps of 1e-4 and "    \
    "more).")                                                                 \
  P(double, prior_rate, 0.0, InRange(0, 1),                                   \
    "0 (Algorithm 1): uniform priors P_prior(a^-i|s). > 0: the prior of the " \
    "opponent model is a running estimate of the opponent's observed "        \
    "actions, moved by this rate per roll-out. The own prior P_prior(a^i) "   \
    "stays uniform.")                                                         \
  P(::marl::BalancingQOptions::Opponent, opponent,                            \
    ::marl::BalancingQOptions::Opponent::kLearn, AnyValue(),                  \
    "'learn': both players are Balancing-Q learners. 'uniform': the second "  \
    "player plays uniformly at random and never learns (a fixed opponent, "   \
    "also during evaluation).")                                               \
  P(::marl::BalancingQOptions::EvalPolicy, eval_policy,                       \
    ::marl::BalancingQOptions::EvalPolicy::kGreedy, AnyValue(),               \
    "Evaluation actions: 'greedy' (argmax of pi) or 'sample' (drawn from pi " \
    "at the current omega).")

struct BalancingQOptions {
  enum class Opponent { kLearn, kUniform };
  enum class EvalPolicy { kGreedy, kSample };
  MARL_PARAMS(MARL_BALANCING_Q_PARAMS)
};

inline constexpr EnumName<BalancingQOptions::Opponent> kOpponentNames[] = {
    {BalancingQOptions::Opponent::kLearn, "learn"},
    {BalancingQOptions::Opponent::kUniform, "uniform"}};
inline bool AbslParseFlag(absl::string_view text,
                          BalancingQOptions::Opponent* out,
                          std::string* error) {
  return ParseEnum(text, kOpponentNames, out, error);
}
inline std::string AbslUnparseFlag(BalancingQOptions::Opponent opponent) {
  return UnparseEnum(opponent, kOpponentNames);
}
inline constexpr EnumName<BalancingQOptions::EvalPolicy> kEvalPolicyNames[] = {
    {BalancingQOptions::EvalPolicy::kGreedy, "greedy"},
    {BalancingQOptions::EvalPolicy::kSample, "sample"}};
inline bool AbslParseFlag(absl::string_view text,
                          BalancingQOptions::EvalPolicy* out,
                          std::string* error) {
  return ParseEnum(text, kEvalPolicyNames, out, error);
}
inline std::string AbslUnparseFlag(BalancingQOptions::EvalPolicy policy) {
  return UnparseEnum(policy, kEvalPolicyNames);
}

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
  // "beta b, opponent beta o", or "uniform, fixed".
  std::string AgentNote(int agent) const override;

 private:
  BalancingQLearner(const EnvSpec& spec, const BalancingQOptions& options,
                    uint64_t seed);
  static std::string ConfigExtra(const BalancingQOptions& options);

  double beta_agent_[2];
  double beta_opponent_[2];
};

}  // namespace marl

#endif  // MARL_AGENTS_BALANCING_Q_BALANCING_Q_LEARNER_H_
