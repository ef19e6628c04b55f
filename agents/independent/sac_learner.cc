#include "agents/independent/sac_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "learners/off_policy_state.h"
#include "learners/replay_buffer.h"
#include "learners/update_schedule.h"
#include "nn/adam.h"
#include "nn/q_network.h"
#include "nn/tanh_gaussian.h"
#include "nn/torch_setup.h"

namespace marl {

namespace {

// Field order in the replay buffer.
enum Field { kObs = 0, kAction, kReward, kNextObs, kDone };

}  // namespace

struct SacLearner::Impl {
  Impl(int64_t obs_dim, int64_t action_dim, const SacOptions& options,
       ReplayBuffer buffer, uint64_t seed)
      : obs_dim(obs_dim),
        action_dim(action_dim),
        options(options),
        // Built in this order from the freshly seeded global generator.
        actor(ActorOptions(obs_dim, action_dim, options)),
        q1(CriticOptions(obs_dim, action_dim, options)),
        q2(CriticOptions(obs_dim, action_dim, options)),
        q1_target(nn::CloneTarget(q1)),
        q2_target(nn::CloneTarget(q2)),
        buffer(std::move(buffer)),
        rng(seed),
        generator(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

  static nn::TanhGaussianPolicyOptions ActorOptions(int64_t obs_dim,
                                                    int64_t action_dim,
                                                    const SacOptions& options) {
    nn::TanhGaussianPolicyOptions a;
    a.obs_dim = obs_dim;
    a.action_dim = action_dim;
    a.hidden = options.sac_hidden.sizes;
    a.activation = nn::Activation::kRelu;
    a.log_std_min = -5.0;  // std in [0.0067, 7.4]
    a.log_std_max = 2.0;
    return a;
  }
  static nn::QNetworkOptions CriticOptions(int64_t obs_dim, int64_t action_dim,
                                           const SacOptions& options) {
    nn::QNetworkOptions q;
    q.obs_dim = obs_dim;
    q.action_dim = action_dim;
    q.hidden = options.sac_hidden.sizes;
    q.activation = nn::Activation::kRelu;
    return q;
  }

  // Everything a checkpoint holds.
  OffPolicyState State() {
    OffPolicyState state;
    state.learner = "sac";
    state.shape = {obs_dim, action_dim};
    state.shape_meaning = "observation and action sizes";
    state.torch = {{{"actor", actor.get()},
                    {"q1", q1.get()},
                    {"q2", q2.get()},
                    {"q1_target", q1_target.get()},
                    {"q2_target", q2_target.get()}},
                   {{"actor_opt", actor_opt.get()},
                    {"critic_opt", critic_opt.get()},
                    {"alpha_opt", alpha_opt.get()}},
                   {{"generator", &generator}},
                   {{"log_alpha", &log_alpha}}};
    state.rng = &rng;
    state.updates = &updates;
    state.schedule = &schedule;
    state.replay = &buffer;
    return state;
  }

  // A reparameterised policy sample at `obs`; `action` is in (-1, 1), the
  // space the critics and log-probs use.
  nn::TanhGaussianSample SamplePolicy(const torch::Tensor& obs) {
    return actor->rsample(obs, generator);
  }

  torch::Tensor MinQ(nn::QNetwork& a, nn::QNetwork& b, const torch::Tensor& obs,
                     const torch::Tensor& normalized_action) {
    return torch::min(a->forward(obs, normalized_action),
                      b->forward(obs, normalized_action));
  }

  double CurrentAlpha() const {
    return options.sac_auto_entropy ? log_alpha.exp().item<double>()
                                    : options.sac_alpha;
  }

  int64_t obs_dim, action_dim;
  SacOptions options;
  torch::Tensor low, high;  // [action_dim], the Box bounds
  // Per element, for the torch-free uniform warmup actions.
  std::vector<float> center_v, scale_v;
  nn::TanhGaussianPolicy actor;
  nn::QNetwork q1, q2, q1_target, q2_target;  // targets: frozen clones
  torch::Tensor log_alpha;
  double target_entropy = 0;
  std::unique_ptr<torch::optim::Adam> actor_opt, critic_opt, alpha_opt;
  ReplayBuffer buffer;
  std::mt19937_64 rng;      // replay sampling and warmup actions
  at::Generator generator;  // policy noise
  // Updates start once a batch is stored, during warm-up too: the critics
  // then learn from uniform actions covering the whole Box before the
  // policy acts on them (an early critic fit on the policy's own narrow
  // actions extrapolates badly and can drive the tanh into saturation).
  UpdateSchedule schedule{options.sac_update_ratio, options.sac_batch_size};
  int64_t pending_updates = 0;
  int64_t updates = 0;
  // Reused minibatch tensors, filled straight from the buffer.
  torch::Tensor b_obs, b_action, b_reward, b_next_obs, b_done;
  std::vector<int64_t> indices;
};

absl::StatusOr<std::unique_ptr<SacLearner>> SacLearner::Create(
    int64_t obs_dim, std::vector<float> low, std::vector<float> high,
    const SacOptions& options, uint64_t seed) {
  if (obs_dim < 1) {
    return absl::InvalidArgumentError("SAC needs an observation of size >= 1");
  }
  if (low.empty() || low.size() != high.size()) {
    return absl::InvalidArgumentError(
        "SAC needs one low and one high bound per action element");
  }
  for (size_t i = 0; i < low.size(); ++i) {
    if (!std::isfinite(low[i]) || !std::isfinite(high[i]) ||
        !(low[i] < high[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("SAC needs finite Box bounds with low < high; element ",
                       i, " is [", low[i], ", ", high[i], "]"));
    }
  }
  for (int64_t h : options.sac_hidden.sizes) {
    if (h < 1)
      return absl::InvalidArgumentError("SAC hidden sizes must be >= 1");
  }
  if (options.sac_batch_size < 1) {
    return absl::InvalidArgumentError("SAC batch size must be >= 1");
  }
  if (!(options.sac_tau > 0 && options.sac_tau <= 1)) {
    return absl::InvalidArgumentError("SAC tau must be in (0, 1]");
  }
  if (!(options.gamma >= 0 && options.gamma <= 1)) {
    return absl::InvalidArgumentError("gamma must be in [0, 1]");
  }
  if (!(options.sac_alpha >= 0)) {
    return absl::InvalidArgumentError("SAC alpha must be >= 0");
  }
  if (options.sac_auto_entropy && !(options.sac_alpha > 0)) {
    return absl::InvalidArgumentError(
        "SAC automatic entropy tuning starts from alpha, which must be > 0");
  }
  if (!(options.sac_actor_lr > 0 && options.sac_critic_lr > 0 &&
        options.sac_alpha_lr > 0)) {
    return absl::InvalidArgumentError("SAC learning rates must be > 0");
  }
  if (options.sac_warmup < 0 || !(options.sac_update_ratio >= 0)) {
    return absl::InvalidArgumentError(
        "SAC warmup and update ratio must be >= 0");
  }
  const int64_t action_dim = static_cast<int64_t>(low.size());
  auto buffer =
      ReplayBuffer::Create(options.sac_buffer_size, {{"obs", obs_dim},
                                                     {"action", action_dim},
                                                     {"reward", 1},
                                                     {"next_obs", obs_dim},
                                                     {"done", 1}});
  if (!buffer.ok()) return buffer.status();

  nn::UseOneThreadPerProcess();
  // Initial weights depend on this learner's seed only, whatever ran before.
  const nn::ScopedInitSeed init_weights(seed);
  auto impl = std::make_unique<Impl>(obs_dim, action_dim, options,
                                     *std::move(buffer), seed);
  for (size_t i = 0; i < low.size(); ++i) {
    impl->center_v.push_back(0.5f * (low[i] + high[i]));
    impl->scale_v.push_back(0.5f * (high[i] - low[i]));
  }
  impl->low = torch::tensor(low);
  impl->high = torch::tensor(high);

  impl->actor_opt = std::make_unique<nn::ForeachAdam>(
      impl->actor->parameters(),
      torch::optim::AdamOptions(options.sac_actor_lr));
  std::vector<torch::Tensor> critic_params = impl->q1->parameters();
  for (auto& p : impl->q2->parameters()) critic_params.push_back(p);
  impl->critic_opt = std::make_unique<nn::ForeachAdam>(
      critic_params, torch::optim::AdamOptions(options.sac_critic_lr));
  impl->log_alpha =
      torch::full({1}, std::log(std::max(options.sac_alpha, 1e-12)),
                  torch::requires_grad(options.sac_auto_entropy));
  impl->alpha_opt = std::make_unique<nn::ForeachAdam>(
      std::vector<torch::Tensor>{impl->log_alpha},
      torch::optim::AdamOptions(options.sac_alpha_lr));
  impl->target_entropy = std::isnan(options.sac_target_entropy)
                             ? -static_cast<double>(action_dim)
                             : options.sac_target_entropy;

  const int64_t b = options.sac_batch_size;
  impl->b_obs = torch::zeros({b, obs_dim});
  impl->b_action = torch::zeros({b, action_dim});
  impl->b_reward = torch::zeros({b, 1});
  impl->b_next_obs = torch::zeros({b, obs_dim});
  impl->b_done = torch::zeros({b, 1});
  return std::unique_ptr<SacLearner>(new SacLearner(std::move(impl)));
}

SacLearner::SacLearner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SacLearner::~SacLearner() = default;

int64_t SacLearner::obs_dim() const { return impl_->obs_dim; }
int64_t SacLearner::action_dim() const { return impl_->action_dim; }
const SacOptions& SacLearner::options() const { return impl_->options; }
double SacLearner::alpha() const { return impl_->CurrentAlpha(); }
int64_t SacLearner::transitions() const {
  return impl_->schedule.transitions();
}
int64_t SacLearner::updates() const { return impl_->updates; }

void SacLearner::Act(const float* obs, int64_t n, bool deterministic,
                     float* actions) {
  Impl& m = *impl_;
  const int64_t dim = m.action_dim;
  if (!deterministic && m.schedule.transitions() < m.options.sac_warmup) {
    // Uniform exploration before the first update: the untrained policy's
    // actions would cluster near the Box center.
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    for (int64_t i = 0; i < n * dim; ++i) {
      actions[i] = m.center_v[i % dim] + m.scale_v[i % dim] * unit(m.rng);
    }
    return;
  }
  torch::NoGradGuard no_grad;
  torch::Tensor o =
      torch::from_blob(const_cast<float*>(obs), {n, m.obs_dim}, torch::kFloat);
  torch::Tensor a;
  if (deterministic) {
    a = m.actor->deterministic(o);
  } else {
    a = m.SamplePolicy(o).action;
  }
  a = nn::ScaleToBox(a, m.low, m.high).contiguous();
  std::copy(a.data_ptr<float>(), a.data_ptr<float>() + n * dim, actions);
}

void SacLearner::Observe(const float* obs, const float* action, float reward,
                         const float* next_obs, bool terminated) {
  Impl& m = *impl_;
  const int64_t slot = m.buffer.Push();
  std::copy(obs, obs + m.obs_dim, m.buffer.mutable_row(kObs, slot));
  {
    // Critics see actions in the normalised (-1, 1) space, like the policy.
    torch::NoGradGuard no_grad;
    torch::from_blob(m.buffer.mutable_row(kAction, slot), {m.action_dim},
                     torch::kFloat)
        .copy_(
            nn::UnscaleFromBox(torch::from_blob(const_cast<float*>(action),
                                                {m.action_dim}, torch::kFloat),
                               m.low, m.high)
                .clamp(-1.0, 1.0));
  }
  m.buffer.mutable_row(kReward, slot)[0] = reward;
  std::copy(next_obs, next_obs + m.obs_dim,
            m.buffer.mutable_row(kNextObs, slot));
  m.buffer.mutable_row(kDone, slot)[0] = terminated ? 1.0f : 0.0f;
  m.pending_updates += m.schedule.Record(1);
}

int SacLearner::TrainPending(SacLosses* losses) {
  Impl& m = *impl_;
  if (m.buffer.size() <
      std::min(m.options.sac_batch_size, m.buffer.capacity())) {
    m.pending_updates = 0;
    return 0;
  }
  const int n = static_cast<int>(m.pending_updates);
  m.pending_updates = 0;
  SacLosses total;
  for (int i = 0; i < n; ++i) {
    SacLosses l = Update();
    total.critic_loss += l.critic_loss / n;
    total.actor_loss += l.actor_loss / n;
    total.alpha_loss += l.alpha_loss / n;
    total.entropy += l.entropy / n;
    total.q_mean += l.q_mean / n;
    total.alpha = l.alpha;
  }
  if (n > 0 && losses != nullptr) *losses = total;
  return n;
}

SacLosses SacLearner::Update() {
  Impl& m = *impl_;
  const int64_t b = m.options.sac_batch_size;
  m.buffer.SampleIndices(b, m.rng, &m.indices);
  m.buffer.Gather(kObs, m.indices, m.b_obs.data_ptr<float>());
  m.buffer.Gather(kAction, m.indices, m.b_action.data_ptr<float>());
  m.buffer.Gather(kReward, m.indices, m.b_reward.data_ptr<float>());
  m.buffer.Gather(kNextObs, m.indices, m.b_next_obs.data_ptr<float>());
  m.buffer.Gather(kDone, m.indices, m.b_done.data_ptr<float>());
  const double alpha = m.CurrentAlpha();
  SacLosses losses;

  // Critics: soft Bellman target from the target critics and a fresh policy
  // sample at the next observation.
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    nn::TanhGaussianSample next = m.SamplePolicy(m.b_next_obs);
    torch::Tensor next_q =
        m.MinQ(m.q1_target, m.q2_target, m.b_next_obs, next.action) -
        alpha * next.log_prob.unsqueeze(-1);
    target = m.b_reward + m.options.gamma * (1.0 - m.b_done) * next_q;
  }
  torch::Tensor q1 = m.q1->forward(m.b_obs, m.b_action);
  torch::Tensor q2 = m.q2->forward(m.b_obs, m.b_action);
  torch::Tensor critic_loss =
      torch::mse_loss(q1, target) + torch::mse_loss(q2, target);
  m.critic_opt->zero_grad();
  critic_loss.backward();
  m.critic_opt->step();
  losses.critic_loss = critic_loss.item<double>();
  losses.q_mean = q1.mean().item<double>();

  // Actor: minimise alpha * log pi - min Q through the reparameterised
  // sample. Critic gradients are switched off so the backward pass is
  // cheaper and the critics' grads stay clean.
  for (auto& p : m.q1->parameters()) p.set_requires_grad(false);
  for (auto& p : m.q2->parameters()) p.set_requires_grad(false);
  nn::TanhGaussianSample sample = m.SamplePolicy(m.b_obs);
  torch::Tensor q_pi = m.MinQ(m.q1, m.q2, m.b_obs, sample.action);
  torch::Tensor actor_loss =
      (alpha * sample.log_prob - q_pi.squeeze(-1)).mean();
  m.actor_opt->zero_grad();
  actor_loss.backward();
  m.actor_opt->step();
  for (auto& p : m.q1->parameters()) p.set_requires_grad(true);
  for (auto& p : m.q2->parameters()) p.set_requires_grad(true);
  losses.actor_loss = actor_loss.item<double>();
  losses.entropy = -sample.log_prob.mean().item<double>();

  if (m.options.sac_auto_entropy) {
    torch::Tensor alpha_loss =
        -(m.log_alpha * (sample.log_prob.detach() + m.target_entropy)).mean();
    m.alpha_opt->zero_grad();
    alpha_loss.backward();
    m.alpha_opt->step();
    losses.alpha_loss = alpha_loss.item<double>();
  }
  losses.alpha = m.CurrentAlpha();

  nn::PolyakUpdate(*m.q1_target, *m.q1, m.options.sac_tau);
  nn::PolyakUpdate(*m.q2_target, *m.q2, m.options.sac_tau);
  ++m.updates;
  return losses;
}

absl::StatusOr<std::string> SacLearner::Save(bool with_replay) const {
  return SaveOffPolicyState(impl_->State(), with_replay);
}

absl::Status SacLearner::Load(const std::string& bytes) {
  if (absl::Status s = LoadOffPolicyState(bytes, impl_->State()); !s.ok()) {
    return s;
  }
  impl_->pending_updates = 0;
  return absl::OkStatus();
}

}  // namespace marl
