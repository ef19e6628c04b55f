#include "learners/ppo_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "learners/rollout_buffer.h"
#include "learners/torch_state.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/tanh_gaussian.h"
#include "nn/torch_setup.h"
#include "runtime/learner_state.h"
#include "runtime/seeds.h"

namespace marl {
namespace {

using torch::Tensor;

// The rollout's fields, in this order; a recurrent policy adds the state
// each step started from and whether an episode started there.
enum Field {
  kObs,
  kAction,
  kReward,
  kNextObs,
  kTerminated,
  kEnded,
  kMask,    // Discrete actions: 1 = legal (all 1 without masks)
  kActing,  // 1 = the agent's turn (always, in simultaneous games)
  kState,
  kFirst
};

// Random streams of one learner seed.
constexpr uint64_t kInitStream = 1, kSampleStream = 2, kShuffleStream = 3;

Tensor FromFloats(const float* data, int64_t rows, int64_t width) {
  return torch::from_blob(const_cast<float*>(data), {rows, width},
                          torch::kFloat32)
      .clone();
}

}  // namespace

struct PpoLearner::Impl {
  PpoOptions options;
  int64_t obs_dim = 0;
  int64_t num_actions = 0;  // Discrete(n); 0 for a Box
  int64_t action_dim = 0;   // floats per stored action
  int64_t recurrent = 0;    // GRU units; 0 = feed-forward
  Tensor low, high;         // Box bounds [action_dim]
  std::vector<float> low_values, high_values;
  // Recurrent: observation -> torso (may be absent) -> GRU -> heads.
  torch::nn::Sequential torso{nullptr};
  torch::nn::GRUCell gru{nullptr};
  nn::CategoricalPolicy categorical{nullptr};
  nn::TanhGaussianPolicy gaussian{nullptr};
  torch::nn::Sequential critic{nullptr};
  std::unique_ptr<nn::ForeachAdam> optimizer;
  at::Generator generator;
  std::mt19937_64 shuffle;
  std::optional<RolloutBuffer> rollout;
  // Recurrent acting state per stream, and what the last training Act
  // started from (stored with the step by Observe).
  Tensor train_state, eval_state, last_state_in;
  std::vector<float> last_first, last_mask;
  int64_t updates = 0;
  PpoLosses sums;

  bool discrete() const { return num_actions > 0; }

  absl::StatusOr<RolloutBuffer> NewRollout(int64_t copies) const {
    std::vector<ReplayField> fields = {
        {"obs", obs_dim},      {"action", action_dim}, {"reward", 1},
        {"next_obs", obs_dim}, {"terminated", 1},      {"ended", 1}};
    // Optional fields keep their enum places: a Box learner's mask is one
    // unused value per step.
    fields.push_back({"mask", discrete() ? num_actions : 1});
    fields.push_back({"acting", 1});
    if (recurrent > 0) {
      fields.push_back({"state", recurrent});
      fields.push_back({"first", 1});
    }
    return RolloutBuffer::Create(options.ppo_rollout, copies,
                                 std::move(fields));
  }

  std::vector<Tensor> Parameters() {
    std::vector<Tensor> params;
    for (const auto& [name, module] : Parts().modules) {
      for (const Tensor& p : module->parameters()) params.push_back(p);
    }
    return params;
  }

  TorchParts Parts() {
    TorchParts parts;
    if (torso) parts.modules.emplace_back("torso", torso.get());
    if (gru) parts.modules.emplace_back("gru", gru.get());
    if (discrete()) {
      parts.modules.emplace_back("policy", categorical.get());
    } else {
      parts.modules.emplace_back("policy", gaussian.get());
    }
    parts.modules.emplace_back("value", critic.get());
    parts.optimizers.emplace_back("adam", optimizer.get());
    parts.generators.emplace_back("sampling", &generator);
    return parts;
  }

  // The recurrent state after observing `obs` [B, obs_dim] from `state`
  // [B, recurrent].
  Tensor Step(const Tensor& obs, const Tensor& state) {
    return gru->forward(torso ? torso->forward(obs) : obs, state);
  }

  // The states of sequences `obs` [L, B, obs_dim] from `state` [B, N],
  // zeroed where `first` [L, B] (0 or 1) starts an episode: [L, B, N].
  Tensor Unroll(const Tensor& obs, const Tensor& first, Tensor state) {
    std::vector<Tensor> states;
    for (int64_t t = 0; t < obs.size(0); ++t) {
      state = Step(obs[t], state * (1 - first[t]).unsqueeze(-1));
      states.push_back(state);
    }
    return torch::stack(states);
  }

  // What the heads read: the observation, or a recurrent state.
  // log pi(action | features) [B] and the entropy [B]; stored Box actions
  // are in (-1, 1).
  std::pair<Tensor, Tensor> LogProbAndEntropy(const Tensor& features,
                                              const Tensor& action,
                                              const Tensor& mask) {
    if (discrete()) {
      const Tensor logits = Masked(categorical->forward(features), mask);
      return {
          nn::CategoricalLogProb(logits, action.squeeze(-1).to(torch::kLong)),
          nn::CategoricalEntropy(logits)};
    }
    auto [mean, log_std] = gaussian->forward(features);
    const Tensor log_prob =
        nn::TanhGaussianLogProb(mean, log_std, nn::AtanhClamped(action));
    // The Gaussian's entropy before the squash: 0.5 log(2 pi e) + log std.
    const Tensor entropy = (log_std + 0.5 * std::log(2.0 * M_PI * M_E)).sum(-1);
    return {log_prob, entropy};
  }

  // Logits with illegal actions (mask 0) far below any other; `mask` [B, n]
  // of 0/1. Finite, not -inf: an entropy term at -inf has NaN gradients
  // (0 * inf), even with weight 0. No sample or argmax picks them.
  static Tensor Masked(const Tensor& logits, const Tensor& mask) {
    return logits.masked_fill(mask < 0.5f, -1e9f);
  }

  Tensor Value(const Tensor& features) {
    return critic->forward(features).squeeze(-1);
  }

  // One gradient step on the clipped surrogate, the value error and the
  // entropy bonus of a minibatch. The policy terms average over the rows
  // where the agent acted (`acting`, 0 or 1); the value error over every
  // row.
  void GradientStep(const Tensor& log_prob, const Tensor& entropy,
                    const Tensor& value, const Tensor& old_log_prob,
                    const Tensor& advantages, const Tensor& returns,
                    const Tensor& acting, const std::vector<Tensor>& params) {
    const double clip = options.ppo_clip;
    const Tensor log_ratio = log_prob - old_log_prob;
    const Tensor ratio = log_ratio.exp();
    const Tensor acted = acting.sum().clamp_min(1.0);
    auto acting_mean = [&](const Tensor& x) {
      return (x * acting).sum() / acted;
    };
    const Tensor policy_loss = -acting_mean(torch::min(
        ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages));
    const Tensor value_loss = 0.5 * (value - returns).pow(2).mean();
    const Tensor entropy_mean = acting_mean(entropy);
    const Tensor loss = policy_loss + options.ppo_value_coef * value_loss -
                        options.ppo_entropy * entropy_mean;
    optimizer->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, options.ppo_max_grad_norm);
    optimizer->step();
    torch::NoGradGuard no_grad;
    ++sums.steps;
    sums.policy_loss += policy_loss.item<double>();
    sums.value_loss += value_loss.item<double>();
    sums.entropy += entropy_mean.item<double>();
    sums.approx_kl += acting_mean((ratio - 1) - log_ratio).item<double>();
    sums.clip_fraction +=
        acting_mean(((ratio - 1).abs() > clip).to(torch::kFloat32))
            .item<double>();
  }

  absl::Status Update();
};

PpoLearner::PpoLearner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PpoLearner::~PpoLearner() = default;

absl::StatusOr<std::unique_ptr<PpoLearner>> PpoLearner::Create(
    int64_t obs_dim, int64_t num_actions, std::vector<float> low,
    std::vector<float> high, const PpoOptions& options, uint64_t seed) {
  if (absl::Status s = ValidateParams(options); !s.ok()) return s;
  if (!(options.gamma >= 0 && options.gamma <= 1)) {
    return absl::InvalidArgumentError("ppo: gamma must be in [0, 1]");
  }
  if (options.ppo_bptt > 0 && options.ppo_rollout % options.ppo_bptt != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ppo: --ppo_bptt=", options.ppo_bptt,
                     " must divide --ppo_rollout=", options.ppo_rollout));
  }
  const bool box = num_actions == 0;
  if (obs_dim < 1 || num_actions < 0 || low.size() != high.size() ||
      (box && low.empty()) || (!box && !low.empty())) {
    return absl::InvalidArgumentError(
        "ppo: needs an observation size >= 1 and either Discrete(n >= 1) "
        "actions or a Box with bounds");
  }
  for (size_t k = 0; k < low.size(); ++k) {
    if (!std::isfinite(low[k]) || !std::isfinite(high[k]) ||
        !(low[k] < high[k])) {
      return absl::InvalidArgumentError(
          "ppo: Box actions need finite bounds with low < high");
    }
  }
  nn::UseOneThreadPerProcess();
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.options = options;
  m.obs_dim = obs_dim;
  m.num_actions = num_actions;
  m.action_dim = box ? static_cast<int64_t>(low.size()) : 1;
  m.recurrent = options.ppo_recurrent;
  m.generator =
      at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, kSampleStream));
  m.shuffle.seed(DeriveSeed(seed, kShuffleStream));
  try {
    if (box) {
      m.low = torch::tensor(low);
      m.high = torch::tensor(high);
      m.low_values = std::move(low);
      m.high_values = std::move(high);
    }
    at::Generator init =
        at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, kInitStream));
    // The heads read the observation through --ppo_hidden layers, or the
    // GRU's state (linear heads).
    std::vector<int64_t> head_hidden = options.ppo_hidden.sizes;
    int64_t features = obs_dim;
    if (m.recurrent > 0) {
      int64_t gru_input = obs_dim;
      if (!head_hidden.empty()) {
        const std::vector<int64_t> inner(head_hidden.begin(),
                                         head_hidden.end() - 1);
        gru_input = head_hidden.back();
        m.torso = nn::MakeMlp(obs_dim, inner, gru_input, init,
                              nn::Activation::kTanh, nn::Activation::kTanh);
      }
      m.gru = torch::nn::GRUCell(gru_input, m.recurrent);
      // LibTorch's GRUCell default, U(-1/sqrt(hidden), 1/sqrt(hidden)) for
      // every weight and bias, drawn from the learner's own generator.
      torch::NoGradGuard no_grad;
      const double bound = 1.0 / std::sqrt(static_cast<double>(m.recurrent));
      for (torch::Tensor& p : m.gru->parameters()) {
        p.uniform_(-bound, bound, init);
      }
      features = m.recurrent;
      head_hidden.clear();
    }
    if (box) {
      nn::TanhGaussianPolicyOptions p;
      p.obs_dim = features;
      p.action_dim = m.action_dim;
      p.hidden = head_hidden;
      p.activation = nn::Activation::kTanh;
      m.gaussian = nn::TanhGaussianPolicy(p, init);
    } else {
      nn::CategoricalPolicyOptions p;
      p.obs_dim = features;
      p.num_actions = num_actions;
      p.hidden = head_hidden;
      p.activation = nn::Activation::kTanh;
      m.categorical = nn::CategoricalPolicy(p, init);
    }
    m.critic =
        nn::MakeMlp(features, head_hidden, 1, init, nn::Activation::kTanh);
    m.optimizer = std::make_unique<nn::ForeachAdam>(
        m.Parameters(), torch::optim::AdamOptions(options.ppo_lr).eps(1e-5));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(
        "ppo: building the networks failed: ", e.what_without_backtrace()));
  }
  return std::unique_ptr<PpoLearner>(new PpoLearner(std::move(impl)));
}

void PpoLearner::Act(const float* obs, int64_t n, bool deterministic,
                     int64_t* discrete, float* continuous, ActingStream stream,
                     const bool* first, const bool* mask) {
  Impl& m = *impl_;
  torch::NoGradGuard no_grad;
  Tensor features = FromFloats(obs, n, m.obs_dim);
  if (m.recurrent > 0) {
    Tensor* kept = stream == ActingStream::kTrain  ? &m.train_state
                   : stream == ActingStream::kEval ? &m.eval_state
                                                   : nullptr;
    Tensor state = kept != nullptr && kept->defined() && kept->size(0) == n
                       ? *kept
                       : torch::zeros({n, m.recurrent});
    std::vector<float> starts(n, 0.0f);
    for (int64_t i = 0; first != nullptr && i < n; ++i) {
      starts[i] = first[i] ? 1.0f : 0.0f;
    }
    state = state * (1 - torch::tensor(starts)).unsqueeze(-1);
    if (stream == ActingStream::kTrain) {
      m.last_state_in = state.contiguous();
      m.last_first = std::move(starts);
    }
    features = m.Step(features, state);
    if (kept != nullptr) *kept = features;
  }
  if (m.discrete()) {
    std::vector<float> legal(n * m.num_actions, 1.0f);
    for (int64_t i = 0; mask != nullptr && i < n * m.num_actions; ++i) {
      legal[i] = mask[i] ? 1.0f : 0.0f;
    }
    const Tensor logits =
        Impl::Masked(m.categorical->forward(features),
                     FromFloats(legal.data(), n, m.num_actions));
    const Tensor a =
        (deterministic ? logits.argmax(-1)
                       : nn::SampleCategorical(logits, m.generator))
            .to(torch::kLong)
            .contiguous();
    std::copy_n(a.data_ptr<int64_t>(), n, discrete);
    if (stream == ActingStream::kTrain) m.last_mask = std::move(legal);
    return;
  }
  const Tensor y = deterministic
                       ? m.gaussian->deterministic(features)
                       : m.gaussian->rsample(features, m.generator).action;
  const Tensor a = nn::ScaleToBox(y, m.low, m.high).contiguous();
  std::copy_n(a.data_ptr<float>(), n * m.action_dim, continuous);
}

absl::Status PpoLearner::Observe(int64_t copies, const float* obs,
                                 const int64_t* discrete,
                                 const float* continuous, const float* reward,
                                 const float* next_obs, const bool* terminated,
                                 const bool* truncated, const bool* acting) {
  Impl& m = *impl_;
  if (!m.rollout.has_value()) {
    absl::StatusOr<RolloutBuffer> rollout = m.NewRollout(copies);
    if (!rollout.ok()) return rollout.status();
    m.rollout.emplace(*std::move(rollout));
  }
  if (copies != m.rollout->copies()) {
    return absl::InvalidArgumentError(absl::StrCat("ppo: a step of ", copies,
                                                   " copies; the rollout has ",
                                                   m.rollout->copies()));
  }
  if (m.recurrent > 0 &&
      (!m.last_state_in.defined() || m.last_state_in.size(0) != copies)) {
    return absl::FailedPreconditionError(
        "ppo: a recurrent policy learns from the training stream's last Act, "
        "and there was none for these copies");
  }
  // Actions as the policy sees them: the index, or the Box action mapped
  // back to (-1, 1).
  std::vector<float> action(copies * m.action_dim), done(copies), ended(copies),
      turn(copies);
  for (int64_t c = 0; c < copies; ++c) {
    if (m.discrete()) {
      action[c] = static_cast<float>(discrete[c]);
    } else {
      for (int64_t k = 0; k < m.action_dim; ++k) {
        const float lo = m.low_values[k], hi = m.high_values[k];
        action[c * m.action_dim + k] = std::clamp(
            2.0f * (continuous[c * m.action_dim + k] - lo) / (hi - lo) - 1.0f,
            -1.0f, 1.0f);
      }
    }
    done[c] = terminated[c] ? 1.0f : 0.0f;
    ended[c] = terminated[c] || truncated[c] ? 1.0f : 0.0f;
    turn[c] = acting == nullptr || acting[c] ? 1.0f : 0.0f;
  }
  // The masks of the training stream's last Act (all legal without one).
  const int64_t mask_values = copies * (m.discrete() ? m.num_actions : 1);
  if (!m.discrete() ||
      static_cast<int64_t>(m.last_mask.size()) != mask_values) {
    m.last_mask.assign(mask_values, 1.0f);
  }
  std::vector<absl::Span<const float>> fields = {
      {obs, static_cast<size_t>(copies * m.obs_dim)},
      action,
      {reward, static_cast<size_t>(copies)},
      {next_obs, static_cast<size_t>(copies * m.obs_dim)},
      done,
      ended,
      m.last_mask,
      turn};
  if (m.recurrent > 0) {
    fields.emplace_back(m.last_state_in.data_ptr<float>(),
                        static_cast<size_t>(copies * m.recurrent));
    fields.emplace_back(m.last_first);
  }
  if (absl::Status s = m.rollout->Append(fields); !s.ok()) return s;
  if (!m.rollout->full()) return absl::OkStatus();
  absl::Status s = m.Update();
  m.rollout->Clear();
  return s;
}

absl::Status PpoLearner::Impl::Update() {
  const RolloutBuffer& r = *rollout;
  const int64_t steps = r.size(), copies = r.copies(), n = steps * copies;
  try {
    auto column = [&](int f) {
      return FromFloats(r.column(f).data(), n, r.field(f).width);
    };
    const Tensor obs = column(kObs), action = column(kAction),
                 mask = column(kMask), acting = column(kActing).squeeze(-1);
    // Recurrent: every step's state, replayed from the stored ones.
    Tensor stored_states, first;
    if (recurrent > 0) {
      stored_states = column(kState);
      first = column(kFirst).squeeze(-1);
    }
    Tensor old_log_prob, values, next_values;
    {
      torch::NoGradGuard no_grad;
      Tensor features = obs;
      Tensor next_features = column(kNextObs);
      if (recurrent > 0) {
        features = Unroll(obs.view({steps, copies, obs_dim}),
                          first.view({steps, copies}),
                          stored_states.narrow(0, 0, copies))
                       .reshape({n, recurrent});
        // The next observation seen from the state after this step.
        next_features = Step(next_features, features);
      }
      old_log_prob = LogProbAndEntropy(features, action, mask).first;
      values = Value(features).contiguous();
      next_values = Value(next_features).contiguous();
    }
    std::unique_ptr<bool[]> terminated(new bool[n]), ended(new bool[n]);
    for (int64_t i = 0; i < n; ++i) {
      terminated[i] = r.column(kTerminated)[i] > 0.5f;
      ended[i] = r.column(kEnded)[i] > 0.5f;
    }
    Tensor advantages = torch::empty({n}), returns = torch::empty({n});
    absl::Status gae = GeneralisedAdvantages(
        steps, copies, r.column(kReward),
        absl::MakeConstSpan(values.data_ptr<float>(), n),
        absl::MakeConstSpan(next_values.data_ptr<float>(), n),
        absl::MakeConstSpan(terminated.get(), n),
        absl::MakeConstSpan(ended.get(), n), options.gamma,
        options.ppo_gae_lambda, absl::MakeSpan(advantages.data_ptr<float>(), n),
        absl::MakeSpan(returns.data_ptr<float>(), n));
    if (!gae.ok()) return gae;
    // Normalised per rollout, as the reference implementations do.
    if (n > 1) {
      advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
    }
    const std::vector<Tensor> params = Parameters();
    // One gradient step on rollout rows `index`, whose features (the
    // observations, or the replayed recurrent states) are `features`.
    auto learn_rows = [&](const Tensor& features, const Tensor& index) {
      auto [log_prob, entropy] = LogProbAndEntropy(
          features, action.index_select(0, index), mask.index_select(0, index));
      GradientStep(log_prob, entropy, Value(features),
                   old_log_prob.index_select(0, index),
                   advantages.index_select(0, index),
                   returns.index_select(0, index),
                   acting.index_select(0, index), params);
    };
    for (int64_t epoch = 0; epoch < options.ppo_epochs; ++epoch) {
      if (recurrent == 0) {
        const std::vector<int64_t> order = r.ShuffledRows(shuffle);
        for (int64_t start = 0; start < n; start += options.ppo_minibatch) {
          const int64_t size = std::min(options.ppo_minibatch, n - start);
          const Tensor index = torch::tensor(std::vector<int64_t>(
              order.begin() + start, order.begin() + start + size));
          learn_rows(obs.index_select(0, index), index);
        }
        continue;
      }
      // Truncated backpropagation through time: windows of `length` steps
      // of one copy, each from its stored state; minibatches of windows.
      const int64_t length = options.ppo_bptt > 0 ? options.ppo_bptt : steps;
      const std::vector<RolloutBuffer::Window> windows = r.Windows(length);
      const int64_t per_batch =
          std::max<int64_t>(1, options.ppo_minibatch / length);
      const std::vector<int64_t> order =
          ShuffledIndices(static_cast<int64_t>(windows.size()), shuffle);
      for (size_t start = 0; start < order.size(); start += per_batch) {
        const size_t end = std::min(order.size(), start + per_batch);
        const int64_t b = static_cast<int64_t>(end - start);
        // Rows [length, b] of the windows' steps, time-major.
        std::vector<int64_t> rows(length * b), heads(b);
        for (int64_t j = 0; j < b; ++j) {
          const RolloutBuffer::Window& w = windows[order[start + j]];
          heads[j] = w.start * copies + w.copy;
          for (int64_t t = 0; t < length; ++t) {
            rows[t * b + j] = (w.start + t) * copies + w.copy;
          }
        }
        const Tensor index = torch::tensor(rows);
        learn_rows(Unroll(obs.index_select(0, index).view({length, b, obs_dim}),
                          first.index_select(0, index).view({length, b}),
                          stored_states.index_select(0, torch::tensor(heads)))
                       .reshape({length * b, recurrent}),
                   index);
      }
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("ppo: update failed: ", e.what_without_backtrace()));
  }
  ++updates;
  return absl::OkStatus();
}

PpoLosses PpoLearner::TakeLosses() {
  PpoLosses out = impl_->sums;
  if (out.steps > 0) {
    const double k = static_cast<double>(out.steps);
    out.policy_loss /= k;
    out.value_loss /= k;
    out.entropy /= k;
    out.approx_kl /= k;
    out.clip_fraction /= k;
  }
  impl_->sums = PpoLosses();
  return out;
}

int64_t PpoLearner::updates() const { return impl_->updates; }
int64_t PpoLearner::num_actions() const { return impl_->num_actions; }
int64_t PpoLearner::action_size() const { return impl_->action_dim; }
const PpoOptions& PpoLearner::options() const { return impl_->options; }

absl::StatusOr<std::string> PpoLearner::Save() const {
  Impl& m = *impl_;
  LearnerStateWriter writer(
      "ppo", {m.obs_dim, m.num_actions, m.action_dim, m.recurrent});
  if (absl::Status s = WriteTorchParts(m.Parts(), &writer); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("ppo: ", s.message()));
  }
  writer.Engine("shuffle", m.shuffle).Ints("updates", {m.updates});
  // The rollout so far, so a resumed run goes on filling it.
  if (m.rollout.has_value()) {
    const RolloutBuffer& r = *m.rollout;
    writer.Ints("rollout", {r.size(), r.copies()});
    for (int f = 0; f < r.num_fields(); ++f) {
      const absl::Span<const float> column = r.column(f);
      writer.Doubles("rollout/" + r.field(f).name,
                     std::vector<double>(column.begin(), column.end()));
    }
  }
  return writer.Finish();
}

absl::Status PpoLearner::Load(const std::string& bytes) {
  Impl& m = *impl_;
  absl::StatusOr<LearnerStateReader> reader = LearnerStateReader::Open(
      bytes, "ppo", {m.obs_dim, m.num_actions, m.action_dim, m.recurrent});
  if (!reader.ok()) {
    return absl::Status(
        reader.status().code(),
        absl::StrCat(reader.status().message(),
                     " (observation size, actions, action size, GRU "
                     "units)"));
  }
  std::vector<int64_t> updates, shape;
  if (absl::Status s = ReadTorchParts(*reader, m.Parts()); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("ppo: ", s.message()));
  }
  if (absl::Status s = reader->Engine("shuffle", &m.shuffle); !s.ok()) return s;
  if (absl::Status s = reader->Ints("updates", 1, &updates); !s.ok()) return s;
  m.updates = updates[0];
  m.rollout.reset();
  if (!reader->Has("rollout")) return absl::OkStatus();
  if (absl::Status s = reader->Ints("rollout", 2, &shape); !s.ok()) return s;
  const int64_t size = shape[0], copies = shape[1];
  if (size < 0 || size >= m.options.ppo_rollout || copies < 1 ||
      copies > (int64_t{1} << 24)) {
    return absl::DataLossError("ppo checkpoint: a rollout of impossible size");
  }
  absl::StatusOr<RolloutBuffer> rollout = m.NewRollout(copies);
  if (!rollout.ok()) return rollout.status();
  const int num_fields = rollout->num_fields();
  std::vector<std::vector<float>> columns(num_fields);
  for (int f = 0; f < num_fields; ++f) {
    std::vector<double> values;
    const int64_t width = rollout->field(f).width;
    if (absl::Status s = reader->Doubles("rollout/" + rollout->field(f).name,
                                         size * copies * width, &values);
        !s.ok()) {
      return s;
    }
    columns[f].assign(values.begin(), values.end());
  }
  for (int64_t t = 0; t < size; ++t) {
    std::vector<absl::Span<const float>> step;
    for (int f = 0; f < num_fields; ++f) {
      const int64_t width = rollout->field(f).width;
      step.push_back(absl::MakeConstSpan(columns[f])
                         .subspan(t * copies * width, copies * width));
    }
    if (absl::Status s = rollout->Append(step); !s.ok()) return s;
  }
  m.rollout.emplace(*std::move(rollout));
  return absl::OkStatus();
}

}  // namespace marl
