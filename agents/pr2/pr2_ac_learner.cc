#include "agents/pr2/pr2_ac_learner.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agents/pr2/pr2_ac_losses.h"
#include "learners/deep_joint_base.h"
#include "learners/discrete_joint_actions.h"
#include "learners/temperature_schedule.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/q_network.h"
#include "nn/svgd.h"
#include "nn/tanh_gaussian.h"
#include "runtime/json.h"

namespace marl {
namespace pr2 {

torch::Tensor SoftMarginal(const torch::Tensor& values, int64_t dim,
                           double temperature) {
  const double log_k = std::log(static_cast<double>(values.size(dim)));
  return temperature * (torch::logsumexp(values / temperature, dim) - log_k);
}

torch::Tensor MarginalQ(nn::QNetwork& q, const torch::Tensor& obs,
                        const torch::Tensor& own,
                        const torch::Tensor& particles, double temperature) {
  // Broadcast [B, 1, .] against the particles [B, K, .].
  const torch::Tensor values =
      q->forward(obs.unsqueeze(1), own.unsqueeze(1), particles).squeeze(-1);
  return SoftMarginal(values, -1, temperature);
}

torch::Tensor DiscreteMarginalQ(const torch::Tensor& q, double temperature,
                                const torch::Tensor& prior_logits) {
  if (!prior_logits.defined()) return SoftMarginal(q, -1, temperature);
  const torch::Tensor log_prior =
      torch::log_softmax(prior_logits, -1).unsqueeze(-2);
  return temperature * torch::logsumexp(q / temperature + log_prior, -1);
}

torch::Tensor DiscreteOpponentModel(const torch::Tensor& q, double temperature,
                                    const torch::Tensor& prior_logits) {
  torch::Tensor logits = q / temperature;
  if (prior_logits.defined()) {
    logits = logits + torch::log_softmax(prior_logits, -1).unsqueeze(-2);
  }
  return torch::softmax(logits, -1);
}

torch::Tensor DiscreteSoftValue(const torch::Tensor& marginal,
                                const torch::Tensor& pi_logits, double alpha) {
  const torch::Tensor log_pi = torch::log_softmax(pi_logits, -1);
  return (log_pi.exp() * (marginal - alpha * log_pi)).sum(-1);
}

torch::Tensor DiscretePolicyLoss(const torch::Tensor& marginal,
                                 const torch::Tensor& pi_logits, double alpha) {
  const torch::Tensor log_pi = torch::log_softmax(pi_logits, -1);
  return (log_pi.exp() * (alpha * log_pi - marginal.detach())).sum(-1).mean();
}

namespace {

// Turns off requires_grad of a module's parameters while it lives: a loss
// that needs gradients through a network to its input, not into its
// weights, then skips the weight-gradient products.
class NoParameterGrad {
 public:
  explicit NoParameterGrad(torch::nn::Module& module)
      : parameters_(module.parameters()) {
    for (torch::Tensor& p : parameters_) p.requires_grad_(false);
  }
  ~NoParameterGrad() {
    for (torch::Tensor& p : parameters_) p.requires_grad_(true);
  }
  NoParameterGrad(const NoParameterGrad&) = delete;
  NoParameterGrad& operator=(const NoParameterGrad&) = delete;

 private:
  std::vector<torch::Tensor> parameters_;
};

class Pr2AcLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const Pr2AcOptions& options,
                     uint64_t seed) {
    o_ = options;
    absl::Status s = Init(spec, options.base, seed, "pr2_ac",
                          /*allow_discrete_actions=*/true);
    if (!s.ok()) return s;
    if (num_agents() < 2) {
      return absl::InvalidArgumentError("pr2_ac needs at least two agents");
    }
    s = ValidateParams(options);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("pr2_ac: ", s.message()));
    }
    noise_ =
        TemperatureSchedule::Rommeo(options.noise_min, options.noise_initial,
                                    options.noise_rate, options.noise_delay);
    alpha_ =
        TemperatureSchedule::Rommeo(options.alpha, options.alpha_initial,
                                    options.alpha_rate, options.alpha_delay);
    discrete_ = has_discrete();
    if (discrete_) {
      s = SetupDiscreteTables();
      if (!s.ok()) return s;
    }
    for (int i = 0; i < num_agents(); ++i) {
      nn::QNetworkOptions q;
      q.obs_dim = obs_dim(i);
      q.action_dim = action_dim(i);  // one-hot width for Discrete agents
      q.other_action_dim = other_action_dim(i);
      q.hidden = options.base.hidden.sizes;
      critics_.emplace_back(q, init_generator());
      target_critics_.push_back(nn::CloneTarget(critics_.back()));
      critic_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          critics_.back()->parameters(),
          torch::optim::AdamOptions(options.base.critic_lr)));
      if (discrete_) {
        nn::CategoricalPolicyOptions p;
        p.obs_dim = obs_dim(i);
        p.num_actions = num_actions(i);
        p.hidden = options.base.hidden.sizes;
        cat_policies_.emplace_back(p, init_generator());
        policy_opts_.push_back(std::make_unique<nn::ForeachAdam>(
            cat_policies_.back()->parameters(),
            torch::optim::AdamOptions(options.policy_lr)));
        if (options.fit_opponent_prior) {
          nn::CategoricalPolicyOptions r;
          r.obs_dim = obs_dim(i);  // P(a^-i | s) over joint actions
          r.num_actions = joint_[i].size();
          r.hidden = options.base.hidden.sizes;
          priors_.emplace_back(r, init_generator());
          opponent_opts_.push_back(std::make_unique<nn::ForeachAdam>(
              priors_.back()->parameters(),
              torch::optim::AdamOptions(options.opponent_lr)));
        }
        continue;
      }
      nn::TanhGaussianPolicyOptions p;
      p.obs_dim = obs_dim(i);
      p.action_dim = action_dim(i);
      p.hidden = options.base.hidden.sizes;
      policies_.emplace_back(p, init_generator());
      // rho(a^-i | s, a^i) as a sampler: [s, a^i, xi] -> tanh(.) in (-1, 1).
      opponents_.push_back(nn::MakeMlp(
          obs_dim(i) + action_dim(i) + other_action_dim(i),
          options.base.hidden.sizes, other_action_dim(i), init_generator(),
          nn::Activation::kRelu, nn::Activation::kTanh));
      policy_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          policies_.back()->parameters(),
          torch::optim::AdamOptions(options.policy_lr)));
      opponent_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          opponents_.back()->parameters(),
          torch::optim::AdamOptions(options.opponent_lr)));
    }
    JsonObject config;
    config.Add("kind", "pr2_ac").Add("actions", discrete_ ? "discrete" : "box");
    if (discrete_) {
      config.Add("policy", "categorical")
          .Add("opponent_model", "closed_form")
          .Add("opponent_prior",
               options.fit_opponent_prior ? "fitted" : "uniform");
    } else {
      config.Add("policy", "tanh_gaussian")
          .Add("opponent_model", "amortised_svgd");
    }
    set_config(std::move(AddParams(options, config)));
    return absl::OkStatus();
  }

 protected:
  torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                       bool deterministic) override {
    if (deterministic) return policies_[agent]->deterministic(obs[agent]);
    torch::Tensor a = policies_[agent]->rsample(obs[agent], generator()).action;
    const double sigma = noise_.At(transitions());
    if (sigma > 0) a = a + sigma * torch::randn(a.sizes(), generator());
    return a;
  }

  // Samples pi (its entropy term is the exploration; no extra noise), or
  // its argmax when deterministic.
  torch::Tensor DiscretePolicy(int agent, const std::vector<torch::Tensor>& obs,
                               bool deterministic) override {
    if (deterministic) return cat_policies_[agent]->greedy(obs[agent]);
    return cat_policies_[agent]->sample(obs[agent], generator());
  }

  void Update(const deep::Minibatch& mb) override {
    const double alpha = alpha_.At(updates());
    for (int i = 0; i < num_agents(); ++i) {
      if (discrete_) {
        UpdateDiscrete(mb, i, alpha);
      } else {
        UpdateBox(mb, i, alpha);
      }
      nn::PolyakUpdate(*target_critics_[i], *critics_[i], o_.base.tau);
      SetMetric(i, "alpha", alpha);
    }
  }

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    for (int i = 0; i < num_agents(); ++i) {
      const std::string id = absl::StrCat(i);
      modules->emplace_back("critic" + id, critics_[i].ptr().get());
      modules->emplace_back("target_critic" + id,
                            target_critics_[i].ptr().get());
      optimizers->emplace_back("critic" + id, critic_opts_[i].get());
      optimizers->emplace_back("policy" + id, policy_opts_[i].get());
      if (discrete_) {
        modules->emplace_back("policy" + id, cat_policies_[i].ptr().get());
        if (!priors_.empty()) {
          modules->emplace_back("opponent_prior" + id, priors_[i].ptr().get());
          optimizers->emplace_back("opponent_prior" + id,
                                   opponent_opts_[i].get());
        }
        continue;
      }
      modules->emplace_back("policy" + id, policies_[i].ptr().get());
      modules->emplace_back("opponent" + id, opponents_[i].ptr().get());
      optimizers->emplace_back("opponent" + id, opponent_opts_[i].get());
    }
  }

 private:
  // Discrete: every agent must be Discrete; per agent, the enumeration of
  // the others' joint actions.
  absl::Status SetupDiscreteTables() {
    absl::StatusOr<std::vector<deep::OtherJointActions>> views =
        deep::OtherJointActions::EnumerateForEveryAgent(
            num_actions(), kMaxPr2AcJointActions, "pr2_ac");
    if (!views.ok()) return views.status();
    joint_ = *std::move(views);
    return absl::OkStatus();
  }

  // The fitted prior's logits [B, m], or undefined (uniform).
  torch::Tensor PriorLogits(int i, const torch::Tensor& s) {
    if (priors_.empty()) return {};
    torch::NoGradGuard no_grad;
    return priors_[i]->forward(s);
  }

  void UpdateDiscrete(const deep::Minibatch& mb, int i, double alpha) {
    const double t = o_.opponent_temperature;
    const torch::Tensor& s = mb.obs[i];
    const torch::Tensor replayed_others = deep::ConcatOthers(mb.action, i);
    if (!priors_.empty()) {
      const torch::Tensor joint = joint_[i].Index(replayed_others);
      const torch::Tensor prior_loss =
          -nn::CategoricalLogProb(priors_[i]->forward(s), joint).mean();
      opponent_opts_[i]->zero_grad();
      prior_loss.backward();
      opponent_opts_[i]->step();
      SetMetric(i, "opponent_prior_loss", prior_loss.item<double>());
    }
    // Critic: y = r + gamma (1 - done) sum_a' pi(a'|s') [Q'(s', a') - alpha
    // log pi(a'|s')], Q' the exact marginal of the target critic.
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor& s1 = mb.next_obs[i];
      const torch::Tensor next_marginal = DiscreteMarginalQ(
          joint_[i].QTable(target_critics_[i], s1), t, PriorLogits(i, s1));
      y = deep::BellmanTarget(
          mb.reward[i], mb.done,
          DiscreteSoftValue(next_marginal, cat_policies_[i]->forward(s1),
                            alpha),
          base_options().gamma);
    }
    const torch::Tensor q =
        critics_[i]->forward(s, mb.action[i], replayed_others).squeeze(-1);
    const torch::Tensor critic_loss = 0.5 * (q - y).pow(2).mean();
    critic_opts_[i]->zero_grad();
    critic_loss.backward();
    critic_opts_[i]->step();

    // Policy: minimise sum_a pi(a|s) (alpha log pi(a|s) - Q^i(s, a)).
    torch::Tensor q_table, prior_logits, marginal;
    {
      torch::NoGradGuard no_grad;
      q_table = joint_[i].QTable(critics_[i], s);
      prior_logits = PriorLogits(i, s);
      marginal = DiscreteMarginalQ(q_table, t, prior_logits);
    }
    const torch::Tensor logits = cat_policies_[i]->forward(s);
    const torch::Tensor policy_loss =
        DiscretePolicyLoss(marginal, logits, alpha);
    policy_opts_[i]->zero_grad();
    policy_loss.backward();
    policy_opts_[i]->step();

    SetMetric(i, "critic_loss", critic_loss.item<double>());
    SetMetric(i, "policy_loss", policy_loss.item<double>());
    SetMetric(i, "q_mean", q.mean().item<double>());
    torch::NoGradGuard no_grad;
    const torch::Tensor pi = torch::softmax(logits, -1);
    SetMetric(i, "marginal_q", (pi * marginal).sum(-1).mean().item<double>());
    SetMetric(i, "entropy",
              nn::CategoricalEntropy(logits).mean().item<double>());
    // Where the policy is (matrix games: one state, so these are exact).
    SetMetric(i, "prob_a0", pi.select(-1, 0).mean().item<double>());
    SetMetric(i, "policy_greedy",
              logits.argmax(-1).to(torch::kDouble).mean().item<double>());
    // The opponent model at the greedy own action: its most likely j.
    const torch::Tensor rho = DiscreteOpponentModel(q_table, t, prior_logits);
    const torch::Tensor greedy = logits.argmax(-1).view({-1, 1, 1});
    const torch::Tensor rho_at_greedy =
        rho.gather(1, greedy.expand({-1, 1, rho.size(2)})).squeeze(1);
    SetMetric(
        i, "opponent_greedy",
        rho_at_greedy.argmax(-1).to(torch::kDouble).mean().item<double>());
    if (!priors_.empty()) {
      SetMetric(
          i, "opponent_prior_a0",
          torch::softmax(prior_logits, -1).select(-1, 0).mean().item<double>());
    }
  }

  // k opponent particles per row: obs [B, ds], own [B, da] -> [B, k, d_-i].
  torch::Tensor Opponent(int i, const torch::Tensor& obs,
                         const torch::Tensor& own, int64_t k) {
    return Opponent(
        i, obs, own,
        torch::randn({obs.size(0), k, other_action_dim(i)}, generator()));
  }
  // The same from given noise xi [B, k, d_-i].
  torch::Tensor Opponent(int i, const torch::Tensor& obs,
                         const torch::Tensor& own, const torch::Tensor& xi) {
    const int64_t b = obs.size(0);
    const int64_t k = xi.size(1);
    return opponents_[i]->forward(
        torch::cat({obs.unsqueeze(1).expand({b, k, obs.size(1)}),
                    own.unsqueeze(1).expand({b, k, own.size(1)}), xi},
                   -1));
  }

  // The partner actions the marginal value is taken over: [B, k, d_-i],
  // rho's particles or, with --uniform_marginal, uniform draws.
  torch::Tensor MarginalParticles(int i, const torch::Tensor& obs,
                                  const torch::Tensor& own) {
    if (!o_.uniform_marginal) {
      return Opponent(i, obs, own, o_.value_particles);
    }
    return deep::UniformActions(
        {obs.size(0), o_.value_particles, other_action_dim(i)}, generator());
  }

  void UpdateBox(const deep::Minibatch& mb, int i, double alpha) {
    const double t = o_.opponent_temperature;
    const torch::Tensor& s = mb.obs[i];
    // Critic: y = r + gamma (1 - done) [Q'(s', a') - alpha log pi(a'|s')],
    // Q'(s', a') the opponent-marginalised target value.
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      nn::TanhGaussianSample next =
          policies_[i]->rsample(mb.next_obs[i], generator());
      const torch::Tensor particles =
          MarginalParticles(i, mb.next_obs[i], next.action);
      const torch::Tensor v = MarginalQ(target_critics_[i], mb.next_obs[i],
                                        next.action, particles, t) -
                              alpha * next.log_prob;
      y = deep::BellmanTarget(mb.reward[i], mb.done, v, base_options().gamma);
    }
    const torch::Tensor q =
        critics_[i]
            ->forward(s, mb.action[i], deep::ConcatOthers(mb.action, i))
            .squeeze(-1);
    const torch::Tensor critic_loss = 0.5 * (q - y).pow(2).mean();
    critic_opts_[i]->zero_grad();
    critic_loss.backward();
    critic_opts_[i]->step();

    // Opponent model: amortised SVGD towards exp(Q(s, a^i, .) / T) at
    // the replayed own actions: rho(.|s, a^i) must be right for every
    // a^i the policy might move to, not only where it is now (else the
    // marginal value cannot see a better basin).
    // One noise draw for both halves; only the updated half needs a graph.
    const torch::Tensor& own = mb.action[i];
    const int64_t half = o_.kernel_particles / 2;
    const torch::Tensor xi = torch::randn(
        {s.size(0), o_.kernel_particles, other_action_dim(i)}, generator());
    torch::Tensor kernel;
    {
      torch::NoGradGuard no_grad;
      kernel = Opponent(i, s, own, xi.narrow(1, 0, half));
    }
    const torch::Tensor update =
        Opponent(i, s, own, xi.narrow(1, half, o_.kernel_particles - half));
    nn::QNetwork& critic = critics_[i];
    const torch::Tensor grad_log_p = nn::GradLogDensity(
        [&](const torch::Tensor& x) {
          return critic->forward(s.unsqueeze(1), own.unsqueeze(1), x) / t;
        },
        kernel);
    nn::AmortizedSvgdOptions svgd;
    svgd.average_over_batch = true;
    const torch::Tensor opponent_loss =
        nn::AmortizedSvgdLoss(kernel, update, grad_log_p, svgd);
    opponent_opts_[i]->zero_grad();
    opponent_loss.backward();
    opponent_opts_[i]->step();

    // Policy: maximise Q^i(s, a^i) + alpha H(pi), a^i reparameterised
    // (gradients also reach a^i through the opponent model's input; none
    // need reach the critic's or the opponent model's weights).
    if (o_.policy_fit_sampled) {
      FitPolicyToClosedForm(i, s, alpha);
    } else {
      nn::TanhGaussianSample sample = policies_[i]->rsample(s, generator());
      NoParameterGrad frozen_critic(*critics_[i]);
      NoParameterGrad frozen_opponent(*opponents_[i]);
      const torch::Tensor particles = MarginalParticles(i, s, sample.action);
      const torch::Tensor marginal =
          MarginalQ(critics_[i], s, sample.action, particles, t);
      const torch::Tensor policy_loss =
          (alpha * sample.log_prob - marginal).mean();
      policy_opts_[i]->zero_grad();
      policy_loss.backward();
      policy_opts_[i]->step();
      SetMetric(i, "policy_loss", policy_loss.item<double>());
      SetMetric(i, "marginal_q", marginal.mean().item<double>());
      SetMetric(i, "log_prob", sample.log_prob.mean().item<double>());
    }

    SetMetric(i, "critic_loss", critic_loss.item<double>());
    SetMetric(i, "q_mean", q.mean().item<double>());
    SetMetric(i, "opponent_mean",
              torch::cat({kernel, update.detach()}, 1).mean().item<double>());
  }

  // --policy_fit_sampled: one weighted maximum-likelihood step of pi
  // towards pi*(a^i|s) ∝ exp(Q^i(s, a^i) / alpha) at uniform candidates,
  // Q^i the opponent-marginalised value (the same estimate as the critic
  // target's). marginal_q is then the best candidate's.
  void FitPolicyToClosedForm(int i, const torch::Tensor& s, double alpha) {
    const double t = o_.opponent_temperature;
    const int64_t batch = s.size(0);
    const int64_t k = o_.policy_candidates;
    const deep::UniformCandidates c =
        deep::DrawUniformCandidates(s, k, action_dim(i), generator());
    const torch::Tensor& s_rep = c.states;
    const torch::Tensor& candidates = c.actions;
    torch::Tensor marginal;
    {
      torch::NoGradGuard no_grad;
      marginal = MarginalQ(critics_[i], s_rep, candidates,
                           MarginalParticles(i, s_rep, candidates), t)
                     .view({batch, k});
    }
    const torch::Tensor log_pi =
        policies_[i]->log_prob(s_rep, candidates).view({batch, k});
    const torch::Tensor policy_loss =
        deep::ClosedFormFitLoss(marginal, log_pi, std::max(alpha, 1e-8));
    policy_opts_[i]->zero_grad();
    policy_loss.backward();
    policy_opts_[i]->step();
    SetMetric(i, "policy_loss", policy_loss.item<double>());
    SetMetric(i, "marginal_q",
              std::get<0>(marginal.max(-1)).mean().item<double>());
  }

  Pr2AcOptions o_;
  TemperatureSchedule noise_, alpha_;
  bool discrete_ = false;
  std::vector<nn::QNetwork> critics_, target_critics_;
  // Box agents.
  std::vector<nn::TanhGaussianPolicy> policies_;
  std::vector<torch::nn::Sequential> opponents_;
  // Discrete agents: policies, the optional fitted opponent priors, and per
  // agent the others' enumerated joint actions.
  std::vector<nn::CategoricalPolicy> cat_policies_, priors_;
  std::vector<deep::OtherJointActions> joint_;
  // opponent_opts_ steps the SVGD samplers (Box) or the priors (Discrete).
  std::vector<std::unique_ptr<torch::optim::Adam>> critic_opts_, policy_opts_,
      opponent_opts_;
};

}  // namespace
}  // namespace pr2

absl::StatusOr<std::unique_ptr<JointLearner>> CreatePr2AcLearner(
    const EnvSpec& spec, const Pr2AcOptions& options, uint64_t seed) {
  return deep::SetUpLearner<pr2::Pr2AcLearner>(spec, options, seed);
}

}  // namespace marl
