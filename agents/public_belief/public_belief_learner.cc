#include "agents/public_belief/public_belief_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
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

// The public agent's view of one step (or, in an update, of every replayed
// step at once: B is then the number of steps).
struct PublicView {
  Carry carry;
  Tensor weights;  // [B, K], normalised
  Tensor state;    // [B, K, Z + H]: the particles' x and f
  // Per agent j: each particle's distribution over j's private observation
  // at this step, before this step's actions [B, K, n_j], and the belief's
  // marginal, sum_k W^k card^k [B, n_j]. Empty without particles.
  std::vector<Tensor> card, marginal;
  Tensor message;          // [B, M] or undefined
  Tensor message_entropy;  // [B] or undefined
  Tensor elbo;             // [B] or undefined
};

// One agent's mixtures over the particles; each is undefined unless asked
// for (AgentStep's `heads`).
struct AgentView {
  Tensor q;       // [B, A]
  Tensor v;       // [B]
  Tensor log_pi;  // [B, A]
};

// Which of an agent's heads AgentStep evaluates.
enum Head : int { kQ = 1, kV = 2, kPi = 4 };

Tensor Expand(const Tensor& x, int64_t k) {  // [B, W] -> [B, K, W]
  return x.unsqueeze(1).expand({x.size(0), k, x.size(1)});
}

// log sum_k W^k softmax(logits^k) [B, A] from weights [B, K] and logits
// [B, K, A]: the policy mixed over the particles (eq. 5.6).
Tensor MixedLogPolicy(const Tensor& weights, const Tensor& logits) {
  return (weights.unsqueeze(-1) * torch::softmax(logits, -1))
      .sum(1)
      .clamp_min(1e-12)
      .log();
}

// `mlp` (nn::MakeMlp's Linear, activation, ..., Linear) on the
// concatenation of `parts` along the last dimension, where the parts
// broadcast against each other in the other dimensions ([B, 1, w] for what
// all K particles share, say). The concatenation is never built: the first
// layer sums, over the parts' distinct shapes, the product of the parts of
// that shape with their weight columns, so what K particles (or n
// hypotheses) share is multiplied once instead of K times, which is most of
// the work of these small networks. The same function as
// mlp->forward(cat(broadcast parts)), summed in another order.
Tensor BlockMlp(const torch::nn::Sequential& mlp,
                const std::vector<Tensor>& parts) {
  torch::nn::SequentialImpl& layers = *mlp.ptr();
  auto layer = layers.begin();
  const torch::nn::LinearImpl& first = layer->get<torch::nn::LinearImpl>();
  std::vector<int64_t> widths;
  for (const Tensor& part : parts) widths.push_back(part.size(-1));
  const std::vector<Tensor> blocks =
      first.weight.split_with_sizes(widths, /*dim=*/1);
  // Parts by shape (but the last dimension), smallest first.
  std::vector<std::pair<std::vector<int64_t>, std::vector<size_t>>> groups;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (widths[i] == 0) continue;
    std::vector<int64_t> shape = parts[i].sizes().vec();
    shape.pop_back();
    auto same = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == shape; });
    if (same == groups.end()) {
      groups.push_back({shape, {i}});
    } else {
      same->second.push_back(i);
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& x, const auto& y) {
                     return c10::multiply_integers(x.first) <
                            c10::multiply_integers(y.first);
                   });
  Tensor h = first.bias;
  for (const auto& [shape, members] : groups) {
    std::vector<Tensor> x, w;
    for (size_t i : members) {
      x.push_back(parts[i]);
      w.push_back(blocks[i]);
    }
    const Tensor y =
        x.size() == 1 ? torch::matmul(x[0], w[0].t())
                      : torch::matmul(torch::cat(x, -1), torch::cat(w, 1).t());
    h = h + y;
  }
  // The other layers on rows: a 2-D Linear is one fused addmm.
  std::vector<int64_t> shape = h.sizes().vec();
  h = h.reshape({-1, shape.back()});
  for (++layer; layer != layers.end(); ++layer) h = layer->forward(h);
  shape.back() = h.size(-1);
  return h.view(shape);
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

  // Rows [start, start + length) of `c` (views, no copy).
  Carry Narrow(const Carry& c, int64_t start, int64_t length) const {
    auto rows = [&](const Tensor& x) { return x.narrow(0, start, length); };
    Carry out;
    if (filter_) {
      out.belief = {rows(c.belief.latent), rows(c.belief.hidden),
                    rows(c.belief.log_weight)};
      for (const Tensor& card : c.card) out.card.push_back(rows(card));
    }
    out.action_loglik = rows(c.action_loglik);
    out.condition = rows(c.condition);
    return out;
  }

  // The rows of every part of `parts`, in order.
  Carry Concat(const std::vector<Carry>& parts) const {
    auto cat = [&](auto&& get) {
      std::vector<Tensor> x;
      for (const Carry& p : parts) x.push_back(get(p));
      return torch::cat(x);
    };
    Carry out;
    if (filter_) {
      out.belief.latent = cat([](const Carry& p) { return p.belief.latent; });
      out.belief.hidden = cat([](const Carry& p) { return p.belief.hidden; });
      out.belief.log_weight =
          cat([](const Carry& p) { return p.belief.log_weight; });
      for (size_t a = 0; a < own_.size(); ++a) {
        out.card.push_back(cat([a](const Carry& p) { return p.card[a]; }));
      }
    }
    out.action_loglik = cat([](const Carry& p) { return p.action_loglik; });
    out.condition = cat([](const Carry& p) { return p.condition; });
    return out;
  }

  // Agent a's private-observation model p(y_t | y_{t-1}) [..., n (y_t)]
  // at the previous value `prev_hot` [..., n], with the start flag `start`
  // [B, ..., 1], per particle: its input is [y_{t-1}, start, the particle's
  // state, o^pub [B, P], the previous step's actions `condition` [B, C]],
  // the state without moving it (private observations never train the
  // filter). `state` is [B, K, S], or [B, K, 1, S] for [B, K, H, n] logits
  // with `prev_hot` [.., H, n] (H previous values at once).
  Tensor CardLogits(int a, const Tensor& prev_hot, const Tensor& start,
                    const Tensor& state, const Tensor& pub,
                    const Tensor& condition) {
    auto shared = [&](const Tensor& x) {  // [B, W] -> [B, 1, (1,) W]
      return state.dim() == 3 ? x.unsqueeze(1) : x.unsqueeze(1).unsqueeze(1);
    };
    return BlockMlp(card_models_[a], {prev_hot, start, state.detach(),
                                      shared(pub), shared(condition)});
  }

  // One step of the public agent after `prev` (already restarted where
  // episodes start: `starts`), seeing the public observation `pub` [B, P]:
  // the particle filter and the distributions over the private
  // observations, which are recurrent, and the message, which the
  // counterfactual policies weighing this step's actions read.
  PublicView PublicStep(const Carry& prev, const Tensor& starts,
                        const Tensor& pub, std::mt19937_64& rng) {
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
    const Tensor flag = starts.to(torch::kFloat32).view({rows, 1, 1, 1});
    // At an episode's start the previous value is not read (zeros), so when
    // every row starts one row of the move serves every previous value.
    const bool all_start = starts.all().item<bool>();
    const Tensor state = view.state.unsqueeze(2);  // [B, K, 1, Z + H]
    for (size_t a = 0; a < card_models_.size(); ++a) {
      const int64_t n = own_[a];
      // Every previous value v' at once: [B, K, n (v'), n (v)].
      const Tensor prev_hot =
          all_start ? torch::zeros({1, 1, 1, n})
                    : torch::eye(n).view({1, 1, n, n}) * (1 - flag);
      const Tensor move =
          torch::softmax(
              CardLogits(a, prev_hot, flag, state, pub, prev.condition), -1)
              .expand({rows, k_, n, n});
      const Tensor parent =
          nn::GatherParticles(prev.card[a], proposal.ancestors);
      // b_t(v) = sum_v' b_{t-1}(v') p(v | v'); exact, no sampling.
      const Tensor card =
          torch::matmul(parent.unsqueeze(2), move).squeeze(2);  // [B, K, n]
      view.card.push_back(card);
      view.marginal.push_back((view.weights.unsqueeze(-1) * card).sum(1));
    }
    view.carry.card = view.card;
    if (m_ > 0) {
      std::vector<Tensor> in = {view.state};
      in.insert(in.end(), view.card.begin(), view.card.end());
      in.push_back(pub.unsqueeze(1));
      const Tensor probs = torch::softmax(BlockMlp(message_head_, in), -1);
      view.message = (view.weights.unsqueeze(-1) * probs).sum(1);
      view.message_entropy =
          -(view.message * view.message.clamp_min(1e-8).log()).sum(-1);
    }
    return view;
  }

  // Agent `a`'s network input per particle, as BlockMlp parts: [x, f,
  // every agent's private-observation slot, every marginal, message, own,
  // o^pub]. Agent a's own slot and marginal hold `own_hot` ([B, 1, n_a]:
  // what it knows, or a hypothesis for the counterfactual); the other
  // agents' slots hold the particle's distributions over theirs ([B, K, n]
  // or, shared by the particles, [B, 1, n]). `own_hot` [1, 1, H, n_a] gives
  // H hypotheses at once (an extra dimension before the last).
  std::vector<Tensor> AgentParts(int a, const PublicView& view,
                                 const Tensor& own_hot,
                                 const Tensor& pub) const {
    const bool hypotheses = own_hot.dim() == 4;
    auto per = [&](const Tensor& x) {  // [B, K or 1, w]
      return hypotheses ? x.unsqueeze(2) : x;
    };
    std::vector<Tensor> in = {per(view.state)};
    for (size_t j = 0; j < view.card.size(); ++j) {
      in.push_back(static_cast<int>(j) == a ? own_hot : per(view.card[j]));
    }
    for (size_t j = 0; j < view.marginal.size(); ++j) {
      in.push_back(static_cast<int>(j) == a
                       ? own_hot
                       : per(view.marginal[j].unsqueeze(1)));
    }
    if (m_ > 0) in.push_back(per(view.message.unsqueeze(1)));
    in.push_back(own_hot);
    in.push_back(per(pub.unsqueeze(1)));
    return in;
  }

  // Agent `a`'s `heads` (a set of Head) at its private observation `own`
  // [B, n_a]: its networks' outputs per particle, mixed by the weights
  // (eq. 5.22, 5.6). `no_grad_q`: Q without gradient (read as a constant).
  AgentView AgentStep(int a, const PublicView& view, const Tensor& own,
                      const Tensor& pub, int heads, bool no_grad_q = false) {
    const std::vector<Tensor> x = AgentParts(a, view, own.unsqueeze(1), pub);
    const Tensor& w = view.weights;
    AgentView out;
    if (heads & kQ) {
      std::optional<torch::NoGradGuard> no_grad;
      if (no_grad_q) no_grad.emplace();
      out.q = (w.unsqueeze(-1) * BlockMlp(q_[a], x)).sum(1);
    }
    if (heads & kV) out.v = (w * BlockMlp(v_[a], x).squeeze(-1)).sum(1);
    if (heads & kPi) out.log_pi = MixedLogPolicy(w, BlockMlp(pi_[a], x));
    return out;
  }

  // [B, K, n, A]: agent a's policy logits per particle as if its private
  // observation were each of its n values (the counterfactual the evidence
  // of its action is weighed with), in one pass over the n hypotheses.
  Tensor CounterfactualLogits(int a, const PublicView& view,
                              const Tensor& pub) {
    const int64_t n = own_[a];
    const Tensor hot = torch::eye(n).view({1, 1, n, n});
    return BlockMlp(pi_[a], AgentParts(a, view, hot, pub));
  }

  // `view` with every particle's distributions replaced by the true private
  // observations `own` (per agent [B, n]; [B, 1, n] in the view, the same
  // for every particle): where the privileged critic is trained.
  PublicView Privileged(const PublicView& view,
                        const std::vector<Tensor>& own) const {
    PublicView out = view;
    if (!filter_) return out;
    for (size_t j = 0; j < own.size(); ++j) {
      out.marginal[j] = own[j];
      out.card[j] = own[j].unsqueeze(1);
    }
    return out;
  }

  // This step's actions (`acted[a]` [B] float: 1 where agent a's action
  // counts) into the carry: the next step's condition, each particle's
  // likelihood of them (the evidence the next step weighs in: log sum_v
  // card(v) pi(a | v)), and each particle's distribution over an acting
  // agent's private observation given its action (Bayes' rule, exact).
  // `cf_logits[a]` is agent a's CounterfactualLogits; undefined where none
  // of its actions counts at this step (it is then no evidence).
  void RecordActions(const std::vector<Tensor>& actions,
                     const std::vector<Tensor>& acted,
                     const std::vector<Tensor>& cf_logits,
                     PublicView* view) const {
    Carry& carry = view->carry;
    std::vector<Tensor> hots;
    Tensor loglik = torch::zeros({actions[0].size(0), k_});
    for (size_t a = 0; a < actions.size(); ++a) {
      const Tensor on = acted[a].unsqueeze(1);  // [B, 1]
      hots.push_back(
          torch::one_hot(actions[a], actions_[a]).to(torch::kFloat32) * on);
      if (!filter_) continue;
      if (!cf_logits[a].defined()) {
        carry.card[a] = view->card[a].detach();
        continue;
      }
      const int64_t rows = actions[a].size(0);
      const Tensor taken =
          actions[a].view({rows, 1, 1, 1}).expand({rows, k_, own_[a], 1});
      const Tensor lp = torch::log_softmax(cf_logits[a].detach(), -1)
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
    std::vector<Tensor> actions, acted, cf(agents);
    const bool random =
        stream_ == ActingStream::kTrain && schedule_.warming_up();
    for (int a = 0; a < agents; ++a) {
      acted.push_back(Acted(a, n));
      // Only the policy is needed to act (not Q or V). An agent whose
      // action is evidence gets its counterfactual logits, and its policy
      // at its own observation is one of them (the one-hot's index).
      Tensor log_pi;
      if (filter_ && ActsAnywhere(a, n)) {
        cf[a] = CounterfactualLogits(a, view, pub);
        const Tensor mine = own[a]
                                .argmax(-1)
                                .view({n, 1, 1, 1})
                                .expand({n, k_, 1, actions_[a]});
        log_pi = MixedLogPolicy(view.weights, cf[a].gather(2, mine).squeeze(2));
      } else {
        log_pi = AgentStep(a, view, own[a], pub, kPi).log_pi;
      }
      Tensor action;
      if (random) {
        action = torch::randint(actions_[a], {n}, act_gen_, torch::kInt64);
      } else if (deterministic) {
        action = log_pi.argmax(-1);
      } else {
        action = nn::SampleCategorical(log_pi, act_gen_);
      }
      actions.push_back(action);
      std::vector<int64_t>& out = (*discrete)[a];
      const int64_t* p = action.data_ptr<int64_t>();
      std::copy(p, p + n, out.begin());
    }
    RecordActions(actions, acted, cf, &view);
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

  // Whether agent a's action counts in any copy at the coming Act.
  bool ActsAnywhere(int a, int n) const {
    if (current_ == nullptr) return true;
    return std::find(current_, current_ + n, a) != current_ + n;
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

  // Field `name` of the replay rows `rows` (-1: zeros), as [rows, width].
  Tensor Field(const std::vector<int64_t>& rows, const std::string& name) {
    const int f = replay_->FieldIndex(name);
    Tensor out = torch::empty(
        {static_cast<int64_t>(rows.size()), replay_->field(f).width});
    replay_->Gather(f, rows, out.data_ptr<float>());
    return out;
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
    // Sequences longest first: those still running at step t are then the
    // first running[t], and the unroll narrows its carry to them instead of
    // stepping padding. The replayed steps are laid out flat, time-major
    // (step t of sequence i at offset[t] + i), so that what is not
    // recurrent runs once on all of them after the unroll.
    std::vector<int64_t> order(B);
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
      return seq.lengths[x] > seq.lengths[y];
    });
    std::vector<int64_t> running(T + 1, 0), offset(T + 1, 0);
    for (int64_t t = 0; t < T; ++t) {
      while (running[t] < B && seq.lengths[order[running[t]]] > t) {
        ++running[t];
      }
      offset[t + 1] = offset[t] + running[t];
    }
    const int64_t N = offset[T];
    // Per flat step: its replay row, the one before it in its episode (-1,
    // read as zeros, at the start), whether it is trained and after its
    // episode's first step, and where the V it bootstraps from is in
    // [V at the N steps, V after each sequence's last step].
    std::vector<int64_t> rows(N), prev_rows(N), next(N), last_rows(B);
    std::vector<float> trained_flat(N), later_flat(N);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < running[t]; ++i) {
        const int64_t b = order[i], j = offset[t] + i;
        rows[j] = seq.rows[b * T + t];
        prev_rows[j] = t == 0 ? -1 : seq.rows[b * T + t - 1];
        trained_flat[j] = seq.trained[b * T + t];
        later_flat[j] = t > 0 ? 1.0f : 0.0f;
        next[j] = t + 1 < seq.lengths[b] ? offset[t + 1] + i : N + i;
      }
    }
    for (int64_t i = 0; i < B; ++i) {
      last_rows[i] = seq.rows[order[i] * T + seq.lengths[order[i]] - 1];
    }
    const Tensor trained = torch::from_blob(trained_flat.data(), {N}).clone();
    const Tensor later = torch::from_blob(later_flat.data(), {N}).clone();
    const Tensor next_index =
        torch::from_blob(next.data(), {N}, torch::kInt64).clone();
    const Tensor pub = Field(rows, "pub");
    const Tensor last_pub = Field(last_rows, "next_pub");
    const Tensor current = Field(rows, "current").squeeze(-1);
    const Tensor term = Field(rows, "terminated").squeeze(-1);
    std::vector<Tensor> own, prev_own, last_next_own, action, reward, acted;
    for (int a = 0; a < agents; ++a) {
      const std::string id = absl::StrCat(a);
      own.push_back(Field(rows, "own" + id));
      if (filter_) prev_own.push_back(Field(prev_rows, "own" + id));
      last_next_own.push_back(Field(last_rows, "next_own" + id));
      action.push_back(
          Field(rows, "action" + id).squeeze(-1).to(torch::kInt64));
      reward.push_back(Field(rows, "reward" + id).squeeze(-1));
      acted.push_back(((current < 0) | (current == a)).to(torch::kFloat32));
    }
    const bool privileged = filter_ && o_.privileged_critic;

    // The unroll: the particle filter, the distributions over the private
    // observations and the message (PublicStep), and the actions as
    // evidence (counterfactual policies without gradient: the evidence is
    // a constant). Without particles nothing is recurrent.
    std::vector<Tensor> states, weights, elbos, messages, message_entropies,
        conditions;
    std::vector<std::vector<Tensor>> cards(agents), marginals(agents);
    std::vector<Carry> ended;  // the carry after sequences' last steps
    if (filter_) {
      const float* who = current.data_ptr<float>();
      Carry carry = Initial(B);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t n = running[t], j0 = offset[t];
        const Carry prev = Narrow(carry, 0, n);
        const Tensor pub_t = pub.narrow(0, j0, n);
        PublicView view = PublicStep(
            prev, torch::full({n}, t == 0, torch::kBool), pub_t, update_rng_);
        std::vector<Tensor> act_t, acted_t, cf(agents);
        for (int a = 0; a < agents; ++a) {
          act_t.push_back(action[a].narrow(0, j0, n));
          acted_t.push_back(acted[a].narrow(0, j0, n));
          // An agent acting in none of the rows adds no evidence: its
          // counterfactuals are skipped (half of them in turn-based games).
          if (std::any_of(who + j0, who + j0 + n,
                          [a](float c) { return c < 0 || c == a; })) {
            torch::NoGradGuard no_grad;
            cf[a] = CounterfactualLogits(a, view, pub_t);
          }
        }
        RecordActions(act_t, acted_t, cf, &view);
        states.push_back(view.state);
        weights.push_back(view.weights);
        elbos.push_back(view.elbo);
        conditions.push_back(prev.condition);
        for (int a = 0; a < agents; ++a) {
          cards[a].push_back(view.card[a]);
          marginals[a].push_back(view.marginal[a]);
        }
        if (m_ > 0) {
          messages.push_back(view.message);
          message_entropies.push_back(view.message_entropy);
        }
        carry = view.carry;
        if (n > running[t + 1]) {
          ended.push_back(Narrow(carry, running[t + 1], n - running[t + 1]));
        }
      }
      // The longest sequences end last.
      std::reverse(ended.begin(), ended.end());
    }
    // V at the observation after each sequence's last step: a bootstrap
    // target only, so without gradient.
    std::vector<Tensor> v_tail;
    {
      torch::NoGradGuard no_grad;
      PublicView tail =
          PublicStep(filter_ ? Concat(ended) : Initial(B),
                     torch::zeros({B}, torch::kBool), last_pub, update_rng_);
      if (privileged) tail = Privileged(tail, last_next_own);
      for (int a = 0; a < agents; ++a) {
        v_tail.push_back(AgentStep(a, tail, last_next_own[a], last_pub, kV).v);
      }
    }

    // Every replayed step's view at once, [N, ...].
    PublicView all;
    if (filter_) {
      all.state = torch::cat(states);
      all.weights = torch::cat(weights);
      for (int a = 0; a < agents; ++a) {
        all.card.push_back(torch::cat(cards[a]));
        all.marginal.push_back(torch::cat(marginals[a]));
      }
      if (m_ > 0) all.message = torch::cat(messages);
    } else {
      all.weights = torch::ones({N, 1});
      all.state = torch::zeros({N, 1, 0});
    }
    // Per agent: its view through the belief (what it acts on) and the
    // critic's (Q and V; the privileged one at the true private
    // observations, or the same view).
    std::vector<AgentView> views(agents), critics(agents);
    const PublicView critic_view = privileged ? Privileged(all, own) : all;
    for (int a = 0; a < agents; ++a) {
      if (privileged) {
        // The policy loss reads the belief's Q as a constant.
        views[a] = AgentStep(a, all, own[a], pub, kQ | kPi, /*no_grad_q=*/true);
        critics[a] = AgentStep(a, critic_view, own[a], pub, kQ | kV);
      } else {
        views[a] = AgentStep(a, all, own[a], pub, kQ | kV | kPi);
        critics[a] = views[a];
      }
    }

    Tensor loss = torch::zeros({});
    const Tensor trained_steps = trained.sum().clamp_min(1.0);
    const double alpha = alpha_.At(schedule_.transitions());
    Add(0, "alpha", alpha);
    for (int a = 0; a < agents; ++a) {
      const AgentView& x = views[a];    // the acting policy's
      const AgentView& c = critics[a];  // Q and V trained here
      const double log_prior = -std::log(static_cast<double>(actions_[a]));
      const Tensor v_next =
          torch::cat({c.v, v_tail[a]}).index_select(0, next_index);
      const Tensor y = (reward[a] + o_.gamma * (1 - term) * v_next).detach();
      const Tensor pi = x.log_pi.exp();
      const Tensor soft =
          (pi * (c.q - alpha * (x.log_pi - log_prior))).sum(-1).detach();
      const Tensor on_turn = acted[a];
      const Tensor v_target = on_turn * soft + (1 - on_turn) * y;
      const Tensor v_loss = (0.5 * (c.v - v_target).pow(2) * trained).sum();
      const Tensor q_taken =
          c.q.gather(-1, action[a].unsqueeze(-1)).squeeze(-1);
      const Tensor q_loss =
          (0.5 * (q_taken - y).pow(2) * trained * on_turn).sum();
      // The policy follows the belief's Q: the critic's networks at the
      // particles' distributions, mixed by the weights (eq. 5.22).
      const Tensor pi_loss =
          ((pi * (alpha * x.log_pi - x.q.detach())).sum(-1) * trained * on_turn)
              .sum();
      const Tensor entropy =
          (-(pi * x.log_pi).sum(-1) * trained * on_turn).sum();
      loss = loss + (q_loss + v_loss + pi_loss) / trained_steps;
      const double steps = trained_steps.item<double>();
      Add(a, "q_loss", q_loss.item<double>() / steps);
      Add(a, "v_loss", v_loss.item<double>() / steps);
      Add(a, "pi_loss", pi_loss.item<double>() / steps);
      Add(a, "entropy", entropy.item<double>() / steps);
      if (filter_) {
        const double denom = (trained * later).sum().item<double>();
        if (denom > 0) {
          const Tensor on_true = (all.marginal[a].detach() * own[a]).sum(-1);
          Add(a, "belief_on_true",
              (on_true * trained * later).sum().item<double>() / denom);
        }
      }
    }
    if (filter_) {
      const double steps = static_cast<double>(N);
      const Tensor mean_elbo = torch::cat(elbos).sum() / steps;
      // The private-observation models, teacher-forced: the true previous
      // private observation (zeros at a start) in, the true current one as
      // the target.
      const Tensor flag = (1 - later).view({N, 1, 1});
      const Tensor condition = torch::cat(conditions);
      const Tensor w = all.weights.detach();
      Tensor nll_sum = torch::zeros({});
      for (int a = 0; a < agents; ++a) {
        const Tensor fit = CardLogits(a, prev_own[a].unsqueeze(1), flag,
                                      all.state, pub, condition);
        const Tensor target = Expand(own[a], k_).argmax(-1);
        nll_sum = nll_sum - (w * nn::CategoricalLogProb(fit, target)).sum();
      }
      const Tensor mean_nll = nll_sum / steps;
      loss = loss - o_.elbo_weight * mean_elbo + mean_nll;
      Add(0, "elbo", mean_elbo.item<double>());
      Add(0, "ess", (1.0 / w.pow(2).sum(1) / k_).sum().item<double>() / steps);
      Add(0, "private_nll", mean_nll.item<double>());
      if (m_ > 0) {
        const Tensor h =
            (torch::cat(message_entropies) * trained).sum() / trained_steps;
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
