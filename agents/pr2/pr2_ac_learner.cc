#include "agents/pr2/pr2_ac_learner.h"

#include <torch/torch.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/deep_joint_base.h"
#include "agents/pr2/pr2_ac_losses.h"
#include "common/nn/mlp.h"
#include "common/nn/q_network.h"
#include "common/nn/svgd.h"
#include "common/nn/tanh_gaussian.h"
#include "common/temperature_schedule.h"

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

namespace {

class Pr2AcLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const Pr2AcOptions& options,
                     uint64_t seed) {
    o_ = options;
    absl::Status s = Init(spec, options.base, seed, "pr2_ac");
    if (!s.ok()) return s;
    if (num_agents() < 2) {
      return absl::InvalidArgumentError("pr2_ac needs at least two agents");
    }
    if (!(options.policy_lr > 0 && options.critic_lr > 0 &&
          options.opponent_lr > 0 && options.tau > 0 && options.tau <= 1 &&
          options.alpha >= 0 && options.opponent_temperature > 0 &&
          options.value_particles >= 1 && options.kernel_particles >= 2)) {
      return absl::InvalidArgumentError(
          "pr2_ac: learning rates and opponent temperature must be > 0, tau "
          "in (0, 1], alpha >= 0, value particles >= 1, kernel particles >= "
          "2");
    }
    noise_ =
        TemperatureSchedule::Rommeo(options.noise_min, options.noise_initial,
                                    options.noise_rate, options.noise_delay);
    alpha_ =
        TemperatureSchedule::Rommeo(options.alpha, options.alpha_initial,
                                    options.alpha_rate, options.alpha_delay);
    for (int i = 0; i < num_agents(); ++i) {
      nn::QNetworkOptions q;
      q.obs_dim = obs_dim(i);
      q.action_dim = action_dim(i);
      q.other_action_dim = other_action_dim(i);
      q.hidden = options.hidden;
      critics_.emplace_back(q);
      target_critics_.push_back(nn::CloneTarget(critics_.back()));
      nn::TanhGaussianPolicyOptions p;
      p.obs_dim = obs_dim(i);
      p.action_dim = action_dim(i);
      p.hidden = options.hidden;
      policies_.emplace_back(p);
      // rho(a^-i | s, a^i) as a sampler: [s, a^i, xi] -> tanh(.) in (-1, 1).
      opponents_.push_back(nn::MakeMlp(
          obs_dim(i) + action_dim(i) + other_action_dim(i), options.hidden,
          other_action_dim(i), nn::Activation::kRelu, nn::Activation::kTanh));
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
        "{\"kind\": \"pr2_ac\", \"policy\": \"tanh_gaussian\", "
        "\"opponent_model\": \"amortised_svgd\", \"hidden\": [",
        absl::StrJoin(options.hidden, ", "), "], \"policy_lr\": ",
        options.policy_lr, ", \"critic_lr\": ", options.critic_lr,
        ", \"opponent_lr\": ", options.opponent_lr, ", \"tau\": ", options.tau,
        ", \"alpha\": ", alpha_.ToJson(),
        ", \"opponent_temperature\": ", options.opponent_temperature,
        ", \"value_particles\": ", options.value_particles,
        ", \"kernel_particles\": ", options.kernel_particles, ", \"gamma\": ",
        options.base.gamma, ", \"batch_size\": ", options.base.batch_size,
        ", \"warmup\": ", options.base.warmup, ", \"update_ratio\": ",
        options.base.update_ratio, ", \"noise\": ", noise_.ToJson(), "}"));
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

  // k opponent particles per row: obs [B, ds], own [B, da] -> [B, k, d_-i].
  torch::Tensor Opponent(int i, const torch::Tensor& obs,
                         const torch::Tensor& own, int64_t k) {
    const int64_t b = obs.size(0);
    const torch::Tensor xi =
        torch::randn({b, k, other_action_dim(i)}, generator());
    return opponents_[i]->forward(
        torch::cat({obs.unsqueeze(1).expand({b, k, obs.size(1)}),
                    own.unsqueeze(1).expand({b, k, own.size(1)}), xi},
                   -1));
  }

  void Update(const deep::Minibatch& mb) override {
    const double t = o_.opponent_temperature;
    const double alpha = alpha_.At(updates());
    for (int i = 0; i < num_agents(); ++i) {
      const torch::Tensor& s = mb.obs[i];
      // Critic: y = r + gamma (1 - done) [Q'(s', a') - alpha log pi(a'|s')],
      // Q'(s', a') the opponent-marginalised target value.
      torch::Tensor y;
      {
        torch::NoGradGuard no_grad;
        nn::TanhGaussianSample next =
            policies_[i]->rsample(mb.next_obs[i], generator());
        const torch::Tensor particles =
            Opponent(i, mb.next_obs[i], next.action, o_.value_particles);
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
      const torch::Tensor& own = mb.action[i];
      const torch::Tensor samples = Opponent(i, s, own, o_.kernel_particles);
      const int64_t half = o_.kernel_particles / 2;
      const torch::Tensor kernel = samples.narrow(1, 0, half).detach();
      const torch::Tensor update =
          samples.narrow(1, half, o_.kernel_particles - half);
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
      // (gradients also reach a^i through the opponent model's input).
      nn::TanhGaussianSample sample = policies_[i]->rsample(s, generator());
      const torch::Tensor particles =
          Opponent(i, s, sample.action, o_.value_particles);
      const torch::Tensor marginal =
          MarginalQ(critics_[i], s, sample.action, particles, t);
      const torch::Tensor policy_loss =
          (alpha * sample.log_prob - marginal).mean();
      policy_opts_[i]->zero_grad();
      policy_loss.backward();
      policy_opts_[i]->step();

      nn::PolyakUpdate(*target_critics_[i], *critics_[i], o_.tau);
      SetMetric(i, "alpha", alpha);
      SetMetric(i, "critic_loss", critic_loss.item<double>());
      SetMetric(i, "policy_loss", policy_loss.item<double>());
      SetMetric(i, "marginal_q", marginal.mean().item<double>());
      SetMetric(i, "q_mean", q.mean().item<double>());
      SetMetric(i, "log_prob", sample.log_prob.mean().item<double>());
      SetMetric(i, "opponent_mean", samples.mean().item<double>());
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
  Pr2AcOptions o_;
  TemperatureSchedule noise_, alpha_;
  std::vector<nn::QNetwork> critics_, target_critics_;
  std::vector<nn::TanhGaussianPolicy> policies_;
  std::vector<torch::nn::Sequential> opponents_;
  std::vector<std::unique_ptr<torch::optim::Adam>> critic_opts_, policy_opts_,
      opponent_opts_;
};

}  // namespace
}  // namespace pr2

absl::StatusOr<std::unique_ptr<JointLearner>> CreatePr2AcLearner(
    const EnvSpec& spec, const Pr2AcOptions& options, uint64_t seed) {
  auto learner = std::make_unique<pr2::Pr2AcLearner>();
  absl::Status s = learner->Setup(spec, options, seed);
  if (!s.ok()) return s;
  return std::unique_ptr<JointLearner>(std::move(learner));
}

}  // namespace marl
