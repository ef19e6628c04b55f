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

// The rollout's fields, in this order.
enum Field { kObs, kAction, kReward, kNextObs, kTerminated, kEnded, kFields };

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
  Tensor low, high;         // Box bounds [action_dim]
  std::vector<float> low_values, high_values;
  nn::CategoricalPolicy categorical{nullptr};
  nn::TanhGaussianPolicy gaussian{nullptr};
  torch::nn::Sequential critic{nullptr};
  std::unique_ptr<nn::ForeachAdam> optimizer;
  at::Generator generator;
  std::mt19937_64 shuffle;
  std::optional<RolloutBuffer> rollout;
  int64_t updates = 0;
  PpoLosses sums;

  bool discrete() const { return num_actions > 0; }

  absl::StatusOr<RolloutBuffer> NewRollout(int64_t copies) const {
    return RolloutBuffer::Create(options.ppo_rollout, copies,
                                 {{"obs", obs_dim},
                                  {"action", action_dim},
                                  {"reward", 1},
                                  {"next_obs", obs_dim},
                                  {"terminated", 1},
                                  {"ended", 1}});
  }

  std::vector<Tensor> Parameters() {
    std::vector<Tensor> params =
        discrete() ? categorical->parameters() : gaussian->parameters();
    for (const Tensor& p : critic->parameters()) params.push_back(p);
    return params;
  }

  TorchParts Parts() {
    TorchParts parts;
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

  // log pi(action | obs) [B] and the entropy [B]; stored Box actions are
  // in (-1, 1).
  std::pair<Tensor, Tensor> LogProbAndEntropy(const Tensor& obs,
                                              const Tensor& action) {
    if (discrete()) {
      const Tensor logits = categorical->forward(obs);
      return {
          nn::CategoricalLogProb(logits, action.squeeze(-1).to(torch::kLong)),
          nn::CategoricalEntropy(logits)};
    }
    auto [mean, log_std] = gaussian->forward(obs);
    const Tensor log_prob =
        nn::TanhGaussianLogProb(mean, log_std, nn::AtanhClamped(action));
    // The Gaussian's entropy before the squash: 0.5 log(2 pi e) + log std.
    const Tensor entropy = (log_std + 0.5 * std::log(2.0 * M_PI * M_E)).sum(-1);
    return {log_prob, entropy};
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
    {
      const nn::ScopedInitSeed init(DeriveSeed(seed, kInitStream));
      if (box) {
        nn::TanhGaussianPolicyOptions p;
        p.obs_dim = obs_dim;
        p.action_dim = m.action_dim;
        p.hidden = options.ppo_hidden.sizes;
        p.activation = nn::Activation::kTanh;
        m.gaussian = nn::TanhGaussianPolicy(p);
      } else {
        nn::CategoricalPolicyOptions p;
        p.obs_dim = obs_dim;
        p.num_actions = num_actions;
        p.hidden = options.ppo_hidden.sizes;
        p.activation = nn::Activation::kTanh;
        m.categorical = nn::CategoricalPolicy(p);
      }
      m.critic = nn::MakeMlp(obs_dim, options.ppo_hidden.sizes, 1,
                             nn::Activation::kTanh);
    }
    m.optimizer = std::make_unique<nn::ForeachAdam>(
        m.Parameters(), torch::optim::AdamOptions(options.ppo_lr).eps(1e-5));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(
        "ppo: building the networks failed: ", e.what_without_backtrace()));
  }
  return std::unique_ptr<PpoLearner>(new PpoLearner(std::move(impl)));
}

void PpoLearner::Act(const float* obs, int64_t n, bool deterministic,
                     int64_t* discrete, float* continuous) {
  Impl& m = *impl_;
  torch::NoGradGuard no_grad;
  const Tensor x = FromFloats(obs, n, m.obs_dim);
  if (m.discrete()) {
    const Tensor a = (deterministic ? m.categorical->greedy(x)
                                    : m.categorical->sample(x, m.generator))
                         .to(torch::kLong)
                         .contiguous();
    std::copy_n(a.data_ptr<int64_t>(), n, discrete);
    return;
  }
  const Tensor y = deterministic ? m.gaussian->deterministic(x)
                                 : m.gaussian->rsample(x, m.generator).action;
  const Tensor a = nn::ScaleToBox(y, m.low, m.high).contiguous();
  std::copy_n(a.data_ptr<float>(), n * m.action_dim, continuous);
}

absl::Status PpoLearner::Observe(int64_t copies, const float* obs,
                                 const int64_t* discrete,
                                 const float* continuous, const float* reward,
                                 const float* next_obs, const bool* terminated,
                                 const bool* truncated) {
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
  // Actions as the policy sees them: the index, or the Box action mapped
  // back to (-1, 1).
  std::vector<float> action(copies * m.action_dim), done(copies), ended(copies);
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
  }
  const absl::Span<const float> fields[kFields] = {
      {obs, static_cast<size_t>(copies * m.obs_dim)},
      action,
      {reward, static_cast<size_t>(copies)},
      {next_obs, static_cast<size_t>(copies * m.obs_dim)},
      done,
      ended};
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
    const Tensor obs = column(kObs), action = column(kAction);
    Tensor old_log_prob, values, next_values;
    {
      torch::NoGradGuard no_grad;
      old_log_prob = LogProbAndEntropy(obs, action).first;
      values = critic->forward(obs).squeeze(-1).contiguous();
      next_values = critic->forward(column(kNextObs)).squeeze(-1).contiguous();
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
    const double clip = options.ppo_clip;
    for (int64_t epoch = 0; epoch < options.ppo_epochs; ++epoch) {
      const std::vector<int64_t> order = r.ShuffledRows(shuffle);
      for (int64_t start = 0; start < n; start += options.ppo_minibatch) {
        const int64_t size = std::min(options.ppo_minibatch, n - start);
        const Tensor index = torch::tensor(std::vector<int64_t>(
            order.begin() + start, order.begin() + start + size));
        auto [log_prob, entropy] = LogProbAndEntropy(
            obs.index_select(0, index), action.index_select(0, index));
        const Tensor log_ratio = log_prob - old_log_prob.index_select(0, index);
        const Tensor ratio = log_ratio.exp();
        const Tensor adv = advantages.index_select(0, index);
        const Tensor policy_loss =
            -torch::min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
                 .mean();
        const Tensor value =
            critic->forward(obs.index_select(0, index)).squeeze(-1);
        const Tensor value_loss =
            0.5 * (value - returns.index_select(0, index)).pow(2).mean();
        const Tensor entropy_mean = entropy.mean();
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
        sums.approx_kl += ((ratio - 1) - log_ratio).mean().item<double>();
        sums.clip_fraction += ((ratio - 1).abs() > clip)
                                  .to(torch::kFloat32)
                                  .mean()
                                  .item<double>();
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
  LearnerStateWriter writer("ppo", {m.obs_dim, m.num_actions, m.action_dim});
  if (absl::Status s = WriteTorchParts(m.Parts(), &writer); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("ppo: ", s.message()));
  }
  writer.Engine("shuffle", m.shuffle).Ints("updates", {m.updates});
  // The rollout so far, so a resumed run goes on filling it.
  if (m.rollout.has_value()) {
    const RolloutBuffer& r = *m.rollout;
    writer.Ints("rollout", {r.size(), r.copies()});
    for (int f = 0; f < kFields; ++f) {
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
      bytes, "ppo", {m.obs_dim, m.num_actions, m.action_dim});
  if (!reader.ok()) {
    return absl::Status(
        reader.status().code(),
        absl::StrCat(reader.status().message(),
                     " (observation size, actions, action size)"));
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
  std::vector<std::vector<float>> columns(kFields);
  for (int f = 0; f < kFields; ++f) {
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
    for (int f = 0; f < kFields; ++f) {
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
