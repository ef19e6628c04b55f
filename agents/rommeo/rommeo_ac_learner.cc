#include "agents/rommeo/rommeo_ac_learner.h"

#include <torch/torch.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/deep_joint_base.h"
#include "agents/rommeo/rommeo_ac_losses.h"
#include "common/nn/q_network.h"
#include "common/nn/tanh_gaussian.h"
#include "common/temperature_schedule.h"

namespace marl {
namespace rommeo {

torch::Tensor RegularisedValue(const torch::Tensor& q,
                               const torch::Tensor& log_rho,
                               const torch::Tensor& log_pi, double alpha) {
  return q - alpha * (log_rho + log_pi);
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

namespace {

class RommeoAcLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const RommeoAcOptions& options,
                     uint64_t seed) {
    o_ = options;
    absl::Status s = Init(spec, options.base, seed, "rommeo_ac");
    if (!s.ok()) return s;
    if (num_agents() < 2) {
      return absl::InvalidArgumentError("rommeo_ac needs at least two agents");
    }
    if (!(options.policy_lr > 0 && options.critic_lr > 0 &&
          options.opponent_lr > 0 && options.tau > 0 && options.tau <= 1)) {
      return absl::InvalidArgumentError(
          "rommeo_ac: learning rates must be > 0 and tau in (0, 1]");
    }
    alpha_ =
        TemperatureSchedule::Rommeo(options.alpha_min, options.alpha_initial,
                                    options.alpha_rate, options.alpha_delay);
    s = alpha_.Validate("rommeo_ac temperature");
    if (!s.ok()) return s;
    for (int i = 0; i < num_agents(); ++i) {
      nn::QNetworkOptions q;
      q.obs_dim = obs_dim(i);
      q.action_dim = action_dim(i);
      q.other_action_dim = other_action_dim(i);
      q.hidden = options.hidden;
      critics_.emplace_back(q);
      target_critics_.push_back(nn::CloneTarget(critics_.back()));
      nn::TanhGaussianPolicyOptions p;
      p.obs_dim = obs_dim(i) + other_action_dim(i);  // pi(a^i | s, a^-i)
      p.action_dim = action_dim(i);
      p.hidden = options.hidden;
      policies_.emplace_back(p);
      nn::TanhGaussianPolicyOptions r;
      r.obs_dim = obs_dim(i);  // rho(a^-i | s)
      r.action_dim = other_action_dim(i);
      r.hidden = options.hidden;
      opponents_.emplace_back(r);
      critic_opts_.push_back(std::make_unique<torch::optim::Adam>(
          critics_.back()->parameters(),
          torch::optim::AdamOptions(options.critic_lr)));
      policy_opts_.push_back(std::make_unique<torch::optim::Adam>(
          policies_.back()->parameters(),
          torch::optim::AdamOptions(options.policy_lr)));
      opponent_opts_.push_back(std::make_unique<torch::optim::Adam>(
          opponents_.back()->parameters(),
          torch::optim::AdamOptions(options.opponent_lr)));
    }
    set_config_json(absl::StrCat(
        "{\"kind\": \"rommeo_ac\", \"hidden\": [",
        absl::StrJoin(options.hidden, ", "), "], \"policy_lr\": ",
        options.policy_lr, ", \"opponent_lr\": ", options.opponent_lr,
        ", \"critic_lr\": ", options.critic_lr, ", \"tau\": ", options.tau,
        ", \"temperature\": ", alpha_.ToJson(), ", \"gamma\": ",
        options.base.gamma, ", \"batch_size\": ", options.base.batch_size,
        ", \"warmup\": ", options.base.warmup,
        ", \"update_ratio\": ", options.base.update_ratio, "}"));
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

  void Update(const deep::Minibatch& mb) override {
    const double alpha = alpha_.At(updates());
    for (int i = 0; i < num_agents(); ++i) {
      const torch::Tensor& s = mb.obs[i];
      torch::Tensor y;
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor& s1 = mb.next_obs[i];
        nn::TanhGaussianSample other = opponents_[i]->rsample(s1, generator());
        nn::TanhGaussianSample own = policies_[i]->rsample(
            torch::cat({s1, other.action}, -1), generator());
        const torch::Tensor next_q = target_critics_[i]
                                         ->forward(s1, own.action, other.action)
                                         .squeeze(-1);
        y = RegularisedTarget(mb.reward[i], mb.done, next_q, other.log_prob,
                              own.log_prob, alpha, base_options().gamma);
      }
      const torch::Tensor q =
          critics_[i]
              ->forward(s, mb.action[i], deep::ConcatOthers(mb.action, i))
              .squeeze(-1);
      const torch::Tensor critic_loss = 0.5 * (q - y).pow(2).mean();
      critic_opts_[i]->zero_grad();
      critic_loss.backward();
      critic_opts_[i]->step();

      // Conditional policy: best response (soft) to the modelled opponent.
      torch::Tensor other_fixed;
      {
        torch::NoGradGuard no_grad;
        other_fixed = opponents_[i]->rsample(s, generator()).action;
      }
      nn::TanhGaussianSample own =
          policies_[i]->rsample(torch::cat({s, other_fixed}, -1), generator());
      const torch::Tensor policy_loss =
          (alpha * own.log_prob -
           critics_[i]->forward(s, own.action, other_fixed).squeeze(-1))
              .mean();
      policy_opts_[i]->zero_grad();
      policy_loss.backward();
      policy_opts_[i]->step();

      // Opponent model: rho ∝ exp(soft value of a^-i), the value taken
      // under the conditional policy (eq. 3.14-3.16); only rho steps.
      nn::TanhGaussianSample other = opponents_[i]->rsample(s, generator());
      nn::TanhGaussianSample own2 =
          policies_[i]->rsample(torch::cat({s, other.action}, -1), generator());
      const torch::Tensor q2 =
          critics_[i]->forward(s, own2.action, other.action).squeeze(-1);
      const torch::Tensor opponent_loss =
          -RegularisedValue(q2, other.log_prob, own2.log_prob, alpha).mean();
      opponent_opts_[i]->zero_grad();
      opponent_loss.backward();
      opponent_opts_[i]->step();

      nn::PolyakUpdate(*target_critics_[i], *critics_[i], o_.tau);
      SetMetric(i, "alpha", alpha);
      SetMetric(i, "critic_loss", critic_loss.item<double>());
      SetMetric(i, "policy_loss", policy_loss.item<double>());
      SetMetric(i, "opponent_loss", opponent_loss.item<double>());
      SetMetric(i, "q_mean", q.mean().item<double>());
      SetMetric(i, "opponent_mean", other.action.mean().item<double>());
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
      modules->emplace_back("policy" + id, policies_[i].ptr().get());
      modules->emplace_back("opponent" + id, opponents_[i].ptr().get());
      optimizers->emplace_back("critic" + id, critic_opts_[i].get());
      optimizers->emplace_back("policy" + id, policy_opts_[i].get());
      optimizers->emplace_back("opponent" + id, opponent_opts_[i].get());
    }
  }

 private:
  RommeoAcOptions o_;
  TemperatureSchedule alpha_;
  std::vector<nn::QNetwork> critics_, target_critics_;
  std::vector<nn::TanhGaussianPolicy> policies_, opponents_;
  std::vector<std::unique_ptr<torch::optim::Adam>> critic_opts_, policy_opts_,
      opponent_opts_;
};

}  // namespace
}  // namespace rommeo

absl::StatusOr<std::unique_ptr<JointLearner>> CreateRommeoAcLearner(
    const EnvSpec& spec, const RommeoAcOptions& options, uint64_t seed) {
  auto learner = std::make_unique<rommeo::RommeoAcLearner>();
  absl::Status s = learner->Setup(spec, options, seed);
  if (!s.ok()) return s;
  return std::unique_ptr<JointLearner>(std::move(learner));
}

}  // namespace marl
