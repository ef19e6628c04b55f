#ifndef MARL_AGENTS_ROMMEO_ROMMEO_AC_LEARNER_H_
#define MARL_AGENTS_ROMMEO_ROMMEO_AC_LEARNER_H_

// ROMMEO-AC (Tian et al. 2019; thesis §3.2-3.3, eq. 3.14-3.18) for
// Box-action games. Per agent i:
//  * a joint Q(s, a^i, a^-i) with a Polyak target copy;
//  * an opponent model rho(a^-i|s) (tanh Gaussian);
//  * a conditional policy pi(a^i|s, a^-i) (tanh Gaussian): the agent acts
//    by drawing a^-i ~ rho and then a^i ~ pi(.|s, a^-i) (eq. 3.18).
// The regularised objective (eq. 3.16-3.17, uniform priors, temperature
// alpha): target r + gamma (1 - done) E[Q'(s', a'^i, a'^-i)
// - alpha log rho(a'^-i|s') - alpha log pi(a'^i|s', a'^-i)]; pi minimises
// E[alpha log pi - Q]; rho minimises E_rho,pi[alpha log rho + alpha log pi
// - Q] (rho ∝ exp(soft value of a^-i), eq. 3.14). alpha follows the ROMMEO
// schedule (common/temperature_schedule.h) over gradient updates.
// Actions live in the normalised [-1, 1] space. Torch-free header.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/deep_joint_options.h"
#include "common/joint_learner.h"
#include "envs/core/env_spec.h"

namespace marl {

struct RommeoAcOptions {
  deep::DeepJointOptions base;
  std::vector<int64_t> hidden = {100, 100};
  double policy_lr = 1e-2;
  double opponent_lr = 1e-2;
  double critic_lr = 1e-2;
  double tau = 0.01;
  // alpha_t = alpha_min + alpha_initial * exp(-alpha_rate * max(t -
  // alpha_delay, 0)), t = gradient updates (the authors' 0.1 + 500
  // exp(-0.1 max(t - 10, 0))).
  double alpha_min = 0.1;
  double alpha_initial = 500;
  double alpha_rate = 0.1;
  double alpha_delay = 10;
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreateRommeoAcLearner(
    const EnvSpec& spec, const RommeoAcOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_ROMMEO_ROMMEO_AC_LEARNER_H_
