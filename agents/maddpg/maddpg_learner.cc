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
#include "nn/q_network.h"
#include "nn/stacked_mlp.h"
#include "runtime/json.h"

namespace marl {
namespace maddpg {

torch::Tensor OwnFirstColumns(const std::vector<int64_t>& action_dims) {
  std::vector<int64_t> offsets(action_dims.size() + 1, 0);
  for (size_t j = 0; j < action_dims.size(); ++j) {
    offsets[j + 1] = offsets[j] + action_dims[j];
  }
  const int64_t total = offsets.back();
  torch::Tensor columns = torch::empty(
      {static_cast<int64_t>(action_dims.size()), total}, torch::kInt64);
  int64_t* out = columns.data_ptr<int64_t>();
  for (size_t i = 0; i < action_dims.size(); ++i) {
    for (int64_t k = offsets[i]; k < offsets[i + 1]; ++k) *out++ = k;
    for (size_t j = 0; j < action_dims.size(); ++j) {
      if (j == i) continue;
      for (int64_t k = offsets[j]; k < offsets[j + 1]; ++k) *out++ = k;
    }
  }
  return columns;
}

namespace {

// The joint action of `actions` in every agent's order: [N, B, T].
torch::Tensor OwnFirst(const std::vector<torch::Tensor>& actions,
                       const torch::Tensor& columns) {
  const torch::Tensor joint = torch::cat(actions, -1);  // [B, T]
  const int64_t n = columns.size(0), t = columns.size(1);
  return joint.index_select(1, columns.view({-1}))
      .view({joint.size(0), n, t})
      .transpose(0, 1);
}

torch::Tensor WithObservation(const torch::Tensor& joint_obs,
                              const torch::Tensor& own_first) {
  return torch::cat(
      {joint_obs.unsqueeze(0).expand({own_first.size(0), -1, -1}), own_first},
      -1);
}

}  // namespace

torch::Tensor CriticInputs(const torch::Tensor& joint_obs,
                           const std::vector<torch::Tensor>& actions,
                           const torch::Tensor& columns) {
  return WithObservation(joint_obs, OwnFirst(actions, columns));
}

torch::Tensor CriticTargets(nn::StackedMlp& target_critics,
                            const torch::Tensor& next_joint_obs,
                            const std::vector<torch::Tensor>& next_actions,
                            const torch::Tensor& columns,
                            const torch::Tensor& rewards,
                            const torch::Tensor& done, double gamma) {
  torch::NoGradGuard no_grad;
  const torch::Tensor next_q =
      target_critics
          ->forward(CriticInputs(next_joint_obs, next_actions, columns))
          .squeeze(-1);
  return rewards + gamma * (1.0 - done) * next_q;
}

torch::Tensor ActorLosses(nn::StackedMlp& critics,
                          const torch::Tensor& joint_obs,
                          const std::vector<torch::Tensor>& replayed,
                          const std::vector<torch::Tensor>& own,
                          const torch::Tensor& columns) {
  // Agent i's own action leads its row: the replayed one is swapped for
  // own[i], the others stay.
  const torch::Tensor others = OwnFirst(replayed, columns);
  const int64_t n = static_cast<int64_t>(own.size());
  bool same_width = true;
  for (const torch::Tensor& a : own)
    same_width &= a.size(-1) == own[0].size(-1);
  torch::Tensor rows;
  if (same_width) {  // one op for all agents
    const int64_t width = own[0].size(-1);
    rows = torch::cat({torch::stack(own), others.slice(2, width)}, -1);
  } else {
    std::vector<torch::Tensor> each;
    for (int64_t i = 0; i < n; ++i) {
      each.push_back(
          torch::cat({own[i], others[i].slice(1, own[i].size(-1))}, -1));
    }
    rows = torch::stack(each);
  }
  return -critics->forward(WithObservation(joint_obs, rows))
              .squeeze(-1)
              .mean(-1);
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
    s = ValidateParams(options);
    if (!s.ok())
      return absl::InvalidArgumentError(absl::StrCat("maddpg: ", s.message()));
    noise_ =
        TemperatureSchedule::Rommeo(options.noise_min, options.noise_initial,
                                    options.noise_rate, options.noise_delay);
    s = noise_.Validate("maddpg exploration noise");
    if (!s.ok()) return s;
    // Actors stacked by shape (observation and action sizes, Discrete or
    // not); every critic reads the same joint input, so all are stacked.
    const int n = num_agents();
    at::Generator& init = init_generator();
    std::vector<int64_t> dims;
    for (int i = 0; i < n; ++i) {
      dims.push_back(action_dim(i));
      int g = 0;
      while (g < static_cast<int>(groups_.size()) &&
             !SameShape(groups_[g].members[0], i)) {
        ++g;
      }
      if (g == static_cast<int>(groups_.size())) groups_.push_back({});
      group_of_.push_back({g, static_cast<int>(groups_[g].members.size())});
      groups_[g].members.push_back(i);
    }
    std::vector<torch::Tensor> actor_params;
    for (ActorGroup& group : groups_) {
      const int i = group.members[0];
      nn::StackedMlpOptions a;
      a.groups = static_cast<int64_t>(group.members.size());
      a.in = obs_dim(i);
      a.hidden = options.base.hidden.sizes;
      a.out = action_dim(i);
      group.actors = nn::StackedMlp(a);
      group.actors->Initialize(init);
      group.targets = nn::CloneTarget(group.actors);
      for (const torch::Tensor& p : group.actors->parameters()) {
        actor_params.push_back(p);
      }
    }
    nn::StackedMlpOptions q;
    q.groups = n;
    q.in = total_obs_dim() + total_action_dim();
    q.hidden = options.base.hidden.sizes;
    q.out = 1;
    critics_ = nn::StackedMlp(q);
    critics_->Initialize(init);
    target_critics_ = nn::CloneTarget(critics_);
    columns_ = OwnFirstColumns(dims);
    actor_opt_ = std::make_unique<nn::ForeachAdam>(
        actor_params, torch::optim::AdamOptions(options.actor_lr));
    critic_opt_ = std::make_unique<nn::ForeachAdam>(
        critics_->parameters(),
        torch::optim::AdamOptions(options.base.critic_lr));
    JsonObject config;
    config.Add("kind", "maddpg");
    set_config(std::move(AddParams(options, config)));
    return absl::OkStatus();
  }

 protected:
  torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                       bool deterministic) override {
    const auto [g, m] = group_of_[agent];
    torch::Tensor a = torch::tanh(groups_[g].actors->ForwardOne(m, obs[agent]));
    if (deterministic) return a;
    const double sigma = noise_.At(transitions());
    SetMetric(agent, "noise_std", sigma);
    return a + sigma * torch::randn(a.sizes(), generator());
  }

  // Discrete actors output logits: sample the categorical to explore,
  // argmax to evaluate.
  torch::Tensor DiscretePolicy(int agent, const std::vector<torch::Tensor>& obs,
                               bool deterministic) override {
    const auto [g, m] = group_of_[agent];
    const torch::Tensor logits = groups_[g].actors->ForwardOne(m, obs[agent]);
    return deterministic ? logits.argmax(-1)
                         : nn::SampleCategorical(logits, generator());
  }

  // One update of every agent: the critics towards their targets, then the
  // actors through their (updated) critics, then the targets; each agent's
  // loss is a mean over the batch, and their sum gives each agent's
  // networks its own loss's gradient. Discrete agents: replayed actions
  // are one-hots, the target actors' and the actors' own actions
  // straight-through Gumbel-softmax samples of their logits.
  void Update(const deep::Minibatch& b) override {
    const int n = num_agents();
    const double temp = options_.gumbel_temperature;
    const torch::Tensor x = torch::cat(b.obs, -1);
    const torch::Tensor x_next = torch::cat(b.next_obs, -1);
    std::vector<torch::Tensor> next_actions;
    {
      torch::NoGradGuard no_grad;
      next_actions = Outputs(/*targets=*/true, b.next_obs);
      for (int j = 0; j < n; ++j) {
        next_actions[j] =
            is_discrete(j)
                ? DiscreteActorAction(next_actions[j], temp, generator())
                : torch::tanh(next_actions[j]);
      }
    }
    const torch::Tensor y =
        CriticTargets(target_critics_, x_next, next_actions, columns_,
                      torch::stack(b.reward), b.done, base_options().gamma);
    const torch::Tensor q =
        critics_->forward(CriticInputs(x, b.action, columns_)).squeeze(-1);
    const torch::Tensor critic_losses = (q - y).pow(2).mean(-1);  // [N]
    critic_opt_->zero_grad();
    critic_losses.sum().backward();
    critic_opt_->step();

    // The critics' weights need no gradient here.
    for (auto& p : critics_->parameters()) p.set_requires_grad(false);
    const std::vector<torch::Tensor> outputs =
        Outputs(/*targets=*/false, b.obs);
    std::vector<torch::Tensor> own(n);
    for (int i = 0; i < n; ++i) {
      own[i] = is_discrete(i)
                   ? DiscreteActorAction(outputs[i], temp, generator())
                   : torch::tanh(outputs[i]);
    }
    torch::Tensor actor_losses = ActorLosses(critics_, x, b.action, own,
                                             columns_);  // [N]
    if (has_discrete()) {
      // A small logit penalty (as in the reference implementation) keeps
      // the logits from drifting without bound.
      std::vector<torch::Tensor> penalty;
      for (int i = 0; i < n; ++i) {
        penalty.push_back(is_discrete(i) ? 1e-3 * outputs[i].pow(2).mean()
                                         : torch::zeros({}));
        if (is_discrete(i)) {
          SetMetric(i, "prob_greedy",
                    std::get<0>(torch::softmax(outputs[i].detach(), -1).max(-1))
                        .mean()
                        .item<double>());
        }
      }
      actor_losses = actor_losses + torch::stack(penalty);
    }
    actor_opt_->zero_grad();
    actor_losses.sum().backward();
    actor_opt_->step();
    for (auto& p : critics_->parameters()) p.set_requires_grad(true);

    for (ActorGroup& group : groups_) {
      nn::PolyakUpdate(*group.targets, *group.actors, options_.base.tau);
    }
    nn::PolyakUpdate(*target_critics_, *critics_, options_.base.tau);

    // Every agent's figures in one read out of torch.
    const torch::Tensor figures = torch::stack(
        {critic_losses.detach(), actor_losses.detach(), q.detach().mean(-1)});
    const float* f = figures.data_ptr<float>();
    for (int i = 0; i < n; ++i) {
      SetMetric(i, "critic_loss", f[i]);
      SetMetric(i, "actor_loss", f[n + i]);
      SetMetric(i, "q_mean", f[2 * n + i]);
    }
  }

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    for (size_t g = 0; g < groups_.size(); ++g) {
      const std::string id = absl::StrCat(g);
      modules->emplace_back("actors" + id, groups_[g].actors.ptr().get());
      modules->emplace_back("target_actors" + id,
                            groups_[g].targets.ptr().get());
    }
    modules->emplace_back("critics", critics_.ptr().get());
    modules->emplace_back("target_critics", target_critics_.ptr().get());
    optimizers->emplace_back("actors", actor_opt_.get());
    optimizers->emplace_back("critics", critic_opt_.get());
  }

 private:
  // Agents whose actors have one shape, stacked.
  struct ActorGroup {
    std::vector<int> members;  // agent indices, ascending
    nn::StackedMlp actors{nullptr}, targets{nullptr};
  };

  bool SameShape(int i, int j) const {
    return obs_dim(i) == obs_dim(j) && action_dim(i) == action_dim(j) &&
           is_discrete(i) == is_discrete(j);
  }

  // Every agent's actor output (tanh or logits not yet applied) at `obs`,
  // one stacked forward per group.
  std::vector<torch::Tensor> Outputs(bool targets,
                                     const std::vector<torch::Tensor>& obs) {
    std::vector<torch::Tensor> out(num_agents());
    for (ActorGroup& group : groups_) {
      std::vector<torch::Tensor> in;
      for (int i : group.members) in.push_back(obs[i]);
      const std::vector<torch::Tensor> each =
          (targets ? group.targets : group.actors)
              ->forward(torch::stack(in))
              .unbind(0);
      for (size_t m = 0; m < group.members.size(); ++m) {
        out[group.members[m]] = each[m];
      }
    }
    return out;
  }

  MaddpgOptions options_;
  TemperatureSchedule noise_;
  std::vector<ActorGroup> groups_;
  std::vector<std::pair<int, int>> group_of_;  // agent -> (group, member)
  nn::StackedMlp critics_{nullptr}, target_critics_{nullptr};
  torch::Tensor columns_;  // OwnFirstColumns of the agents' action sizes
  std::unique_ptr<torch::optim::Adam> actor_opt_, critic_opt_;
};

}  // namespace
}  // namespace maddpg

absl::StatusOr<std::unique_ptr<JointLearner>> CreateMaddpgLearner(
    const EnvSpec& spec, const MaddpgOptions& options, uint64_t seed) {
  return deep::SetUpLearner<maddpg::MaddpgLearner>(spec, options, seed);
}

}  // namespace marl
