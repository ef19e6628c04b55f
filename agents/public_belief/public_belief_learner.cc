#include "agents/public_belief/public_belief_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "learners/off_policy_state.h"
#include "learners/sequence_replay.h"
#include "learners/temperature_schedule.h"
#include "learners/update_schedule.h"
#include "nn/adam.h"
#include "nn/categorical.h"
#include "nn/mlp.h"
#include "nn/particle_filter.h"
#include "nn/torch_setup.h"
#include "runtime/json.h"
#include "runtime/observation_encoder.h"
#include "runtime/seeds.h"

namespace marl {
namespace {

using torch::Tensor;

// Random streams of the learner's seed (runtime/seeds.h).
enum Stream : uint64_t {
  kReplayStream = 1,  // sequence sampling
  kActStream = 2,     // actions and resampling while acting
  kInitStream = 3,    // initial weights
  kUpdateStream = 4,  // resampling inside updates
  kGreedyStream = 5,  // the belief's draws when acting greedily
};

// What the public agent carries from one step to the next, per row (a copy
// or a replayed sequence).
struct Carry {
  nn::ParticleBelief belief;
  // Per agent j, per particle: the distribution over j's private
  // observation after the last step's actions [B, K, n_j] (uniform at a
  // start).
  std::vector<Tensor> card;
  // [B, K]: log-likelihood of the actions taken at the last step under
  // each particle (the evidence the next step weighs in); 0 at a start.
  Tensor action_loglik;
  Tensor condition;  // [B, C]: the last step's acted actions, one-hot
};

// The public agent's view of one step.
struct PublicView {
  Carry carry;
  Tensor weights;  // [B, K], normalised
  Tensor state;    // [B, K, Z + H]: the particles' x and f
  // Per agent j: each particle's distribution over j's private observation
  // at this step, before this step's actions [B, K, n_j], and the belief's
  // marginal, sum_k W^k card^k [B, n_j]. Empty without particles.
  std::vector<Tensor> card, marginal;
  Tensor message;                      // [B, M] or undefined
  Tensor message_entropy;              // [B] or undefined
  Tensor elbo;                         // [B] or undefined
  std::vector<Tensor> private_nll;     // per agent [B] (training)
  std::vector<Tensor> belief_on_true;  // per agent [B] (training)
};

// One agent's mixtures over the particles at one step.
struct AgentView {
  Tensor q;       // [B, A]
  Tensor v;       // [B]
  Tensor log_pi;  // [B, A]
  // [B, K, n, A]: the policy's logits per particle as if the agent's
  // private observation were each of its n values (the counterfactual the
  // evidence of its action is weighed with).
  Tensor cf_logits;
};

Tensor Expand(const Tensor& x, int64_t k) {  // [B, W] -> [B, K, W]
  return x.unsqueeze(1).expand({x.size(0), k, x.size(1)});
}

class PublicBeliefLearner : public JointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, const PublicBeliefOptions& o,
                     uint64_t seed) {
    o_ = o;
    if (absl::Status s = ValidateParams(o); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("public_belief: ", s.message()));
    }
    const int n = spec.num_agents();
    if (n < 2) {
      return absl::InvalidArgumentError(
          "public_belief: a public agent serves two or more agents");
    }
    if (!spec.has_public_observation) {
      return absl::InvalidArgumentError(
          "public_belief: the environment has no public observation (the "
          "public agent's belief is built from it)");
    }
    if (spec.message_size != 0) {
      return absl::InvalidArgumentError(
          "public_belief: make the environment without message_size (the "
          "public agent's message is internal)");
    }
    spec_ = spec;
    k_ = std::max<int64_t>(o.particles, 1);
    m_ = o.particles > 0 ? o.message_size : 0;
    pub_ = spec.public_observation_space.FlatSize();
    for (int a = 0; a < n; ++a) {
      const Space& act = spec.action_spaces[a];
      if (!act.is_discrete()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "public_belief: agent ", spec.agent_ids[a], " has a ",
            act.DebugString(), " action space; Discrete actions only"));
      }
      const Space& obs = spec.observation_spaces[a];
      if (o.particles > 0 && !obs.is_discrete()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "public_belief: agent ", spec.agent_ids[a], " has a ",
            obs.DebugString(),
            " observation; the public agent keeps beliefs over private "
            "observations "
            "per particle, so they must be Discrete (or run --particles=0)"));
      }
      encoders_.emplace_back(spec.agent_ids[a], obs);
      actions_.push_back(act.n);
      own_.push_back(encoders_.back().size());
    }
    condition_ = 0;
    for (int64_t a : actions_) condition_ += a;
    private_total_ = 0;
    if (o.particles > 0) {
      for (int64_t w : own_) private_total_ += w;
    }

    nn::UseOneThreadPerProcess();
    init_gen_ =
        at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, kInitStream));
    act_gen_ =
        at::make_generator<at::CPUGeneratorImpl>(DeriveSeed(seed, kActStream));
    replay_rng_.seed(DeriveSeed(seed, kReplayStream));
    act_rng_.seed(DeriveSeed(seed, kActStream));
    update_rng_.seed(DeriveSeed(seed, kUpdateStream));
    greedy_seed_ = DeriveSeed(seed, kGreedyStream);

    const std::vector<int64_t>& hidden = o.hidden.sizes;
    // Each particle's x and f (nothing without particles).
    const int64_t state = o.particles > 0 ? o.latent_size + o.belief_hidden : 0;
    std::vector<torch::nn::Sequential*> nets;
    if (o.particles > 0) {
      nn::ParticleFilterOptions f;
      f.particles = k_;
      f.latent_size = o.latent_size;
      f.hidden_size = o.belief_hidden;
      f.condition_size = condition_;
      f.observation_size = pub_;
      f.hidden = hidden;
      filter_ = nn::ParticleFilterModel(f, init_gen_);
      for (int a = 0; a < n; ++a) {
        // p(y_t | y_{t-1}): [previous value one-hot, start flag, particle
        // state, o^pub, c] -> logits over the current value.
        card_models_.push_back(
            nn::MakeMlp(own_[a] + 1 + state + pub_ + condition_, hidden,
                        own_[a], init_gen_));
      }
      if (m_ > 0) {
        message_head_ =
            nn::MakeMlp(state + private_total_ + pub_, hidden, m_, init_gen_);
        nets.push_back(&message_head_);
      }
      for (auto& g : card_models_) nets.push_back(&g);
    }
    // AgentInput: the particle's state, every agent's slot and marginal,
    // the message, the agent's own observation and o^pub.
    for (int a = 0; a < n; ++a) {
      const int64_t in = state + 2 * private_total_ + m_ + own_[a] + pub_;
      q_.push_back(nn::MakeMlp(in, hidden, actions_[a], init_gen_));
      v_.push_back(nn::MakeMlp(in, hidden, 1, init_gen_));
      pi_.push_back(nn::MakeMlp(in, hidden, actions_[a], init_gen_));
    }
    for (int a = 0; a < n; ++a) {
      nets.push_back(&q_[a]);
      nets.push_back(&v_[a]);
      nets.push_back(&pi_[a]);
    }
    std::vector<Tensor> params = nn::ParametersOf(nets);
    if (filter_) {
      for (const Tensor& p : filter_->parameters()) params.push_back(p);
    }
    optimizer_ = std::make_unique<nn::ForeachAdam>(
        params, torch::optim::AdamOptions(o.lr));

    std::vector<ReplayField> fields = {{"pub", pub_},
                                       {"next_pub", pub_},
                                       {"current", 1},
                                       {"terminated", 1},
                                       {"truncated", 1}};
    for (int a = 0; a < n; ++a) {
      const std::string id = absl::StrCat(a);
      fields.push_back({"own" + id, own_[a]});
      fields.push_back({"next_own" + id, own_[a]});
      fields.push_back({"action" + id, 1});
      fields.push_back({"reward" + id, 1});
    }
    replay_fields_ = std::move(fields);
    schedule_ = UpdateSchedule(o.update_ratio, o.warmup);
    alpha_ = TemperatureSchedule::Exponential(o.alpha, o.alpha_decay,
                                              std::min(o.alpha, o.alpha_min));
    sums_.assign(n, {});
    JsonObject config;
    config_json_ = AddParams(o, config).Build();
    return absl::OkStatus();
  }

  void SetPublicObservation(const float* public_observation) override {
    public_ = public_observation;
  }
  void SetCurrentAgents(const int32_t* current_agent) override {
    current_ = current_agent;
  }
  void SetActingContext(ActingStream stream, const bool* first) override {
    stream_ = stream;
    first_ = first;
  }
  bool TakesTurns() const override { return true; }
  absl::Status status() const override { return status_; }
  std::string ConfigJson() const override { return config_json_; }
  absl::Span<const float> LastLatents(int agent) const override {
    return last_message_;
  }
  std::string AgentNote(int agent) const override {
    return o_.particles > 0 ? absl::StrCat("public belief, K=", k_)
                            : "no public agent";
  }

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>*) override {
    if (!status_.ok()) return;
    try {
      status_ = ActOrError(observation, num_copies, deterministic, discrete);
    } catch (const std::exception& e) {
      status_ = absl::InternalError(absl::StrCat("public_belief: ", e.what()));
    }
  }

  void Learn(const TransitionBatch& batch) override {
    if (!status_.ok()) return;
    try {
      status_ = LearnOrError(batch);
    } catch (const std::exception& e) {
      status_ = absl::InternalError(absl::StrCat("public_belief: ", e.what()));
    }
  }

  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [name, sum] : sums_[agent]) {
      out.push_back({name, sum.second > 0 ? sum.first / sum.second : 0.0});
    }
    out.push_back({"updates", static_cast<double>(updates_)});
    sums_[agent].clear();
    return out;
  }

  // The replay is not checkpointed (--checkpoint_replay is ignored): a
  // resumed run refills it.
  absl::StatusOr<std::string> Save() const override {
    return SaveOffPolicyState(State(), /*with_replay=*/false);
  }
  absl::Status Load(const std::string& bytes) override {
    absl::Status s = LoadOffPolicyState(bytes, State());
    acting_.clear();  // beliefs in flight restart from the episode starts
    return s;
  }

  // Runs one update now (tests).
  absl::Status UpdateOnce() { return Update(); }

 private:
  OffPolicyState State() const {
    auto* self = const_cast<PublicBeliefLearner*>(this);
    OffPolicyState s;
    s.learner = "public_belief";
    s.shape = {spec_.num_agents(), o_.particles, o_.latent_size,
               o_.belief_hidden,   m_,           pub_};
    for (int64_t a : actions_) s.shape.push_back(a);
    for (int64_t w : own_) s.shape.push_back(w);
    s.shape_meaning =
        "agents, particles, latent, belief hidden, message, public "
        "observation, actions and private observation sizes";
    if (filter_) s.torch.modules.push_back({"filter", self->filter_.get()});
    if (message_head_) {
      s.torch.modules.push_back({"message", self->message_head_.get()});
    }
    for (size_t a = 0; a < q_.size(); ++a) {
      const std::string id = absl::StrCat(a);
      if (!card_models_.empty()) {
        s.torch.modules.push_back({"card" + id, self->card_models_[a].get()});
      }
      s.torch.modules.push_back({"q" + id, self->q_[a].get()});
      s.torch.modules.push_back({"v" + id, self->v_[a].get()});
      s.torch.modules.push_back({"pi" + id, self->pi_[a].get()});
    }
    s.torch.optimizers.push_back({"adam", self->optimizer_.get()});
    s.torch.generators = {
        {"init", &self->init_gen_},
        {"act", &self->act_gen_},
    };
    s.rng = &self->replay_rng_;
    s.engines = {{"act", &self->act_rng_}, {"update", &self->update_rng_}};
    s.updates = &self->updates_;
    s.schedule = &self->schedule_;
    return s;
  }

  void Add(int agent, const std::string& name, double value) {
    auto& sum = sums_[agent][name];
    sum.first += value;
    sum.second += 1;
  }

  // --- The public agent -------------------------------------------------

  Carry Initial(int64_t rows) const {
    Carry c;
    if (filter_) {
      c.belief = filter_->Initial(rows);
      for (int64_t n : own_) {
        c.card.push_back(torch::full({rows, k_, n}, 1.0 / n));
      }
    }
    c.action_loglik = torch::zeros({rows, k_});
    c.condition = torch::zeros({rows, condition_});
    return c;
  }

  // Rows where `starts` ([B] bool) go back to the initial carry.
  Carry Restart(const Carry& c, const Tensor& starts) const {
    if (!starts.any().item<bool>()) return c;
    return Select(starts, Initial(starts.size(0)), c);
  }

  // Rows where `take` ([B] bool) take `next`, the others keep `prev`.
  Carry Select(const Tensor& take, const Carry& next, const Carry& prev) const {
    auto pick = [&](const Tensor& a, const Tensor& b) {
      Tensor v = take;
      while (v.dim() < a.dim()) v = v.unsqueeze(-1);
      return torch::where(v, a, b);
    };
    Carry out;
    if (filter_) {
      out.belief.latent = pick(next.belief.latent, prev.belief.latent);
      out.belief.hidden = pick(next.belief.hidden, prev.belief.hidden);
      out.belief.log_weight =
          pick(next.belief.log_weight, prev.belief.log_weight);
      for (size_t a = 0; a < next.card.size(); ++a) {
        out.card.push_back(pick(next.card[a], prev.card[a]));
      }
    }
    out.action_loglik = pick(next.action_loglik, prev.action_loglik);
    out.condition = pick(next.condition, prev.condition);
    return out;
  }

  // One step of the public agent after `prev` (already restarted where
  // episodes start: `starts`), seeing the public observation `pub` [B, P].
  // With `true_own` (per agent [B, n], training) it also fits the private
  // observation models to the true private observations (`prev_own`: the
  // step before's, zeros at a start) and measures the belief on them.
  PublicView PublicStep(const Carry& prev, const Tensor& starts,
                        const Tensor& pub, std::mt19937_64& rng,
                        const std::vector<Tensor>* true_own = nullptr,
                        const std::vector<Tensor>* prev_own = nullptr) {
    PublicView view;
    const int64_t rows = pub.size(0);
    if (!filter_) {
      view.carry = prev;
      view.weights = torch::ones({rows, 1});
      view.state = torch::zeros({rows, 1, 0});
      return view;
    }
    nn::ParticleProposal proposal =
        filter_->Propose(prev.belief, prev.condition, pub, rng);
    const Tensor evidence =
        nn::GatherParticles(prev.action_loglik, proposal.ancestors);
    nn::ParticleStep step =
        filter_->Finish(proposal, prev.condition, pub, evidence);
    view.elbo = step.elbo;
    view.weights = nn::NormalizedWeights(step.belief.log_weight);
    view.state = filter_->Features(step.belief);  // [B, K, Z + H]
    view.carry.belief = step.belief;
    const Tensor start = starts.to(torch::kFloat32);
    const Tensor flag = Expand(start.unsqueeze(1), k_);
    // The models read the particle's state without moving it: private
    // observations never train the filter.
    const Tensor context = torch::cat(
        {view.state.detach(), Expand(pub, k_), Expand(prev.condition, k_)}, -1);
    for (size_t a = 0; a < card_models_.size(); ++a) {
      const int64_t n = own_[a];
      // Every previous value v' at once: [B, K, n (v'), n (v)].
      const Tensor eye = torch::eye(n).expand({rows, k_, n, n});
      const Tensor inputs = torch::cat(
          {eye * (1 - flag).unsqueeze(-1),
           flag.unsqueeze(2).expand({rows, k_, n, 1}),
           context.unsqueeze(2).expand({rows, k_, n, context.size(-1)})},
          -1);
      const Tensor move = torch::softmax(card_models_[a]->forward(inputs), -1);
      const Tensor parent =
          nn::GatherParticles(prev.card[a], proposal.ancestors);
      // b_t(v) = sum_v' b_{t-1}(v') p(v | v'); exact, no sampling.
      const Tensor card =
          torch::matmul(parent.unsqueeze(2), move).squeeze(2);  // [B, K, n]
      view.card.push_back(card);
      view.marginal.push_back((view.weights.unsqueeze(-1) * card).sum(1));
      if (true_own != nullptr) {
        // Teacher forcing: the model's input is the true previous private
        // observation, its target the true current one.
        const Tensor teacher =
            Expand((*prev_own)[a] * (1 - start.unsqueeze(1)), k_);
        const Tensor fit =
            card_models_[a]->forward(torch::cat({teacher, flag, context}, -1));
        const Tensor target = Expand((*true_own)[a], k_).argmax(-1);
        const Tensor nll = -nn::CategoricalLogProb(fit, target);  // [B, K]
        const Tensor w = view.weights.detach();
        view.private_nll.push_back((w * nll).sum(1));
        view.belief_on_true.push_back(
            (view.marginal.back().detach() * (*true_own)[a]).sum(-1));
      }
    }
    view.carry.card = view.card;
    if (m_ > 0) {
      std::vector<Tensor> in = {view.state};
      in.insert(in.end(), view.card.begin(), view.card.end());
      in.push_back(Expand(pub, k_));
      const Tensor probs =
          torch::softmax(message_head_->forward(torch::cat(in, -1)), -1);
      view.message = (view.weights.unsqueeze(-1) * probs).sum(1);
      view.message_entropy =
          -(view.message * view.message.clamp_min(1e-8).log()).sum(-1);
    }
    return view;
  }

  // Agent `a`'s network input per particle: [x, f, every agent's
  // private-observation slot, every marginal, message, own, o^pub]. Agent
  // a's own slot and marginal hold `own_hot` ([B, K, n_a]: what it knows,
  // or a hypothesis for the counterfactual); the other agents' slots hold
  // the particle's distributions over theirs.
  Tensor AgentInput(int a, const PublicView& view, const Tensor& own_hot,
                    const Tensor& pub) const {
    const int64_t k = view.weights.size(1);
    std::vector<Tensor> in = {view.state};
    for (size_t j = 0; j < view.card.size(); ++j) {
      in.push_back(static_cast<int>(j) == a ? own_hot : view.card[j]);
    }
    for (size_t j = 0; j < view.marginal.size(); ++j) {
      in.push_back(static_cast<int>(j) == a ? own_hot
                                            : Expand(view.marginal[j], k));
    }
    if (m_ > 0) in.push_back(Expand(view.message, k));
    in.push_back(own_hot);
    in.push_back(Expand(pub, k));
    return torch::cat(in, -1);
  }

  // Agent `a`'s Q, V and policy at a step: its networks' outputs per
  // particle, mixed by the weights (eq. 5.22, 5.6).
  AgentView AgentStep(int a, const PublicView& view, const Tensor& own,
                      const Tensor& pub, bool critic_only = false) {
    const int64_t k = view.weights.size(1);
    const Tensor x = AgentInput(a, view, Expand(own, k), pub);
    const Tensor w = view.weights;
    AgentView out;
    out.q = (w.unsqueeze(-1) * q_[a]->forward(x)).sum(1);
    out.v = (w * v_[a]->forward(x).squeeze(-1)).sum(1);
    if (critic_only) return out;
    const Tensor probs = torch::softmax(pi_[a]->forward(x), -1);
    out.log_pi = (w.unsqueeze(-1) * probs).sum(1).clamp_min(1e-12).log();
    if (filter_) {
      std::vector<Tensor> per_value;
      const int64_t rows = own.size(0);
      for (int64_t v = 0; v < own_[a]; ++v) {
        const Tensor hot =
            torch::one_hot(torch::full({rows, k}, v, torch::kInt64), own_[a])
                .to(torch::kFloat32);
        per_value.push_back(pi_[a]->forward(AgentInput(a, view, hot, pub)));
      }
      out.cf_logits = torch::stack(per_value, 2);  // [B, K, n, A]
    }
    return out;
  }

  // `view` with every particle's distributions replaced by the true private
  // observations `own` (per agent [B, n]): where the privileged critic is
  // trained.
  PublicView Privileged(const PublicView& view,
                        const std::vector<Tensor>& own) const {
    PublicView out = view;
    if (!filter_) return out;
    for (size_t j = 0; j < own.size(); ++j) {
      out.marginal[j] = own[j];
      out.card[j] = Expand(own[j], k_);
    }
    return out;
  }

  // This step's actions (`acted[a]` [B] float: 1 where agent a's action
  // counts) into the carry: the next step's condition, each particle's
  // likelihood of them (the evidence the next step weighs in: log sum_v
  // card(v) pi(a | v)), and each particle's distribution over an acting
  // agent's private observation given its action (Bayes' rule, exact).
  void RecordActions(const std::vector<Tensor>& actions,
                     const std::vector<Tensor>& acted,
                     const std::vector<AgentView>& agents,
                     PublicView* view) const {
    Carry& carry = view->carry;
    std::vector<Tensor> hots;
    Tensor loglik = torch::zeros({actions[0].size(0), k_});
    for (size_t a = 0; a < actions.size(); ++a) {
      const Tensor on = acted[a].unsqueeze(1);  // [B, 1]
      hots.push_back(
          torch::one_hot(actions[a], actions_[a]).to(torch::kFloat32) * on);
      if (!filter_) continue;
      const int64_t rows = actions[a].size(0);
      const Tensor taken =
          actions[a].view({rows, 1, 1, 1}).expand({rows, k_, own_[a], 1});
      const Tensor lp = torch::log_softmax(agents[a].cf_logits.detach(), -1)
                            .gather(-1, taken)
                            .squeeze(-1);  // [B, K, n]
      const Tensor joint = view->card[a].detach().clamp_min(1e-12).log() + lp;
      loglik = loglik + torch::logsumexp(joint, -1) * on;
      const Tensor post = torch::softmax(joint, -1);
      carry.card[a] =
          torch::where(on.unsqueeze(-1) > 0, post, view->card[a].detach());
    }
    carry.condition = torch::cat(hots, -1);
    carry.action_loglik = loglik;
  }

  // --- Acting -------------------------------------------------------------

  absl::Status ActOrError(const std::vector<const float*>& observation, int n,
                          bool deterministic,
                          std::vector<std::vector<int64_t>>* discrete) {
    torch::NoGradGuard no_grad;
    if (public_ == nullptr) {
      return absl::InternalError(
          "public_belief: the loop passed no public observation");
    }
    const int agents = spec_.num_agents();
    const Tensor pub =
        torch::from_blob(const_cast<float*>(public_), {n, pub_}).clone();
    std::vector<Tensor> own;
    for (int a = 0; a < agents; ++a) {
      std::vector<float> encoded;
      if (absl::Status s = encoders_[a].Encode(observation[a], n, &encoded);
          !s.ok()) {
        return s;
      }
      own.push_back(torch::from_blob(encoded.data(), {n, own_[a]}).clone());
    }
    Tensor starts = torch::ones({n}, torch::kBool);
    if (first_ != nullptr) {
      starts = torch::from_blob(const_cast<bool*>(first_), {n}, torch::kBool)
                   .clone();
    }
    const int key = static_cast<int>(stream_);
    auto found = acting_.find(key);
    if (stream_ == ActingStream::kProbe || found == acting_.end() ||
        found->second.action_loglik.size(0) != n) {
      found = acting_.insert_or_assign(key, Initial(n)).first;
      starts = torch::ones({n}, torch::kBool);
    }
    Carry carry = Restart(found->second, starts);
    // Greedy acting (evaluation) draws the same numbers at every call, so
    // it depends on the parameters and the inputs only (a restored learner
    // evaluates exactly as the one saved).
    std::mt19937_64 greedy_rng(greedy_seed_);
    PublicView view =
        PublicStep(carry, starts, pub, deterministic ? greedy_rng : act_rng_);
    std::vector<AgentView> views;
    std::vector<Tensor> actions, acted;
    const bool random =
        stream_ == ActingStream::kTrain && schedule_.warming_up();
    for (int a = 0; a < agents; ++a) {
      views.push_back(AgentStep(a, view, own[a], pub));
      Tensor action;
      if (random) {
        action = torch::randint(actions_[a], {n}, act_gen_, torch::kInt64);
      } else if (deterministic) {
        action = views[a].log_pi.argmax(-1);
      } else {
        action = nn::SampleCategorical(views[a].log_pi, act_gen_);
      }
      actions.push_back(action);
      acted.push_back(Acted(a, n));
      std::vector<int64_t>& out = (*discrete)[a];
      const int64_t* p = action.data_ptr<int64_t>();
      std::copy(p, p + n, out.begin());
    }
    RecordActions(actions, acted, views, &view);
    found->second = view.carry;
    if (stream_ == ActingStream::kTrain && first_ != nullptr) {
      train_first_.assign(first_, first_ + n);
    } else if (stream_ == ActingStream::kTrain) {
      train_first_.assign(n, true);
    }
    last_message_.assign(static_cast<size_t>(n) * m_, 0.0f);
    if (m_ > 0) {
      const Tensor msg = view.message.contiguous();
      std::copy(msg.data_ptr<float>(), msg.data_ptr<float>() + n * m_,
                last_message_.begin());
    }
    return absl::OkStatus();
  }

  // [n] float: 1 where agent a's action counts at the coming Act.
  Tensor Acted(int a, int n) const {
    if (current_ == nullptr) return torch::ones({n});
    Tensor cur =
        torch::from_blob(const_cast<int32_t*>(current_), {n}, torch::kInt32);
    return (cur == a).to(torch::kFloat32);
  }

  // --- Learning -----------------------------------------------------------

  absl::Status LearnOrError(const TransitionBatch& batch) {
    const int n = batch.num_copies;
    const int agents = spec_.num_agents();
    if (batch.public_observation == nullptr ||
        batch.next_public_observation == nullptr) {
      return absl::InternalError(
          "public_belief: the loop passed no public observation");
    }
    if (static_cast<int>(train_first_.size()) != n) train_first_.assign(n, 1);
    if (!replay_ || replay_->copies() != n) {
      // The replay's rows are copies: made once their number is known.
      absl::StatusOr<SequenceReplay> r = SequenceReplay::Create(
          std::max<int64_t>(1, o_.buffer_size / n), n, replay_fields_);
      if (!r.ok()) return r.status();
      replay_.emplace(*std::move(r));
    }
    std::vector<std::vector<float>> values;
    auto floats = [&](const float* p, int64_t width) {
      values.emplace_back(p, p + n * width);
    };
    floats(batch.public_observation, pub_);
    floats(batch.next_public_observation, pub_);
    std::vector<float> current(n, -1.0f), term(n), trunc(n);
    for (int c = 0; c < n; ++c) {
      if (batch.current_agent != nullptr) current[c] = batch.current_agent[c];
      term[c] = batch.terminated[c] ? 1.0f : 0.0f;
      trunc[c] = batch.truncated[c] ? 1.0f : 0.0f;
    }
    values.push_back(current);
    values.push_back(term);
    values.push_back(trunc);
    for (int a = 0; a < agents; ++a) {
      std::vector<float> own, next;
      absl::Status s = encoders_[a].Encode(batch.observation[a], n, &own);
      if (s.ok()) s = encoders_[a].Encode(batch.next_observation[a], n, &next);
      if (!s.ok()) return s;
      values.push_back(std::move(own));
      values.push_back(std::move(next));
      std::vector<float> action(n);
      for (int c = 0; c < n; ++c) {
        action[c] = static_cast<float>(batch.discrete_action[a][c]);
      }
      values.push_back(std::move(action));
      floats(batch.reward[a], 1);
    }
    std::vector<absl::Span<const float>> spans(values.begin(), values.end());
    std::unique_ptr<bool[]> starts(new bool[n]);
    for (int c = 0; c < n; ++c) starts[c] = train_first_[c] != 0;
    if (absl::Status s =
            replay_->Append(spans, absl::MakeConstSpan(starts.get(), n));
        !s.ok()) {
      return s;
    }
    const int64_t due = schedule_.Record(n, replay_->sampleable() > 0);
    for (int64_t u = 0; u < due; ++u) {
      if (absl::Status s = Update(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Field `name` of the sampled rows, `rows` in time-major order, as
  // [T, B, width].
  Tensor Field(const SequenceReplay::Sequences& seq,
               const std::vector<int64_t>& rows, const std::string& name) {
    const int f = replay_->FieldIndex(name);
    Tensor out = torch::empty({seq.length, seq.batch, replay_->field(f).width});
    replay_->Gather(f, rows, out.data_ptr<float>());
    return out;
  }

  Tensor Mask(const SequenceReplay::Sequences& seq,
              const std::vector<float>& m) {
    return torch::from_blob(const_cast<float*>(m.data()),
                            {seq.batch, seq.length})
        .clone()
        .t()
        .contiguous();  // [T, B]
  }

  absl::Status Update() {
    SequenceReplay::Sequences seq;
    if (absl::Status s =
            replay_->Sample(o_.batch_size, o_.bptt, replay_rng_, &seq);
        !s.ok()) {
      return s;
    }
    const int agents = spec_.num_agents();
    const int64_t T = seq.length, B = seq.batch;
    const Tensor valid = Mask(seq, seq.valid);
    const Tensor trained = Mask(seq, seq.trained);
    // The sampled rows are [B, T]; every field is gathered time-major.
    std::vector<int64_t> rows(seq.rows.size());
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t b = 0; b < B; ++b) rows[t * B + b] = seq.rows[b * T + t];
    }
    const Tensor pub = Field(seq, rows, "pub");
    const Tensor next_pub = Field(seq, rows, "next_pub");
    const Tensor current = Field(seq, rows, "current").squeeze(-1);
    const Tensor term = Field(seq, rows, "terminated").squeeze(-1);
    std::vector<Tensor> own, next_own, action, reward, acted;
    for (int a = 0; a < agents; ++a) {
      const std::string id = absl::StrCat(a);
      own.push_back(Field(seq, rows, "own" + id));
      next_own.push_back(Field(seq, rows, "next_own" + id));
      action.push_back(
          Field(seq, rows, "action" + id).squeeze(-1).to(torch::kInt64));
      reward.push_back(Field(seq, rows, "reward" + id).squeeze(-1));
      acted.push_back(((current < 0) | (current == a)).to(torch::kFloat32));
    }
    // The last valid step of each sequence: it bootstraps from one more
    // step of the belief on its stored next observation.
    std::vector<float> last(T * B, 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      last[(seq.lengths[b] - 1) * B + b] = 1.0f;
    }
    const Tensor is_last = torch::from_blob(last.data(), {T, B}).clone();

    Carry carry = Initial(B);
    // Per step and agent: the agent's view through the belief (what it
    // acts on) and the critic's (Q and V; the privileged one at the true
    // private observations, or the same view).
    std::vector<std::vector<AgentView>> views(T), critics(T);
    const bool privileged = filter_ && o_.privileged_critic;
    Tensor elbo = torch::zeros({B}), msg_entropy = torch::zeros({B}),
           private_nll = torch::zeros({B});
    std::vector<Tensor> belief_true(agents, torch::zeros({B}));
    Tensor after_first = torch::zeros({B});
    Tensor ess = torch::zeros({B});  // effective sample size / K, summed
    const Tensor no_starts = torch::zeros({B}, torch::kBool);
    std::vector<Tensor> zero_own;
    for (int a = 0; a < agents; ++a) {
      zero_own.push_back(torch::zeros_like(own[a][0]));
    }
    Tensor last_pub = torch::zeros({B, pub_});
    std::vector<Tensor> last_next_own = zero_own;
    for (int64_t t = 0; t < T; ++t) {
      const Tensor starts = t == 0 ? torch::ones({B}, torch::kBool) : no_starts;
      std::vector<Tensor> own_t, prev_own_t;
      for (int a = 0; a < agents; ++a) {
        own_t.push_back(own[a][t]);
        prev_own_t.push_back(t == 0 ? zero_own[a] : own[a][t - 1]);
      }
      PublicView view =
          PublicStep(carry, starts, pub[t], update_rng_, &own_t, &prev_own_t);
      std::vector<Tensor> act_t, acted_t;
      const PublicView critic_view =
          privileged ? Privileged(view, own_t) : view;
      for (int a = 0; a < agents; ++a) {
        views[t].push_back(AgentStep(a, view, own_t[a], pub[t]));
        critics[t].push_back(privileged
                                 ? AgentStep(a, critic_view, own_t[a], pub[t],
                                             /*critic_only=*/true)
                                 : views[t][a]);
        act_t.push_back(action[a][t]);
        acted_t.push_back(acted[a][t]);
      }
      RecordActions(act_t, acted_t, views[t], &view);
      const Tensor w = trained[t];
      if (view.elbo.defined()) {
        elbo = elbo + view.elbo * valid[t];
        ess = ess + (1.0 / view.weights.detach().pow(2).sum(1) / k_) * valid[t];
        for (int a = 0; a < agents; ++a) {
          private_nll = private_nll + view.private_nll[a] * valid[t];
          if (t > 0)
            belief_true[a] = belief_true[a] + view.belief_on_true[a] * w;
        }
        if (t > 0) after_first = after_first + w;
      }
      if (view.message_entropy.defined()) {
        msg_entropy = msg_entropy + view.message_entropy * w;
      }
      const Tensor keep = valid[t].to(torch::kBool);
      carry = Select(keep, view.carry, carry);
      const Tensor at_last = is_last[t].unsqueeze(1);
      last_pub = torch::where(at_last.to(torch::kBool), next_pub[t], last_pub);
      for (int a = 0; a < agents; ++a) {
        last_next_own[a] = torch::where(at_last.to(torch::kBool),
                                        next_own[a][t], last_next_own[a]);
      }
    }
    // V at the observation after each sequence's last step.
    PublicView tail = PublicStep(carry, no_starts, last_pub, update_rng_);
    if (privileged) tail = Privileged(tail, last_next_own);
    std::vector<Tensor> v_tail;
    for (int a = 0; a < agents; ++a) {
      v_tail.push_back(AgentStep(a, tail, last_next_own[a], last_pub, true).v);
    }

    Tensor loss = torch::zeros({});
    const Tensor trained_steps = trained.sum().clamp_min(1.0);
    const double alpha = alpha_.At(schedule_.transitions());
    Add(0, "alpha", alpha);
    for (int a = 0; a < agents; ++a) {
      Tensor q_loss = torch::zeros({}), v_loss = torch::zeros({}),
             pi_loss = torch::zeros({}), entropy = torch::zeros({});
      const double log_prior = -std::log(static_cast<double>(actions_[a]));
      for (int64_t t = 0; t < T; ++t) {
        const AgentView& x = views[t][a];    // the acting policy's
        const AgentView& c = critics[t][a];  // Q and V trained here
        const Tensor v_next = t + 1 < T
                                  ? torch::where(is_last[t].to(torch::kBool),
                                                 v_tail[a], critics[t + 1][a].v)
                                  : v_tail[a];
        const Tensor y =
            (reward[a][t] + o_.gamma * (1 - term[t]) * v_next).detach();
        const Tensor pi = x.log_pi.exp();
        const Tensor soft =
            (pi * (c.q - alpha * (x.log_pi - log_prior))).sum(-1).detach();
        const Tensor on_turn = acted[a][t];
        const Tensor v_target = on_turn * soft + (1 - on_turn) * y;
        const Tensor w = trained[t];
        v_loss = v_loss + (0.5 * (c.v - v_target).pow(2) * w).sum();
        const Tensor q_taken =
            c.q.gather(-1, action[a][t].unsqueeze(-1)).squeeze(-1);
        q_loss = q_loss + (0.5 * (q_taken - y).pow(2) * w * on_turn).sum();
        // The policy follows the belief's Q: the critic's networks at the
        // particles' distributions, mixed by the weights (eq. 5.22).
        pi_loss = pi_loss + ((pi * (alpha * x.log_pi - x.q.detach())).sum(-1) *
                             w * on_turn)
                                .sum();
        entropy = entropy + (-(pi * x.log_pi).sum(-1) * w * on_turn).sum();
      }
      loss = loss + (q_loss + v_loss + pi_loss) / trained_steps;
      const double steps = trained_steps.item<double>();
      Add(a, "q_loss", q_loss.item<double>() / steps);
      Add(a, "v_loss", v_loss.item<double>() / steps);
      Add(a, "pi_loss", pi_loss.item<double>() / steps);
      Add(a, "entropy", entropy.item<double>() / steps);
      if (filter_) {
        const double denom = after_first.sum().item<double>();
        if (denom > 0) {
          Add(a, "belief_on_true", belief_true[a].sum().item<double>() / denom);
        }
      }
    }
    if (filter_) {
      const Tensor steps = valid.sum().clamp_min(1.0);
      const Tensor mean_elbo = elbo.sum() / steps;
      const Tensor mean_nll = private_nll.sum() / steps;
      loss = loss - o_.elbo_weight * mean_elbo + mean_nll;
      Add(0, "elbo", mean_elbo.item<double>());
      Add(0, "ess", (ess.sum() / steps).item<double>());
      Add(0, "private_nll", mean_nll.item<double>());
      if (m_ > 0) {
        const Tensor h = msg_entropy.sum() / trained_steps;
        loss = loss - o_.message_entropy * h;
        Add(0, "message_entropy", h.item<double>());
      }
    }
    if (!std::isfinite(loss.item<double>())) {
      return absl::InternalError(
          "public_belief: the loss became non-finite; lower --lr or raise "
          "--alpha");
    }
    optimizer_->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(optimizer_->param_groups()[0].params(),
                                      o_.grad_clip);
    optimizer_->step();
    ++updates_;
    return absl::OkStatus();
  }

  PublicBeliefOptions o_;
  EnvSpec spec_;
  int64_t k_ = 1, m_ = 0, pub_ = 0, condition_ = 0, private_total_ = 0;
  std::vector<ObservationEncoder> encoders_;
  std::vector<int64_t> actions_, own_;  // per agent

  at::Generator init_gen_, act_gen_;
  std::mt19937_64 replay_rng_, act_rng_, update_rng_;
  uint64_t greedy_seed_ = 0;
  nn::ParticleFilterModel filter_{nullptr};
  std::vector<torch::nn::Sequential> card_models_;
  torch::nn::Sequential message_head_{nullptr};
  std::vector<torch::nn::Sequential> q_, v_, pi_;
  std::unique_ptr<nn::ForeachAdam> optimizer_;

  std::vector<ReplayField> replay_fields_;
  std::optional<SequenceReplay> replay_;  // from the first Learn on
  UpdateSchedule schedule_;
  TemperatureSchedule alpha_;
  int64_t updates_ = 0;

  // The acting context of the coming Act call.
  const float* public_ = nullptr;
  const int32_t* current_ = nullptr;
  ActingStream stream_ = ActingStream::kTrain;
  const bool* first_ = nullptr;
  // Per acting stream, the public agent's carry of every copy.
  std::map<int, Carry> acting_;
  std::vector<char> train_first_;  // the last training Act's starts
  std::vector<float> last_message_;

  mutable std::vector<std::map<std::string, std::pair<double, double>>> sums_;
  std::string config_json_;
  absl::Status status_;
};

}  // namespace

std::string PublicBeliefAlgorithmName(const PublicBeliefOptions& options) {
  if (options.particles == 0) return "public_belief_none";
  return absl::StrCat("public_belief_k", options.particles,
                      options.message_size == 0 ? "_nomsg" : "",
                      options.privileged_critic ? "" : "_literal");
}

absl::StatusOr<std::unique_ptr<JointLearner>> CreatePublicBeliefLearner(
    const EnvSpec& spec, const PublicBeliefOptions& options, uint64_t seed) {
  auto learner = std::make_unique<PublicBeliefLearner>();
  try {
    if (absl::Status s = learner->Setup(spec, options, seed); !s.ok()) {
      return s;
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("public_belief: ", e.what()));
  }
  return std::unique_ptr<JointLearner>(std::move(learner));
}

}  // namespace marl
