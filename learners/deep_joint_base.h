#ifndef MARL_LEARNERS_DEEP_JOINT_BASE_H_
#define MARL_LEARNERS_DEEP_JOINT_BASE_H_

// What the deep joint-action learners (MADDPG, PR2-AC, ROMMEO-AC) share:
// action bookkeeping (Box actions normalised to [-1, 1], Discrete actions as
// one-hots), one replay buffer of joint transitions, uniform warm-up, the
// update schedule, metrics and checkpoints. A LibTorch header:
// include it only from .cc files and tests (the learners' public headers are
// torch-free factories).

#include <ATen/core/Generator.h>
#include <torch/nn.h>
#include <torch/optim.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "learners/off_policy_state.h"
#include "learners/replay_buffer.h"
#include "learners/update_schedule.h"
#include "runtime/joint_learner.h"
#include "runtime/json.h"
#include "runtime/observation_encoder.h"

namespace marl {
namespace deep {

// A sampled minibatch. Per agent: obs [B, obs dim], action [B, action dim]
// (Box agents: normalised to [-1, 1]; Discrete agents: the one-hot of the
// action taken, action dim = number of actions), reward [B], next_obs.
struct Minibatch {
  std::vector<torch::Tensor> obs, action, reward, next_obs;
  torch::Tensor done;  // [B], 1 = terminated (no bootstrap)
  // Per agent [B, latent width]: the latent the agent acted with (see
  // ChooseLatents); undefined for agents without one.
  std::vector<torch::Tensor> latent;
};

// The random streams of a learner with seed s: DeriveSeed(s, k)
// (runtime/seeds.h). The base takes these; a subclass that needs another
// stream takes k >= kFirstLearnerStream.
enum DeepJointStream : uint64_t {
  kReplayStream = 1,  // minibatch indices
  kActStream = 2,     // warm-up actions, sampled actions and update noise
  kInitStream = 3,    // initial weights
  kFirstLearnerStream = 16,
};

class DeepJointLearner : public JointLearner {
 public:
  ~DeepJointLearner() override;

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override;
  void Learn(const TransitionBatch& batch) override;
  std::vector<std::pair<std::string, double>> Metrics(int agent) const override;
  absl::StatusOr<std::string> Save() const override;
  absl::Status Load(const std::string& bytes) override;
  absl::Status status() const override { return status_; }
  void SetActingContext(ActingStream stream, const bool* first) override {
    acting_stream_ = stream;
    acting_first_ = first;
  }
  std::string ConfigJson() const override { return config_json_; }
  // Learn stores the transitions with the latents the training Act chose:
  // only learners without latents may learn a step late.
  bool LearnsOneStepLate() const override;
  absl::Span<const float> LastLatents(int agent) const override {
    return latents_[agent];
  }

  int num_agents() const { return static_cast<int>(obs_dim_.size()); }
  int64_t obs_dim(int agent) const { return obs_dim_[agent]; }
  // Box agents: the flat action size; Discrete agents: the one-hot width.
  int64_t action_dim(int agent) const { return action_dim_[agent]; }
  // Discrete(n) agents: n; Box agents: 0.
  int64_t num_actions(int agent) const { return num_actions_[agent]; }
  const std::vector<int64_t>& num_actions() const { return num_actions_; }
  bool is_discrete(int agent) const { return num_actions_[agent] > 0; }
  // The floats of per-step latent state the agent acts with (0 = none).
  int64_t latent_width(int agent) const { return latent_widths_[agent]; }
  bool has_discrete() const;
  // Sum of the other agents' action sizes (the a^-i width).
  int64_t other_action_dim(int agent) const;
  int64_t total_obs_dim() const;
  int64_t total_action_dim() const;
  int64_t transitions() const { return schedule_.transitions(); }
  int64_t updates() const { return updates_; }

  // Runs one update on a sampled minibatch now (tests).
  absl::Status UpdateOnce();

 protected:
  DeepJointLearner() = default;
  // Validates the spec (Box actions, and Discrete ones if the algorithm
  // handles them; Box or Discrete observations, the latter one-hot
  // encoded), seeds torch, sets up the replay buffer.
  // `latent_widths` (per agent, or empty for none): the floats of
  // per-step latent state each agent acts with (ChooseLatents). Under the
  // protocol's message channel (spec.message_size = K) each agent's
  // MultiDiscrete [n, K] action is learned as Discrete(n), and the message
  // sent is the index of its latent's largest entry (an option's one-hot):
  // every latent width must be K.
  absl::Status Init(const EnvSpec& spec, const DeepJointParams& options,
                    uint64_t seed, const std::string& algorithm,
                    bool allow_discrete_actions = false,
                    std::vector<int64_t> latent_widths = {});

  // The algorithm's action for Box agent `agent` at obs [n, obs dim]:
  // [n, action dim] in [-1, 1]. All agents' observations are given for
  // centralised actors.
  virtual torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                               bool deterministic) = 0;
  // The same for a Discrete agent: int64 action indices [n]. Only called
  // when Init allowed Discrete actions.
  virtual torch::Tensor DiscretePolicy(int agent,
                                       const std::vector<torch::Tensor>& obs,
                                       bool deterministic);
  // Every Box agent's action at once (element i for Box agent i, as
  // Policy(i, ...) returns it; elements of Discrete agents are ignored).
  // The default calls Policy per Box agent; a learner whose agents'
  // networks are stacked overrides it to act for all in one pass.
  virtual std::vector<torch::Tensor> BoxPolicies(
      const std::vector<torch::Tensor>& obs, bool deterministic);
  // Per-step latent state (an option, a message), for learners that Init
  // declared latent widths for: called by every Act before the actions,
  // during warm-up too (`random`: the actions will be uniform), to choose
  // each agent's latent for every copy acted on; the learner writes them
  // into latent(agent) ([copies, width], zeroed before the call) and keeps
  // whatever state it carries between steps itself, per acting_stream(),
  // restarting it where EpisodeStarts(copy). The training stream's latents
  // are stored with the transition (Minibatch::latent).
  virtual void ChooseLatents(const std::vector<torch::Tensor>& obs,
                             bool deterministic, bool random) {}
  float* latent(int agent) { return latents_[agent].data(); }
  // The stream of the Act call being made, and whether copy c's
  // observation starts an episode (true when the loop gave no context).
  ActingStream acting_stream() const { return acting_stream_; }
  bool EpisodeStarts(int copy) const {
    return acting_first_ == nullptr || acting_first_[copy];
  }
  virtual void Update(const Minibatch& batch) = 0;
  // Everything a checkpoint holds besides counters and the generator.
  virtual void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>*
          optimizers) = 0;

  // Metrics that cost work (roll-outs) are computed when read: Metrics
  // calls this first; a LibTorch error in it becomes the metric
  // metrics_failed = 1.
  virtual void UpdateMetricsOnRead(int agent) {}
  void SetMetric(int agent, const std::string& name, double value) {
    metrics_[agent][name] = value;
  }
  at::Generator& generator() { return generator_; }
  // The generator that subclasses draw their networks' initial weights
  // from (passed to every network constructor): its stream depends on this
  // learner's seed only.
  at::Generator& init_generator() { return init_generator_; }
  const DeepJointParams& base_options() const { return options_; }
  // `config` (the learner's own settings) with the shared ones appended
  // (MARL_DEEP_JOINT_PARAMS), as the learner's config: exact numbers,
  // whatever their digits.
  void set_config(JsonObject config) {
    config_json_ = AddParams(options_, config).Build();
  }
  // A learner whose config has no shared settings (they are its own).
  void set_config_json(std::string json) { config_json_ = std::move(json); }

 private:
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  // Everything a checkpoint holds.
  OffPolicyState State();

  DeepJointParams options_;
  std::string algorithm_;
  std::vector<ObservationEncoder> encoders_;  // per agent
  std::vector<int64_t> obs_dim_, action_dim_, num_actions_;
  // The environment's message channel (0: none): each agent's action is
  // then [action, message] (action_stride_ 2), the message its latent's
  // largest entry.
  int64_t message_size_ = 0;
  std::vector<int64_t> action_stride_;  // per agent
  std::vector<std::vector<float>> low_, high_;
  std::optional<ReplayBuffer> buffer_;
  // Replay fields per agent: obs, action, reward, next_obs; then done.
  std::vector<int> f_obs_, f_action_, f_reward_, f_next_obs_;
  int f_done_ = -1;
  std::vector<int> f_latent_;  // per agent, -1 without a latent
  std::vector<int64_t> latent_widths_;
  // The latents of the Act call being made, and those of the last training
  // Act (stored by the next Learn).
  std::vector<std::vector<float>> latents_, train_latents_;
  ActingStream acting_stream_ = ActingStream::kProbe;
  const bool* acting_first_ = nullptr;
  std::mt19937_64 rng_;
  at::Generator generator_, init_generator_;
  UpdateSchedule schedule_;
  int64_t updates_ = 0;
  std::vector<std::map<std::string, double>> metrics_;
  std::vector<float> scratch_;
  absl::Status status_;
  std::string config_json_;
};

// Builds a learner whose `absl::Status Setup(spec, options, seed)` finishes
// its construction: the deep agents' Create* factories.
template <typename Learner, typename Options>
absl::StatusOr<std::unique_ptr<JointLearner>> SetUpLearner(
    const EnvSpec& spec, const Options& options, uint64_t seed) {
  auto learner = std::make_unique<Learner>();
  absl::Status s = learner->Setup(spec, options, seed);
  if (!s.ok()) return s;
  return std::unique_ptr<JointLearner>(std::move(learner));
}

// The one-step Bellman target r + gamma * (1 - done) * next_value, all [B].
torch::Tensor BellmanTarget(const torch::Tensor& reward,
                            const torch::Tensor& done,
                            const torch::Tensor& next_value, double gamma);

// Concatenates the other agents' tensors (last dim), skipping `agent`;
// undefined if there are none.
torch::Tensor ConcatOthers(const std::vector<torch::Tensor>& tensors,
                           int agent);

// Actions drawn uniformly in the normalised action box [-1, 1) (float32),
// of the given shape: the warm-up's, and every learner's uniform proposals.
torch::Tensor UniformActions(at::IntArrayRef shape, at::Generator& generator);

// `count` candidate actions per state drawn uniformly strictly inside the
// normalised action box (-1, 1)^dim, where tanh's inverse (log-densities
// of tanh Gaussians) stays finite: `states` [B * count, ds] holds each row
// of `s` [B, ds] `count` times in a row, `actions` [B * count, dim] the
// draws beside them.
struct UniformCandidates {
  torch::Tensor states;
  torch::Tensor actions;
};
UniformCandidates DrawUniformCandidates(const torch::Tensor& s, int64_t count,
                                        int64_t dim, at::Generator& generator);

// Fitting a distribution q to a closed form p*(x) ∝ P(x) exp(value(x) /
// scale) known at K candidates per row drawn uniformly: the weighted
// maximum-likelihood loss -mean_B sum_k w_k log q(c_k), w = softmax_k(value
// / scale + log P) taken as constants (self-normalised importance weights
// of p* against the uniform proposal). Unlike a reparameterised gradient of
// E_q[value], which follows the slope where q stands, it moves q towards
// p*'s mass wherever that lies. value, log_q [B, K]; log_prior [B, K] or
// undefined (uniform prior); scale > 0. Scalar.
torch::Tensor ClosedFormFitLoss(const torch::Tensor& value,
                                const torch::Tensor& log_q, double scale,
                                const torch::Tensor& log_prior = {});

}  // namespace deep
}  // namespace marl

#endif  // MARL_LEARNERS_DEEP_JOINT_BASE_H_
