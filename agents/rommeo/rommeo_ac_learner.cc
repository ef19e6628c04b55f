#include "agents/rommeo/rommeo_ac_learner.h"

#include <torch/torch.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agents/rommeo/rommeo_ac_losses.h"
#include "learners/deep_joint_base.h"
#include "learners/discrete_joint_actions.h"
#include "learners/temperature_schedule.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/q_network.h"
#include "nn/tanh_gaussian.h"
#include "runtime/json.h"

namespace marl {
namespace rommeo {

torch::Tensor RegularisedValue(const torch::Tensor& q,
                               const torch::Tensor& log_rho,
                               const torch::Tensor& log_pi, double alpha) {
  return q - alpha * (log_rho + log_pi);
}

torch::Tensor RegularisedValueWithPrior(const torch::Tensor& q,
                                        const torch::Tensor& log_rho,
                                        const torch::Tensor& log_prior,
                                        const torch::Tensor& log_pi,
                                        double alpha, double prior_weight) {
  return q - alpha * log_pi - prior_weight * (log_rho - log_prior);
}

torch::Tensor RegularisedTarget(const torch::Tensor& reward,
                                const torch::Tensor& done,
                                const torch::Tensor& next_q,
                                const torch::Tensor& next_log_rho,
                                const torch::Tensor& next_log_pi, double alpha,
                                double gamma) {
  return deep::BellmanTarget(
      reward, done, RegularisedValue(next_q, next_log_rho, next_log_pi, alpha),
      gamma);
}

torch::Tensor DiscreteRegularisedValue(const torch::Tensor& q,
                                       const torch::Tensor& pi_logits,
                                       const torch::Tensor& rho_logits,
                                       double alpha,
                                       const torch::Tensor& prior_logits,
                                       double prior_weight) {
  const torch::Tensor log_pi = torch::log_softmax(pi_logits, -1);
  const torch::Tensor log_rho = torch::log_softmax(rho_logits, -1);
  // Soft value of each opponent joint action j under pi(.|s, j): [B, m].
  const torch::Tensor soft = (log_pi.exp() * (q - alpha * log_pi)).sum(-1);
  const torch::Tensor regulariser =
      prior_logits.defined()
          ? prior_weight * (log_rho - torch::log_softmax(prior_logits, -1))
          : alpha * log_rho;
  return (log_rho.exp() * (soft - regulariser)).sum(-1);
}

torch::Tensor DiscretePolicyLoss(const torch::Tensor& q,
                                 const torch::Tensor& pi_logits,
                                 const torch::Tensor& rho_logits,
                                 double alpha) {
  const torch::Tensor log_pi = torch::log_softmax(pi_logits, -1);
  const torch::Tensor weight = torch::softmax(rho_logits, -1).detach();
  const torch::Tensor per_j =
      (log_pi.exp() * (alpha * log_pi - q.detach())).sum(-1);
  return (weight * per_j).sum(-1).mean();
}

torch::Tensor DiscreteOpponentLoss(const torch::Tensor& q,
                                   const torch::Tensor& pi_logits,
                                   const torch::Tensor& rho_logits,
                                   double alpha,
                                   const torch::Tensor& prior_logits,
                                   double prior_weight) {
  return -DiscreteRegularisedValue(
              q.detach(), pi_logits.detach(), rho_logits, alpha,
              prior_logits.defined() ? prior_logits.detach() : prior_logits,
              prior_weight)
              .mean();
}

namespace {

class RommeoAcLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const RommeoAcOptions& options,
                     uint64_t seed) {
    o_ = options;
    absl::Status s = Init(spec, options.base, seed, "rommeo_ac",
                          /*allow_discrete_actions=*/true);
    if (!s.ok()) return s;
    if (num_agents() < 2) {
      return absl::InvalidArgumentError("rommeo_ac needs at least two agents");
    }
    s = ValidateParams(options);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rommeo_ac: ", s.message()));
    }
    alpha_ =
        TemperatureSchedule::Rommeo(options.alpha_min, options.alpha_initial,
                                    options.alpha_rate, options.alpha_delay);
    s = alpha_.Validate("rommeo_ac temperature");
    if (!s.ok()) return s;
    discrete_ = has_discrete();
    if (discrete_ && (options.opponent_fit != OpponentFit::kGradient ||
                      options.policy_at_replayed_partners)) {
      // Discrete agents already take rho's and pi's expectations exactly,
      // over every joint action.
      return absl::InvalidArgumentError(
          "rommeo_ac: --opponent_fit=sampled and "
          "--policy_at_replayed_partners are for Box actions; Discrete "
          "agents compute rho's and pi's objectives exactly");
    }
    if (discrete_) {
      s = SetupDiscreteTables();
      if (!s.ok()) return s;
    }
    const bool prior = options.opponent_prior_weight > 0;
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
      torch::nn::Module* policy = nullptr;
      torch::nn::Module* opponent = nullptr;
      torch::nn::Module* opponent_prior = nullptr;
      if (discrete_) {
        nn::CategoricalPolicyOptions p;
        p.obs_dim = obs_dim(i) + other_action_dim(i);  // pi(a^i | s, a^-i)
        p.num_actions = num_actions(i);
        p.hidden = options.base.hidden.sizes;
        cat_policies_.emplace_back(p, init_generator());
        policy = cat_policies_.back().ptr().get();
        nn::CategoricalPolicyOptions r;
        r.obs_dim = obs_dim(i);  // rho(a^-i | s) over joint actions
        r.num_actions = others_[i].size();
        r.hidden = options.base.hidden.sizes;
        cat_opponents_.emplace_back(r, init_generator());
        opponent = cat_opponents_.back().ptr().get();
        if (prior) {
          cat_priors_.emplace_back(r, init_generator());
          opponent_prior = cat_priors_.back().ptr().get();
        }
      } else {
        nn::TanhGaussianPolicyOptions p;
        p.obs_dim = obs_dim(i) + other_action_dim(i);  // pi(a^i | s, a^-i)
        p.action_dim = action_dim(i);
        p.hidden = options.base.hidden.sizes;
        policies_.emplace_back(p, init_generator());
        policy = policies_.back().ptr().get();
        nn::TanhGaussianPolicyOptions r;
        r.obs_dim = obs_dim(i);  // rho(a^-i | s)
        r.action_dim = other_action_dim(i);
        r.hidden = options.base.hidden.sizes;
        opponents_.emplace_back(r, init_generator());
        opponent = opponents_.back().ptr().get();
        if (prior) {
          priors_.emplace_back(r, init_generator());
          opponent_prior = priors_.back().ptr().get();
        }
      }
      policy_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          policy->parameters(), torch::optim::AdamOptions(options.policy_lr)));
      opponent_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          opponent->parameters(),
          torch::optim::AdamOptions(options.opponent_lr)));
      if (prior) {
        prior_opts_.push_back(std::make_unique<nn::ForeachAdam>(
            opponent_prior->parameters(),
            torch::optim::AdamOptions(options.opponent_lr)));
      }
    }
    JsonObject config;
    config.Add("kind", "rommeo_ac")
        .Add("actions", discrete_ ? "discrete" : "box");
    set_config(std::move(AddParams(options, config)));
    return absl::OkStatus();
  }

 protected:
  // a^-i ~ rho(.|s), then a^i ~ pi(.|s, a^-i) (eq. 3.18); the means when
  // deterministic.
  torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                       bool deterministic) override {
    const torch::Tensor& s = obs[agent];
    if (deterministic) {
      const torch::Tensor other = opponents_[agent]->deterministic(s);
      return policies_[agent]->deterministic(torch::cat({s, other}, -1));
    }
    const torch::Tensor other =
        opponents_[agent]->rsample(s, generator()).action;
    return policies_[agent]
        ->rsample(torch::cat({s, other}, -1), generator())
        .action;
  }

  // The exact marginal pi(a^i|s) = sum_j rho(j|s) pi(a^i|s, j) (eq. 3.18):
  // sampled, or its argmax when deterministic.
  torch::Tensor DiscretePolicy(int agent, const std::vector<torch::Tensor>& obs,
                               bool deterministic) override {
    torch::NoGradGuard no_grad;
    const torch::Tensor marginal = Marginal(agent, obs[agent]);
    if (deterministic) return marginal.argmax(-1);
    return nn::SampleCategorical(marginal.clamp_min(1e-30).log(), generator());
  }

  void Update(const deep::Minibatch& mb) override {
    const double alpha =
        alpha_.At(o_.alpha_clock == TemperatureClock::kUpdates ? updates()
                                                               : transitions());
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
      if (discrete_) {
        modules->emplace_back("policy" + id, cat_policies_[i].ptr().get());
        modules->emplace_back("opponent" + id, cat_opponents_[i].ptr().get());
      } else {
        modules->emplace_back("policy" + id, policies_[i].ptr().get());
        modules->emplace_back("opponent" + id, opponents_[i].ptr().get());
      }
      optimizers->emplace_back("critic" + id, critic_opts_[i].get());
      optimizers->emplace_back("policy" + id, policy_opts_[i].get());
      optimizers->emplace_back("opponent" + id, opponent_opts_[i].get());
      if (!prior_opts_.empty()) {
        torch::nn::Module* prior_module =
            discrete_
                ? static_cast<torch::nn::Module*>(cat_priors_[i].ptr().get())
                : priors_[i].ptr().get();
        modules->emplace_back("opponent_prior" + id, prior_module);
        optimizers->emplace_back("opponent_prior" + id, prior_opts_[i].get());
      }
    }
  }

 private:
  bool prior() const { return o_.opponent_prior_weight > 0; }

  // Discrete: every agent must be Discrete; per agent, the others' joint
  // actions j enumerated for exact expectations.
  absl::Status SetupDiscreteTables() {
    absl::StatusOr<std::vector<deep::OtherJointActions>> views =
        deep::OtherJointActions::EnumerateForEveryAgent(
            num_actions(), kMaxRommeoJointActions, "rommeo_ac");
    if (!views.ok()) return views.status();
    others_ = *std::move(views);
    return absl::OkStatus();
  }

  // Q(s, a, j) for all own actions a and others' joint actions j:
  // [B, m, k].
  torch::Tensor QTable(nn::QNetwork& critic, int i, const torch::Tensor& s) {
    return others_[i].QTable(critic, s).transpose(1, 2);
  }

  // pi's logits for every j: [B, m, k].
  torch::Tensor PolicyLogits(int i, const torch::Tensor& s) {
    return cat_policies_[i]->forward(nn::BroadcastConcat(
        {s.unsqueeze(1), others_[i].one_hots().unsqueeze(0)}));
  }

  // sum_j rho(j|s) pi(.|s, j): [n, k].
  torch::Tensor Marginal(int i, const torch::Tensor& s) {
    const torch::Tensor rho = torch::softmax(cat_opponents_[i]->forward(s), -1);
    const torch::Tensor pi = torch::softmax(PolicyLogits(i, s), -1);
    return (rho.unsqueeze(-1) * pi).sum(1);
  }

  void UpdateDiscrete(const deep::Minibatch& mb, int i, double alpha) {
    const torch::Tensor& s = mb.obs[i];
    const torch::Tensor replayed_others = deep::ConcatOthers(mb.action, i);
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor& s1 = mb.next_obs[i];
      const torch::Tensor next_value = DiscreteRegularisedValue(
          QTable(target_critics_[i], i, s1), PolicyLogits(i, s1),
          cat_opponents_[i]->forward(s1), alpha,
          prior() ? cat_priors_[i]->forward(s1) : torch::Tensor(),
          o_.opponent_prior_weight);
      y = deep::BellmanTarget(mb.reward[i], mb.done, next_value,
                              base_options().gamma);
    }
    const torch::Tensor q =
        critics_[i]->forward(s, mb.action[i], replayed_others).squeeze(-1);
    const torch::Tensor critic_loss = 0.5 * (q - y).pow(2).mean();
    critic_opts_[i]->zero_grad();
    critic_loss.backward();
    critic_opts_[i]->step();

    torch::Tensor prior_logits;
    if (prior()) {
      const torch::Tensor joint = others_[i].Index(replayed_others);
      const torch::Tensor prior_loss =
          -nn::CategoricalLogProb(cat_priors_[i]->forward(s), joint).mean();
      prior_opts_[i]->zero_grad();
      prior_loss.backward();
      prior_opts_[i]->step();
      torch::NoGradGuard no_grad;
      prior_logits = cat_priors_[i]->forward(s);
      SetMetric(i, "opponent_prior_loss", prior_loss.item<double>());
    }

    torch::Tensor q_table;
    {
      torch::NoGradGuard no_grad;
      q_table = QTable(critics_[i], i, s);
    }
    // Conditional policy: soft best response to each j, weighted by rho.
    const torch::Tensor policy_loss = DiscretePolicyLoss(
        q_table, PolicyLogits(i, s), cat_opponents_[i]->forward(s), alpha);
    policy_opts_[i]->zero_grad();
    policy_loss.backward();
    policy_opts_[i]->step();

    // Opponent model: rho ∝ P exp(soft value of j), pi held fixed.
    torch::Tensor pi_logits;
    {
      torch::NoGradGuard no_grad;
      pi_logits = PolicyLogits(i, s);
    }
    const torch::Tensor rho_logits = cat_opponents_[i]->forward(s);
    const torch::Tensor opponent_loss =
        DiscreteOpponentLoss(q_table, pi_logits, rho_logits, alpha,
                             prior_logits, o_.opponent_prior_weight);
    opponent_opts_[i]->zero_grad();
    opponent_loss.backward();
    opponent_opts_[i]->step();

    SetMetric(i, "critic_loss", critic_loss.item<double>());
    SetMetric(i, "policy_loss", policy_loss.item<double>());
    SetMetric(i, "opponent_loss", opponent_loss.item<double>());
    SetMetric(i, "q_mean", q.mean().item<double>());
    torch::NoGradGuard no_grad;
    SetMetric(i, "opponent_entropy",
              nn::CategoricalEntropy(rho_logits).mean().item<double>());
    SetMetric(i, "opponent_greedy",
              rho_logits.argmax(-1).to(torch::kDouble).mean().item<double>());
    SetMetric(
        i, "policy_greedy",
        Marginal(i, s).argmax(-1).to(torch::kDouble).mean().item<double>());
  }

  void UpdateBox(const deep::Minibatch& mb, int i, double alpha) {
    const torch::Tensor& s = mb.obs[i];
    const torch::Tensor replayed_others = deep::ConcatOthers(mb.action, i);
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor& s1 = mb.next_obs[i];
      nn::TanhGaussianSample other = opponents_[i]->rsample(s1, generator());
      nn::TanhGaussianSample own = policies_[i]->rsample(
          torch::cat({s1, other.action}, -1), generator());
      const torch::Tensor next_q =
          target_critics_[i]->forward(s1, own.action, other.action).squeeze(-1);
      if (prior()) {
        y = deep::BellmanTarget(
            mb.reward[i], mb.done,
            RegularisedValueWithPrior(
                next_q, other.log_prob, priors_[i]->log_prob(s1, other.action),
                own.log_prob, alpha, o_.opponent_prior_weight),
            base_options().gamma);
      } else {
        y = RegularisedTarget(mb.reward[i], mb.done, next_q, other.log_prob,
                              own.log_prob, alpha, base_options().gamma);
      }
    }
    const torch::Tensor q =
        critics_[i]->forward(s, mb.action[i], replayed_others).squeeze(-1);
    const torch::Tensor critic_loss = 0.5 * (q - y).pow(2).mean();
    critic_opts_[i]->zero_grad();
    critic_loss.backward();
    critic_opts_[i]->step();

    if (prior()) {
      const torch::Tensor prior_loss =
          -priors_[i]->log_prob(s, replayed_others).mean();
      prior_opts_[i]->zero_grad();
      prior_loss.backward();
      prior_opts_[i]->step();
      SetMetric(i, "opponent_prior_loss", prior_loss.item<double>());
    }

    // Conditional policy: best response (soft) to the modelled opponent,
    // and optionally to the partners' replayed actions too.
    torch::Tensor policy_s = s;
    torch::Tensor other_fixed;
    {
      torch::NoGradGuard no_grad;
      other_fixed = opponents_[i]->rsample(s, generator()).action;
      if (o_.policy_at_replayed_partners) {
        policy_s = torch::cat({s, s}, 0);
        other_fixed = torch::cat({other_fixed, replayed_others}, 0);
      }
    }
    nn::TanhGaussianSample own = policies_[i]->rsample(
        torch::cat({policy_s, other_fixed}, -1), generator());
    const torch::Tensor policy_loss =
        (alpha * own.log_prob -
         critics_[i]->forward(policy_s, own.action, other_fixed).squeeze(-1))
            .mean();
    policy_opts_[i]->zero_grad();
    policy_loss.backward();
    policy_opts_[i]->step();

    // Opponent model: rho ∝ P exp(soft value of a^-i), the value taken
    // under the conditional policy (eq. 3.14-3.16); only rho steps. Fitted
    // to that closed form directly (kSampled), or along the gradient of the
    // regularised value at its own samples (kGradient); with kSampled the
    // samples below only feed the metrics, so they build no graph.
    std::optional<torch::NoGradGuard> metrics_only;
    if (o_.opponent_fit == OpponentFit::kSampled) {
      const torch::Tensor opponent_loss = FitOpponentToClosedForm(s, i, alpha);
      SetMetric(i, "opponent_loss", opponent_loss.item<double>());
      metrics_only.emplace();
    }
    nn::TanhGaussianSample other = opponents_[i]->rsample(s, generator());
    nn::TanhGaussianSample own2 =
        policies_[i]->rsample(torch::cat({s, other.action}, -1), generator());
    if (o_.opponent_fit == OpponentFit::kGradient) {
      const torch::Tensor q2 =
          critics_[i]->forward(s, own2.action, other.action).squeeze(-1);
      const torch::Tensor value =
          prior()
              ? RegularisedValueWithPrior(
                    q2, other.log_prob, priors_[i]->log_prob(s, other.action),
                    own2.log_prob, alpha, o_.opponent_prior_weight)
              : RegularisedValue(q2, other.log_prob, own2.log_prob, alpha);
      const torch::Tensor opponent_loss = -value.mean();
      opponent_opts_[i]->zero_grad();
      opponent_loss.backward();
      opponent_opts_[i]->step();
      SetMetric(i, "opponent_loss", opponent_loss.item<double>());
    }

    SetMetric(i, "critic_loss", critic_loss.item<double>());
    SetMetric(i, "policy_loss", policy_loss.item<double>());
    SetMetric(i, "q_mean", q.mean().item<double>());
    // Where the policies are and how broad (normalised units), for
    // diagnosing premature commitment; no random draws, so logging does not
    // change training.
    torch::NoGradGuard no_grad;
    SetMetric(i, "opponent_mean", other.action.mean().item<double>());
    SetMetric(i, "opponent_std", other.action.std().item<double>());
    SetMetric(i, "policy_mean", own2.action.mean().item<double>());
    SetMetric(i, "policy_std", own2.action.std().item<double>());
    const torch::Tensor greedy_other = opponents_[i]->deterministic(s);
    SetMetric(i, "opponent_greedy", greedy_other.mean().item<double>());
    SetMetric(i, "policy_greedy",
              policies_[i]
                  ->deterministic(torch::cat({s, greedy_other}, -1))
                  .mean()
                  .item<double>());
  }

  // --opponent_fit=sampled: one weighted maximum-likelihood step of rho
  // towards rho*(a^-i|s) ∝ P(a^-i|s) exp(V(s, a^-i) / R), V the soft value
  // under pi(.|s, a^-i) (one sample) and R the regulariser's weight (alpha,
  // or opponent_prior_weight with a prior), at K candidates drawn uniformly
  // in the action box: their self-normalised weights estimate rho*, whatever
  // basin it lies in. Returns the loss.
  torch::Tensor FitOpponentToClosedForm(const torch::Tensor& s, int i,
                                        double alpha) {
    const int64_t batch = s.size(0);
    const int64_t k = o_.opponent_candidates;
    const deep::UniformCandidates c =
        deep::DrawUniformCandidates(s, k, other_action_dim(i), generator());
    const torch::Tensor& s_rep = c.states;
    const torch::Tensor& candidates = c.actions;
    torch::Tensor soft, log_prior;
    {
      torch::NoGradGuard no_grad;
      nn::TanhGaussianSample own = policies_[i]->rsample(
          torch::cat({s_rep, candidates}, -1), generator());
      soft = (critics_[i]->forward(s_rep, own.action, candidates).squeeze(-1) -
              alpha * own.log_prob)
                 .view({batch, k});
      if (prior()) {
        log_prior = priors_[i]->log_prob(s_rep, candidates).view({batch, k});
      }
    }
    // A zero temperature is the limit: all weight on the best candidate.
    const double scale = prior() ? o_.opponent_prior_weight : alpha;
    const torch::Tensor loss = deep::ClosedFormFitLoss(
        soft, opponents_[i]->log_prob(s_rep, candidates).view({batch, k}),
        std::max(scale, 1e-8), log_prior);
    opponent_opts_[i]->zero_grad();
    loss.backward();
    opponent_opts_[i]->step();
    return loss;
  }

  RommeoAcOptions o_;
  TemperatureSchedule alpha_;
  bool discrete_ = false;
  std::vector<nn::QNetwork> critics_, target_critics_;
  // Box agents.
  std::vector<nn::TanhGaussianPolicy> policies_, opponents_, priors_;
  // Discrete agents.
  std::vector<nn::CategoricalPolicy> cat_policies_, cat_opponents_, cat_priors_;
  // Discrete: each agent's enumeration of the others' joint actions.
  std::vector<deep::OtherJointActions> others_;
  std::vector<std::unique_ptr<torch::optim::Adam>> critic_opts_, policy_opts_,
      opponent_opts_, prior_opts_;
};

}  // namespace
}  // namespace rommeo

absl::StatusOr<std::unique_ptr<JointLearner>> CreateRommeoAcLearner(
    const EnvSpec& spec, const RommeoAcOptions& options, uint64_t seed) {
  return deep::SetUpLearner<rommeo::RommeoAcLearner>(spec, options, seed);
}

}  // namespace marl
