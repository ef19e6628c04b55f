#include "agents/gr2/gr2_learner.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/gr2/gr2_math.h"
#include "agents/gr2/gr2_networks.h"
#include "learners/deep_joint_base.h"
#include "nn/adam.h"
#include "nn/q_network.h"
#include "nn/stacked_mlp.h"
#include "nn/tanh_gaussian.h"
#include "runtime/json.h"

namespace marl {
namespace {

using torch::Tensor;

constexpr double kLogStdMin = -5.0;
constexpr double kLogStdMax = 2.0;

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

absl::StatusOr<DeepJointParams> Gr2BaseParams(
    const EnvSpec& spec, const Gr2Options& o,
    std::vector<double>* level_weights) {
  if (spec.num_agents() < 2) {
    return absl::InvalidArgumentError("gr2: needs at least 2 agents");
  }
  absl::Status s = ValidateGr2Options(o);
  if (!s.ok()) return s;
  level_weights->clear();
  if (o.variant == Gr2Options::Mode::kMixture) {
    *level_weights = *gr2::PoissonLevelWeights(o.poisson_mean, o.level);
  }
  DeepJointParams base;
  base.batch_size = o.batch_size;
  base.buffer_size = o.buffer_size;
  base.warmup = o.warmup;
  base.update_ratio = o.update_ratio;
  base.gamma = o.gamma;
  return base;
}

std::string Gr2AlgorithmName(const Gr2Options& o) {
  return o.variant == Gr2Options::Mode::kLevel ? absl::StrCat("gr2_l", o.level)
                                               : absl::StrCat("gr2_m", o.level);
}

namespace gr2 {
namespace {

// Box actions, on the deep joint-learner base: its replay holds each
// agent's transition (actions normalised to [-1, 1]); the networks here
// hold every agent's in one nn::StackedMlp, so tensors are [n, B, ...].
class Gr2BoxLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const Gr2Options& o, uint64_t seed) {
    options_ = o;
    absl::StatusOr<DeepJointParams> base = Gr2BaseParams(spec, o, &weights_);
    if (!base.ok()) return base.status();
    const int n = spec.num_agents();
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
    absl::Status s = Init(spec, *base, seed, Gr2AlgorithmName(o));
    if (!s.ok()) return s;
    n_ = n;
    od_ = obs_dim(0);
    d_ = action_dim(0);
    critic_ = Stacked(od_ + 2 * d_, 1);
    critic_target_ = nn::CloneTarget(critic_);
    pi0_ = Stacked(od_, 2 * d_);
    best_response_ = Stacked(od_ + d_, d_);
    opponent_model_ = Stacked(od_ + d_, d_);
    const torch::optim::AdamOptions adam(o.lr);
    critic_opt_ =
        std::make_unique<nn::ForeachAdam>(critic_->parameters(), adam);
    std::vector<Tensor> actor_params = pi0_->parameters();
    for (const Tensor& p : best_response_->parameters()) {
      actor_params.push_back(p);
    }
    actor_opt_ = std::make_unique<nn::ForeachAdam>(actor_params, adam);
    opponent_opt_ =
        std::make_unique<nn::ForeachAdam>(opponent_model_->parameters(), adam);
    if (o.level0_fit_sampled) {
      level0_value_ = Stacked(od_ + d_, 1);
      level0_value_opt_ =
          std::make_unique<nn::ForeachAdam>(level0_value_->parameters(), adam);
    }
    low_ = action.low;
    high_ = action.high;
    JsonObject j;
    j.Add("kind",
          o.variant == Gr2Options::Mode::kLevel ? "gr2_level" : "gr2_mixture");
    j.Add("level_weights", weights_);
    j.Add("opponent_action", "mean of the other agents' actions");
    j.Add("level0", o.level0_fit_sampled ? "closed form fitted at candidates"
                                         : "reparameterised gradient");
    set_config_json(AddParams(o, j).Build());
    return absl::OkStatus();
  }

 protected:
  // Each agent's deterministic level actions (env units, first action
  // element) at the last observation acted on.
  void UpdateMetricsOnRead(int agent) override {
    if (last_obs_.defined()) ReportLevels();
  }

  Tensor Policy(int agent, const std::vector<Tensor>& obs,
                bool deterministic) override {
    return BoxPolicies(obs, deterministic)[agent];
  }

  // Every agent's level roll-out in one pass; exploration noise when
  // training.
  std::vector<Tensor> BoxPolicies(const std::vector<Tensor>& obs,
                                  bool deterministic) override {
    last_obs_ = torch::stack(obs, 0).narrow(1, 0, 1).clone();  // [n, 1, od]
    Tensor y = PolicyAction(RollOut(torch::stack(obs, 0), !deterministic),
                            !deterministic)
                   .first;
    if (!deterministic && options_.explore_noise > 0) {
      y = y + options_.explore_noise * Randn(y.sizes());
    }
    return y.unbind(0);
  }

  void Update(const deep::Minibatch& b) override;

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    *modules = {{"critic", critic_.ptr().get()},
                {"critic_target", critic_target_.ptr().get()},
                {"pi0", pi0_.ptr().get()},
                {"best_response", best_response_.ptr().get()},
                {"opponent_model", opponent_model_.ptr().get()}};
    *optimizers = {{"critic_opt", critic_opt_.get()},
                   {"actor_opt", actor_opt_.get()},
                   {"opponent_opt", opponent_opt_.get()}};
    if (level0_value_) {
      modules->emplace_back("level0_value", level0_value_.ptr().get());
      optimizers->emplace_back("level0_value_opt", level0_value_opt_.get());
    }
  }

 private:
  // One network per agent, stacked, from the learner's init generator.
  nn::StackedMlp Stacked(int64_t in, int64_t out) {
    nn::StackedMlpOptions s;
    s.groups = n_;
    s.in = in;
    s.hidden = options_.hidden.sizes;
    s.out = out;
    nn::StackedMlp net(s);
    net->Initialize(init_generator());
    return net;
  }

  int levels() const { return options_.level; }
  Tensor Randn(at::IntArrayRef shape) {
    return torch::randn(shape, generator(), torch::kFloat32);
  }
  Tensor Uniform(at::IntArrayRef shape) {
    return deep::UniformActions(shape, generator());
  }
  Tensor Q(nn::StackedMlp& net, const Tensor& obs, const Tensor& a,
           const Tensor& a_opp) {
    return net->forward(torch::cat({obs, a, a_opp}, -1));
  }
  // best_response and opponent_model act through a tanh.
  Tensor BestResponse(const Tensor& x) {
    return torch::tanh(best_response_->forward(x));
  }
  Tensor OpponentModel(const Tensor& x) {
    return torch::tanh(opponent_model_->forward(x));
  }

  // Level 0..k of every agent at obs [n, B, od]; level 0 sampled when
  // stochastic, else tanh(mean).
  LevelRollout<Tensor> RollOut(const Tensor& obs, bool stochastic) {
    Tensor out = pi0_->forward(obs);
    Tensor mean = out.narrow(-1, 0, d_);
    Tensor log_std = out.narrow(-1, d_, d_).clamp(kLogStdMin, kLogStdMax);
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
    return RollOutLevels(levels(), self0, opp0, br_self, br_opp);
  }

  // The action the policy plays (normalised) and the opponents' action it
  // answers (for the critic's bootstrap).
  std::pair<Tensor, Tensor> PolicyAction(const LevelRollout<Tensor>& r,
                                         bool sample_level) {
    const int k = levels();
    const Tensor& opp = r.opponent[std::max(k - 1, 0)];
    if (options_.variant == Gr2Options::Mode::kLevel) return {r.self[k], opp};
    Tensor self = torch::stack(r.self, 0);  // [k+1, n, B, d]
    Tensor others = torch::stack(r.opponent, 0);
    Tensor w =
        torch::tensor(std::vector<float>(weights_.begin(), weights_.end()));
    if (sample_level) {
      const int64_t rows = self.size(1) * self.size(2);
      Tensor level = torch::multinomial(w, rows, true, generator())
                         .view({1, self.size(1), self.size(2), 1})
                         .expand({1, self.size(1), self.size(2), d_});
      return {self.gather(0, level).squeeze(0),
              others.gather(0, level).squeeze(0)};
    }
    Tensor wv = w.view({-1, 1, 1, 1});
    return {(self * wv).sum(0), (others * wv).sum(0)};
  }

  // --level0_fit_sampled: one regression step of Qbar(s, a) towards
  // Q(s, a, a^-i) at the replayed a^-i, for the replayed and uniform own a,
  // so Qbar converges to the expectation over the replayed opponents.
  void UpdateLevel0Value(const Tensor& obs, const Tensor& act,
                         const Tensor& opp_mean) {
    const Tensor obs2 = torch::cat({obs, obs}, 1);
    const Tensor own2 = torch::cat({act, Uniform(act.sizes())}, 1);
    Tensor target;
    {
      torch::NoGradGuard no_grad;
      target = Q(critic_, obs2, own2, torch::cat({opp_mean, opp_mean}, 1));
    }
    const Tensor loss =
        (level0_value_->forward(torch::cat({obs2, own2}, -1)) - target)
            .pow(2)
            .mean({1, 2})
            .sum();
    level0_value_opt_->zero_grad();
    loss.backward();
    level0_value_opt_->step();
  }

  // Per agent, pi0's loss [n]: the reparameterised soft-actor loss against
  // Q at the replayed opponents, or with --level0_fit_sampled the weighted
  // maximum-likelihood fit to softmax(Qbar(s, .) / alpha) at uniform
  // candidates.
  Tensor Level0Loss(const Tensor& obs, const Tensor& opp_mean) {
    if (!level0_value_) {
      Tensor out = pi0_->forward(obs);
      Tensor mean = out.narrow(-1, 0, d_);
      Tensor log_std = out.narrow(-1, d_, d_).clamp(kLogStdMin, kLogStdMax);
      nn::TanhGaussianSample s0 =
          nn::TanhGaussianFromNoise(mean, log_std, Randn(mean.sizes()));
      return (options_.alpha * s0.log_prob.unsqueeze(-1) -
              Q(critic_, obs, s0.action, opp_mean))
          .mean({1, 2});
    }
    const int64_t B = obs.size(1);
    const int64_t k = options_.level0_candidates;
    const deep::UniformCandidates c = deep::DrawUniformCandidates(
        obs.reshape({n_ * B, od_}), k, d_, generator());
    const Tensor states = c.states.view({n_, B * k, od_});
    const Tensor candidates = c.actions.view({n_, B * k, d_});
    Tensor value;
    {
      torch::NoGradGuard no_grad;
      value = level0_value_->forward(torch::cat({states, candidates}, -1));
    }
    const Tensor out = pi0_->forward(states);
    const Tensor log_q = nn::TanhGaussianLogProb(
        out.narrow(-1, 0, d_),
        out.narrow(-1, d_, d_).clamp(kLogStdMin, kLogStdMax),
        nn::AtanhClamped(candidates));
    std::vector<Tensor> per_agent;
    for (int a = 0; a < n_; ++a) {
      per_agent.push_back(
          deep::ClosedFormFitLoss(value[a].view({B, k}), log_q[a].view({B, k}),
                                  std::max(options_.alpha, 1e-8)));
    }
    return torch::stack(per_agent);
  }

  // The greedy level actions at the last acted observation, as metrics.
  void ReportLevels() {
    torch::NoGradGuard no_grad;
    LevelRollout<Tensor> r = RollOut(last_obs_, false);
    for (int j = 0; j <= levels(); ++j) {
      Tensor y = r.self[j].contiguous();
      for (int a = 0; a < n_; ++a) {
        const double v = y[a][0][0].item<float>();
        SetMetric(a, absl::StrCat("level_", j, "_action"),
                  low_[0] + (v + 1.0) * 0.5 * (high_[0] - low_[0]));
      }
    }
  }

  Gr2Options options_;
  int n_ = 0;
  int64_t od_ = 0, d_ = 0;
  std::vector<float> low_, high_;  // [d]
  std::vector<double> weights_;    // GR2-M's weights of levels 0..k
  nn::StackedMlp critic_{nullptr}, critic_target_{nullptr}, pi0_{nullptr},
      best_response_{nullptr}, opponent_model_{nullptr};
  // Qbar^i(s, a): only with --level0_fit_sampled.
  nn::StackedMlp level0_value_{nullptr};
  std::unique_ptr<torch::optim::Adam> critic_opt_, actor_opt_, opponent_opt_,
      level0_value_opt_;
  Tensor last_obs_;  // [n, 1, od]: the first copy of the last acted batch
};

void Gr2BoxLearner::Update(const deep::Minibatch& b) {
  const int n = n_;
  const int64_t B = b.done.size(0);
  const Tensor obs = torch::stack(b.obs, 0);  // [n, B, od]
  const Tensor act = torch::stack(b.action, 0);
  const Tensor rew =
      torch::stack(b.reward, 0).unsqueeze(-1) * options_.reward_scale;
  const Tensor next_obs = torch::stack(b.next_obs, 0);
  const Tensor done = b.done.view({1, B, 1});
  // a^-i: the mean of the other agents' replayed actions.
  const Tensor opp_mean = (act.sum(0, true) - act) / (n - 1);

  // Critic: Q^i(s, a^i, a^-i) -> r + gamma Q'(s', policy(s')).
  Tensor target;
  {
    torch::NoGradGuard no_grad;
    auto [next_a, next_opp] = PolicyAction(RollOut(next_obs, false), false);
    target = deep::BellmanTarget(rew, done,
                                 Q(critic_target_, next_obs, next_a, next_opp),
                                 options_.gamma);
  }
  Tensor q = Q(critic_, obs, act, opp_mean);
  Tensor per_agent_q = (q - target).pow(2).mean({1, 2});
  critic_opt_->zero_grad();
  per_agent_q.sum().backward();
  critic_opt_->step();

  // Level-0 policy: soft actor against Q with the replayed opponents, or
  // fitted to its closed form.
  if (level0_value_) UpdateLevel0Value(obs, act, opp_mean);
  Tensor per_agent_pi0 = Level0Loss(obs, opp_mean);

  // Best response mu^i(s, a^-i): maximise Q^i over replayed opponents'
  // actions and uniform ones, so deep roll-outs query it where it learned.
  Tensor obs2 = torch::cat({obs, obs}, 1);
  Tensor opp2 = torch::cat({opp_mean, Uniform(opp_mean.sizes())}, 1);
  Tensor br = BestResponse(torch::cat({obs2, opp2}, -1));
  Tensor per_agent_br = -Q(critic_, obs2, br, opp2).mean({1, 2});

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
        options_.variant == Gr2Options::Mode::kLevel ? levels() : 2;
    for (int j = first; j <= levels(); ++j) {
      const Tensor& opp = r.opponent[j - 1];
      Tensor a_j = BestResponse(torch::cat({obs, opp}, -1));
      Tensor q_j = Q(critic_, obs, a_j, opp);
      Tensor q_jm2 = Q(critic_, obs, r.self[j - 2], opp);
      // Mean over agents and samples, times n = sum of per-agent means.
      aux_total = aux_total + LevelDominanceLoss(q_j, q_jm2) * n;
      per_agent_aux =
          per_agent_aux + torch::relu(q_jm2 - q_j).mean({1, 2}).detach();
    }
  }
  actor_opt_->zero_grad();
  (per_agent_pi0.sum() + per_agent_br.sum() + options_.aux_weight * aux_total)
      .backward();
  actor_opt_->step();

  // Opponent model rho^-i(s, x): the mean over j != i of mu^j(s, x), the
  // others' best response to i playing x (centralised training).
  Tensor x = torch::cat({Uniform({1, B, d_}), act.mean(0, true)}, 1)
                 .expand({n, 2 * B, d_});
  Tensor response;
  {
    torch::NoGradGuard no_grad;
    Tensor m = BestResponse(torch::cat({obs2, x}, -1));
    response = (m.sum(0, true) - m) / (n - 1);
  }
  Tensor pred = OpponentModel(torch::cat({obs2, x}, -1));
  Tensor per_agent_opp = (pred - response).pow(2).mean({1, 2});
  opponent_opt_->zero_grad();
  per_agent_opp.sum().backward();
  opponent_opt_->step();

  nn::PolyakUpdate(*critic_target_, *critic_, options_.tau);

  const Tensor losses = torch::stack({per_agent_q, per_agent_pi0, per_agent_br,
                                      per_agent_aux, per_agent_opp})
                            .detach()
                            .to(torch::kFloat64)
                            .contiguous();  // [5, n]
  const double* l = losses.data_ptr<double>();
  for (int a = 0; a < n; ++a) {
    SetMetric(a, "loss_q", l[a]);
    SetMetric(a, "loss_pi0", l[n + a]);
    SetMetric(a, "loss_br", l[2 * n + a]);
    SetMetric(a, "loss_aux", l[3 * n + a]);
    SetMetric(a, "loss_opp", l[4 * n + a]);
  }
}

}  // namespace
}  // namespace gr2

absl::StatusOr<std::unique_ptr<JointLearner>> CreateGr2BoxLearner(
    const EnvSpec& spec, const Gr2Options& options, uint64_t seed) {
  return deep::SetUpLearner<gr2::Gr2BoxLearner>(spec, options, seed);
}

}  // namespace marl
