#ifndef MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LOSSES_H_
#define MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LOSSES_H_

// Probabilistic Balancing-Q's losses (thesis §3.5.2, eq. 3.55-3.60), exposed
// for tests (LibTorch header).
//
// Units. The networks hold the action value Q and the state value V in
// reward units, the Q and V of Balancing Q-learning's eq. 3.31/3.32 that
// agent and opponent share. The thesis' scaled functions are
//   Q_chi = beta^-i Q  (eq. 3.54: Q^-i = beta^-i Q),   V_psi = beta^i V,
//   Q^i(s, a^i) = beta^i M(s, a^i)   (eq. 3.28, 3.52),
// with M the opponent-marginalised value in reward units,
//   M(s, a^i) = (1/beta^-i) log E_{P_prior(a^-i)} exp(beta^-i Q(s,a^i,a^-i)),
// a soft max over a^-i when beta^-i > 0 and a soft min when beta^-i < 0.
// The squared-error losses below are the thesis' divided by beta^2, so the
// step size does not change when the betas are annealed; their minimisers
// are the thesis'. The KL losses (rho, pi) are the thesis' exactly.
// Log-priors are of the uniform prior on (-1, 1)^d (UniformLogPrior).

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h"

namespace marl {
namespace pbq {

// log of the uniform density on (-1, 1)^dim: -dim log 2.
double UniformLogPrior(int64_t dim);

// Eq. 3.56 / (beta^-i)^2: 0.5 mean (Q - r - gamma (1 - done) V'(s'))^2; all
// [B], next_value from the target V.
torch::Tensor QLoss(const torch::Tensor& q, const torch::Tensor& reward,
                    const torch::Tensor& done, const torch::Tensor& next_value,
                    double gamma);

// The default estimate of M(s, a^i) (reward units) from K samples
// a^-i_k ~ rho(.|s, a^i): the inner term of eq. 3.53/3.55,
//   mean_k [Q_k - (log rho_k - log P_prior) / beta^-i],
// i.e. (1/beta^-i) times the evidence lower bound of log Z(s, a^i) of eq.
// 3.49; exact when rho is the optimum of eq. 3.57. q and log_rho [..., K]
// -> [...].
torch::Tensor VariationalMarginal(const torch::Tensor& q,
                                  const torch::Tensor& log_rho,
                                  double log_prior, double beta_opponent);

// Eq. 3.59 / beta^i: importance sampling from K samples a^-i_k ~ q,
//   (1/beta^-i) [log sum_k exp(beta^-i Q_k + log P_prior - log q_k) - log K].
// q and log_proposal [..., K] -> [...].
torch::Tensor ImportanceMarginal(const torch::Tensor& q,
                                 const torch::Tensor& log_proposal,
                                 double log_prior, double beta_opponent);

// Eq. 3.55's target / beta^i at a^i ~ pi: M - (log pi - log P_prior) / beta^i.
torch::Tensor ValueTarget(const torch::Tensor& marginal,
                          const torch::Tensor& log_pi, double log_prior,
                          double beta);

// Eq. 3.55 / (beta^i)^2: 0.5 mean (V(s) - target)^2 (target detached).
torch::Tensor ValueLoss(const torch::Tensor& value,
                        const torch::Tensor& target);

// Eq. 3.57: KL(rho(.|s,a^i) || P_prior exp(beta^-i Q) / Z) up to log Z,
// from reparameterised samples: mean (log rho - beta^-i Q - log P_prior).
torch::Tensor OpponentLoss(const torch::Tensor& q, const torch::Tensor& log_rho,
                           double log_prior, double beta_opponent);

// Eq. 3.60: KL(pi(.|s) || P_prior exp(Q^i(s,.)) / exp(V_psi(s))) from
// reparameterised a^i ~ pi: mean (log pi - log P_prior - beta^i M +
// beta^i V) (V detached: it only offsets the value).
torch::Tensor PolicyLoss(const torch::Tensor& log_pi,
                         const torch::Tensor& marginal,
                         const torch::Tensor& value, double log_prior,
                         double beta);

// Eq. 3.58 / (beta^-i)^2, reward units: 0.5 mean (M - V - (log pi -
// log P_prior) / beta^i)^2. Eq. 3.58 inverts eq. 3.52, so it vanishes once
// pi matches its target; as a target for pi it would give KL(pi || pi) = 0
// and no gradient. The learner reports it as a diagnostic ("consistency").
torch::Tensor ConsistencyResidual(const torch::Tensor& marginal,
                                  const torch::Tensor& value,
                                  const torch::Tensor& log_pi, double log_prior,
                                  double beta);

// K opponent particles per row for a marginal estimate. mean, log_std
// [B, d]: rho(.|s, a^i)'s tanh-Gaussian parameters.
struct OpponentParticles {
  torch::Tensor action;        // [B, K, d] in (-1, 1)
  torch::Tensor log_rho;       // [B, K] log rho(a_k|s, a^i)
  torch::Tensor log_proposal;  // [B, K] log q(a_k) of the proposal
};

// kOpponentModel: all K from rho (reparameterised), log q = log rho.
// kPrior: all K uniform on (-1, 1)^d (no gradient to the samples).
// kMixture: the first ceil(K/2) from rho, the rest uniform, log q = the
// density of the even mixture (multiple importance sampling, balance
// heuristic: unbiased, and the prior half keeps an estimate from missing a
// mode that rho has not found).
OpponentParticles SampleOpponentParticles(
    const torch::Tensor& mean, const torch::Tensor& log_std, int64_t k,
    ProbabilisticBalancingQOptions::Proposal proposal,
    at::Generator& generator);

}  // namespace pbq
}  // namespace marl

#endif  // MARL_AGENTS_PROBABILISTIC_BALANCING_Q_PROBABILISTIC_BALANCING_Q_LOSSES_H_
