#ifndef MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_
#define MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/params.h"

namespace marl {

// SAC's hyperparameters (runtime/params.h), prefixed: one binary hosts
// both independent learners. Entropy is measured in the action space
// normalised to (-1, 1).
#define MARL_SAC_PARAMS(P)                                                     \
  P(LayerSizes, sac_hidden, LayerSizes("64,64"), AnyValue(),                   \
    "sac: hidden layer sizes of the actor and the twin critics, "              \
    "comma-separated.")                                                        \
  P(double, sac_actor_lr, 1e-3, Positive(),                                    \
    "sac: actor (Adam) learning rate.")                                        \
  P(double, sac_critic_lr, 3e-3, Positive(),                                   \
    "sac: critics (Adam) learning rate.")                                      \
  P(double, sac_alpha, 0.2, Positive(),                                        \
    "sac: entropy temperature (fixed, or the starting value with "             \
    "--sac_auto_entropy).")                                                    \
  P(bool, sac_auto_entropy, false, AnyValue(),                                 \
    "sac: tune the temperature automatically towards --sac_target_entropy.")   \
  P(double, sac_alpha_lr, 1e-3, Positive(), "sac: temperature learning rate.") \
  P(double, sac_target_entropy, std::numeric_limits<double>::quiet_NaN(),      \
    AnyDouble(),                                                               \
    "sac: entropy target of --sac_auto_entropy; nan = -(action dimensions).")  \
  P(int64_t, sac_batch_size, 64, AtLeast(1), "sac: minibatch size.")           \
  P(double, sac_tau, 0.01, (InRange(1e-9, 1)),                                 \
    "sac: Polyak rate of the target critics.")                                 \
  P(int64_t, sac_buffer_size, 100000, (InRange(1, 1e9)),                       \
    "sac: replay buffer capacity in transitions (per agent).")                 \
  P(int64_t, sac_warmup, 256, NonNegative(),                                   \
    "sac: transitions acted uniformly at random before the policy takes "      \
    "over (per agent); updates start as soon as a minibatch is stored.")       \
  P(double, sac_update_ratio, 0.25, (InRange(0, 1e6)),                         \
    "sac: gradient updates per transition observed (fractions accumulate; "    \
    "0.25 with 8 copies = 2 updates per batched step).")

struct SacOptions {
  MARL_PARAMS(MARL_SAC_PARAMS)
  // The binary's --gamma (shared with soft_q), set by its learner.
  double gamma = 0.95;
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
  // `with_replay`: the replay buffer too (Load restores it when present).
  absl::StatusOr<std::string> Save(bool with_replay = false) const;
  absl::Status Load(const std::string& bytes);

 private:
  struct Impl;
  explicit SacLearner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace marl

#endif  // MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_
