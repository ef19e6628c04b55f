#include "agents/soft_option/soft_option_learner.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/soft_option/option_acting.h"
#include "agents/soft_option/soft_option_losses.h"
#include "learners/deep_joint_base.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/q_network.h"
#include "nn/tanh_gaussian.h"
#include "runtime/json.h"

namespace marl {
namespace soft_option {
namespace {

using torch::Tensor;

constexpr double kLogStdMin = -5.0;
constexpr double kLogStdMax = 2.0;

class SoftOptionLearner : public deep::DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const SoftOptionOptions& o,
                     uint64_t seed) {
    o_ = o;
    if (spec.num_agents() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "soft_option: a single-agent learner; the environment has ",
          spec.num_agents(), " agents"));
    }
    if (absl::Status s = ValidateParams(o); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("soft_option: ", s.message()));
    }
    m_ = o.num_options;
    acting_ = OptionActing(m_);
    absl::Status s = Init(spec, o.base, seed, "soft_option",
                          /*allow_discrete_actions=*/true, {m_});
    if (!s.ok()) return s;
    discrete_ = is_discrete(0);
    const int64_t od = obs_dim(0);
    if (o.task_features >= od) {
      return absl::InvalidArgumentError(absl::StrCat(
          "soft_option: --task_features=", o.task_features,
          " leaves the options nothing of the ", od, "-float observation"));
    }
    option_dim_ = od - o.task_features;
    a_ = discrete_ ? num_actions(0) : action_dim(0);
    const std::vector<int64_t>& hidden = o.base.hidden.sizes;
    at::Generator& init = init_generator();
    q_ = discrete_ ? nn::MakeMlp(od, hidden, m_ * a_, init)
                   : nn::MakeMlp(od + a_, hidden, m_, init);
    option_value_ = nn::MakeMlp(od, hidden, m_, init);
    master_value_ = nn::MakeMlp(od, hidden, 1, init);
    arrival_value_ = nn::MakeMlp(od, hidden, m_, init);
    arrival_target_ = nn::CloneTarget(arrival_value_);
    low_ = nn::MakeMlp(option_dim_, hidden, discrete_ ? m_ * a_ : m_ * 2 * a_,
                       init);
    master_ = nn::MakeMlp(od, hidden, m_, init);
    termination_ = nn::MakeMlp(o.task_aware_termination ? od : option_dim_,
                               hidden, m_, init);
    if (o.freeze_options) {
      // No gradient reaches them, so the optimizer leaves them alone.
      nn::Freeze(*low_);
      nn::Freeze(*termination_);
    }
    value_opt_ = std::make_unique<nn::ForeachAdam>(
        nn::ParametersOf(
            {&q_, &option_value_, &master_value_, &arrival_value_}),
        torch::optim::AdamOptions(o.base.critic_lr));
    policy_opt_ = std::make_unique<nn::ForeachAdam>(
        nn::ParametersOf({&low_, &master_, &termination_}),
        torch::optim::AdamOptions(o.policy_lr));
    JsonObject config;
    config.Add("kind", "soft_option")
        .Add("actions", discrete_ ? "discrete" : "box")
        .Add("option_targets",
             o.every_option ? "every option" : "replayed options")
        .Add("master_value",
             o.soft_master_value ? "soft (eq. 4.9)" : "expected (eq. 4.10)");
    set_config(std::move(AddParams(o, config)));
    return absl::OkStatus();
  }

  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    std::vector<std::pair<std::string, double>> out =
        DeepJointLearner::Metrics(agent);
    acting_.AppendMetrics(&out);
    return out;
  }

 protected:
  void ChooseLatents(const std::vector<Tensor>& obs, bool deterministic,
                     bool random) override {
    const Tensor& s = obs[0];
    const int64_t n = s.size(0);
    std::vector<bool> first(n);
    for (int64_t c = 0; c < n; ++c) first[c] = EpisodeStarts(c);
    Tensor termination, master;
    if (random) {  // the priors
      termination = torch::full({n, m_}, o_.termination_prior);
      master = torch::full({n, m_}, 1.0 / m_);
    } else {
      termination = torch::sigmoid(termination_->forward(TerminationInput(s)));
      master = torch::softmax(master_->forward(s), -1);
    }
    const std::vector<int64_t>& options =
        acting_.Choose(acting_stream(), first, termination, master,
                       deterministic && !random, generator());
    for (int64_t c = 0; c < n; ++c) latent(0)[c * m_ + options[c]] = 1.0f;
  }

  Tensor Policy(int agent, const std::vector<Tensor>& obs,
                bool deterministic) override {
    const Tensor out = LowLevelOfActingOptions(obs[0], 2 * a_);
    const Tensor mean = out.narrow(-1, 0, a_);
    if (deterministic) return torch::tanh(mean);
    const Tensor log_std = out.narrow(-1, a_, a_).clamp(kLogStdMin, kLogStdMax);
    return nn::TanhGaussianFromNoise(mean, log_std,
                                     torch::randn(mean.sizes(), generator()))
        .action;
  }

  Tensor DiscretePolicy(int agent, const std::vector<Tensor>& obs,
                        bool deterministic) override {
    const Tensor logits = LowLevelOfActingOptions(obs[0], a_);
    return deterministic ? logits.argmax(-1)
                         : nn::SampleCategorical(logits, generator());
  }

  void Update(const deep::Minibatch& mb) override;

  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {
    *modules = {{"q", q_.ptr().get()},
                {"option_value", option_value_.ptr().get()},
                {"master_value", master_value_.ptr().get()},
                {"arrival_value", arrival_value_.ptr().get()},
                {"arrival_target", arrival_target_.ptr().get()},
                {"low", low_.ptr().get()},
                {"master", master_.ptr().get()},
                {"termination", termination_.ptr().get()}};
    *optimizers = {{"value", value_opt_.get()}, {"policy", policy_opt_.get()}};
  }

 private:
  // The low-level network's outputs (`width` per option) for each copy's
  // option of the Act call being made: [n, width].
  Tensor LowLevelOfActingOptions(const Tensor& s, int64_t width) {
    return acting_.AtChosen(low_->forward(OptionInput(s)), width);
  }

  // The mean over rows of per-option losses x [B, m] at each row's
  // replayed option z (--every_option: over every option).
  Tensor AtOptions(const Tensor& x, const Tensor& z) const {
    if (o_.every_option) return x.mean();
    return x.gather(1, z.view({-1, 1})).mean();
  }

  // What the options' policies see: the observation without its last
  // task_features floats.
  Tensor OptionInput(const Tensor& s) const {
    return s.narrow(-1, 0, option_dim_);
  }

  // What the termination policy sees: the options' input, or with
  // --task_aware_termination the whole observation.
  Tensor TerminationInput(const Tensor& s) const {
    return o_.task_aware_termination ? s : OptionInput(s);
  }

  SoftOptionOptions o_;
  int m_ = 0;
  int64_t option_dim_ = 0;
  int64_t a_ = 0;  // Discrete: actions; Box: action size
  bool discrete_ = false;
  // Q(s, a, z) per option (Discrete: all actions at once); V_L(s, z);
  // V_H(s); U(s, z') and its target copy; pi(a|s, z) per option (logits,
  // or tanh-Gaussian mean and log std); pi^H(z|s) logits; pi^T(b = 1|s, z')
  // logits.
  torch::nn::Sequential q_{nullptr}, option_value_{nullptr},
      master_value_{nullptr}, arrival_value_{nullptr}, arrival_target_{nullptr},
      low_{nullptr}, master_{nullptr}, termination_{nullptr};
  std::unique_ptr<torch::optim::Adam> value_opt_, policy_opt_;
  OptionActing acting_{1};  // sized in Setup
};

void SoftOptionLearner::Update(const deep::Minibatch& mb) {
  const Tensor& s = mb.obs[0];
  const int64_t b = s.size(0);
  const Tensor z = mb.latent[0].argmax(-1);  // [B]
  const double prior = o_.termination_prior;

  const Tensor v_low = option_value_->forward(s);               // [B, m]
  const Tensor v_high = master_value_->forward(s).squeeze(-1);  // [B]
  const Tensor arrival = arrival_value_->forward(s);            // [B, m]
  const Tensor master_log_probs = torch::log_softmax(master_->forward(s), -1);
  const Tensor termination_logits =
      termination_->forward(TerminationInput(s));  // [B, m]

  // The low level: Q of the option and action taken, V_L's target and the
  // policies' loss for every option.
  Tensor q_taken, v_low_target, low_loss;
  if (discrete_) {
    const Tensor q_all = q_->forward(s).view({b, m_, a_});
    const Tensor log_probs =
        torch::log_softmax(low_->forward(OptionInput(s)).view({b, m_, a_}), -1);
    q_taken =
        (q_all.gather(1, z.view({b, 1, 1}).expand({b, 1, a_})).squeeze(1) *
         mb.action[0])
            .sum(-1);
    v_low_target =
        DiscreteOptionValueTarget(log_probs.detach(), q_all.detach());
    low_loss = AtOptions(DiscreteLowPolicyLoss(log_probs, q_all.detach()), z);
  } else {
    q_taken = q_->forward(torch::cat({s, mb.action[0]}, -1))
                  .gather(1, z.view({b, 1}))
                  .squeeze(1);
    const Tensor out = low_->forward(OptionInput(s)).view({b, m_, 2 * a_});
    const nn::TanhGaussianSample sample = nn::TanhGaussianFromNoise(
        out.narrow(-1, 0, a_),
        out.narrow(-1, a_, a_).clamp(kLogStdMin, kLogStdMax),
        torch::randn({b, m_, a_}, generator()));
    // Q(s, a_z, z) for each option's own sample: the diagonal of [B, z, z'].
    const Tensor q_new =
        q_
            ->forward(torch::cat(
                {s.unsqueeze(1).expand({b, m_, s.size(1)}), sample.action}, -1))
            .diagonal(0, 1, 2);
    const double log_prior = -static_cast<double>(a_) * std::log(2.0);
    v_low_target = (q_new - sample.log_prob + log_prior).detach();
    low_loss = AtOptions(sample.log_prob - log_prior - q_new, z);
  }
  const Tensor v_high_target = MasterValueTarget(
      v_low.detach(), master_log_probs.detach(), o_.soft_master_value);
  const Tensor arrival_target = TerminationValueTarget(
      termination_logits.detach(), v_high.detach().unsqueeze(-1),
      v_low.detach(), prior);
  const Tensor master_loss =
      MasterPolicyLoss(master_log_probs, v_low.detach()).mean();
  const Tensor termination_loss =
      TerminationPolicyLoss(
          termination_logits,
          OptimalTerminationLogits(v_high.detach().unsqueeze(-1),
                                   v_low.detach(), prior))
          .mean();
  Tensor q_target;
  {
    torch::NoGradGuard no_grad;
    const Tensor next = arrival_target_->forward(mb.next_obs[0])
                            .gather(1, z.view({b, 1}))
                            .squeeze(-1);
    q_target = deep::BellmanTarget(o_.beta * mb.reward[0], mb.done, next,
                                   base_options().gamma);
  }
  const Tensor q_loss = 0.5 * (q_taken - q_target).pow(2).mean();
  const Tensor v_low_loss = AtOptions(0.5 * (v_low - v_low_target).pow(2), z);
  const Tensor v_high_loss = 0.5 * (v_high - v_high_target).pow(2).mean();
  const Tensor arrival_loss = 0.5 * (arrival - arrival_target).pow(2).mean();

  // The policies first: a Box policy's loss reaches through Q, whose
  // weights the value step then changes in place.
  policy_opt_->zero_grad();
  (o_.freeze_options ? master_loss : low_loss + master_loss + termination_loss)
      .backward();
  policy_opt_->step();
  value_opt_->zero_grad();  // also what the policy loss left on Q
  (q_loss + v_low_loss + v_high_loss + arrival_loss).backward();
  value_opt_->step();
  nn::PolyakUpdate(*arrival_target_, *arrival_value_, base_options().tau);

  SetMetric(0, "loss_q", q_loss.item<double>());
  SetMetric(0, "loss_option_value", v_low_loss.item<double>());
  SetMetric(0, "loss_master_value", v_high_loss.item<double>());
  SetMetric(0, "loss_arrival_value", arrival_loss.item<double>());
  SetMetric(0, "loss_low_policy", low_loss.item<double>());
  SetMetric(0, "loss_master_policy", master_loss.item<double>());
  SetMetric(0, "loss_termination_policy", termination_loss.item<double>());
  SetMetric(0, "master_value", v_high.mean().item<double>());
}

}  // namespace
}  // namespace soft_option

std::string SoftOptionAlgorithmName(const SoftOptionOptions& o) {
  if (o.num_options == 1) return "soft_option_flat";
  return absl::StrCat(
      "soft_option_m", o.num_options, o.soft_master_value ? "" : "_expected",
      o.task_features > 0 ? "_shared" : "",
      o.task_features > 0 && o.task_aware_termination ? "_task_termination"
                                                      : "");
}

absl::StatusOr<std::unique_ptr<JointLearner>> CreateSoftOptionLearner(
    const EnvSpec& spec, const SoftOptionOptions& options, uint64_t seed) {
  return deep::SetUpLearner<soft_option::SoftOptionLearner>(spec, options,
                                                            seed);
}

}  // namespace marl
