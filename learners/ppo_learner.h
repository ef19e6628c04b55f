#ifndef MARL_LEARNERS_PPO_LEARNER_H_
#define MARL_LEARNERS_PPO_LEARNER_H_

// Proximal policy optimisation (Schulman et al. 2017) for one agent: the
// on-policy part of the shared learner toolkit. Experience goes into a
// time-ordered rollout (learners/rollout_buffer.h) of --ppo_rollout batched
// steps of every copy; when it is full, advantages come from generalised
// advantage estimation (a truncated episode bootstraps from its final
// observation, a terminated one does not), and --ppo_epochs passes of
// shuffled minibatches minimise the clipped surrogate, the value error and
// minus the entropy bonus, with the gradient norm clipped. The policy is
// categorical over Discrete(n) actions or tanh-squashed Gaussian over a
// Box (nn/categorical.h, nn/tanh_gaussian.h); the value network is an MLP.
//
// Recurrent (--ppo_recurrent=N): the observation goes through the
// --ppo_hidden layers and a GRU of N units whose state both heads read
// (linear heads). The state is kept per acting stream (training and
// evaluation copies apart; a probe starts from zeros) and zeroed where an
// episode starts. Each rollout step stores the state it started from, so
// the update replays the rollout from the stored states: the values and
// old log-probabilities over the whole rollout, and the gradient through
// windows of --ppo_bptt steps (truncated backpropagation through time),
// each started from its stored state.
// Torch-free header (pimpl).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

namespace marl {

#define MARL_PPO_PARAMS(P)                                                    \
  P(LayerSizes, ppo_hidden, LayerSizes("64,64"), AnyValue(),                  \
    "ppo: hidden layer sizes of the policy and the value network, "           \
    "comma-separated.")                                                       \
  P(double, ppo_lr, 3e-4, Positive(),                                         \
    "ppo: Adam learning rate (policy and value network).")                    \
  P(int64_t, ppo_rollout, 128, (InRange(1, 1e6)),                             \
    "ppo: batched steps of every copy per update (the rollout is this times " \
    "the number of copies transitions).")                                     \
  P(int64_t, ppo_epochs, 4, (InRange(1, 1000)),                               \
    "ppo: passes over each rollout.")                                         \
  P(int64_t, ppo_minibatch, 256, AtLeast(1),                                  \
    "ppo: transitions per gradient step (the last of a pass may be "          \
    "smaller).")                                                              \
  P(double, ppo_clip, 0.2, (InRange(1e-6, 10)),                               \
    "ppo: the surrogate's clipping range epsilon.")                           \
  P(double, ppo_gae_lambda, 0.95, (InRange(0, 1)),                            \
    "ppo: generalised advantage estimation's lambda.")                        \
  P(double, ppo_entropy, 0.01, NonNegative(),                                 \
    "ppo: weight of the entropy bonus (Box actions: the entropy of the "      \
    "Gaussian before the tanh).")                                             \
  P(double, ppo_value_coef, 0.5, NonNegative(),                               \
    "ppo: weight of the value loss.")                                         \
  P(double, ppo_max_grad_norm, 0.5, Positive(),                               \
    "ppo: gradient norm clipping (all parameters together).")                 \
  P(int64_t, ppo_recurrent, 0, (InRange(0, 4096)),                            \
    "ppo: GRU units of a recurrent policy and value (0 = feed-forward).")     \
  P(int64_t, ppo_bptt, 0, NonNegative(),                                      \
    "ppo: steps per truncated-backpropagation window of a recurrent policy "  \
    "(0 = the whole rollout); must divide --ppo_rollout.")

struct PpoOptions {
  MARL_PARAMS(MARL_PPO_PARAMS)
  // The binary's --gamma, set by its learner.
  double gamma = 0.95;
};

// Means over the gradient steps of the updates since the last TakeLosses.
struct PpoLosses {
  int64_t steps = 0;  // gradient steps they average
  double policy_loss = 0;
  double value_loss = 0;
  double entropy = 0;
  double approx_kl = 0;      // mean of (ratio - 1) - log ratio
  double clip_fraction = 0;  // share of ratios outside 1 +- clip
};

class PpoLearner {
 public:
  // `obs_dim` floats per observation (one-hot a Discrete observation
  // before calling). Discrete actions: num_actions > 0 and low/high
  // empty; Box actions: num_actions 0 and finite low/high per element.
  // Network initialisation and sampling draw from `seed`'s streams.
  static absl::StatusOr<std::unique_ptr<PpoLearner>> Create(
      int64_t obs_dim, int64_t num_actions, std::vector<float> low,
      std::vector<float> high, const PpoOptions& options, uint64_t seed);
  ~PpoLearner();
  PpoLearner(const PpoLearner&) = delete;
  PpoLearner& operator=(const PpoLearner&) = delete;

  // Actions for `n` observations (n x obs_dim): Discrete into `discrete`
  // (n), Box into `continuous` (n x action size, in the Box). Stochastic:
  // a policy sample; deterministic: the most likely action (Discrete) or
  // the squashed mean (Box). `stream` and `first` (per row: an episode
  // starts; null = none) are what a recurrent policy keeps its state by
  // (JointLearner::SetActingContext); `mask` (n x actions, true = legal;
  // null = all legal) restricts Discrete actions, and every row needs a
  // legal one. Observe learns from the training stream's last Act: its
  // masks (all legal if it had none) and a recurrent policy's states.
  void Act(const float* obs, int64_t n, bool deterministic, int64_t* discrete,
           float* continuous, ActingStream stream = ActingStream::kProbe,
           const bool* first = nullptr, const bool* mask = nullptr);

  // One batched step of `copies` copies (every array copy-major, as the
  // loop gives them; `discrete` or `continuous` as acted). `acting` (null
  // = every copy) marks the copies where it was this agent's turn: in the
  // others, its action had no effect, and only the value learns from them.
  // The first call fixes the number of copies. When the rollout is full,
  // updates. INVALID_ARGUMENT for another number of copies, INTERNAL if
  // LibTorch fails.
  absl::Status Observe(int64_t copies, const float* obs,
                       const int64_t* discrete, const float* continuous,
                       const float* reward, const float* next_obs,
                       const bool* terminated, const bool* truncated,
                       const bool* acting = nullptr);

  PpoLosses TakeLosses();
  int64_t updates() const;      // rollouts learned from
  int64_t num_actions() const;  // Discrete(n): n; a Box: 0
  int64_t action_size() const;  // a Box's elements; 1 for Discrete
  const PpoOptions& options() const;

  // Networks, optimizer, generators, counters, and the rollout so far, as
  // a learner state (runtime/learner_state.h) named "ppo".
  absl::StatusOr<std::string> Save() const;
  absl::Status Load(const std::string& bytes);

 private:
  struct Impl;
  explicit PpoLearner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace marl

#endif  // MARL_LEARNERS_PPO_LEARNER_H_
