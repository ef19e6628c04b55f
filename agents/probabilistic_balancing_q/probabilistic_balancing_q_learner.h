#ifndef MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LEARNER_H_
#define MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LEARNER_H_

// Probabilistic Balancing-Q (thesis §3.5.2, losses 3.55-3.60) for Box-action
// games: the deep, actor-critic form of Balancing Q-learning (§3.4), one
// algorithm for cooperative and competitive games. Per agent i, four
// networks:
//  * pi(a^i|s): tanh-Gaussian policy;
//  * rho(a^-i|s, a^i): tanh-Gaussian conditional opponent model (the
//    PR2-like factorisation of eq. 3.21 / 3.45-3.49);
//  * Q(s, a^i, a^-i): joint action value;
//  * V(s): state value, with a Polyak target copy (SAC-v1 style) that the Q
//    target bootstraps from.
// beta^i (the agent's inverse temperature) and beta^-i (the one it assumes
// for the others) set the game: rho ∝ P_prior exp(beta^-i Q), so beta^-i > 0
// models the others as friends (a soft max over a^-i) and beta^-i < 0 as
// foes (a soft min); same signs = cooperative, opposite = competitive
// (theorem 8). The marginal value Q^i(s, a^i) the policy follows (eq. 3.28,
// 3.52) is estimated by the variational bound of eq. 3.53/3.55 (default) or
// by importance sampling (eq. 3.59). See README.md in this folder for the
// units, the estimators and where the thesis' text slips.
// Actions live in the normalised [-1, 1] space; priors are uniform there.
// Torch-free header.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

// Probabilistic Balancing-Q's own hyperparameters (runtime/params.h); the
// shared ones are MARL_DEEP_JOINT_PARAMS. beta^i and beta^-i: one value for
// every agent, or one per agent; non-zero (thesis B.3.1 uses 0.1 / 0.1,
// cooperative, and 0.1 / -0.1, competitive).
#define MARL_PROBABILISTIC_BALANCING_Q_PARAMS(P)                              \
  P(Numbers, beta_agent, Numbers("0.1"), AnyValue(),                          \
    "beta^i, the agent's inverse temperature: one value for every agent or "  \
    "one per agent, comma-separated (non-zero).")                             \
  P(Numbers, beta_opponent, Numbers("0.1"), AnyValue(),                       \
    "beta^-i, the inverse temperature each agent assumes for the others: "    \
    "same sign as --beta_agent models them as friends (cooperative), the "    \
    "opposite sign as foes (competitive). One value or one per agent, "       \
    "comma-separated (non-zero).")                                            \
  P(double, beta_growth, 1.01, AtLeast(1),                                    \
    "Both inverse temperatures are multiplied by min(beta_growth^u, "         \
    "beta_scale_max), u = gradient updates (the thesis' omega = 1.01 per "    \
    "step, capped so that the networks' exponents stay finite; 1 = "          \
    "constant).")                                                             \
  P(double, beta_scale_max, 100, AtLeast(1), "Cap of that multiplier.")       \
  P(::marl::ProbabilisticBalancingQOptions::Marginal, marginal,               \
    ::marl::ProbabilisticBalancingQOptions::Marginal::kVariational,           \
    AnyValue(),                                                               \
    "Estimator of the opponent-marginalised value Q^i(s,a^i): "               \
    "\"variational\" (E_rho[Q - log rho/P_prior / beta^-i], eq. 3.53/3.55) "  \
    "or \"importance\" (eq. 3.59).")                                          \
  P(::marl::ProbabilisticBalancingQOptions::Proposal, proposal,               \
    ::marl::ProbabilisticBalancingQOptions::Proposal::kMixture, AnyValue(),   \
    "Proposal of --marginal=importance: \"opponent_model\" (rho), \"prior\" " \
    "(uniform) or \"mixture\" (half each).")                                  \
  P(int32_t, marginal_particles, 16, (InRange(1, 1 << 16)),                   \
    "Opponent-action samples per marginal estimate (and per rho update).")    \
  P(double, policy_lr, 1e-2, Positive(),                                      \
    "Policy pi(a^i|s) (Adam) learning rate.")                                 \
  P(double, opponent_lr, 1e-2, Positive(),                                    \
    "Opponent model rho(a^-i|s,a^i) (Adam) learning rate.")                   \
  P(double, value_lr, 1e-2, Positive(),                                       \
    "State value V(s) (Adam) learning rate.")

namespace marl {

struct ProbabilisticBalancingQOptions {
  enum class Marginal {
    // Q^i(s,a^i) = beta^i E_rho[Q - (1/beta^-i) log rho/P_prior] (the inner
    // term of eq. 3.53/3.55; exact when rho solves eq. 3.57).
    kVariational,
    // Eq. 3.59: (beta^i/beta^-i) log mean_k exp(beta^-i Q_k) P_prior/q_k.
    kImportance,
  };
  // The importance sampler's proposal q(a^-i).
  enum class Proposal {
    kOpponentModel,  // rho(.|s, a^i)
    kPrior,          // the uniform prior
    kMixture,        // half the particles from each, weighed by the mixture
  };

  MARL_PARAMS(MARL_PROBABILISTIC_BALANCING_Q_PARAMS)
  DeepJointParams base;
};

inline constexpr EnumName<ProbabilisticBalancingQOptions::Marginal>
    kMarginalNames[] = {
        {ProbabilisticBalancingQOptions::Marginal::kVariational, "variational"},
        {ProbabilisticBalancingQOptions::Marginal::kImportance, "importance"}};
inline bool AbslParseFlag(absl::string_view text,
                          ProbabilisticBalancingQOptions::Marginal* out,
                          std::string* error) {
  return ParseEnum(text, kMarginalNames, out, error);
}
inline std::string AbslUnparseFlag(
    ProbabilisticBalancingQOptions::Marginal marginal) {
  return UnparseEnum(marginal, kMarginalNames);
}
inline constexpr EnumName<ProbabilisticBalancingQOptions::Proposal>
    kProposalNames[] = {
        {ProbabilisticBalancingQOptions::Proposal::kOpponentModel,
         "opponent_model"},
        {ProbabilisticBalancingQOptions::Proposal::kPrior, "prior"},
        {ProbabilisticBalancingQOptions::Proposal::kMixture, "mixture"}};
inline bool AbslParseFlag(absl::string_view text,
                          ProbabilisticBalancingQOptions::Proposal* out,
                          std::string* error) {
  return ParseEnum(text, kProposalNames, out, error);
}
inline std::string AbslUnparseFlag(
    ProbabilisticBalancingQOptions::Proposal proposal) {
  return UnparseEnum(proposal, kProposalNames);
}

absl::StatusOr<std::unique_ptr<JointLearner>> CreateProbabilisticBalancingQ(
    const EnvSpec& spec, const ProbabilisticBalancingQOptions& options,
    uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LEARNER_H_
