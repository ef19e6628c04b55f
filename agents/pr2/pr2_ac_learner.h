#ifndef MARL_AGENTS_PR2_PR2_AC_LEARNER_H_
#define MARL_AGENTS_PR2_PR2_AC_LEARNER_H_

// PR2-AC (Wen et al. 2019, deep probabilistic recursive reasoning) for
// Box-action and Discrete-action games (all agents of one kind). Per agent i:
//  * a joint soft Q^i(s, a^i, a^-i) with a Polyak target copy (Discrete
//    actions enter it as one-hots);
//  * a policy pi^i(a^i|s);
//  * a conditional opponent model rho^i(a^-i|s, a^i) ∝ exp(Q^i(s,a^i,a^-i)
//    / T);
//  * the opponent-marginalised value Q^i(s, a^i) = T log E exp(Q^i(s, a^i,
//    a^-i) / T), which the policy maximises (plus alpha * entropy) and
//    which bootstraps the critic target r + gamma E_pi[Q^i(s', a') - alpha
//    log pi(a'|s')].
//
// Box actions (normalised to [-1, 1]): pi is a tanh Gaussian (chosen over
// the reference code's SVGD-trained sampler: exact log-probs for the
// entropy term and one fewer SVGD loop), rho an amortised SVGD sampler
// f(s, a^i, xi) -> tanh(.) targeting exp(Q^i / T), and the marginal a
// log-mean-exp over rho's particles.
//
// Discrete actions: pi is categorical and every expectation is exact. The
// other agents' m joint actions are enumerated, so rho needs no network:
// its closed form softmax_j(Q^i(s, a^i, j) / T) is the exact target a
// learned categorical rho would only approximate (and lag behind), and the
// marginal is T log mean_j exp(Q^i(s, a^i, j) / T) over all j. The soft
// value of s' and the policy loss sum over all own actions. Optionally
// (fit_opponent_prior) the uniform mean over j is weighted by a fitted
// categorical P(a^-i|s) of the replayed joint actions: rho ∝ P exp(Q / T),
// as PR2-Q does (docs/RESULTS.md: needed to settle at a mixed equilibrium).
// Limit: k_i * m <= kMaxPr2AcJointActions. Torch-free header.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

// PR2-AC's own hyperparameters (runtime/params.h); the shared ones are
// MARL_DEEP_JOINT_PARAMS. The entropy temperature of pi is annealed over
// gradient updates u: alpha + alpha_initial * exp(-alpha_rate * max(u -
// alpha_delay, 0)); a high start keeps pi broad while Q and rho are learned,
// so pi can find the narrow high basin.
#define MARL_PR2_AC_PARAMS(P)                                                 \
  P(double, policy_lr, 1e-2, Positive(), "Policy (Adam) learning rate.")      \
  P(double, opponent_lr, 1e-2, Positive(),                                    \
    "Opponent model learning rate: the amortised SVGD sampler (Box "          \
    "actions) or the fitted opponent prior (Discrete actions, "               \
    "--fit_opponent_prior).")                                                 \
  P(double, alpha, 0.1, NonNegative(),                                        \
    "Final entropy temperature of the policy (Box: in the normalised action " \
    "space): alpha + alpha_initial * exp(-alpha_rate * max(u - alpha_delay, " \
    "0)), u = gradient updates.")                                             \
  P(double, alpha_initial, 2.0, NonNegative(),                                \
    "Annealed part of the entropy temperature (0 = constant alpha).")         \
  P(double, alpha_rate, 0.01, NonNegative(),                                  \
    "Entropy temperature decay per update.")                                  \
  P(double, alpha_delay, 0.0, NonNegative(),                                  \
    "Updates before the entropy temperature starts decaying.")                \
  P(double, opponent_temperature, 1.0, Positive(),                            \
    "T of the opponent model rho ∝ exp(Q/T) and of the marginal value "     \
    "T log mean exp(Q/T).")                                                   \
  P(int32_t, value_particles, 16, (InRange(1, 1 << 16)),                      \
    "Box actions: opponent samples per opponent-marginalised value "          \
    "(Discrete actions enumerate the opponents' joint actions).")             \
  P(int32_t, kernel_particles, 32, (InRange(2, 1 << 16)),                     \
    "Box actions: opponent samples per state for SVGD (half kernel, half "    \
    "updated).")                                                              \
  P(bool, uniform_marginal, false, AnyValue(),                                \
    "Box actions: take the marginal value T log mean exp(Q/T) over "          \
    "--value_particles partner actions drawn uniformly in the action box "    \
    "(a Monte Carlo estimate of the closed form T log E_uniform exp(Q/T), "   \
    "which the Discrete path computes exactly, and which sees every basin) "  \
    "instead of over the SVGD opponent model's particles (the reference "     \
    "code's estimate, drawn from where rho already is).")                     \
  P(bool, policy_fit_sampled, false, AnyValue(),                              \
    "Box actions: train pi by weighted maximum likelihood towards its "       \
    "closed form pi* ∝ exp(Q^i(s, a^i) / alpha) known at "                  \
    "--policy_candidates own actions drawn uniformly (non-local: pi moves "   \
    "to the best basin it has seen) instead of along the reparameterised "    \
    "gradient of E_pi[Q^i(s, a^i)] + alpha H(pi) (the reference).")           \
  P(int32_t, policy_candidates, 32, (InRange(2, 4096)),                       \
    "--policy_fit_sampled: own candidate actions per state.")                 \
  P(bool, fit_opponent_prior, false, AnyValue(),                              \
    "Discrete actions: weight the closed-form opponent model and the "        \
    "marginal value by a categorical P(a^-i|s) fitted to the replayed joint " \
    "actions of the other agents (rho ∝ P exp(Q/T), as PR2-Q); false = "    \
    "uniform, the notes' closed form.")                                       \
  P(double, noise_initial, 0.5, NonNegative(),                                \
    "Box actions: extra Gaussian exploration noise std (normalised space) "   \
    "on sampled actions (Discrete actions explore by sampling the policy): "  \
    "noise_min + noise_initial * exp(-noise_rate * max(t - noise_delay, "     \
    "0)), t = transitions.")                                                  \
  P(double, noise_min, 0.0, NonNegative(), "Exploration noise floor.")        \
  P(double, noise_rate, 1e-3, NonNegative(),                                  \
    "Exploration noise decay per transition.")                                \
  P(double, noise_delay, 1000, NonNegative(),                                 \
    "Transitions before the exploration noise starts decaying.")

namespace marl {

// Own actions times the other agents' joint actions a Discrete PR2-AC agent
// enumerates per state: every update runs the critic on batch_size times
// this many rows (the same bound as ROMMEO-AC's).
inline constexpr int64_t kMaxPr2AcJointActions = 256;

struct Pr2AcOptions {
  MARL_PARAMS(MARL_PR2_AC_PARAMS)
  DeepJointParams base;
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreatePr2AcLearner(
    const EnvSpec& spec, const Pr2AcOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_PR2_PR2_AC_LEARNER_H_
