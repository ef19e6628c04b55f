#include "agents/gr2/gr2_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agents/gr2/gr2_math.h"
#include "agents/gr2/gr2_networks.h"
#include "learners/off_policy_state.h"
#include "learners/replay_buffer.h"
#include "learners/update_schedule.h"
#include "nn/adam.h"
#include "nn/stacked_mlp.h"
#include "nn/tanh_gaussian.h"
#include "nn/torch_setup.h"
#include "runtime/json.h"

namespace marl {
namespace {

using gr2::LevelRollout;
using torch::Tensor;

constexpr double kLogStdMin = -5.0;
constexpr double kLogStdMax = 2.0;

enum Field { kObs = 0, kAction, kReward, kNextObs, kDone };

}  // namespace

absl::Status ValidateGr2Options(const Gr2Options& o) {
  absl::Status valid = ValidateParams(o);
  if (!valid.ok()) return valid;
  if (o.variant == Gr2Options::Mode::kMixture && o.level < 1) {
    return absl::InvalidArgumentError(
        "--level must be >= 1 for --variant=mixture");
  }
  if (o.hidden.sizes.empty()) {
    return absl::InvalidArgumentError("--hidden needs at least one layer");
  }
  if (o.variant == Gr2Options::Mode::kMixture) {
    absl::StatusOr<std::vector<double>> w =
        gr2::PoissonLevelWeights(o.poisson_mean, o.level);
    if (!w.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--poisson_mean: ", w.status().message()));
    }
  }
  return absl::OkStatus();
}

std::string Gr2AlgorithmName(const Gr2Options& o) {
  return o.variant == Gr2Options::Mode::kLevel ? absl::StrCat("gr2_l", o.level)
                                               : absl::StrCat("gr2_m", o.level);
}

struct Gr2Learner::Impl {
  Impl(const Gr2Options& o, int n, int64_t od, int64_t d, uint64_t seed,
       ReplayBuffer buffer)
      : options(o),
        n(n),
        od(od),
        d(d),
        critic(Stacked(n, od + 2 * d, 1)),
        critic_target(Stacked(n, od + 2 * d, 1)),
        pi0(Stacked(n, od, 2 * d)),
        best_response(Stacked(n, od + d, d)),
        opponent_model(Stacked(n, od + d, d)),
        generator(at::make_generator<at::CPUGeneratorImpl>(seed)),
        rng(seed ^ 0x9e3779b97f4a7c15ULL),
        schedule(o.update_ratio, o.warmup),
        buffer(std::move(buffer)) {}

  // One network per agent, stacked, drawn from the generator that
  // Create's ScopedInitSeed seeds (in member order, as before).
  nn::StackedMlp Stacked(int64_t agents, int64_t in, int64_t out) const {
    nn::StackedMlpOptions s;
    s.groups = agents;
    s.in = in;
    s.hidden = options.hidden.sizes;
    s.out = out;
    nn::StackedMlp net(s);
    at::Generator global = at::detail::getDefaultCPUGenerator();
    net->Initialize(global);
    return net;
  }

  Gr2Options options;
  int n;
  int64_t od, d;
  std::vector<float> low, high;  // [d]
  std::vector<double> weights;   // mixture weights of levels 0..k
  // best_response and opponent_model act through a tanh (BestResponse,
  // OpponentModel).
  nn::StackedMlp critic, critic_target, pi0, best_response, opponent_model;
  std::unique_ptr<torch::optim::Adam> critic_opt, actor_opt, opponent_opt;
  at::Generator generator;
  std::mt19937_64 rng;
  UpdateSchedule schedule;
  ReplayBuffer buffer;
  int64_t updates = 0;
  absl::Status status;
  // Last update's per-agent losses, and deterministic level actions.
  std::vector<double> loss_q, loss_pi0, loss_br, loss_aux, loss_opp;
  std::vector<std::vector<double>> level_actions;
  std::vector<float> last_obs;  // one observation per agent, for metrics

  int levels() const { return options.level; }

  // Everything a checkpoint holds.
  OffPolicyState State() {
    OffPolicyState state;
    state.learner = "gr2";
    state.shape = {n, od, d, int64_t(options.variant), options.level};
    state.shape_meaning =
        "agents, observation and action sizes, variant and level";
    state.torch = {{{"critic", critic.get()},
                    {"critic_target", critic_target.get()},
                    {"pi0", pi0.get()},
                    {"best_response", best_response.get()},
                    {"opponent_model", opponent_model.get()}},
                   {{"critic_opt", critic_opt.get()},
                    {"actor_opt", actor_opt.get()},
                    {"opponent_opt", opponent_opt.get()}},
                   {{"generator", &generator}},
                   {}};
    state.rng = &rng;
    state.updates = &updates;
    state.schedule = &schedule;
    state.replay = &buffer;
    return state;
  }

  Tensor Randn(at::IntArrayRef shape) {
    return torch::randn(shape, generator, torch::kFloat32);
  }
  Tensor Uniform(at::IntArrayRef shape) {
    return torch::rand(shape, generator, torch::kFloat32) * 2.0 - 1.0;
  }

  Tensor Q(nn::StackedMlp& net, const Tensor& obs, const Tensor& a,
           const Tensor& a_opp) {
    return net->forward(torch::cat({obs, a, a_opp}, -1));
  }
  Tensor BestResponse(const Tensor& x) {
    return torch::tanh(best_response->forward(x));
  }
  Tensor OpponentModel(const Tensor& x) {
    return torch::tanh(opponent_model->forward(x));
  }

  // Level 0..k of every agent at obs [n, B, od]; level 0 sampled when
  // stochastic, else tanh(mean).
  LevelRollout<Tensor> RollOut(const Tensor& obs, bool stochastic) {
    Tensor out = pi0->forward(obs);
    Tensor mean = out.narrow(-1, 0, d);
    Tensor log_std = out.narrow(-1, d, d).clamp(kLogStdMin, kLogStdMax);
    Tensor self0, opp0;
    if (stochastic) {
      self0 = torch::tanh(mean + log_std.exp() * Randn(mean.sizes()));
      opp0 = torch::tanh(mean + log_std.exp() * Randn(mean.sizes()));
    } else {
      self0 = opp0 = torch::tanh(mean);
    }
    auto br_self = [&](const Tensor& a_opp) {
      return BestResponse(torch::cat({obs, a_opp}, -1));
    };
    auto br_opp = [&](const Tensor& a_self) {
      return OpponentModel(torch::cat({obs, a_self}, -1));
    };
    return gr2::RollOutLevels(levels(), self0, opp0, br_self, br_opp);
  }

  // The action the policy plays (normalised) and the opponents' action it
  // answers (for the critic's bootstrap).
  std::pair<Tensor, Tensor> PolicyAction(const LevelRollout<Tensor>& r,
                                         bool sample_level) {
    const int k = levels();
    const Tensor& opp = r.opponent[std::max(k - 1, 0)];
    if (options.variant == Gr2Options::Mode::kLevel) return {r.self[k], opp};
    Tensor self = torch::stack(r.self, 0);  // [k+1, n, B, d]
    Tensor others = torch::stack(r.opponent, 0);
    Tensor w =
        torch::tensor(std::vector<float>(weights.begin(), weights.end()));
    if (sample_level) {
      const int64_t rows = self.size(1) * self.size(2);
      Tensor level = torch::multinomial(w, rows, true, generator)
                         .view({1, self.size(1), self.size(2), 1})
                         .expand({1, self.size(1), self.size(2), d});
      return {self.gather(0, level).squeeze(0),
              others.gather(0, level).squeeze(0)};
    }
    Tensor wv = w.view({-1, 1, 1, 1});
    return {(self * wv).sum(0), (others * wv).sum(0)};
  }

  Tensor ObsTensor(const std::vector<const float*>& observation, int copies) {
    std::vector<Tensor> rows;
    for (int a = 0; a < n; ++a) {
      rows.push_back(torch::from_blob(const_cast<float*>(observation[a]),
                                      {copies, od}, torch::kFloat32));
    }
    return torch::stack(rows, 0).clone();  // [n, copies, od]
  }

  void Update();
  void RefreshLevelActions();
};

Gr2Learner::Gr2Learner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gr2Learner::~Gr2Learner() = default;

absl::StatusOr<std::unique_ptr<Gr2Learner>> Gr2Learner::Create(
    const EnvSpec& spec, const Gr2Options& o, uint64_t seed) {
  const int n = spec.num_agents();
  if (n < 2) {
    return absl::InvalidArgumentError("gr2: needs at least 2 agents");
  }
  const Space& action = spec.action_spaces[0];
  for (int a = 0; a < n; ++a) {
    if (!spec.action_spaces[a].is_box()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gr2: agent ", spec.agent_ids[a],
          " has a non-Box action space; GR2 here needs Box actions"));
    }
    if (spec.action_spaces[a] != action) {
      return absl::InvalidArgumentError(
          "gr2: every agent needs the same Box action space (a^-i is the "
          "mean of the others' actions)");
    }
    if (spec.observation_spaces[a].FlatSize() !=
        spec.observation_spaces[0].FlatSize()) {
      return absl::InvalidArgumentError(
          "gr2: every agent needs the same observation size");
    }
  }
  absl::Status valid = ValidateGr2Options(o);
  if (!valid.ok()) return valid;
  std::vector<double> weights;
  if (o.variant == Gr2Options::Mode::kMixture) {
    weights = *gr2::PoissonLevelWeights(o.poisson_mean, o.level);
  }
  const int64_t od = spec.observation_spaces[0].FlatSize();
  const int64_t d = action.FlatSize();
  absl::StatusOr<ReplayBuffer> buffer =
      ReplayBuffer::Create(o.buffer_size, {{"obs", n * od},
                                           {"action", n * d},
                                           {"reward", n},
                                           {"next_obs", n * od},
                                           {"done", 1}});
  if (!buffer.ok()) return buffer.status();

  nn::UseOneThreadPerProcess();
  // Initial weights depend on this learner's seed only.
  const nn::ScopedInitSeed init_weights(seed);
  auto impl = std::make_unique<Impl>(o, n, od, d, seed, *std::move(buffer));
  impl->low = action.low;
  impl->high = action.high;
  impl->weights = std::move(weights);
  {
    torch::NoGradGuard no_grad;
    auto src = impl->critic->parameters();
    auto dst = impl->critic_target->parameters();
    for (size_t i = 0; i < src.size(); ++i) {
      dst[i].copy_(src[i]);
      dst[i].set_requires_grad(false);
    }
  }
  const torch::optim::AdamOptions adam(o.lr);
  impl->critic_opt =
      std::make_unique<nn::ForeachAdam>(impl->critic->parameters(), adam);
  std::vector<Tensor> actor_params = impl->pi0->parameters();
  for (const Tensor& p : impl->best_response->parameters()) {
    actor_params.push_back(p);
  }
  impl->actor_opt = std::make_unique<nn::ForeachAdam>(actor_params, adam);
  impl->opponent_opt = std::make_unique<nn::ForeachAdam>(
      impl->opponent_model->parameters(), adam);
  for (auto* v : {&impl->loss_q, &impl->loss_pi0, &impl->loss_br,
                  &impl->loss_aux, &impl->loss_opp}) {
    v->assign(n, std::nan(""));
  }
  impl->last_obs.assign(n * od, 0.0f);
  return std::unique_ptr<Gr2Learner>(new Gr2Learner(std::move(impl)));
}

void Gr2Learner::Act(const std::vector<const float*>& observation,
                     int num_copies, bool deterministic,
                     std::vector<std::vector<int64_t>>* discrete,
                     std::vector<std::vector<float>>* continuous) {
  Impl& m = *impl_;
  if (num_copies < 1) return;
  for (int a = 0; a < m.n; ++a) {
    std::copy(observation[a], observation[a] + m.od,
              m.last_obs.begin() + a * m.od);
  }
  Tensor y;
  {
    torch::NoGradGuard no_grad;
    if (!deterministic && m.schedule.warming_up()) {
      y = m.Uniform({m.n, num_copies, m.d});
    } else {
      Tensor obs = m.ObsTensor(observation, num_copies);
      y = m.PolicyAction(m.RollOut(obs, !deterministic), !deterministic).first;
      if (!deterministic && m.options.explore_noise > 0) {
        y = (y + m.options.explore_noise * m.Randn(y.sizes())).clamp(-1, 1);
      }
    }
    y = y.contiguous();
  }
  const float* p = y.data_ptr<float>();
  for (int a = 0; a < m.n; ++a) {
    std::vector<float>& out = (*continuous)[a];
    for (int c = 0; c < num_copies; ++c) {
      for (int64_t k = 0; k < m.d; ++k) {
        const float v = p[(a * num_copies + c) * m.d + k];
        out[c * m.d + k] =
            std::clamp(m.low[k] + (v + 1.0f) * 0.5f * (m.high[k] - m.low[k]),
                       m.low[k], m.high[k]);
      }
    }
  }
}

void Gr2Learner::Learn(const TransitionBatch& batch) {
  Impl& m = *impl_;
  if (!m.status.ok()) return;
  for (int c = 0; c < batch.num_copies; ++c) {
    const int64_t slot = m.buffer.Push();
    float* obs = m.buffer.mutable_row(kObs, slot);
    float* act = m.buffer.mutable_row(kAction, slot);
    float* rew = m.buffer.mutable_row(kReward, slot);
    float* next = m.buffer.mutable_row(kNextObs, slot);
    for (int a = 0; a < m.n; ++a) {
      std::copy(batch.observation[a] + c * m.od,
                batch.observation[a] + (c + 1) * m.od, obs + a * m.od);
      std::copy(batch.next_observation[a] + c * m.od,
                batch.next_observation[a] + (c + 1) * m.od, next + a * m.od);
      for (int64_t k = 0; k < m.d; ++k) {
        // Stored in the normalised (-1, 1) space the networks work in.
        const float x = batch.continuous_action[a][c * m.d + k];
        act[a * m.d + k] =
            2.0f * (x - m.low[k]) / (m.high[k] - m.low[k]) - 1.0f;
      }
      rew[a] = static_cast<float>(batch.reward[a][c] * m.options.reward_scale);
    }
    m.buffer.mutable_row(kDone, slot)[0] = batch.terminated[c] ? 1.0f : 0.0f;
  }
  // Updates wait for a full minibatch in the replay, as well as warm-up.
  const bool ready = m.buffer.size() >= m.options.batch_size;
  int64_t due = m.schedule.Record(batch.num_copies, ready);
  if (m.schedule.warming_up() || !ready) return;
  try {
    for (; due > 0; --due) m.Update();
    m.RefreshLevelActions();
  } catch (const std::exception& e) {
    m.status = absl::InternalError(absl::StrCat("gr2 update: ", e.what()));
  }
}

void Gr2Learner::Impl::Update() {
  const int64_t B = options.batch_size;
  ReplayBuffer::Batch sample;
  if (!buffer.Sample(B, rng, &sample).ok()) return;
  auto field = [&](int f, int64_t width) {
    // [B, n * width] -> [n, B, width]
    return torch::from_blob(sample.fields[f].data(), {B, n, width},
                            torch::kFloat32)
        .permute({1, 0, 2})
        .contiguous();
  };
  const Tensor obs = field(kObs, od);
  const Tensor act = field(kAction, d);
  const Tensor rew = field(kReward, 1);
  const Tensor next_obs = field(kNextObs, od);
  const Tensor done =
      torch::from_blob(sample.fields[kDone].data(), {1, B, 1}, torch::kFloat32)
          .clone();
  // a^-i: the mean of the other agents' replayed actions.
  const Tensor opp_mean = (act.sum(0, true) - act) / (n - 1);

  // Critic: Q^i(s, a^i, a^-i) -> r + gamma Q'(s', policy(s')).
  Tensor target;
  {
    torch::NoGradGuard no_grad;
    auto [next_a, next_opp] = PolicyAction(RollOut(next_obs, false), false);
    target = rew + options.gamma * (1.0 - done) *
                       Q(critic_target, next_obs, next_a, next_opp);
  }
  Tensor q = Q(critic, obs, act, opp_mean);
  Tensor per_agent_q = (q - target).pow(2).mean({1, 2});
  critic_opt->zero_grad();
  per_agent_q.sum().backward();
  critic_opt->step();

  // Level-0 policy: soft actor against Q with the replayed opponents.
  Tensor out = pi0->forward(obs);
  Tensor mean = out.narrow(-1, 0, d);
  Tensor log_std = out.narrow(-1, d, d).clamp(kLogStdMin, kLogStdMax);
  nn::TanhGaussianSample s0 =
      nn::TanhGaussianFromNoise(mean, log_std, Randn(mean.sizes()));
  Tensor per_agent_pi0 = (options.alpha * s0.log_prob.unsqueeze(-1) -
                          Q(critic, obs, s0.action, opp_mean))
                             .mean({1, 2});

  // Best response mu^i(s, a^-i): maximise Q^i over replayed opponents'
  // actions and uniform ones, so deep roll-outs query it where it learned.
  Tensor obs2 = torch::cat({obs, obs}, 1);
  Tensor opp2 = torch::cat({opp_mean, Uniform(opp_mean.sizes())}, 1);
  Tensor br = BestResponse(torch::cat({obs2, opp2}, -1));
  Tensor per_agent_br = -Q(critic, obs2, br, opp2).mean({1, 2});

  // Auxiliary loss: level j weakly dominates level j-2 (every mixed level
  // j >= 2 for GR2-M, level k for GR2-L); only mu's last step is trained.
  Tensor per_agent_aux = torch::zeros({n});
  Tensor aux_total = torch::zeros({});
  if (levels() >= 2) {
    LevelRollout<Tensor> r;
    {
      torch::NoGradGuard no_grad;
      r = RollOut(obs, true);
    }
    const int first =
        options.variant == Gr2Options::Mode::kLevel ? levels() : 2;
    for (int j = first; j <= levels(); ++j) {
      const Tensor& opp = r.opponent[j - 1];
      Tensor a_j = BestResponse(torch::cat({obs, opp}, -1));
      Tensor q_j = Q(critic, obs, a_j, opp);
      Tensor q_jm2 = Q(critic, obs, r.self[j - 2], opp);
      // Mean over agents and samples, times n = sum of per-agent means.
      aux_total = aux_total + gr2::LevelDominanceLoss(q_j, q_jm2) * n;
      per_agent_aux =
          per_agent_aux + torch::relu(q_jm2 - q_j).mean({1, 2}).detach();
    }
  }
  actor_opt->zero_grad();
  (per_agent_pi0.sum() + per_agent_br.sum() + options.aux_weight * aux_total)
      .backward();
  actor_opt->step();

  // Opponent model rho^-i(s, x): the mean over j != i of mu^j(s, x), the
  // others' best response to i playing x (centralised training).
  {
    Tensor x = torch::cat({Uniform({1, B, d}), act.mean(0, true)}, 1)
                   .expand({n, 2 * B, d});
    Tensor response;
    {
      torch::NoGradGuard no_grad;
      Tensor m = BestResponse(torch::cat({obs2, x}, -1));
      response = (m.sum(0, true) - m) / (n - 1);
    }
    Tensor pred = OpponentModel(torch::cat({obs2, x}, -1));
    Tensor per_agent_opp = (pred - response).pow(2).mean({1, 2});
    opponent_opt->zero_grad();
    per_agent_opp.sum().backward();
    opponent_opt->step();
    auto copy = [this](const Tensor& t, std::vector<double>* v) {
      Tensor c = t.detach().contiguous();
      for (int a = 0; a < n; ++a) (*v)[a] = c[a].item<float>();
    };
    copy(per_agent_q, &loss_q);
    copy(per_agent_br, &loss_br);
    copy(per_agent_aux, &loss_aux);
    copy(per_agent_opp, &loss_opp);
    copy(per_agent_pi0, &loss_pi0);
  }

  {
    torch::NoGradGuard no_grad;
    auto src = critic->parameters();
    auto dst = critic_target->parameters();
    for (size_t i = 0; i < src.size(); ++i) {
      dst[i].mul_(1.0 - options.tau).add_(src[i], options.tau);
    }
  }
  ++updates;
}

void Gr2Learner::Impl::RefreshLevelActions() {
  torch::NoGradGuard no_grad;
  Tensor obs =
      torch::from_blob(last_obs.data(), {n, 1, od}, torch::kFloat32).clone();
  LevelRollout<Tensor> r = RollOut(obs, false);
  level_actions.assign(n, std::vector<double>(levels() + 1));
  for (int j = 0; j <= levels(); ++j) {
    Tensor y = r.self[j].contiguous();
    for (int a = 0; a < n; ++a) {
      const float v = y[a][0][0].item<float>();
      level_actions[a][j] = low[0] + (v + 1.0) * 0.5 * (high[0] - low[0]);
    }
  }
}

std::vector<std::vector<double>> Gr2Learner::LevelActions(
    const std::vector<const float*>& observation) {
  Impl& m = *impl_;
  for (int a = 0; a < m.n; ++a) {
    std::copy(observation[a], observation[a] + m.od,
              m.last_obs.begin() + a * m.od);
  }
  m.RefreshLevelActions();
  return m.level_actions;
}

int64_t Gr2Learner::updates() const { return impl_->updates; }

std::vector<std::pair<std::string, double>> Gr2Learner::Metrics(
    int agent) const {
  const Impl& m = *impl_;
  std::vector<std::pair<std::string, double>> out = {
      {"loss_q", m.loss_q[agent]},     {"loss_pi0", m.loss_pi0[agent]},
      {"loss_br", m.loss_br[agent]},   {"loss_aux", m.loss_aux[agent]},
      {"loss_opp", m.loss_opp[agent]}, {"updates", double(m.updates)}};
  if (!m.level_actions.empty()) {
    for (size_t j = 0; j < m.level_actions[agent].size(); ++j) {
      out.push_back(
          {absl::StrCat("level_", j, "_action"), m.level_actions[agent][j]});
    }
  }
  return out;
}

absl::StatusOr<std::string> Gr2Learner::Save() const {
  return SaveOffPolicyState(impl_->State(), checkpoint_replay());
}

absl::Status Gr2Learner::Load(const std::string& bytes) {
  Impl& m = *impl_;
  if (absl::Status s = LoadOffPolicyState(bytes, m.State()); !s.ok()) {
    return s;
  }
  for (Tensor& p : m.critic_target->parameters()) p.set_requires_grad(false);
  return absl::OkStatus();
}

absl::Status Gr2Learner::status() const { return impl_->status; }

std::string Gr2Learner::ConfigJson() const {
  const Gr2Options& o = impl_->options;
  JsonObject j;
  j.Add("kind",
        o.variant == Gr2Options::Mode::kLevel ? "gr2_level" : "gr2_mixture");
  j.Add("level_weights", absl::Span<const double>(impl_->weights));
  j.Add("opponent_action", "mean of the other agents' actions");
  return AddParams(o, j).Build();
}

}  // namespace marl
