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

// Soft actor-critic for a group of agents whose observations and Box
// actions have one size each: every agent learns alone, treating the others
// as part of the environment (its own tanh-squashed Gaussian policy scaled
// to its Box bounds, twin Q critics with Polyak-averaged targets, fixed or
// automatically tuned temperature), but the group's networks are stacked
// (nn::StackedMlp) and go through each update together: the networks are
// small, so an update costs its per-op overhead, and G agents stacked train
// nearly G times as fast as one after another (docs/BENCHMARKS.md). The
// group keeps one uniform replay of joint rows (each agent's transition of
// one environment copy and step), and each update trains every agent on
// the same sampled rows. A group of one is plain SAC. Torch stays behind
// the pimpl so including this header costs nothing.
class SacLearner {
 public:
  // `obs_dim` floats per observation (one-hot a Discrete observation before
  // calling); `low`/`high`: per agent, its Box bounds per action element
  // (every agent the same number). Initial weights come from the learner's
  // own generator, seeded from `seed`, as does all its randomness.
  static absl::StatusOr<std::unique_ptr<SacLearner>> Create(
      int64_t obs_dim, const std::vector<std::vector<float>>& low,
      const std::vector<std::vector<float>>& high, const SacOptions& options,
      uint64_t seed);
  ~SacLearner();
  SacLearner(const SacLearner&) = delete;
  SacLearner& operator=(const SacLearner&) = delete;

  int64_t num_agents() const;
  int64_t obs_dim() const;
  int64_t action_dim() const;
  const SacOptions& options() const;

  // Actions for `n` observations of every agent: obs[g] holds agent g's
  // (n x obs_dim floats), actions[g] gets its n x action_dim. Stochastic: a
  // policy sample (uniform in the Box during warm-up); deterministic:
  // center + scale * tanh(mean).
  void Act(const std::vector<const float*>& obs, int64_t n, bool deterministic,
           const std::vector<float*>& actions);

  // Stores one joint transition, row `row` of every agent's arrays: obs[g]
  // and next_obs[g] (rows of obs_dim floats), action[g] (rows of
  // action_dim, in Box units as sent to the environment), reward[g] (one
  // per row), and `terminated`; banks update_ratio updates.
  void Observe(const std::vector<const float*>& obs,
               const std::vector<const float*>& action,
               const std::vector<const float*>& reward,
               const std::vector<const float*>& next_obs, int64_t row,
               bool terminated);
  // Runs the banked updates once the buffer holds a batch; returns how many
  // ran, with every agent's mean losses in `losses` (one per agent).
  int TrainPending(std::vector<SacLosses>* losses);
  // One gradient update of every agent's critics, actor (and temperature);
  // the buffer must hold at least one transition. One SacLosses per agent.
  std::vector<SacLosses> Update();

  double alpha(int agent) const;
  int64_t transitions() const;  // joint transitions observed so far
  int64_t updates() const;      // gradient updates so far

  // Networks, targets, temperatures, optimiser states and generators as one
  // learner state (bytes); Load checks the shapes and fails cleanly on
  // garbage or a mismatch. `with_replay`: the replay buffer too (Load
  // restores it when present).
  absl::StatusOr<std::string> Save(bool with_replay = false) const;
  absl::Status Load(const std::string& bytes);

 private:
  struct Impl;
  explicit SacLearner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace marl

#endif  // MARL_AGENTS_INDEPENDENT_SAC_LEARNER_H_
