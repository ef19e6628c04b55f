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
#include "learners/deep_joint_options.h"
#include "runtime/joint_learner.h"

namespace marl {

// Own actions times the other agents' joint actions a Discrete PR2-AC agent
// enumerates per state: every update runs the critic on batch_size times
// this many rows (the same bound as ROMMEO-AC's).
inline constexpr int64_t kMaxPr2AcJointActions = 256;

struct Pr2AcOptions {
  deep::DeepJointOptions base;
  std::vector<int64_t> hidden = {100, 100};
  double policy_lr = 1e-2;
  double critic_lr = 1e-2;
  double opponent_lr = 1e-2;
  double tau = 0.01;
  // Entropy temperature of pi, annealed over gradient updates u:
  // alpha + alpha_initial * exp(-alpha_rate * max(u - alpha_delay, 0))
  // (alpha_initial 0 = constant alpha; the paper anneals it). A high start
  // keeps pi broad while Q and rho are learned, so pi can find the narrow high
  // basin.
  double alpha = 0.1;
  double alpha_initial = 2.0;
  double alpha_rate = 0.01;
  double alpha_delay = 0.0;
  double opponent_temperature = 1.0;  // T of rho ∝ exp(Q / T)
  int value_particles = 16;           // Box: opponent samples per marginal
  int kernel_particles = 32;          // Box: SVGD samples (half kernel, half
                                      // update)
  // Discrete: weight the closed-form rho and the marginal by a categorical
  // P(a^-i|s) fitted (cross-entropy, opponent_lr) to the replayed joint
  // actions of the others; false = uniform, the notes' closed form.
  bool fit_opponent_prior = false;
  // Box: extra Gaussian exploration noise on sampled actions (normalised
  // space):
  // noise_min + noise_initial * exp(-noise_rate * max(t - noise_delay, 0)).
  double noise_initial = 0.5;
  double noise_min = 0.0;
  double noise_rate = 1e-3;
  double noise_delay = 1000;
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreatePr2AcLearner(
    const EnvSpec& spec, const Pr2AcOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_PR2_PR2_AC_LEARNER_H_
