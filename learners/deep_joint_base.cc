#include "learners/deep_joint_base.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "learners/off_policy_state.h"
#include "nn/torch_setup.h"
#include "runtime/seeds.h"

namespace marl {
namespace deep {

DeepJointLearner::~DeepJointLearner() = default;

torch::Tensor BellmanTarget(const torch::Tensor& reward,
                            const torch::Tensor& done,
                            const torch::Tensor& next_value, double gamma) {
  return reward + gamma * (1.0 - done) * next_value;
}

torch::Tensor UniformActions(at::IntArrayRef shape, at::Generator& generator) {
  return torch::rand(shape, generator) * 2 - 1;
}

UniformCandidates DrawUniformCandidates(const torch::Tensor& s, int64_t count,
                                        int64_t dim, at::Generator& generator) {
  const int64_t rows = s.size(0);
  return {s.unsqueeze(1)
              .expand({rows, count, s.size(1)})
              .reshape({rows * count, -1}),
          UniformActions({rows * count, dim}, generator) * (1 - 1e-3)};
}

torch::Tensor ClosedFormFitLoss(const torch::Tensor& value,
                                const torch::Tensor& log_q, double scale,
                                const torch::Tensor& log_prior) {
  torch::Tensor logits = value.detach() / scale;
  if (log_prior.defined()) logits = logits + log_prior.detach();
  return -(torch::softmax(logits, -1) * log_q).sum(-1).mean();
}

torch::Tensor ConcatOthers(const std::vector<torch::Tensor>& tensors,
                           int agent) {
  std::vector<torch::Tensor> others;
  for (int j = 0; j < static_cast<int>(tensors.size()); ++j) {
    if (j != agent) others.push_back(tensors[j]);
  }
  if (others.empty()) return {};
  return others.size() == 1 ? others[0] : torch::cat(others, -1);
}

int64_t DeepJointLearner::other_action_dim(int agent) const {
  return total_action_dim() - action_dim_[agent];
}
bool DeepJointLearner::has_discrete() const {
  return std::any_of(num_actions_.begin(), num_actions_.end(),
                     [](int64_t k) { return k > 0; });
}
int64_t DeepJointLearner::total_obs_dim() const {
  int64_t total = 0;
  for (int64_t d : obs_dim_) total += d;
  return total;
}
int64_t DeepJointLearner::total_action_dim() const {
  int64_t total = 0;
  for (int64_t d : action_dim_) total += d;
  return total;
}

absl::Status DeepJointLearner::Init(const EnvSpec& spec,
                                    const DeepJointParams& options,
                                    uint64_t seed, const std::string& algorithm,
                                    bool allow_discrete_actions,
                                    std::vector<int64_t> latent_widths) {
  algorithm_ = algorithm;
  options_ = options;
  schedule_ = UpdateSchedule(options.update_ratio, options.warmup);
  absl::Status valid = ValidateParams(options);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": ", valid.message()));
  }
  const int n = spec.num_agents();
  if (n < 1) return absl::InvalidArgumentError("no agents");
  std::vector<ReplayField> fields;
  message_size_ = spec.message_size;
  for (int i = 0; i < n; ++i) {
    Space a = spec.action_spaces[i];
    if (message_size_ > 0) {
      // The message channel's MultiDiscrete [n, K]: the learner acts in
      // Discrete(n) and sends its latent as the message.
      if (!a.is_multi_discrete() || a.nvec.size() != 2) {
        return absl::UnimplementedError(
            absl::StrCat(algorithm,
                         " with a message channel needs Discrete actions "
                         "under it; agent ",
                         spec.agent_ids[i], " acts in ", a.DebugString()));
      }
      const int64_t width =
          static_cast<size_t>(i) < latent_widths.size() ? latent_widths[i] : 0;
      if (width != message_size_) {
        return absl::InvalidArgumentError(absl::StrCat(
            algorithm, ": the environment's message_size is ", message_size_,
            " but agent ", spec.agent_ids[i], " sends ",
            width == 0 ? "no messages"
                       : absl::StrCat("one of ", width, " (its latent width)"),
            "; make the environment with message_size=", width));
      }
      a = Space::Discrete(a.nvec[0]);
    }
    action_stride_.push_back(message_size_ > 0 ? 2 : 1);
    const bool discrete = a.is_discrete() && allow_discrete_actions;
    if (!a.is_box() && !discrete) {
      return absl::UnimplementedError(absl::StrCat(
          algorithm, " needs ",
          allow_discrete_actions ? "Box or Discrete" : "Box",
          " actions; agent ", spec.agent_ids[i], " has another kind"));
    }
    const Space& o = spec.observation_spaces[i];
    if (!o.is_box() && !o.is_discrete()) {
      return absl::UnimplementedError(
          absl::StrCat(algorithm, " needs Box or Discrete observations"));
    }
    encoders_.emplace_back(spec.agent_ids[i], o);
    obs_dim_.push_back(encoders_.back().size());
    num_actions_.push_back(discrete ? a.n : 0);
    action_dim_.push_back(discrete ? a.n : a.FlatSize());
    low_.push_back(a.low);
    high_.push_back(a.high);
    for (size_t k = 0; k < a.low.size(); ++k) {
      if (!std::isfinite(a.low[k]) || !std::isfinite(a.high[k])) {
        return absl::InvalidArgumentError(
            absl::StrCat(algorithm, " needs finite Box action bounds"));
      }
    }
    const std::string id = absl::StrCat(i);
    f_obs_.push_back(static_cast<int>(fields.size()));
    fields.push_back({"obs" + id, obs_dim_.back()});
    f_action_.push_back(static_cast<int>(fields.size()));
    fields.push_back({"action" + id, action_dim_.back()});
    f_reward_.push_back(static_cast<int>(fields.size()));
    fields.push_back({"reward" + id, 1});
    f_next_obs_.push_back(static_cast<int>(fields.size()));
    fields.push_back({"next_obs" + id, obs_dim_.back()});
  }
  f_done_ = static_cast<int>(fields.size());
  fields.push_back({"done", 1});
  if (latent_widths.empty()) latent_widths.assign(n, 0);
  if (static_cast<int>(latent_widths.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": one latent width per agent"));
  }
  latent_widths_ = std::move(latent_widths);
  for (int i = 0; i < n; ++i) {
    f_latent_.push_back(-1);
    if (latent_widths_[i] <= 0) continue;
    f_latent_.back() = static_cast<int>(fields.size());
    fields.push_back({absl::StrCat("latent", i), latent_widths_[i]});
  }
  latents_.resize(n);
  train_latents_.resize(n);
  absl::StatusOr<ReplayBuffer> buffer =
      ReplayBuffer::Create(options.buffer_size, std::move(fields));
  if (!buffer.ok()) return buffer.status();
  buffer_.emplace(*std::move(buffer));
  metrics_.resize(n);
  rng_.seed(DeriveSeed(seed, kReplayStream));
  generator_ =
      at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, kActStream));
  init_generator_ =
      at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, kInitStream));
  nn::UseOneThreadPerProcess();
  return absl::OkStatus();
}

torch::Tensor DeepJointLearner::DiscretePolicy(
    int agent, const std::vector<torch::Tensor>& obs, bool deterministic) {
  TORCH_CHECK(false, algorithm_, " has no policy for Discrete actions");
  return {};
}

std::vector<torch::Tensor> DeepJointLearner::BoxPolicies(
    const std::vector<torch::Tensor>& obs, bool deterministic) {
  std::vector<torch::Tensor> actions(num_agents());
  for (int i = 0; i < num_agents(); ++i) {
    if (!is_discrete(i)) actions[i] = Policy(i, obs, deterministic);
  }
  return actions;
}

void DeepJointLearner::Act(const std::vector<const float*>& observation,
                           int num_copies, bool deterministic,
                           std::vector<std::vector<int64_t>>* discrete,
                           std::vector<std::vector<float>>* continuous) {
  if (!status_.ok()) return;
  try {
    const int n = num_agents();
    const bool random = !deterministic && schedule_.warming_up();
    std::vector<torch::Tensor> obs(n);
    for (int i = 0; i < n; ++i) {
      obs[i] = torch::empty({num_copies, obs_dim_[i]});
      absl::Status s = encoders_[i].Encode(observation[i], num_copies,
                                           obs[i].data_ptr<float>());
      if (!s.ok()) return Fail(std::move(s));
    }
    torch::NoGradGuard no_grad;
    for (int i = 0; i < n; ++i) {
      latents_[i].assign(num_copies * latent_widths_[i], 0.0f);
    }
    if (std::any_of(latent_widths_.begin(), latent_widths_.end(),
                    [](int64_t w) { return w > 0; })) {
      ChooseLatents(obs, deterministic, random);
    }
    std::vector<torch::Tensor> box;
    if (!random) box = BoxPolicies(obs, deterministic);
    for (int i = 0; i < n; ++i) {
      if (is_discrete(i)) {
        const torch::Tensor index =
            (random ? torch::randint(num_actions_[i], {num_copies}, generator_,
                                     torch::kInt64)
                    : DiscretePolicy(i, obs, deterministic))
                .to(torch::kInt64)
                .contiguous();
        TORCH_CHECK(index.numel() == num_copies,
                    "DiscretePolicy returned a wrong number of actions");
        const int64_t* src = index.data_ptr<int64_t>();
        if (message_size_ == 0) {
          std::copy(src, src + num_copies, (*discrete)[i].begin());
          continue;
        }
        // With a message channel: the action, then the latent sent.
        const float* latent = latents_[i].data();
        for (int c = 0; c < num_copies; ++c) {
          (*discrete)[i][2 * c] = src[c];
          (*discrete)[i][2 * c + 1] =
              std::max_element(latent + c * message_size_,
                               latent + (c + 1) * message_size_) -
              (latent + c * message_size_);
        }
        continue;
      }
      torch::Tensor y;
      if (random) {
        y = UniformActions({num_copies, action_dim_[i]}, generator_);
      } else {
        y = box.at(i).clamp(-1.0, 1.0).contiguous();
        TORCH_CHECK(y.numel() == num_copies * action_dim_[i],
                    "a policy returned a wrong number of actions");
      }
      const float* src = y.data_ptr<float>();
      float* out = (*continuous)[i].data();
      const int64_t d = action_dim_[i];
      for (int c = 0; c < num_copies; ++c) {
        for (int64_t k = 0; k < d; ++k) {
          out[c * d + k] = low_[i][k] + (src[c * d + k] + 1.0f) * 0.5f *
                                            (high_[i][k] - low_[i][k]);
        }
      }
    }
    if (acting_stream_ == ActingStream::kTrain) train_latents_ = latents_;
  } catch (const c10::Error& e) {
    Fail(absl::InternalError(absl::StrCat(
        algorithm_, ": act failed: ", e.what_without_backtrace())));
  }
  // The context holds for one call only.
  acting_stream_ = ActingStream::kProbe;
  acting_first_ = nullptr;
}

bool DeepJointLearner::LearnsOneStepLate() const {
  return std::all_of(latent_widths_.begin(), latent_widths_.end(),
                     [](int64_t width) { return width == 0; });
}

void DeepJointLearner::Learn(const TransitionBatch& batch) {
  if (!status_.ok()) return;
  const int n = num_agents();
  for (int i = 0; i < n; ++i) {
    if (static_cast<int64_t>(train_latents_[i].size()) !=
        batch.num_copies * latent_widths_[i]) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          algorithm_, ": a transition of ", batch.num_copies,
          " copies without a training Act of as many before it (the latents "
          "it acted with are unknown)")));
    }
  }
  for (int c = 0; c < batch.num_copies; ++c) {
    const int64_t slot = buffer_->Push();
    for (int i = 0; i < n; ++i) {
      const ObservationEncoder& encoder = encoders_[i];
      const int64_t raw = encoder.raw_size();
      absl::Status s = encoder.Encode(batch.observation[i] + c * raw, 1,
                                      buffer_->mutable_row(f_obs_[i], slot));
      if (s.ok()) {
        s = encoder.Encode(batch.next_observation[i] + c * raw, 1,
                           buffer_->mutable_row(f_next_obs_[i], slot));
      }
      if (!s.ok()) return Fail(std::move(s));
      buffer_->mutable_row(f_reward_[i], slot)[0] = batch.reward[i][c];
      float* a = buffer_->mutable_row(f_action_[i], slot);
      const int64_t d = action_dim_[i];
      if (is_discrete(i)) {
        std::fill(a, a + d, 0.0f);
        const int64_t index = batch.discrete_action[i][c * action_stride_[i]];
        if (index >= 0 && index < d) a[index] = 1.0f;
        continue;
      }
      // Stored normalised to [-1, 1]: every network works in that space.
      for (int64_t k = 0; k < d; ++k) {
        const float raw = batch.continuous_action[i][c * d + k];
        a[k] = std::clamp(
            2.0f * (raw - low_[i][k]) / (high_[i][k] - low_[i][k]) - 1.0f,
            -1.0f, 1.0f);
      }
    }
    buffer_->mutable_row(f_done_, slot)[0] = batch.terminated[c] ? 1.0f : 0.0f;
    for (int i = 0; i < n; ++i) {
      const int64_t w = latent_widths_[i];
      if (w == 0) continue;
      std::copy(train_latents_[i].begin() + c * w,
                train_latents_[i].begin() + (c + 1) * w,
                buffer_->mutable_row(f_latent_[i], slot));
    }
  }
  // Updates wait for a full minibatch in the replay, as well as warm-up.
  const bool ready = buffer_->size() >= options_.batch_size;
  for (int64_t due = schedule_.Record(batch.num_copies, ready);
       due > 0 && status_.ok(); --due) {
    absl::Status s = UpdateOnce();
    if (!s.ok()) Fail(s);
  }
}

absl::Status DeepJointLearner::UpdateOnce() {
  if (buffer_->empty()) return absl::FailedPreconditionError("empty buffer");
  try {
    const int64_t b = options_.batch_size;
    std::vector<int64_t> indices;
    buffer_->SampleIndices(b, rng_, &indices);
    auto gather = [&](int f) {
      torch::Tensor t = torch::empty({b, buffer_->field(f).width});
      buffer_->Gather(f, indices, t.data_ptr<float>());
      return t;
    };
    Minibatch mb;
    for (int i = 0; i < num_agents(); ++i) {
      mb.obs.push_back(gather(f_obs_[i]));
      mb.action.push_back(gather(f_action_[i]));
      mb.reward.push_back(gather(f_reward_[i]).squeeze(-1));
      mb.next_obs.push_back(gather(f_next_obs_[i]));
      mb.latent.push_back(f_latent_[i] >= 0 ? gather(f_latent_[i])
                                            : torch::Tensor());
    }
    mb.done = gather(f_done_).squeeze(-1);
    Update(mb);
    ++updates_;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(
        algorithm_, ": update failed: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, double>> DeepJointLearner::Metrics(
    int agent) const {
  // Metrics computed on read update this object's record of them.
  auto* self = const_cast<DeepJointLearner*>(this);
  try {
    self->UpdateMetricsOnRead(agent);
  } catch (const c10::Error& e) {
    self->SetMetric(agent, "metrics_failed", 1.0);
  }
  std::vector<std::pair<std::string, double>> out(metrics_[agent].begin(),
                                                  metrics_[agent].end());
  out.emplace_back("updates", static_cast<double>(updates_));
  return out;
}

OffPolicyState DeepJointLearner::State() {
  OffPolicyState state;
  state.learner = algorithm_;
  state.shape = {total_obs_dim(), total_action_dim()};
  state.shape_meaning = "total observation and action sizes";
  NamedState(&state.torch.modules, &state.torch.optimizers);
  state.torch.generators.emplace_back("generator", &generator_);
  state.rng = &rng_;
  state.updates = &updates_;
  state.schedule = &schedule_;
  state.replay = &*buffer_;
  return state;
}

absl::StatusOr<std::string> DeepJointLearner::Save() const {
  return SaveOffPolicyState(const_cast<DeepJointLearner*>(this)->State(),
                            checkpoint_replay());
}

absl::Status DeepJointLearner::Load(const std::string& bytes) {
  return LoadOffPolicyState(bytes, State());
}

}  // namespace deep
}  // namespace marl
