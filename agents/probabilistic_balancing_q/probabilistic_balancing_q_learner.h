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
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_options.h"
#include "runtime/joint_learner.h"

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

  deep::DeepJointOptions base;
  std::vector<int64_t> hidden = {100, 100};
  double policy_lr = 1e-2;
  double opponent_lr = 1e-2;
  double critic_lr = 1e-2;
  double value_lr = 1e-2;
  double tau = 0.01;  // Polyak rate of the target V
  // beta^i and beta^-i: one value for every agent, or one per agent.
  // Non-zero; thesis B.3.1 uses 0.1 / 0.1 (cooperative) and 0.1 / -0.1
  // (competitive).
  std::vector<double> beta = {0.1};
  std::vector<double> beta_opponent = {0.1};
  // Both inverse temperatures are multiplied by
  // min(beta_growth^u, beta_scale_max), u = gradient updates: the thesis'
  // omega^t schedule (omega = 1.01, Algorithm 1 step 8), capped so that the
  // networks' exponents stay finite.
  double beta_growth = 1.01;
  double beta_scale_max = 100;
  Marginal marginal = Marginal::kVariational;
  Proposal proposal = Proposal::kMixture;
  int marginal_particles = 16;  // a^-i samples per marginal estimate
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreateProbabilisticBalancingQ(
    const EnvSpec& spec, const ProbabilisticBalancingQOptions& options,
    uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LEARNER_H_
