#include "agents/gr2/gr2_discrete_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/gr2/gr2_math.h"
#include "agents/gr2/gr2_networks.h"
#include "learners/deep_joint_base.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/q_network.h"
#include "runtime/json.h"
#include "runtime/seeds.h"

namespace marl {
namespace gr2 {
namespace {

using torch::Tensor;

class Gr2DiscreteLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const Gr2Options& o, uint64_t seed) {
    options_ = o;
    absl::StatusOr<DeepJointParams> base = Gr2BaseParams(spec, o, &weights_);
    if (!base.ok()) return base.status();
    const int n = spec.num_agents();
    for (int a = 0; a < n; ++a) {
      if (!spec.action_spaces[a].is_discrete() ||
          spec.action_spaces[a] != spec.action_spaces[0]) {
        return absl::InvalidArgumentError(
            "gr2: every agent needs the same Discrete action space (a^-i is "
            "the mean of the others' one-hots)");
      }
    }
    if (o.level0_fit_sampled) {
      return absl::InvalidArgumentError(
          "gr2: --level0_fit_sampled is for Box actions; the Discrete level "
          "0 is its closed form softmax(Qbar / alpha) already");
    }
    absl::Status s = Init(spec, *base, seed, Gr2AlgorithmName(o),
                          /*allow_discrete_actions=*/true);
    if (!s.ok()) return s;
    k_ = num_actions(0);
    // Metrics sample roll-outs from their own stream, so how often they
    // are read does not change training.
    metrics_generator_ = at::make_generator<at::CPUGeneratorImpl>(
        DeriveSeed(seed, deep::kFirstLearnerStream));
    const torch::optim::AdamOptions adam(o.lr);
    for (int i = 0; i < n; ++i) {
      nn::QNetworkOptions q;
      q.obs_dim = obs_dim(i);
      q.action_dim = k_;
      q.other_action_dim = k_;
      q.hidden = o.hidden.sizes;
      critics_.emplace_back(q, init_generator());
      targets_.push_back(nn::CloneTarget(critics_.back()));
      nn::CategoricalPolicyOptions p;
      p.obs_dim = obs_dim(i);
      p.num_actions = k_;
      p.hidden = o.hidden.sizes;
      pi0_.push_back(
          nn::MakeMlp(obs_dim(i), o.hidden.sizes, k_, init_generator()));
      rho0_.emplace_back(p, init_generator());
      p.obs_dim = obs_dim(i) + k_;  // s and agent i's one-hot action
      rho_.emplace_back(p, init_generator());
      critic_opts_.push_back(std::make_unique<nn::ForeachAdam>(
          critics_.back()->parameters(), adam));
      pi0_opts_.push_back(
          std::make_unique<nn::ForeachAdam>(pi0_.back()->parameters(), adam));
      std::vector<Tensor> opponent = rho_.back()->parameters();
      for (const Tensor& t : rho0_.back()->parameters()) opponent.push_back(t);
      opponent_opts_.push_back(
          std::make_unique<nn::ForeachAdam>(opponent, adam));
    }
    JsonObject j;
    j.Add("kind", o.variant == Gr2Options::Mode::kLevel
                      ? "gr2_level_discrete"
                      : "gr2_mixture_discrete");
    j.Add("level_weights", weights_);
    j.Add("best_response", "exact argmax of Q over own actions");
    j.Add("evaluation", o.variant == Gr2Options::Mode::kLevel
                            ? "greedy level-k action"
                            : "weighted vote of the levels' greedy actions");
    j.Add("opponent_action", "mean of the other agents' one-hots");
    set_config_json(AddParams(o, j).Build());
    return absl::OkStatus();
  }

 protected:
  // The level metrics cost several roll-outs.
  void UpdateMetricsOnRead(int agent) override {
    if (agent < static_cast<int>(last_obs_.size())) {
      ReportLevels(agent, last_obs_[agent]);
    }
  }

  Tensor Policy(int agent, const std::vector<Tensor>& obs,
                bool deterministic) override {
    TORCH_CHECK(false, "gr2: this learner has Discrete actions only");
    return {};
  }

  Tensor DiscretePolicy(int agent, const std::vector<Tensor>& obs,
                        bool deterministic) override {
    const LevelRollout<Tensor> r = RollOut(agent, obs[agent], !deterministic);
    const int64_t copies = obs[agent].size(0);
    Tensor action;
    if (options_.variant == Gr2Options::Mode::kLevel) {
      action = r.self[options_.level].argmax(-1);
    } else if (deterministic) {
      action = MixtureVote(r.self, weights_);
    } else {
      // One level per copy, drawn from the Poisson weights.
      const Tensor w =
          torch::tensor(std::vector<float>(weights_.begin(), weights_.end()));
      const Tensor level = torch::multinomial(w, copies, true, generator());
      action = torch::stack(r.self, 0)
                   .argmax(-1)                     // [levels, copies]
                   .gather(0, level.unsqueeze(0))  // [1, copies]
                   .squeeze(0);
    }
    if (!deterministic && options_.explore_epsilon > 0) {
      const Tensor explore =
          torch::rand({copies}, generator()) < options_.explore_epsilon;
      action = torch::where(
          explore, torch::randint(k_, {copies}, generator(), torch::kInt64),
          action);
    }
    return action;
  }

  void Update(const deep::Minibatch& b) override {
    const int n = num_agents();
    const double gamma = base_options().gamma;
    // a^-i: the mean of the other agents' replayed one-hots.
    const Tensor sum = torch::stack(b.action, 0).sum(0);
    std::vector<Tensor> opp(n);
    for (int i = 0; i < n; ++i) opp[i] = (sum - b.action[i]) / (n - 1);

    // Critics: r + gamma Q'(s', level-k action, the opponents' action it
    // answers) on the greedy roll-out (GR2-M: the Poisson-weighted mean
    // over levels). One-step games (every transition terminal, as in
    // matrix games) skip the roll-out.
    const bool bootstrap = b.done.min().item<float>() < 1.0f;
    for (int i = 0; i < n; ++i) {
      Tensor y = b.reward[i] * options_.reward_scale;
      if (bootstrap) {
        torch::NoGradGuard no_grad;
        const LevelRollout<Tensor> r = RollOut(i, b.next_obs[i], false);
        y = deep::BellmanTarget(y, b.done, LevelValue(i, b.next_obs[i], r),
                                gamma);
      }
      const Tensor q =
          critics_[i]->forward(b.obs[i], b.action[i], opp[i]).squeeze(-1);
      const Tensor loss = (q - y).pow(2).mean();
      critic_opts_[i]->zero_grad();
      loss.backward();
      critic_opts_[i]->step();
      SetMetric(i, "loss_q", loss.item<double>());
    }

    // Level-0 policies: Qbar^i(s, a) regresses Q^i(s, a, a^-i_replay) for
    // every own action a, so it converges to E_replay Q^i(s, a, .) and
    // pi0 = softmax(Qbar / alpha) is the soft best response to the
    // replayed opponents (the minimiser of sum_a pi(a) (alpha log pi(a) -
    // E Q^i)). Descending that loss directly stalls once the softmax
    // saturates on an early, wrong critic; the regression cannot.
    for (int i = 0; i < n; ++i) {
      Tensor q_all;
      {
        torch::NoGradGuard no_grad;
        q_all = EveryActionQ(*critics_[i], b.obs[i], opp[i], k_);
      }
      const Tensor loss = (pi0_[i]->forward(b.obs[i]) - q_all).pow(2).mean();
      pi0_opts_[i]->zero_grad();
      loss.backward();
      pi0_opts_[i]->step();
      SetMetric(i, "loss_pi0", loss.item<double>());
    }

    // Opponent models (centralised training): rho^-i(.|s, x) imitates the
    // others' greedy responses argmax_b Q^j(s, b, x) for every x, and
    // rho0^-i(.|s) the others' level-0 policies.
    const Tensor eye = torch::eye(k_);
    std::vector<Tensor> responses(n), level0(n);
    {
      torch::NoGradGuard no_grad;
      for (int j = 0; j < n; ++j) {
        // [B, x, b]: agent j's Q of b when the others play x.
        responses[j] = GreedyOneHot(
            EveryActionQ(*critics_[j], b.obs[j].unsqueeze(1), eye, k_));
        level0[j] = torch::softmax(Pi0Logits(j, b.obs[j]), -1);
      }
    }
    for (int i = 0; i < n; ++i) {
      const int64_t batch = b.obs[i].size(0);
      const Tensor target = (torch::stack(responses, 0).sum(0) - responses[i]) /
                            (n - 1);  // [B, x, b]
      const Tensor target0 =
          (torch::stack(level0, 0).sum(0) - level0[i]) / (n - 1);
      const Tensor logits = rho_[i]->forward(
          torch::cat({b.obs[i].unsqueeze(1).expand({batch, k_, obs_dim(i)}),
                      eye.unsqueeze(0).expand({batch, k_, k_})},
                     -1));
      const Tensor loss_rho =
          -(target * torch::log_softmax(logits, -1)).sum(-1).mean();
      const Tensor loss_rho0 =
          -(target0 * torch::log_softmax(rho0_[i]->forward(b.obs[i]), -1))
               .sum(-1)
               .mean();
      opponent_opts_[i]->zero_grad();
      (loss_rho + loss_rho0).backward();
      opponent_opts_[i]->step();
      SetMetric(i, "loss_opp", loss_rho.item<double>());
      SetMetric(i, "loss_opp0", loss_rho0.item<double>());
    }

    for (int i = 0; i < n; ++i) {
      nn::PolyakUpdate(*targets_[i], *critics_[i], options_.tau);
    }
    last_obs_ = b.obs;
  }

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    for (int i = 0; i < num_agents(); ++i) {
      const std::string id = absl::StrCat(i);
      modules->emplace_back("critic" + id, critics_[i].ptr().get());
      modules->emplace_back("critic_target" + id, targets_[i].ptr().get());
      modules->emplace_back("pi0" + id, pi0_[i].ptr().get());
      modules->emplace_back("rho" + id, rho_[i].ptr().get());
      modules->emplace_back("rho0" + id, rho0_[i].ptr().get());
      optimizers->emplace_back("critic" + id, critic_opts_[i].get());
      optimizers->emplace_back("pi0" + id, pi0_opts_[i].get());
      optimizers->emplace_back("opponent" + id, opponent_opts_[i].get());
    }
  }

 private:
  // pi0^i's logits Qbar^i(s, .) / alpha (alpha = 0: greedy in Qbar).
  Tensor Pi0Logits(int i, const Tensor& obs) {
    return pi0_[i]->forward(obs) / std::max(options_.alpha, 1e-6);
  }

  // Agent i's levels 0..k at obs [B, obs dim]: one-hots [B, k] per level.
  // Level 0 is sampled from pi0 and rho0 when stochastic, else greedy.
  LevelRollout<Tensor> RollOut(int i, const Tensor& obs, bool stochastic,
                               at::Generator* gen = nullptr) {
    auto level0 = [&](const Tensor& logits) {
      return nn::OneHot(
          stochastic ? nn::SampleCategorical(logits, gen ? *gen : generator())
                     : logits.argmax(-1),
          k_);
    };
    return RollOutDiscreteLevels(
        options_.level, level0(Pi0Logits(i, obs)),
        level0(rho0_[i]->forward(obs)),
        [&](const Tensor& a_opp) {
          return EveryActionQ(*critics_[i], obs, a_opp, k_);
        },
        [&](const Tensor& a_self) {
          return rho_[i]->forward(torch::cat({obs, a_self}, -1));
        });
  }

  // Q'(s, a^i_j, a^-i_{j-1}) of the level played ([B]); GR2-M: the
  // Poisson-weighted mean over levels 0..k (level 0 against a^-i_0).
  Tensor LevelValue(int i, const Tensor& obs, const LevelRollout<Tensor>& r) {
    auto value = [&](int j) {
      return targets_[i]
          ->forward(obs, r.self[j], r.opponent[std::max(j - 1, 0)])
          .squeeze(-1);
    };
    if (options_.variant == Gr2Options::Mode::kLevel)
      return value(options_.level);
    Tensor v = torch::zeros({obs.size(0)});
    for (size_t j = 0; j < weights_.size(); ++j) {
      v = v + weights_[j] * value(static_cast<int>(j));
    }
    return v;
  }

  // Metrics at the last batch's first observation: pi0's probabilities, the
  // greedy level actions, and the dominance hinge over a sampled roll-out
  // of the batch (0 by construction with argmax best responses).
  void ReportLevels(int i, const Tensor& obs) {
    torch::NoGradGuard no_grad;
    const Tensor first = obs.narrow(0, 0, 1);
    const Tensor p = torch::softmax(Pi0Logits(i, first), -1)[0];
    for (int64_t a = 0; a < k_; ++a) {
      SetMetric(i, absl::StrCat("prob_a", a), p[a].item<double>());
    }
    SetMetric(i, "entropy",
              nn::CategoricalEntropy(Pi0Logits(i, obs)).mean().item<double>());
    const LevelRollout<Tensor> greedy = RollOut(i, first, false);
    for (int j = 0; j <= options_.level; ++j) {
      SetMetric(i, absl::StrCat("level_", j, "_action"),
                greedy.self[j].argmax(-1)[0].item<double>());
    }
    const LevelRollout<Tensor> r = RollOut(i, obs, true, &metrics_generator_);
    const int first_level =
        options_.variant == Gr2Options::Mode::kLevel ? options_.level : 2;
    double hinge = 0;
    for (int j = std::max(first_level, 2); j <= options_.level; ++j) {
      const Tensor& a_opp = r.opponent[j - 1];
      hinge +=
          LevelDominanceLoss(critics_[i]->forward(obs, r.self[j], a_opp),
                             critics_[i]->forward(obs, r.self[j - 2], a_opp))
              .item<double>();
    }
    SetMetric(i, "loss_aux", hinge);
  }

  Gr2Options options_;
  int64_t k_ = 0;
  std::vector<Tensor> last_obs_;  // the last update's batch, per agent
  at::Generator metrics_generator_;
  std::vector<double> weights_;  // GR2-M's weights of levels 0..k
  std::vector<nn::QNetwork> critics_, targets_;
  std::vector<torch::nn::Sequential> pi0_;  // Qbar^i(s, .), see Update
  std::vector<nn::CategoricalPolicy> rho_, rho0_;
  std::vector<std::unique_ptr<torch::optim::Adam>> critic_opts_, pi0_opts_,
      opponent_opts_;
};

}  // namespace
}  // namespace gr2

absl::StatusOr<std::unique_ptr<JointLearner>> CreateGr2DiscreteLearner(
    const EnvSpec& spec, const Gr2Options& options, uint64_t seed) {
  return deep::SetUpLearner<gr2::Gr2DiscreteLearner>(spec, options, seed);
}

absl::StatusOr<std::unique_ptr<JointLearner>> CreateGr2Learner(
    const EnvSpec& spec, const Gr2Options& options, uint64_t seed) {
  bool all_discrete = !spec.action_spaces.empty();
  for (const Space& a : spec.action_spaces) {
    all_discrete = all_discrete && a.is_discrete();
  }
  if (all_discrete) return CreateGr2DiscreteLearner(spec, options, seed);
  return CreateGr2BoxLearner(spec, options, seed);
}

}  // namespace marl
