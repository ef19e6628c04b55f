#include "agents/maddpg/maddpg_learner.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agents/maddpg/maddpg_losses.h"
#include "learners/deep_joint_base.h"
#include "learners/temperature_schedule.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/q_network.h"
#include "runtime/json.h"

namespace marl {
namespace maddpg {

torch::Tensor CriticTarget(nn::QNetwork& target_critic, int agent,
                           const torch::Tensor& next_joint_obs,
                           const std::vector<torch::Tensor>& next_actions,
                           const torch::Tensor& reward,
                           const torch::Tensor& done, double gamma) {
  torch::NoGradGuard no_grad;
  const torch::Tensor next_q =
      target_critic
          ->forward(next_joint_obs, next_actions[agent],
                    deep::ConcatOthers(next_actions, agent))
          .squeeze(-1);
  return deep::BellmanTarget(reward, done, next_q, gamma);
}

torch::Tensor ActorLoss(nn::QNetwork& critic, int agent,
                        const torch::Tensor& joint_obs,
                        std::vector<torch::Tensor> actions,
                        const torch::Tensor& own_action) {
  actions[agent] = own_action;
  return -critic
              ->forward(joint_obs, own_action,
                        deep::ConcatOthers(actions, agent))
              .mean();
}

torch::Tensor DiscreteActorAction(const torch::Tensor& logits,
                                  double temperature,
                                  c10::optional<at::Generator> generator) {
  return nn::GumbelSoftmax(logits, temperature, /*straight_through=*/true,
                           std::move(generator));
}

namespace {

class MaddpgLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const MaddpgOptions& options,
                     uint64_t seed) {
    options_ = options;
    absl::Status s = Init(spec, options.base, seed, "maddpg",
                          /*allow_discrete_actions=*/true);
    if (!s.ok()) return s;
    const nn::ScopedInitSeed init_weights = SeedNetworkInit();
    s = ValidateParams(options);
    if (!s.ok())
      return absl::InvalidArgumentError(absl::StrCat("maddpg: ", s.message()));
    noise_ =
        TemperatureSchedule::Rommeo(options.noise_min, options.noise_initial,
                                    options.noise_rate, options.noise_delay);
    s = noise_.Validate("maddpg exploration noise");
    if (!s.ok()) return s;
    for (int i = 0; i < num_agents(); ++i) {
      // Discrete agents' actors output logits; Box agents' tanh actions.
      actors_.push_back(nn::MakeMlp(
          obs_dim(i), options.base.hidden.sizes, action_dim(i),
          nn::Activation::kRelu,
          is_discrete(i) ? nn::Activation::kNone : nn::Activation::kTanh));
      nn::QNetworkOptions q;
      q.obs_dim = total_obs_dim();
      q.action_dim = action_dim(i);
      q.other_action_dim = other_action_dim(i);
      q.hidden = options.base.hidden.sizes;
      critics_.emplace_back(q);
      target_actors_.push_back(nn::CloneTarget(actors_.back()));
      target_critics_.push_back(nn::CloneTarget(critics_.back()));
      actor_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          actors_.back()->parameters(),
          torch::optim::AdamOptions(options.actor_lr)));
      critic_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          critics_.back()->parameters(),
          torch::optim::AdamOptions(options.base.critic_lr)));
    }
    JsonObject config;
    config.Add("kind", "maddpg");
    set_config(std::move(AddParams(options, config)));
    return absl::OkStatus();
  }

 protected:
  torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                       bool deterministic) override {
    torch::Tensor a = actors_[agent]->forward(obs[agent]);
    if (deterministic) return a;
    const double sigma = noise_.At(transitions());
    SetMetric(agent, "noise_std", sigma);
    return a + sigma * torch::randn(a.sizes(), generator());
  }

  // Discrete actors output logits: sample the categorical to explore,
  // argmax to evaluate.
  torch::Tensor DiscretePolicy(int agent, const std::vector<torch::Tensor>& obs,
                               bool deterministic) override {
    const torch::Tensor logits = actors_[agent]->forward(obs[agent]);
    return deterministic ? logits.argmax(-1)
                         : nn::SampleCategorical(logits, generator());
  }

  void Update(const deep::Minibatch& b) override {
    if (has_discrete()) {
      UpdateWithDiscrete(b);
      return;
    }
    const int n = num_agents();
    const torch::Tensor x = torch::cat(b.obs, -1);
    const torch::Tensor x_next = torch::cat(b.next_obs, -1);
    std::vector<torch::Tensor> next_actions(n);
    {
      torch::NoGradGuard no_grad;
      for (int j = 0; j < n; ++j) {
        next_actions[j] = target_actors_[j]->forward(b.next_obs[j]);
      }
    }
    for (int i = 0; i < n; ++i) {
      const torch::Tensor y =
          CriticTarget(target_critics_[i], i, x_next, next_actions, b.reward[i],
                       b.done, base_options().gamma);
      const torch::Tensor q =
          critics_[i]
              ->forward(x, b.action[i], deep::ConcatOthers(b.action, i))
              .squeeze(-1);
      const torch::Tensor critic_loss = (q - y).pow(2).mean();
      critic_opts_[i]->zero_grad();
      critic_loss.backward();
      critic_opts_[i]->step();

      const torch::Tensor own = actors_[i]->forward(b.obs[i]);
      const torch::Tensor actor_loss =
          ActorLoss(critics_[i], i, x, b.action, own);
      actor_opts_[i]->zero_grad();
      actor_loss.backward();
      actor_opts_[i]->step();
      SetMetric(i, "critic_loss", critic_loss.item<double>());
      SetMetric(i, "actor_loss", actor_loss.item<double>());
      SetMetric(i, "q_mean", q.mean().item<double>());
    }
    for (int i = 0; i < n; ++i) {
      nn::PolyakUpdate(*target_actors_[i], *actors_[i], options_.base.tau);
      nn::PolyakUpdate(*target_critics_[i], *critics_[i], options_.base.tau);
    }
  }

  // Update with one-hot critic inputs for Discrete agents: replayed actions
  // as one-hots, target actors' straight-through Gumbel-softmax samples
  // (one-hot values) for the targets, and each Discrete actor trained
  // through the straight-through Gumbel-softmax of its own logits.
  void UpdateWithDiscrete(const deep::Minibatch& b) {
    const int n = num_agents();
    const double temp = options_.gumbel_temperature;
    const torch::Tensor x = torch::cat(b.obs, -1);
    const torch::Tensor x_next = torch::cat(b.next_obs, -1);
    const std::vector<torch::Tensor>& actions = b.action;  // one-hots
    std::vector<torch::Tensor> next_actions(n);
    {
      torch::NoGradGuard no_grad;
      for (int j = 0; j < n; ++j) {
        const torch::Tensor out = target_actors_[j]->forward(b.next_obs[j]);
        next_actions[j] =
            is_discrete(j) ? DiscreteActorAction(out, temp, generator()) : out;
      }
    }
    for (int i = 0; i < n; ++i) {
      const torch::Tensor y =
          CriticTarget(target_critics_[i], i, x_next, next_actions, b.reward[i],
                       b.done, base_options().gamma);
      const torch::Tensor q =
          critics_[i]
              ->forward(x, actions[i], deep::ConcatOthers(actions, i))
              .squeeze(-1);
      const torch::Tensor critic_loss = (q - y).pow(2).mean();
      critic_opts_[i]->zero_grad();
      critic_loss.backward();
      critic_opts_[i]->step();

      const torch::Tensor out = actors_[i]->forward(b.obs[i]);
      torch::Tensor actor_loss;
      if (is_discrete(i)) {
        const torch::Tensor own = DiscreteActorAction(out, temp, generator());
        // A small logit penalty (as in the reference implementation) keeps
        // the logits from drifting without bound.
        actor_loss = ActorLoss(critics_[i], i, x, actions, own) +
                     1e-3 * out.pow(2).mean();
        SetMetric(i, "prob_greedy",
                  std::get<0>(torch::softmax(out.detach(), -1).max(-1))
                      .mean()
                      .item<double>());
      } else {
        actor_loss = ActorLoss(critics_[i], i, x, actions, out);
      }
      actor_opts_[i]->zero_grad();
      actor_loss.backward();
      actor_opts_[i]->step();
      SetMetric(i, "critic_loss", critic_loss.item<double>());
      SetMetric(i, "actor_loss", actor_loss.item<double>());
      SetMetric(i, "q_mean", q.mean().item<double>());
    }
    for (int i = 0; i < n; ++i) {
      nn::PolyakUpdate(*target_actors_[i], *actors_[i], options_.base.tau);
      nn::PolyakUpdate(*target_critics_[i], *critics_[i], options_.base.tau);
    }
  }

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    for (int i = 0; i < num_agents(); ++i) {
      const std::string id = absl::StrCat(i);
      modules->emplace_back("actor" + id, actors_[i].ptr().get());
      modules->emplace_back("critic" + id, critics_[i].ptr().get());
      modules->emplace_back("target_actor" + id, target_actors_[i].ptr().get());
      modules->emplace_back("target_critic" + id,
                            target_critics_[i].ptr().get());
      optimizers->emplace_back("actor" + id, actor_opts_[i].get());
      optimizers->emplace_back("critic" + id, critic_opts_[i].get());
    }
  }

 private:
  MaddpgOptions options_;
  TemperatureSchedule noise_;
  std::vector<torch::nn::Sequential> actors_, target_actors_;
  std::vector<nn::QNetwork> critics_, target_critics_;
  std::vector<std::unique_ptr<torch::optim::Adam>> actor_opts_, critic_opts_;
};

}  // namespace
}  // namespace maddpg

absl::StatusOr<std::unique_ptr<JointLearner>> CreateMaddpgLearner(
    const EnvSpec& spec, const MaddpgOptions& options, uint64_t seed) {
  return deep::SetUpLearner<maddpg::MaddpgLearner>(spec, options, seed);
}

}  // namespace marl
