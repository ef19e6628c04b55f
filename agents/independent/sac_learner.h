#ifndef MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_
#define MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {

struct SacOptions {
  std::vector<int64_t> hidden = {64, 64};  // MLP sizes of actor and critics
  double actor_lr = 1e-3;
  double critic_lr = 3e-3;
  double alpha = 0.2;  // entropy temperature (fixed unless auto_entropy)
  bool auto_entropy = false;
  double alpha_lr = 1e-3;
  // Entropy target for auto_entropy; NaN = -(action dimensions).
  double target_entropy = std::numeric_limits<double>::quiet_NaN();
  int64_t batch_size = 64;
  double tau = 0.01;  // Polyak rate of the target critics
  double gamma = 0.95;
  int64_t buffer_capacity = 100000;
  // Transitions acted uniformly at random before the policy takes over.
  // Updates start as soon as a batch is stored.
  int64_t warmup = 256;
  // Gradient updates per observed transition (fractions accumulate).
  double update_ratio = 0.25;
};

struct SacLosses {
  double critic_loss = 0;
  double actor_loss = 0;
  double alpha_loss = 0;
  double alpha = 0;
  double entropy = 0;  // -mean log_prob of the policy's actions
  double q_mean = 0;
};

// Soft actor-critic for one agent with a Box action space: tanh-squashed
// Gaussian policy scaled to the Box bounds, twin Q critics with
// Polyak-averaged targets, fixed or automatically tuned temperature, and a
// uniform replay buffer. Torch stays behind the pimpl so including this
// header costs nothing.
class SacLearner {
 public:
  // `obs_dim` floats per observation (one-hot a Discrete observation before
  // calling); `low`/`high` per action element. Seeds torch's global
  // generator from `seed` while building the networks (so initial weights
  // depend only on the seed) and keeps its own generator for sampling.
  static absl::StatusOr<std::unique_ptr<SacLearner>> Create(
      int64_t obs_dim, std::vector<float> low, std::vector<float> high,
      const SacOptions& options, uint64_t seed);
  ~SacLearner();
  SacLearner(const SacLearner&) = delete;
  SacLearner& operator=(const SacLearner&) = delete;

  int64_t obs_dim() const;
  int64_t action_dim() const;
  const SacOptions& options() const;

  // Actions for `n` observations (n x obs_dim floats) into `actions`
  // (n x action_dim). Stochastic: a policy sample (uniform in the Box
  // during warmup); deterministic: center + scale * tanh(mean).
  void Act(const float* obs, int64_t n, bool deterministic, float* actions);

  // Stores one transition (`action` in Box units, as sent to the
  // environment) and banks update_ratio updates.
  void Observe(const float* obs, const float* action, float reward,
               const float* next_obs, bool terminated);
  // Runs the banked updates once warmup is over and the buffer holds a
  // batch; returns how many ran (their mean losses in `losses`).
  int TrainPending(SacLosses* losses);
  // One gradient update of critics, actor (and alpha); the buffer must
  // hold at least one transition.
  SacLosses Update();

  double alpha() const;
  int64_t transitions() const;  // observed so far
  int64_t updates() const;      // gradient updates so far

  // Actor, critics, targets, temperature and optimiser states as one
  // torch archive (bytes); Load checks the shapes and fails cleanly on
  // garbage or a mismatch.
  absl::StatusOr<std::string> Save() const;
  absl::Status Load(const std::string& bytes);

 private:
  struct Impl;
  explicit SacLearner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace marl

#endif  // MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_
