#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_learner.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agents/probabilistic_balancing_q/probabilistic_balancing_q_losses.h"
#include "learners/deep_joint_base.h"
#include "nn/adam.h"
#include "nn/q_network.h"
#include "nn/tanh_gaussian.h"
#include "runtime/json.h"

namespace marl {
namespace pbq {

using Proposal = ProbabilisticBalancingQOptions::Proposal;
using Marginal = ProbabilisticBalancingQOptions::Marginal;

double UniformLogPrior(int64_t dim) {
  return -static_cast<double>(dim) * std::log(2.0);
}

torch::Tensor QLoss(const torch::Tensor& q, const torch::Tensor& reward,
                    const torch::Tensor& done, const torch::Tensor& next_value,
                    double gamma) {
  const torch::Tensor target =
      deep::BellmanTarget(reward, done, next_value, gamma).detach();
  return 0.5 * (q - target).pow(2).mean();
}

torch::Tensor VariationalMarginal(const torch::Tensor& q,
                                  const torch::Tensor& log_rho,
                                  double log_prior, double beta_opponent) {
  return (q - (log_rho - log_prior) / beta_opponent).mean(-1);
}

torch::Tensor ImportanceMarginal(const torch::Tensor& q,
                                 const torch::Tensor& log_proposal,
                                 double log_prior, double beta_opponent) {
  const double log_k = std::log(static_cast<double>(q.size(-1)));
  const torch::Tensor log_w = beta_opponent * q + log_prior - log_proposal;
  return (torch::logsumexp(log_w, -1) - log_k) / beta_opponent;
}

torch::Tensor ValueTarget(const torch::Tensor& marginal,
                          const torch::Tensor& log_pi, double log_prior,
                          double beta) {
  return marginal - (log_pi - log_prior) / beta;
}

torch::Tensor ValueLoss(const torch::Tensor& value,
                        const torch::Tensor& target) {
  return 0.5 * (value - target.detach()).pow(2).mean();
}

torch::Tensor OpponentLoss(const torch::Tensor& q, const torch::Tensor& log_rho,
                           double log_prior, double beta_opponent) {
  return (log_rho - beta_opponent * q - log_prior).mean();
}

torch::Tensor PolicyLoss(const torch::Tensor& log_pi,
                         const torch::Tensor& marginal,
                         const torch::Tensor& value, double log_prior,
                         double beta) {
  return (log_pi - log_prior - beta * marginal + beta * value.detach()).mean();
}

torch::Tensor ConsistencyResidual(const torch::Tensor& marginal,
                                  const torch::Tensor& value,
                                  const torch::Tensor& log_pi, double log_prior,
                                  double beta) {
  return 0.5 * (marginal - value - (log_pi - log_prior) / beta).pow(2).mean();
}

OpponentParticles SampleOpponentParticles(const torch::Tensor& mean,
                                          const torch::Tensor& log_std,
                                          int64_t k, Proposal proposal,
                                          at::Generator& generator) {
  const int64_t b = mean.size(0);
  const int64_t d = mean.size(-1);
  const double log_prior = UniformLogPrior(d);
  const int64_t from_rho = proposal == Proposal::kOpponentModel ? k
                           : proposal == Proposal::kPrior       ? 0
                                                                : (k + 1) / 2;
  const torch::Tensor m = mean.unsqueeze(1);
  const torch::Tensor ls = log_std.unsqueeze(1);
  std::vector<torch::Tensor> actions, log_rhos;
  if (from_rho > 0) {
    nn::TanhGaussianSample s = nn::TanhGaussianFromNoise(
        m.expand({b, from_rho, d}), ls.expand({b, from_rho, d}),
        torch::randn({b, from_rho, d}, generator));
    actions.push_back(s.action);
    log_rhos.push_back(s.log_prob);
  }
  if (k - from_rho > 0) {
    const torch::Tensor y =
        deep::UniformActions({b, k - from_rho, d}, generator);
    actions.push_back(y);
    log_rhos.push_back(nn::TanhGaussianLogProb(m, ls, nn::AtanhClamped(y)));
  }
  OpponentParticles out;
  out.action = actions.size() == 1 ? actions[0] : torch::cat(actions, 1);
  out.log_rho = log_rhos.size() == 1 ? log_rhos[0] : torch::cat(log_rhos, 1);
  if (from_rho == k) {
    out.log_proposal = out.log_rho;
  } else if (from_rho == 0) {
    out.log_proposal = torch::full_like(out.log_rho, log_prior);
  } else {
    // Balance heuristic: q = (n_rho / K) rho + (n_prior / K) P_prior.
    const double kk = static_cast<double>(k);
    out.log_proposal = torch::logaddexp(
        out.log_rho + std::log(from_rho / kk),
        torch::full_like(out.log_rho,
                         log_prior + std::log((k - from_rho) / kk)));
  }
  return out;
}

namespace {

class ProbabilisticBalancingQLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec,
                     const ProbabilisticBalancingQOptions& options,
                     uint64_t seed) {
    o_ = options;
    absl::Status s =
        Init(spec, options.base, seed, "probabilistic_balancing_q");
    if (!s.ok()) return s;
    const int n = num_agents();
    if (n < 2) {
      return absl::InvalidArgumentError(
          "probabilistic_balancing_q needs at least two agents");
    }
    s = ValidateParams(options);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("probabilistic_balancing_q: ", s.message()));
    }
    for (auto [values, name] :
         {std::pair{&options.beta_agent.values, "beta_agent"},
          std::pair{&options.beta_opponent.values, "beta_opponent"}}) {
      if (values->size() != 1 && static_cast<int>(values->size()) != n) {
        return absl::InvalidArgumentError(
            absl::StrCat("probabilistic_balancing_q: ", name,
                         " needs one value or one per agent (", n, "), got ",
                         values->size()));
      }
      for (double v : *values) {
        if (!(v != 0 && std::isfinite(v))) {
          return absl::InvalidArgumentError(absl::StrCat(
              "probabilistic_balancing_q: ", name,
              " must be finite and non-zero (its sign matters), got ", v));
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      const std::vector<double>& beta = options.beta_agent.values;
      const std::vector<double>& beta_opponent = options.beta_opponent.values;
      beta_.push_back(beta.size() == 1 ? beta[0] : beta[i]);
      beta_opponent_.push_back(beta_opponent.size() == 1 ? beta_opponent[0]
                                                         : beta_opponent[i]);
      nn::QNetworkOptions q;
      q.obs_dim = obs_dim(i);
      q.action_dim = action_dim(i);
      q.other_action_dim = other_action_dim(i);
      q.hidden = options.base.hidden.sizes;
      critics_.emplace_back(q, init_generator());
      nn::ValueNetworkOptions v;
      v.obs_dim = obs_dim(i);
      v.hidden = options.base.hidden.sizes;
      values_.emplace_back(v, init_generator());
      target_values_.push_back(nn::CloneTarget(values_.back()));
      nn::TanhGaussianPolicyOptions p;
      p.obs_dim = obs_dim(i);  // pi(a^i | s)
      p.action_dim = action_dim(i);
      p.hidden = options.base.hidden.sizes;
      policies_.emplace_back(p, init_generator());
      nn::TanhGaussianPolicyOptions r;
      r.obs_dim = obs_dim(i) + action_dim(i);  // rho(a^-i | s, a^i)
      r.action_dim = other_action_dim(i);
      r.hidden = options.base.hidden.sizes;
      opponents_.emplace_back(r, init_generator());
      auto adam = [](torch::nn::Module& m, double lr) {
        return std::make_unique<nn::ForeachAdam>(m.parameters(),
                                                 torch::optim::AdamOptions(lr));
      };
      critic_opts_.push_back(adam(*critics_.back(), options.base.critic_lr));
      value_opts_.push_back(adam(*values_.back(), options.value_lr));
      policy_opts_.push_back(adam(*policies_.back(), options.policy_lr));
      opponent_opts_.push_back(adam(*opponents_.back(), options.opponent_lr));
    }
    JsonObject config;
    // The inverse temperatures as each agent uses them.
    config.Add("kind", "probabilistic_balancing_q")
        .Add("beta_per_agent", beta_)
        .Add("beta_opponent_per_agent", beta_opponent_);
    set_config(std::move(AddParams(options, config)));
    return absl::OkStatus();
  }

 protected:
  torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                       bool deterministic) override {
    if (deterministic) return policies_[agent]->deterministic(obs[agent]);
    return policies_[agent]->rsample(obs[agent], generator()).action;
  }

  // The thesis' omega^t growth of both inverse temperatures, capped.
  double BetaScale() const {
    const double log_scale =
        static_cast<double>(updates()) * std::log(o_.beta_growth);
    return std::exp(std::min(log_scale, std::log(o_.beta_scale_max)));
  }

  // M(s, a^i) in reward units from K opponent particles; gradients reach
  // a^i through Q and through rho's input.
  torch::Tensor EstimateMarginal(int i, const torch::Tensor& s,
                                 const torch::Tensor& own, double beta_opp) {
    auto [mean, log_std] = opponents_[i]->forward(torch::cat({s, own}, -1));
    const Proposal proposal = o_.marginal == Marginal::kVariational
                                  ? Proposal::kOpponentModel
                                  : o_.proposal;
    OpponentParticles p = SampleOpponentParticles(
        mean, log_std, o_.marginal_particles, proposal, generator());
    const torch::Tensor q =
        critics_[i]
            ->forward(s.unsqueeze(1), own.unsqueeze(1), p.action)
            .squeeze(-1);
    const double log_prior = UniformLogPrior(other_action_dim(i));
    return o_.marginal == Marginal::kVariational
               ? VariationalMarginal(q, p.log_rho, log_prior, beta_opp)
               : ImportanceMarginal(q, p.log_proposal, log_prior, beta_opp);
  }

  void Update(const deep::Minibatch& mb) override {
    const double scale = BetaScale();
    for (int i = 0; i < num_agents(); ++i) {
      const double beta = beta_[i] * scale;
      const double beta_opp = beta_opponent_[i] * scale;
      const double log_prior_own = UniformLogPrior(action_dim(i));
      const double log_prior_opp = UniformLogPrior(other_action_dim(i));
      const torch::Tensor& s = mb.obs[i];
      const torch::Tensor& own = mb.action[i];

      // Q (eq. 3.56): r + gamma V'(s') from the target V.
      torch::Tensor next_v;
      {
        torch::NoGradGuard no_grad;
        next_v = target_values_[i]->forward(mb.next_obs[i]).squeeze(-1);
      }
      const torch::Tensor q =
          critics_[i]
              ->forward(s, own, deep::ConcatOthers(mb.action, i))
              .squeeze(-1);
      const torch::Tensor critic_loss =
          QLoss(q, mb.reward[i], mb.done, next_v, base_options().gamma);
      critic_opts_[i]->zero_grad();
      critic_loss.backward();
      critic_opts_[i]->step();

      // rho (eq. 3.57) at the replayed own actions, so that it is right
      // wherever the policy may move, not only where it is now.
      auto [mean, log_std] = opponents_[i]->forward(torch::cat({s, own}, -1));
      OpponentParticles rho =
          SampleOpponentParticles(mean, log_std, o_.marginal_particles,
                                  Proposal::kOpponentModel, generator());
      const torch::Tensor rho_q =
          critics_[i]
              ->forward(s.unsqueeze(1), own.unsqueeze(1), rho.action)
              .squeeze(-1);
      const torch::Tensor opponent_loss =
          OpponentLoss(rho_q, rho.log_rho, log_prior_opp, beta_opp);
      opponent_opts_[i]->zero_grad();
      opponent_loss.backward();
      opponent_opts_[i]->step();

      // pi (eq. 3.60) towards P_prior exp(beta^i M(s, .)).
      torch::Tensor v_now;
      {
        torch::NoGradGuard no_grad;
        v_now = values_[i]->forward(s).squeeze(-1);
      }
      nn::TanhGaussianSample a = policies_[i]->rsample(s, generator());
      const torch::Tensor marginal = EstimateMarginal(i, s, a.action, beta_opp);
      const torch::Tensor policy_loss =
          PolicyLoss(a.log_prob, marginal, v_now, log_prior_own, beta);
      policy_opts_[i]->zero_grad();
      policy_loss.backward();
      policy_opts_[i]->step();

      // V (eq. 3.55) at the same a^i ~ pi.
      const torch::Tensor v_target = ValueTarget(
          marginal.detach(), a.log_prob.detach(), log_prior_own, beta);
      const torch::Tensor value_loss =
          ValueLoss(values_[i]->forward(s).squeeze(-1), v_target);
      value_opts_[i]->zero_grad();
      value_loss.backward();
      value_opts_[i]->step();
      nn::PolyakUpdate(*target_values_[i], *values_[i], o_.base.tau);

      SetMetric(i, "beta", beta);
      SetMetric(i, "beta_opponent", beta_opp);
      SetMetric(i, "critic_loss", critic_loss.item<double>());
      SetMetric(i, "value_loss", value_loss.item<double>());
      SetMetric(i, "opponent_loss", opponent_loss.item<double>());
      SetMetric(i, "policy_loss", policy_loss.item<double>());
      SetMetric(i, "consistency",
                ConsistencyResidual(marginal.detach(), v_now,
                                    a.log_prob.detach(), log_prior_own, beta)
                    .item<double>());
      SetMetric(i, "q_mean", q.mean().item<double>());
      SetMetric(i, "value_mean", v_now.mean().item<double>());
      SetMetric(i, "marginal_mean", marginal.mean().item<double>());
      SetMetric(i, "log_prob", a.log_prob.mean().item<double>());
      SetMetric(i, "opponent_mean", rho.action.mean().item<double>());
    }
  }

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    for (int i = 0; i < num_agents(); ++i) {
      const std::string id = absl::StrCat(i);
      modules->emplace_back("critic" + id, critics_[i].ptr().get());
      modules->emplace_back("value" + id, values_[i].ptr().get());
      modules->emplace_back("target_value" + id, target_values_[i].ptr().get());
      modules->emplace_back("policy" + id, policies_[i].ptr().get());
      modules->emplace_back("opponent" + id, opponents_[i].ptr().get());
      optimizers->emplace_back("critic" + id, critic_opts_[i].get());
      optimizers->emplace_back("value" + id, value_opts_[i].get());
      optimizers->emplace_back("policy" + id, policy_opts_[i].get());
      optimizers->emplace_back("opponent" + id, opponent_opts_[i].get());
    }
  }

 private:
  ProbabilisticBalancingQOptions o_;
  std::vector<double> beta_, beta_opponent_;  // per agent, before scaling
  std::vector<nn::QNetwork> critics_;
  std::vector<nn::ValueNetwork> values_, target_values_;
  std::vector<nn::TanhGaussianPolicy> policies_, opponents_;
  std::vector<std::unique_ptr<torch::optim::Adam>> critic_opts_, value_opts_,
      policy_opts_, opponent_opts_;
};

}  // namespace
}  // namespace pbq

absl::StatusOr<std::unique_ptr<JointLearner>> CreateProbabilisticBalancingQ(
    const EnvSpec& spec, const ProbabilisticBalancingQOptions& options,
    uint64_t seed) {
  return deep::SetUpLearner<pbq::ProbabilisticBalancingQLearner>(spec, options,
                                                                 seed);
}

}  // namespace marl
