#include "agents/soft_option_comm/soft_option_comm_learner.h"

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/soft_option/option_acting.h"
#include "agents/soft_option/soft_option_losses.h"
#include "agents/soft_option_comm/soft_option_comm_losses.h"
#include "envs/core/message_channel.h"
#include "learners/deep_joint_base.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/q_network.h"
#include "runtime/json.h"

namespace marl {
namespace soft_option_comm {
namespace {

using soft_option::DiscreteLowPolicyLoss;
using soft_option::DiscreteOptionValueTarget;
using soft_option::MasterPolicyLoss;
using soft_option::MasterValueTarget;
using soft_option::OptimalTerminationLogits;
using soft_option::TerminationPolicyLoss;
using soft_option::TerminationValueTarget;
using torch::Tensor;

// One agent's networks. Values, along the chain of eq. 4.16-4.21 (z, a the
// agent's option and action, z_p, a_p the partner's; every network also
// sees the observation, which holds the partner's last message):
//   joint_q   Q(s, z, a, z_p, a_p)                       loss 4.41
//   partner_low_value     Q(s, z, a, z_p)                loss 4.29
//   partner_master_value  Q(s, z, a)                     loss 4.30
//   partner_arrival_value Q(s, z'_p, a, z)               loss 4.31
//   low_value     Q(s, z'_p, z)                          loss 4.32
//   master_value  Q(s, z'_p)                             loss 4.33
//   arrival_value Q(s, z_prev, z'_p), and its target     loss 4.34
// Policies (logits): partner_low rho(a_p|s, z, a, z_p) 4.35, partner_master
// q^H_p(z_p|s, a, z) 4.36, partner_termination q^T_p(b = 1|s, z'_p, a, z)
// 4.37, low pi(a|s, z, z'_p) 4.38, master q^H(z|s, z'_p) 4.39, termination
// q^T(b = 1|s, z_prev, z'_p) 4.40.
struct AgentNets {
  torch::nn::Sequential joint_q{nullptr}, partner_low_value{nullptr},
      partner_master_value{nullptr}, partner_arrival_value{nullptr},
      low_value{nullptr}, master_value{nullptr}, arrival_value{nullptr},
      arrival_target{nullptr};
  torch::nn::Sequential partner_low{nullptr}, partner_master{nullptr},
      partner_termination{nullptr}, low{nullptr}, master{nullptr},
      termination{nullptr};
  std::unique_ptr<torch::optim::Adam> value_opt, policy_opt;
  int64_t messages_at = 0;       // where the partner's message starts in obs
  int64_t own_end = 0;           // the environment's own observation ends here
  int64_t n = 0, n_partner = 0;  // actions
};

class SoftOptionCommLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const SoftOptionCommOptions& o,
                     uint64_t seed) {
    o_ = o;
    if (spec.num_agents() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "soft_option_comm: a two-agent learner; the environment has ",
          spec.num_agents(), " agents"));
    }
    if (absl::Status s = ValidateParams(o); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("soft_option_comm: ", s.message()));
    }
    m_ = o.num_options;
    if (spec.message_size == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "soft_option_comm: the agents send their options as messages; "
          "make the environment with message_size=",
          m_, " (its protocol message channel)"));
    }
    // Checks the actions under the channel and message_size against m.
    absl::Status s = Init(spec, o.base, seed, "soft_option_comm",
                          /*allow_discrete_actions=*/true, {m_, m_});
    if (!s.ok()) return s;
    for (int i = 0; i < 2; ++i) {
      if (!is_discrete(i) || !spec.observation_spaces[i].is_box()) {
        return absl::InvalidArgumentError(
            "soft_option_comm: needs Discrete actions under the channel");
      }
    }
    at::Generator& init = init_generator();
    const std::vector<int64_t>& hidden = o.base.hidden.sizes;
    nets_.resize(2);
    for (int i = 0; i < 2; ++i) {
      AgentNets& a = nets_[i];
      a.n = num_actions(i);
      a.n_partner = num_actions(1 - i);
      a.messages_at = MessageOffset(spec, i, 1 - i);
      a.own_end = a.messages_at;
      if (o.task_features >= a.own_end) {
        return absl::InvalidArgumentError(absl::StrCat(
            "soft_option_comm: --task_features=", o.task_features,
            " leaves the options nothing of agent ", spec.agent_ids[i], "'s ",
            a.own_end, "-float observation"));
      }
      const int64_t od = obs_dim(i);
      const int64_t option_dim = od - o.task_features;
      const int64_t m = m_, n = a.n, np = a.n_partner;
      a.joint_q = nn::MakeMlp(od, hidden, m * n * m * np, init);
      a.partner_low_value = nn::MakeMlp(od, hidden, m * n * m, init);
      a.partner_master_value = nn::MakeMlp(od, hidden, m * n, init);
      a.partner_arrival_value = nn::MakeMlp(od, hidden, m * n, init);
      a.low_value = nn::MakeMlp(od, hidden, m, init);
      a.master_value = nn::MakeMlp(od, hidden, 1, init);
      a.arrival_value = nn::MakeMlp(od, hidden, m, init);
      a.arrival_target = nn::CloneTarget(a.arrival_value);
      a.partner_low = nn::MakeMlp(od, hidden, m * n * m * np, init);
      a.partner_master = nn::MakeMlp(od, hidden, m * n * m, init);
      a.partner_termination = nn::MakeMlp(od, hidden, m * n, init);
      a.low = nn::MakeMlp(option_dim, hidden, m * n, init);
      a.master = nn::MakeMlp(od, hidden, m, init);
      a.termination = nn::MakeMlp(option_dim, hidden, m, init);
      a.value_opt = std::make_unique<nn::ForeachAdam>(
          nn::ParametersOf({&a.joint_q, &a.partner_low_value,
                            &a.partner_master_value, &a.partner_arrival_value,
                            &a.low_value, &a.master_value, &a.arrival_value}),
          torch::optim::AdamOptions(o.base.critic_lr));
      a.policy_opt = std::make_unique<nn::ForeachAdam>(
          nn::ParametersOf({&a.partner_low, &a.partner_master,
                            &a.partner_termination, &a.low, &a.master,
                            &a.termination}),
          torch::optim::AdamOptions(o.policy_lr));
      acting_.emplace_back(m_);
    }
    JsonObject config;
    config.Add("kind", "soft_option_comm")
        .Add("master_value",
             o.soft_master_value ? "soft (eq. 4.9)" : "expected (eq. 4.10)")
        .Add("messages", o.zero_messages ? "zeroed" : "partner's last option")
        .Add("option_targets",
             o.every_option ? "every option" : "replayed options")
        .Add("partner_model", o.fitted_partner ? "fitted" : "variational");
    set_config(std::move(AddParams(o, config)));
    return absl::OkStatus();
  }

  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    std::vector<std::pair<std::string, double>> out =
        DeepJointLearner::Metrics(agent);
    acting_[agent].AppendMetrics(&out);
    return out;
  }

 protected:
  void ChooseLatents(const std::vector<Tensor>& obs, bool deterministic,
                     bool random) override {
    const int64_t n = obs[0].size(0);
    std::vector<bool> first(n);
    for (int64_t c = 0; c < n; ++c) first[c] = EpisodeStarts(c);
    for (int i = 0; i < 2; ++i) {
      Tensor termination, master;
      if (random) {  // the priors
        termination = torch::full({n, m_}, o_.termination_prior);
        master = torch::full({n, m_}, 1.0 / m_);
      } else {
        const Tensor s = Heard(i, obs[i]);
        termination =
            torch::sigmoid(nets_[i].termination->forward(OptionInput(i, s)));
        master = torch::softmax(nets_[i].master->forward(s), -1);
      }
      const std::vector<int64_t>& options =
          acting_[i].Choose(acting_stream(), first, termination, master,
                            deterministic && !random, generator());
      for (int64_t c = 0; c < n; ++c) latent(i)[c * m_ + options[c]] = 1.0f;
    }
  }

  Tensor DiscretePolicy(int agent, const std::vector<Tensor>& obs,
                        bool deterministic) override {
    const Tensor logits = acting_[agent].AtChosen(
        nets_[agent].low->forward(OptionInput(agent, Heard(agent, obs[agent]))),
        nets_[agent].n);
    return deterministic ? logits.argmax(-1)
                         : nn::SampleCategorical(logits, generator());
  }

  Tensor Policy(int, const std::vector<Tensor>&, bool) override {
    TORCH_CHECK(false, "soft_option_comm has no Box actions");
  }

  void Update(const deep::Minibatch& mb) override {
    for (int i = 0; i < 2; ++i) UpdateAgent(i, mb);
  }

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    modules->clear();
    optimizers->clear();
    for (int i = 0; i < 2; ++i) {
      AgentNets& a = nets_[i];
      const std::string p = absl::StrCat("agent", i, "_");
      const std::vector<std::pair<std::string, torch::nn::Sequential*>> nets = {
          {"joint_q", &a.joint_q},
          {"partner_low_value", &a.partner_low_value},
          {"partner_master_value", &a.partner_master_value},
          {"partner_arrival_value", &a.partner_arrival_value},
          {"low_value", &a.low_value},
          {"master_value", &a.master_value},
          {"arrival_value", &a.arrival_value},
          {"arrival_target", &a.arrival_target},
          {"partner_low", &a.partner_low},
          {"partner_master", &a.partner_master},
          {"partner_termination", &a.partner_termination},
          {"low", &a.low},
          {"master", &a.master},
          {"termination", &a.termination}};
      for (const auto& [name, net] : nets) {
        modules->emplace_back(p + name, net->ptr().get());
      }
      optimizers->emplace_back(p + "value", a.value_opt.get());
      optimizers->emplace_back(p + "policy", a.policy_opt.get());
    }
  }

 private:
  // The observation as agent i uses it: with --zero_messages its partner's
  // message reads as zeros.
  Tensor Heard(int i, const Tensor& obs) const {
    if (!o_.zero_messages) return obs;
    Tensor heard = obs.clone();
    heard.narrow(-1, nets_[i].messages_at, m_).zero_();
    return heard;
  }

  // What agent i's options' policies see: the observation without the
  // environment's last task_features floats (the messages stay).
  Tensor OptionInput(int i, const Tensor& s) const {
    if (o_.task_features == 0) return s;
    const int64_t own = nets_[i].own_end;
    return torch::cat({s.narrow(-1, 0, own - o_.task_features),
                       s.narrow(-1, own, s.size(-1) - own)},
                      -1);
  }

  void UpdateAgent(int i, const deep::Minibatch& mb);

  SoftOptionCommOptions o_;
  int m_ = 0;
  std::vector<AgentNets> nets_;
  std::vector<soft_option::OptionActing> acting_;
};

void SoftOptionCommLearner::UpdateAgent(int i, const deep::Minibatch& mb) {
  AgentNets& a = nets_[i];
  const int p = 1 - i;
  const Tensor s = Heard(i, mb.obs[i]);
  const int64_t b = s.size(0), m = m_, n = a.n, np = a.n_partner;
  const double prior = o_.termination_prior;
  const bool soft = o_.soft_master_value;
  const Tensor z = mb.latent[i].argmax(-1);
  const Tensor z_partner = mb.latent[p].argmax(-1);
  const Tensor action = mb.action[i].argmax(-1);
  const Tensor action_partner = mb.action[p].argmax(-1);
  const PartnerMessage message = ReadMessage(s.narrow(-1, a.messages_at, m_));

  const Tensor joint_q = a.joint_q->forward(s).view({b, m, n, m, np});
  const Tensor partner_low_value =
      a.partner_low_value->forward(s).view({b, m, n, m});
  const Tensor partner_master_value =
      a.partner_master_value->forward(s).view({b, m, n});
  const Tensor partner_arrival_value =
      a.partner_arrival_value->forward(s).view({b, m, n});
  const Tensor low_value = a.low_value->forward(s);                    // [B, m]
  const Tensor master_value = a.master_value->forward(s).squeeze(-1);  // [B]
  const Tensor arrival_value = a.arrival_value->forward(s);            // [B, m]

  const Tensor partner_low =
      torch::log_softmax(a.partner_low->forward(s).view({b, m, n, m, np}), -1);
  const Tensor partner_master =
      torch::log_softmax(a.partner_master->forward(s).view({b, m, n, m}), -1);
  const Tensor partner_termination =
      a.partner_termination->forward(s).view({b, m, n});
  const Tensor low =
      torch::log_softmax(a.low->forward(OptionInput(i, s)).view({b, m, n}), -1);
  const Tensor master = torch::log_softmax(a.master->forward(s), -1);
  const Tensor termination = a.termination->forward(OptionInput(i, s));

  // Targets, innermost first (each value's target uses the next one's
  // network, as the thesis's losses do).
  const Tensor joint_q_d = joint_q.detach();
  const Tensor partner_low_value_d = partner_low_value.detach();
  const Tensor partner_master_value_d = partner_master_value.detach();
  const Tensor partner_arrival_value_d = partner_arrival_value.detach();
  const Tensor low_value_d = low_value.detach();
  const Tensor master_value_d = master_value.detach();
  Tensor joint_target;
  {
    torch::NoGradGuard no_grad;
    const Tensor next = a.arrival_target->forward(Heard(i, mb.next_obs[i]))
                            .gather(1, z.view({b, 1}))
                            .squeeze(-1);
    joint_target = deep::BellmanTarget(o_.beta * mb.reward[i], mb.done, next,
                                       base_options().gamma);
  }
  const Tensor partner_low_target =
      DiscreteOptionValueTarget(partner_low.detach(), joint_q_d);
  const Tensor partner_master_target =
      MasterValueTarget(partner_low_value_d, partner_master.detach(), soft);
  const Tensor partner_arrival_target = PartnerTerminationValueTarget(
      partner_termination.detach(), partner_master_value_d, partner_low_value_d,
      message, prior);
  const Tensor low_target =
      DiscreteOptionValueTarget(low.detach(), partner_arrival_value_d);
  const Tensor master_target =
      MasterValueTarget(low_value_d, master.detach(), soft);
  const Tensor arrival_target = TerminationValueTarget(
      termination.detach(), master_value_d.unsqueeze(-1), low_value_d, prior);

  // The replayed option, (option, action) and (option, action, partner's
  // option) as flat indices into the per-element losses below, which are
  // averaged there (or, with --every_option, over every element).
  const Tensor at_z = z;
  const Tensor at_za = z * n + action;
  const Tensor at_zaz = at_za * m + z_partner;
  auto replayed = [&](const Tensor& x, const Tensor& flat) {
    if (o_.every_option) return x.mean();
    return x.reshape({b, -1}).gather(1, flat.view({b, 1})).mean();
  };
  auto half_se = [](const Tensor& x, const Tensor& target) {
    return 0.5 * (x - target).pow(2);
  };
  const Tensor joint_loss =
      half_se(JointQAt(joint_q, z, action, z_partner, action_partner),
              joint_target)
          .mean();
  const Tensor value_loss =
      replayed(half_se(partner_low_value, partner_low_target), at_zaz) +
      replayed(half_se(partner_master_value, partner_master_target), at_za) +
      replayed(half_se(partner_arrival_value, partner_arrival_target), at_za) +
      replayed(half_se(low_value, low_target), at_z) +
      half_se(master_value, master_target).mean() +
      half_se(arrival_value, arrival_target).mean();

  Tensor partner_low_loss, partner_master_loss, partner_termination_loss;
  if (o_.fitted_partner) {
    // The partner's replayed action, and its option given its message.
    partner_low_loss =
        -partner_low.reshape({b, -1})
             .gather(1, (at_zaz * np + action_partner).view({b, 1}))
             .mean();
    partner_master_loss =
        PartnerOptionNll(partner_termination.reshape({b, -1})
                             .gather(1, at_za.view({b, 1}))
                             .squeeze(1),
                         partner_master.reshape({b, m * n, m})
                             .gather(1, at_za.view({b, 1, 1}).expand({b, 1, m}))
                             .squeeze(1),
                         z_partner, message)
            .mean();
    partner_termination_loss = torch::zeros({});
  } else {
    partner_low_loss =
        replayed(DiscreteLowPolicyLoss(partner_low, joint_q_d), at_zaz);
    partner_master_loss =
        replayed(MasterPolicyLoss(partner_master, partner_low_value_d), at_za);
    partner_termination_loss =
        replayed(PartnerTerminationPolicyLoss(
                     partner_termination, partner_master_value_d,
                     partner_low_value_d, message, prior),
                 at_za);
  }
  const Tensor low_loss =
      replayed(DiscreteLowPolicyLoss(low, partner_arrival_value_d), at_z);
  const Tensor master_loss = MasterPolicyLoss(master, low_value_d).mean();
  const Tensor termination_loss =
      TerminationPolicyLoss(
          termination, OptimalTerminationLogits(master_value_d.unsqueeze(-1),
                                                low_value_d, prior))
          .mean();

  a.policy_opt->zero_grad();
  (partner_low_loss + partner_master_loss + partner_termination_loss +
   low_loss + master_loss + termination_loss)
      .backward();
  a.policy_opt->step();
  a.value_opt->zero_grad();
  (joint_loss + value_loss).backward();
  a.value_opt->step();
  nn::PolyakUpdate(*a.arrival_target, *a.arrival_value, base_options().tau);

  SetMetric(i, "loss_joint_q", joint_loss.item<double>());
  SetMetric(i, "loss_values", value_loss.item<double>());
  SetMetric(i, "loss_partner_low_policy", partner_low_loss.item<double>());
  SetMetric(i, "loss_partner_master_policy",
            partner_master_loss.item<double>());
  SetMetric(i, "loss_partner_termination_policy",
            partner_termination_loss.item<double>());
  SetMetric(i, "loss_low_policy", low_loss.item<double>());
  SetMetric(i, "loss_master_policy", master_loss.item<double>());
  SetMetric(i, "loss_termination_policy", termination_loss.item<double>());
  SetMetric(i, "master_value", master_value.mean().item<double>());
}

}  // namespace
}  // namespace soft_option_comm

std::string SoftOptionCommAlgorithmName(const SoftOptionCommOptions& o) {
  return absl::StrCat(
      "soft_option_comm_m", o.num_options, o.zero_messages ? "_zeroed" : "",
      o.fitted_partner ? "_fitted" : "", o.soft_master_value ? "" : "_expected",
      o.task_features > 0 ? "_shared" : "");
}

absl::StatusOr<std::unique_ptr<JointLearner>> CreateSoftOptionCommLearner(
    const EnvSpec& spec, const SoftOptionCommOptions& options, uint64_t seed) {
  return deep::SetUpLearner<soft_option_comm::SoftOptionCommLearner>(
      spec, options, seed);
}

}  // namespace marl
