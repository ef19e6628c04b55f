#ifndef MARL_AGENTS_PR2_PR2_AC_LEARNER_H_
#define MARL_AGENTS_PR2_PR2_AC_LEARNER_H_

// PR2-AC (Wen et al. 2019, deep probabilistic recursive reasoning) for
// Box-action games. Per agent i:
//  * a joint soft Q^i(s, a^i, a^-i) with a Polyak target copy;
//  * a policy pi^i(a^i|s): a tanh Gaussian (chosen over the reference
//    code's SVGD-trained sampler: exact log-probs for the entropy term and
//    one fewer SVGD loop, while the opponent model keeps the SVGD form);
//  * a conditional opponent model rho^i(a^-i|s, a^i): an amortised SVGD
//    sampler f(s, a^i, xi) -> tanh(.) targeting exp(Q^i(s,a^i,a^-i) / T);
//  * the opponent-marginalised value Q^i(s, a^i) = T log mean_k
//    exp(Q^i(s, a^i, a^-i_k) / T), a^-i_k ~ rho^i (log-mean-exp over
//    particles), which the policy maximises (plus alpha * entropy) and
//    which bootstraps the critic target.
// Actions live in the normalised [-1, 1] space. Torch-free header.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/deep_joint_options.h"
#include "common/joint_learner.h"
#include "envs/core/env_spec.h"

namespace marl {

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
  int value_particles = 16;           // opponent samples per marginal value
  int kernel_particles = 32;          // SVGD samples (half kernel, half update)
  // Extra Gaussian exploration noise on sampled actions (normalised space):
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
