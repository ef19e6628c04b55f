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
#include "nn/stacked_mlp.h"
#include "nn/tanh_gaussian.h"
#include "nn/torch_setup.h"
#include "runtime/seeds.h"

namespace marl {

namespace {

// Field order in the replay buffer.
enum Field { kObs = 0, kAction, kReward, kNextObs, kDone };

}  // namespace

struct SacLearner::Impl {
  Impl(int64_t agents, int64_t obs_dim, int64_t action_dim,
       const SacOptions& options, ReplayBuffer buffer, uint64_t seed)
      : agents(agents),
        obs_dim(obs_dim),
        action_dim(action_dim),
        options(options),
        actor(StackedOptions(agents, obs_dim, 2 * action_dim, options)),
        // Twin critics: networks [0, G) are every agent's first critic,
        // [G, 2G) its second.
        critics(StackedOptions(2 * agents, obs_dim + action_dim, 1, options)),
        buffer(std::move(buffer)),
        rng(DeriveSeed(seed, 1)),
        generator(
            at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, 2))) {
    at::Generator init =
        at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, 3));
    actor->Initialize(init);
    critics->Initialize(init);
    critic_targets = nn::CloneTarget(critics);
  }

  static nn::StackedMlpOptions StackedOptions(int64_t groups, int64_t in,
                                              int64_t out,
                                              const SacOptions& options) {
    nn::StackedMlpOptions o;
    o.groups = groups;
    o.in = in;
    o.hidden = options.sac_hidden.sizes;
    o.out = out;
    o.activation = nn::Activation::kRelu;
    return o;
  }

  // Everything a checkpoint holds.
  OffPolicyState State() {
    OffPolicyState state;
    state.learner = "sac";
    state.shape = {agents, obs_dim, action_dim};
    state.shape_meaning = "agents, observation and action sizes";
    state.torch = {{{"actor", actor.get()},
                    {"critics", critics.get()},
                    {"critic_targets", critic_targets.get()}},
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

  // The policy at `obs` [G, B, obs_dim]: (mean, log_std), each
  // [G, B, action_dim], log_std clamped to [-5, 2] (std in [0.0067, 7.4]).
  std::pair<torch::Tensor, torch::Tensor> Policy(const torch::Tensor& obs) {
    std::vector<torch::Tensor> halves = actor->forward(obs).chunk(2, -1);
    return {halves[0], halves[1].clamp(-5.0, 2.0)};
  }

  // A reparameterised policy sample at `obs`; `action` is in (-1, 1), the
  // space the critics and log-probs use.
  nn::TanhGaussianSample SamplePolicy(const torch::Tensor& obs) {
    auto [mean, log_std] = Policy(obs);
    return nn::TanhGaussianFromNoise(
        mean, log_std, torch::randn(mean.sizes(), generator, mean.options()));
  }

  // min(Q1, Q2) of every agent [G, B, 1] at (obs, action) [G, B, *].
  torch::Tensor MinQ(nn::StackedMlp& q, const torch::Tensor& obs,
                     const torch::Tensor& action) {
    const torch::Tensor both =
        q->forward(torch::cat({obs, action}, -1).repeat({2, 1, 1}));
    const torch::Tensor twin = both.view({2, agents, -1, 1});
    return torch::min(twin[0], twin[1]);
  }

  // Every agent's temperature, [G, 1].
  torch::Tensor Alphas() const {
    return options.sac_auto_entropy ? log_alpha.detach().exp().unsqueeze(-1)
                                    : fixed_alphas;
  }

  int64_t agents, obs_dim, action_dim;
  SacOptions options;
  torch::Tensor low, high;  // [G, 1, action_dim], the Box bounds
  // Per agent and element, for torch-free warm-up actions and replay.
  std::vector<float> low_v, high_v, center_v, scale_v;
  nn::StackedMlp actor;                    // obs -> (mean, log_std)
  nn::StackedMlp critics;                  // (obs, action) -> Q, twin per agent
  nn::StackedMlp critic_targets{nullptr};  // frozen clone
  torch::Tensor log_alpha;                 // [G]
  torch::Tensor fixed_alphas;              // [G, 1], without --sac_auto_entropy
  torch::Tensor target_entropy;            // [G, 1]
  torch::Tensor no_losses;  // [G] zeros: the alpha losses when fixed
  std::unique_ptr<torch::optim::Adam> actor_opt, critic_opt, alpha_opt;
  ReplayBuffer buffer;
  std::mt19937_64 rng;      // replay sampling and warm-up actions
  at::Generator generator;  // policy noise
  // Updates start once a batch is stored, during warm-up too: the critics
  // then learn from uniform actions covering the whole Box before the
  // policy acts on them (an early critic fit on the policy's own narrow
  // actions extrapolates badly and can drive the tanh into saturation).
  UpdateSchedule schedule{options.sac_update_ratio, options.sac_batch_size};
  int64_t pending_updates = 0;
  int64_t updates = 0;
  // Reused minibatch tensors, filled straight from the buffer: [B, G * x].
  torch::Tensor b_obs, b_action, b_reward, b_next_obs, b_done;
  std::vector<int64_t> indices;
  std::vector<float> staged;  // Act's observations, [G, n, obs_dim]
};

absl::StatusOr<std::unique_ptr<SacLearner>> SacLearner::Create(
    int64_t obs_dim, const std::vector<std::vector<float>>& low,
    const std::vector<std::vector<float>>& high, const SacOptions& options,
    uint64_t seed) {
  if (obs_dim < 1) {
    return absl::InvalidArgumentError("SAC needs an observation of size >= 1");
  }
  if (low.empty() || low.size() != high.size()) {
    return absl::InvalidArgumentError(
        "SAC needs the Box bounds of at least one agent");
  }
  const int64_t agents = static_cast<int64_t>(low.size());
  const int64_t action_dim = static_cast<int64_t>(low[0].size());
  for (int64_t g = 0; g < agents; ++g) {
    if (low[g].empty() || low[g].size() != static_cast<size_t>(action_dim) ||
        high[g].size() != low[g].size()) {
      return absl::InvalidArgumentError(
          "SAC needs one low and one high bound per action element, the same "
          "number for every agent of a group");
    }
    for (size_t i = 0; i < low[g].size(); ++i) {
      if (!std::isfinite(low[g][i]) || !std::isfinite(high[g][i]) ||
          !(low[g][i] < high[g][i])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "SAC needs finite Box bounds with low < high; element ", i, " is [",
            low[g][i], ", ", high[g][i], "]"));
      }
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
  auto buffer = ReplayBuffer::Create(options.sac_buffer_size,
                                     {{"obs", agents * obs_dim},
                                      {"action", agents * action_dim},
                                      {"reward", agents},
                                      {"next_obs", agents * obs_dim},
                                      {"done", 1}});
  if (!buffer.ok()) return buffer.status();

  nn::UseOneThreadPerProcess();
  auto impl = std::make_unique<Impl>(agents, obs_dim, action_dim, options,
                                     *std::move(buffer), seed);
  for (int64_t g = 0; g < agents; ++g) {
    for (size_t i = 0; i < low[g].size(); ++i) {
      impl->low_v.push_back(low[g][i]);
      impl->high_v.push_back(high[g][i]);
      impl->center_v.push_back(0.5f * (low[g][i] + high[g][i]));
      impl->scale_v.push_back(0.5f * (high[g][i] - low[g][i]));
    }
  }
  impl->low = torch::tensor(impl->low_v).view({agents, 1, action_dim});
  impl->high = torch::tensor(impl->high_v).view({agents, 1, action_dim});

  impl->actor_opt = std::make_unique<nn::ForeachAdam>(
      impl->actor->parameters(),
      torch::optim::AdamOptions(options.sac_actor_lr));
  impl->critic_opt = std::make_unique<nn::ForeachAdam>(
      impl->critics->parameters(),
      torch::optim::AdamOptions(options.sac_critic_lr));
  impl->log_alpha =
      torch::full({agents}, std::log(std::max(options.sac_alpha, 1e-12)),
                  torch::requires_grad(options.sac_auto_entropy));
  impl->fixed_alphas = torch::full({agents, 1}, options.sac_alpha);
  impl->no_losses = torch::zeros({agents});
  impl->alpha_opt = std::make_unique<nn::ForeachAdam>(
      std::vector<torch::Tensor>{impl->log_alpha},
      torch::optim::AdamOptions(options.sac_alpha_lr));
  impl->target_entropy =
      torch::full({agents, 1}, std::isnan(options.sac_target_entropy)
                                   ? -static_cast<double>(action_dim)
                                   : options.sac_target_entropy);

  const int64_t b = options.sac_batch_size;
  impl->b_obs = torch::zeros({b, agents * obs_dim});
  impl->b_action = torch::zeros({b, agents * action_dim});
  impl->b_reward = torch::zeros({b, agents});
  impl->b_next_obs = torch::zeros({b, agents * obs_dim});
  impl->b_done = torch::zeros({b, 1});
  return std::unique_ptr<SacLearner>(new SacLearner(std::move(impl)));
}

SacLearner::SacLearner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SacLearner::~SacLearner() = default;

int64_t SacLearner::num_agents() const { return impl_->agents; }
int64_t SacLearner::obs_dim() const { return impl_->obs_dim; }
int64_t SacLearner::action_dim() const { return impl_->action_dim; }
const SacOptions& SacLearner::options() const { return impl_->options; }
double SacLearner::alpha(int agent) const {
  return impl_->options.sac_auto_entropy
             ? std::exp(impl_->log_alpha[agent].item<double>())
             : impl_->options.sac_alpha;
}
int64_t SacLearner::transitions() const {
  return impl_->schedule.transitions();
}
int64_t SacLearner::updates() const { return impl_->updates; }

void SacLearner::Act(const std::vector<const float*>& obs, int64_t n,
                     bool deterministic, const std::vector<float*>& actions) {
  Impl& m = *impl_;
  const int64_t dim = m.action_dim;
  if (!deterministic && m.schedule.transitions() < m.options.sac_warmup) {
    // Uniform exploration before the first update: the untrained policy's
    // actions would cluster near the Box center.
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    for (int64_t g = 0; g < m.agents; ++g) {
      const float* center = m.center_v.data() + g * dim;
      const float* scale = m.scale_v.data() + g * dim;
      for (int64_t i = 0; i < n * dim; ++i) {
        actions[g][i] = center[i % dim] + scale[i % dim] * unit(m.rng);
      }
    }
    return;
  }
  const int64_t row = n * m.obs_dim;
  m.staged.resize(m.agents * row);
  for (int64_t g = 0; g < m.agents; ++g) {
    std::copy(obs[g], obs[g] + row, m.staged.begin() + g * row);
  }
  c10::InferenceMode inference;
  const torch::Tensor o =
      torch::from_blob(m.staged.data(), {m.agents, n, m.obs_dim});
  const torch::Tensor y =
      deterministic ? torch::tanh(m.Policy(o).first) : m.SamplePolicy(o).action;
  const torch::Tensor a = nn::ScaleToBox(y, m.low, m.high).contiguous();
  const float* values = a.data_ptr<float>();
  for (int64_t g = 0; g < m.agents; ++g) {
    std::copy(values + g * n * dim, values + (g + 1) * n * dim, actions[g]);
  }
}

void SacLearner::Observe(const std::vector<const float*>& obs,
                         const std::vector<const float*>& action,
                         const std::vector<const float*>& reward,
                         const std::vector<const float*>& next_obs, int64_t row,
                         bool terminated) {
  Impl& m = *impl_;
  const int64_t slot = m.buffer.Push();
  const int64_t od = m.obs_dim, ad = m.action_dim;
  float* stored_obs = m.buffer.mutable_row(kObs, slot);
  float* stored_action = m.buffer.mutable_row(kAction, slot);
  float* stored_reward = m.buffer.mutable_row(kReward, slot);
  float* stored_next = m.buffer.mutable_row(kNextObs, slot);
  for (int64_t g = 0; g < m.agents; ++g) {
    std::copy(obs[g] + row * od, obs[g] + (row + 1) * od, stored_obs + g * od);
    std::copy(next_obs[g] + row * od, next_obs[g] + (row + 1) * od,
              stored_next + g * od);
    stored_reward[g] = reward[g][row];
    // Critics see actions in the normalised (-1, 1) space, like the policy
    // (nn::UnscaleFromBox, clamped).
    for (int64_t i = 0; i < ad; ++i) {
      const float low = m.low_v[g * ad + i], high = m.high_v[g * ad + i];
      const float y =
          2.0f * (action[g][row * ad + i] - low) / (high - low) - 1.0f;
      stored_action[g * ad + i] = std::clamp(y, -1.0f, 1.0f);
    }
  }
  m.buffer.mutable_row(kDone, slot)[0] = terminated ? 1.0f : 0.0f;
  m.pending_updates += m.schedule.Record(1);
}

int SacLearner::TrainPending(std::vector<SacLosses>* losses) {
  Impl& m = *impl_;
  if (m.buffer.size() <
      std::min(m.options.sac_batch_size, m.buffer.capacity())) {
    m.pending_updates = 0;
    return 0;
  }
  const int n = static_cast<int>(m.pending_updates);
  m.pending_updates = 0;
  std::vector<SacLosses> total(m.agents);
  for (int i = 0; i < n; ++i) {
    const std::vector<SacLosses> l = Update();
    for (int64_t g = 0; g < m.agents; ++g) {
      total[g].critic_loss += l[g].critic_loss / n;
      total[g].actor_loss += l[g].actor_loss / n;
      total[g].alpha_loss += l[g].alpha_loss / n;
      total[g].entropy += l[g].entropy / n;
      total[g].q_mean += l[g].q_mean / n;
      total[g].alpha = l[g].alpha;
    }
  }
  if (n > 0 && losses != nullptr) *losses = std::move(total);
  return n;
}

std::vector<SacLosses> SacLearner::Update() {
  Impl& m = *impl_;
  const int64_t b = m.options.sac_batch_size, g = m.agents;
  m.buffer.SampleIndices(b, m.rng, &m.indices);
  m.buffer.Gather(kObs, m.indices, m.b_obs.data_ptr<float>());
  m.buffer.Gather(kAction, m.indices, m.b_action.data_ptr<float>());
  m.buffer.Gather(kReward, m.indices, m.b_reward.data_ptr<float>());
  m.buffer.Gather(kNextObs, m.indices, m.b_next_obs.data_ptr<float>());
  m.buffer.Gather(kDone, m.indices, m.b_done.data_ptr<float>());
  // Rows [B, G * x] as [G, B, x].
  const torch::Tensor obs = m.b_obs.view({b, g, m.obs_dim}).transpose(0, 1);
  const torch::Tensor action =
      m.b_action.view({b, g, m.action_dim}).transpose(0, 1);
  const torch::Tensor next_obs =
      m.b_next_obs.view({b, g, m.obs_dim}).transpose(0, 1);
  const torch::Tensor reward = m.b_reward.t().unsqueeze(-1);  // [G, B, 1]
  const torch::Tensor alphas = m.Alphas();                    // [G, 1]

  // Critics: soft Bellman target from the target critics and a fresh policy
  // sample at the next observation. Each agent's loss is a mean over its
  // batch; their sum gives each agent's networks its own loss's gradient.
  torch::Tensor target;
  {
    c10::InferenceMode inference;
    nn::TanhGaussianSample next = m.SamplePolicy(next_obs);
    const torch::Tensor next_q =
        m.MinQ(m.critic_targets, next_obs, next.action) -
        (alphas * next.log_prob).unsqueeze(-1);
    target = reward + m.options.gamma * (1.0 - m.b_done) * next_q;
  }
  const torch::Tensor q =
      m.critics->forward(torch::cat({obs, action}, -1).repeat({2, 1, 1}))
          .view({2, g, b});
  const torch::Tensor critic_losses =
      (q - target.view({1, g, b})).pow(2).mean(-1).sum(0);  // [G]
  m.critic_opt->zero_grad();
  critic_losses.sum().backward();
  m.critic_opt->step();

  // Actor: minimise alpha * log pi - min Q through the reparameterised
  // sample. Critic gradients are switched off so the backward pass is
  // cheaper and the critics' grads stay clean.
  for (auto& p : m.critics->parameters()) p.set_requires_grad(false);
  nn::TanhGaussianSample sample = m.SamplePolicy(obs);
  const torch::Tensor q_pi = m.MinQ(m.critics, obs, sample.action);
  const torch::Tensor actor_losses =
      (alphas * sample.log_prob - q_pi.squeeze(-1)).mean(-1);  // [G]
  m.actor_opt->zero_grad();
  actor_losses.sum().backward();
  m.actor_opt->step();
  for (auto& p : m.critics->parameters()) p.set_requires_grad(true);

  const torch::Tensor log_prob = sample.log_prob.detach();
  torch::Tensor alpha_losses = m.no_losses;
  if (m.options.sac_auto_entropy) {
    alpha_losses =
        -(m.log_alpha.unsqueeze(-1) * (log_prob + m.target_entropy)).mean(-1);
    m.alpha_opt->zero_grad();
    alpha_losses.sum().backward();
    m.alpha_opt->step();
  }
  nn::PolyakUpdate(*m.critic_targets, *m.critics, m.options.sac_tau);
  ++m.updates;

  // Every agent's figures in one read out of torch.
  const torch::Tensor figures = torch::stack(
      {critic_losses.detach(), actor_losses.detach(), alpha_losses.detach(),
       log_prob.mean(-1), q[0].detach().mean(-1), m.Alphas().view({g})});
  const float* f = figures.data_ptr<float>();
  std::vector<SacLosses> losses(g);
  for (int64_t i = 0; i < g; ++i) {
    losses[i].critic_loss = f[i];
    losses[i].actor_loss = f[g + i];
    losses[i].alpha_loss = f[2 * g + i];
    losses[i].entropy = -f[3 * g + i];
    losses[i].q_mean = f[4 * g + i];
    losses[i].alpha = f[5 * g + i];
  }
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
