#include "agents/independent/independent_learner.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "envs/core/env_spec.h"
#include "learners/observation_table.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"
#include "runtime/observation_encoder.h"
#include "runtime/training_loop.h"

namespace marl {
namespace {

using Values = std::vector<std::pair<std::string, double>>;

// Probabilities are logged for tables up to this many entries.
constexpr int64_t kMaxLoggedProbabilities = 64;

}  // namespace

// One agent's learner behind one interface, so the loop does not care which
// algorithm an agent runs. Rows are the environment's packed layout.
class AgentLearner {
 public:
  virtual ~AgentLearner() = default;
  virtual const char* kind() const = 0;
  // Actions for `n` rows of observations; `mask` (n x actions, or null)
  // marks legal Discrete actions.
  virtual absl::Status Act(const float* obs, const bool* mask, int n,
                           bool deterministic, int64_t* discrete,
                           float* continuous) = 0;
  virtual absl::Status Observe(const float* obs, const int64_t* discrete,
                               const float* continuous, float reward,
                               const float* next_obs, bool terminated) = 0;
  // Agent `agent`'s part of one batched step; by default one Observe per
  // row (on-policy learners take the step whole).
  virtual absl::Status ObserveBatch(const TransitionBatch& batch, int agent,
                                    int64_t obs_size, int64_t act_size) {
    for (int r = 0; r < batch.num_copies; ++r) {
      const int64_t* d = batch.discrete_action[agent]
                             ? batch.discrete_action[agent] + r * act_size
                             : nullptr;
      const float* c = batch.continuous_action[agent]
                           ? batch.continuous_action[agent] + r * act_size
                           : nullptr;
      absl::Status s = Observe(
          batch.observation[agent] + r * obs_size, d, c, batch.reward[agent][r],
          batch.next_observation[agent] + r * obs_size, batch.terminated[r]);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // The stream and episode starts of the next Act (recurrent learners).
  virtual void SetActingContext(ActingStream stream, const bool* first) {}
  // Losses since the last call (then reset), the temperature, and what
  // the policy does at `obs` (probabilities of small tables, the greedy
  // action).
  virtual absl::Status Metrics(const float* obs, Values* values) = 0;
  virtual absl::StatusOr<std::vector<double>> GreedyAction(
      const float* obs) = 0;
  // `with_replay`: also the replay buffer, where the learner has one.
  virtual absl::StatusOr<std::string> Save(bool with_replay) const = 0;
  virtual absl::Status Load(const std::string& bytes) = 0;
};

// The learner of some of the agents (a SAC group learns several at once,
// the others one each), behind one interface: what IndependentLearner
// holds. Arrays are by agent index, as the loop gives them.
class AgentsLearner {
 public:
  explicit AgentsLearner(std::vector<int> agents)
      : agents_(std::move(agents)) {}
  virtual ~AgentsLearner() = default;
  // Its agents' indices, ascending.
  const std::vector<int>& agents() const { return agents_; }
  virtual absl::Status Act(const std::vector<const float*>& obs,
                           const std::vector<const bool*>& masks, int n,
                           bool deterministic,
                           std::vector<std::vector<int64_t>>* discrete,
                           std::vector<std::vector<float>>* continuous) = 0;
  virtual absl::Status ObserveBatch(const TransitionBatch& batch,
                                    const EnvSpec& spec) = 0;
  virtual void SetActingContext(ActingStream stream, const bool* first) {}
  // After each batched step (SAC runs its banked gradient updates here).
  virtual void Train() {}
  // Agent `agent`'s metrics (one of its own), at `obs`.
  virtual absl::Status Metrics(int agent, const float* obs, Values* values) = 0;
  virtual absl::StatusOr<std::string> Save(bool with_replay) const = 0;
  virtual absl::Status Load(const std::string& bytes) = 0;

 private:
  std::vector<int> agents_;
};

namespace {

// Tabular soft Q-learning for one agent. A Discrete observation indexes
// the table; any other observation is numbered as it is met
// (learners/observation_table.h), so the table is exact wherever the
// observations take finitely many values (a card game's private card and
// public history). In a turn-based game an agent's transition runs from one
// of its turns to its next (or to the episode's end): the rewards between
// are summed with discounts, and the bootstrap is discounted by gamma per
// step between (a semi-Markov update), so the others' moves are part of
// the environment and its idle actions are never learned from.
class SoftQAgent : public AgentLearner {
 public:
  SoftQAgent(std::string id, SoftQLearner learner, int64_t num_actions,
             int64_t obs_width, std::optional<ObservationTable> table)
      : id_(std::move(id)),
        learner_(std::move(learner)),
        num_actions_(num_actions),
        obs_width_(obs_width),
        table_(std::move(table)) {}

  const char* kind() const override { return "soft_q"; }

  absl::Status Act(const float* obs, const bool* mask, int n,
                   bool deterministic, int64_t* discrete,
                   float* continuous) override {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<int64_t> s = Index(obs + i * obs_width_);
      if (!s.ok()) return s.status();
      const bool* row_mask = mask ? mask + i * num_actions_ : nullptr;
      discrete[i] = deterministic ? learner_.Greedy(*s, row_mask)
                                  : learner_.Sample(*s, row_mask);
    }
    return absl::OkStatus();
  }

  absl::Status Observe(const float* obs, const int64_t* discrete,
                       const float* continuous, float reward,
                       const float* next_obs, bool terminated) override {
    absl::StatusOr<int64_t> s = Index(obs);
    if (!s.ok()) return s.status();
    absl::StatusOr<int64_t> next = Index(next_obs);
    if (!next.ok()) return next.status();
    Learn(*s, discrete[0], reward, *next,
          terminated ? 0.0 : learner_.options().gamma);
    return absl::OkStatus();
  }

  absl::Status ObserveBatch(const TransitionBatch& batch, int agent,
                            int64_t obs_size, int64_t act_size) override {
    if (batch.current_agent == nullptr) {
      return AgentLearner::ObserveBatch(batch, agent, obs_size, act_size);
    }
    const int n = batch.num_copies;
    if (static_cast<int>(since_turn_.size()) != n) since_turn_.assign(n, {});
    const double gamma = learner_.options().gamma;
    for (int r = 0; r < n; ++r) {
      SinceTurn& p = since_turn_[r];
      const double reward = batch.reward[agent][r];
      if (batch.current_agent[r] == agent) {
        absl::StatusOr<int64_t> s =
            Index(batch.observation[agent] + r * obs_size);
        if (!s.ok()) return s.status();
        if (p.open) Learn(p.obs, p.action, p.ret, *s, p.discount);
        p = {true, *s, batch.discrete_action[agent][r * act_size], reward,
             gamma};
      } else if (p.open) {
        p.ret += p.discount * reward;
        p.discount *= gamma;
      }
      if (!batch.terminated[r] && !batch.truncated[r]) continue;
      if (p.open) {
        int64_t next = 0;  // unused when the episode terminated
        double discount = 0;
        if (!batch.terminated[r]) {
          absl::StatusOr<int64_t> s =
              Index(batch.next_observation[agent] + r * obs_size);
          if (!s.ok()) return s.status();
          next = *s;
          discount = p.discount;
        }
        Learn(p.obs, p.action, p.ret, next, discount);
      }
      p.open = false;
    }
    return absl::OkStatus();
  }

  absl::Status Metrics(const float* obs, Values* values) override {
    if (td_count_ > 0) values->push_back({"loss_q", td_squared_ / td_count_});
    td_squared_ = 0;
    td_count_ = 0;
    values->push_back({"temperature", learner_.temperature()});
    absl::StatusOr<int64_t> s = Index(obs);
    if (!s.ok()) return s.status();
    std::vector<double> probs;
    learner_.Probabilities(*s, &probs);
    double entropy = 0;
    for (double p : probs) entropy -= p > 0 ? p * std::log(p) : 0.0;
    values->push_back({"entropy", entropy});
    const int64_t num_obs = learner_.num_observations();
    if (table_.has_value()) {
      values->push_back({"observations_seen", double(table_->size())});
    } else if (num_obs * num_actions_ <= kMaxLoggedProbabilities) {
      // prob_a<k> for one-state games (matrix games); prob_s<s>_a<k> else.
      for (int64_t state = 0; state < num_obs; ++state) {
        learner_.Probabilities(state, &probs);
        for (int64_t a = 0; a < num_actions_; ++a) {
          values->push_back({num_obs == 1
                                 ? absl::StrCat("prob_a", a)
                                 : absl::StrCat("prob_s", state, "_a", a),
                             probs[a]});
        }
      }
    }
    values->push_back({"greedy_action", double(learner_.Greedy(*s))});
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<double>> GreedyAction(const float* obs) override {
    absl::StatusOr<int64_t> s = Index(obs);
    if (!s.ok()) return s.status();
    return std::vector<double>{double(learner_.Greedy(*s))};
  }

  // A Discrete table saves as the table alone; a numbered one with its
  // observations in number order.
  absl::StatusOr<std::string> Save(bool) const override {
    if (!table_.has_value()) return learner_.Serialize();
    return LearnerStateWriter("soft_q_observed",
                              {table_->width(), table_->capacity()})
        .Bytes("table", learner_.Serialize())
        .Doubles("observations", table_->Rows())
        .Finish();
  }
  absl::Status Load(const std::string& bytes) override {
    if (!table_.has_value()) return learner_.Restore(bytes);
    absl::StatusOr<LearnerStateReader> reader = LearnerStateReader::Open(
        bytes, "soft_q_observed", {table_->width(), table_->capacity()});
    if (!reader.ok()) {
      return absl::Status(
          reader.status().code(),
          absl::StrCat(reader.status().message(),
                       " (observation width x --soft_q_max_observations)"));
    }
    std::string table;
    std::vector<double> rows;
    absl::Status s = reader->Bytes("table", &table);
    if (s.ok()) s = reader->Doubles("observations", -1, &rows);
    if (!s.ok()) return s;
    // Both or neither: the learner first, as it checks more.
    SoftQLearner learner = learner_;
    ObservationTable observations = *table_;
    if (s = learner.Restore(table); !s.ok()) return s;
    if (s = observations.Restore(rows); !s.ok()) return s;
    learner_ = std::move(learner);
    table_ = std::move(observations);
    since_turn_.clear();
    return absl::OkStatus();
  }

 private:
  // Since the agent's last turn in one copy (turn-based games).
  struct SinceTurn {
    bool open = false;  // a turn whose transition is not learned yet
    int64_t obs = 0;    // its observation's index
    int64_t action = 0;
    double ret = 0;       // rewards since, discounted to the turn
    double discount = 1;  // gamma^(steps since the turn)
  };

  absl::StatusOr<int64_t> Index(const float* obs) {
    if (table_.has_value()) return table_->IndexOf(obs, id_);
    return DiscreteIndex(obs[0], learner_.num_observations(), id_);
  }

  void Learn(int64_t obs, int64_t action, double reward, int64_t next,
             double discount) {
    const double td =
        learner_.UpdateDiscounted(obs, action, reward, next, discount);
    td_squared_ += td * td;
    ++td_count_;
  }

  std::string id_;
  SoftQLearner learner_;
  int64_t num_actions_;
  int64_t obs_width_;                      // floats per observation row
  std::optional<ObservationTable> table_;  // absent: Discrete observations
  std::vector<SinceTurn> since_turn_;      // per copy
  double td_squared_ = 0;
  int64_t td_count_ = 0;
};

// The greedy action as metrics: "greedy_action", or "greedy_action_<k>"
// for the first 8 elements of a Box action.
absl::Status AddGreedyAction(const absl::StatusOr<std::vector<double>>& greedy,
                             Values* values) {
  if (!greedy.ok()) return greedy.status();
  for (size_t k = 0; k < greedy->size() && k < 8; ++k) {
    values->push_back({greedy->size() == 1 ? std::string("greedy_action")
                                           : absl::StrCat("greedy_action_", k),
                       (*greedy)[k]});
  }
  return absl::OkStatus();
}

// Every SAC agent of one observation and action size, stacked in one
// SacLearner (a group of one is plain SAC).
class SacGroup : public AgentsLearner {
 public:
  SacGroup(std::vector<int> agents, std::unique_ptr<SacLearner> learner,
           std::vector<ObservationEncoder> encoders)
      : AgentsLearner(std::move(agents)),
        learner_(std::move(learner)),
        encoders_(std::move(encoders)),
        encoded_(encoders_.size()),
        next_(encoders_.size()),
        sums_(encoders_.size()),
        updates_(encoders_.size(), 0) {}

  absl::Status Act(const std::vector<const float*>& obs,
                   const std::vector<const bool*>&, int n, bool deterministic,
                   std::vector<std::vector<int64_t>>*,
                   std::vector<std::vector<float>>* continuous) override {
    std::vector<const float*> in;
    std::vector<float*> out;
    for (size_t i = 0; i < encoders_.size(); ++i) {
      const int a = agents()[i];
      if (absl::Status s = encoders_[i].Encode(obs[a], n, &encoded_[i]);
          !s.ok()) {
        return s;
      }
      in.push_back(encoded_[i].data());
      out.push_back((*continuous)[a].data());
    }
    learner_->Act(in, n, deterministic, out);
    return absl::OkStatus();
  }

  absl::Status ObserveBatch(const TransitionBatch& batch,
                            const EnvSpec&) override {
    const int n = batch.num_copies;
    std::vector<const float*> obs, action, reward, next;
    for (size_t i = 0; i < encoders_.size(); ++i) {
      const int a = agents()[i];
      absl::Status s =
          encoders_[i].Encode(batch.observation[a], n, &encoded_[i]);
      if (s.ok()) {
        s = encoders_[i].Encode(batch.next_observation[a], n, &next_[i]);
      }
      if (!s.ok()) return s;
      obs.push_back(encoded_[i].data());
      next.push_back(next_[i].data());
      action.push_back(batch.continuous_action[a]);
      reward.push_back(batch.reward[a]);
    }
    for (int r = 0; r < n; ++r) {
      learner_->Observe(obs, action, reward, next, r, batch.terminated[r]);
    }
    return absl::OkStatus();
  }

  void Train() override {
    std::vector<SacLosses> losses;
    const int n = learner_->TrainPending(&losses);
    if (n == 0) return;
    for (size_t i = 0; i < sums_.size(); ++i) {
      sums_[i].critic_loss += n * losses[i].critic_loss;
      sums_[i].actor_loss += n * losses[i].actor_loss;
      sums_[i].entropy += n * losses[i].entropy;
      sums_[i].q_mean += n * losses[i].q_mean;
      sums_[i].alpha_loss += n * losses[i].alpha_loss;
      updates_[i] += n;
    }
  }

  absl::Status Metrics(int agent, const float* obs, Values* values) override {
    const size_t i = Member(agent);
    const SacLosses& sum = sums_[i];
    const int64_t n = updates_[i];
    if (n > 0) {
      values->push_back({"loss_q", sum.critic_loss / n});
      values->push_back({"loss_actor", sum.actor_loss / n});
      values->push_back({"entropy", sum.entropy / n});
      values->push_back({"q_mean", sum.q_mean / n});
      if (learner_->options().sac_auto_entropy) {
        values->push_back({"loss_alpha", sum.alpha_loss / n});
      }
    }
    sums_[i] = SacLosses();
    updates_[i] = 0;
    values->push_back({"temperature", learner_->alpha(static_cast<int>(i))});
    values->push_back({"updates", double(learner_->updates())});
    return AddGreedyAction(GreedyAction(i, obs), values);
  }

  absl::StatusOr<std::string> Save(bool with_replay) const override {
    return learner_->Save(with_replay);
  }
  absl::Status Load(const std::string& bytes) override {
    return learner_->Load(bytes);
  }

 private:
  size_t Member(int agent) const {
    return static_cast<size_t>(
        std::find(agents().begin(), agents().end(), agent) - agents().begin());
  }

  // Member i's deterministic action at its observation `obs` (every member
  // is given the same observation; only member i's action is kept).
  absl::StatusOr<std::vector<double>> GreedyAction(size_t i, const float* obs) {
    if (absl::Status s = encoders_[i].Encode(obs, 1, &encoded_[i]); !s.ok()) {
      return s;
    }
    const size_t g = encoders_.size();
    const int64_t dim = learner_->action_dim();
    std::vector<float> actions(g * dim);
    std::vector<const float*> in(g, encoded_[i].data());
    std::vector<float*> out;
    for (size_t j = 0; j < g; ++j) out.push_back(actions.data() + j * dim);
    learner_->Act(in, 1, /*deterministic=*/true, out);
    return std::vector<double>(actions.begin() + i * dim,
                               actions.begin() + (i + 1) * dim);
  }

  std::unique_ptr<SacLearner> learner_;
  std::vector<ObservationEncoder> encoders_;  // per member
  std::vector<std::vector<float>> encoded_, next_;
  // Per member, since its last metrics: loss sums and updates.
  std::vector<SacLosses> sums_;
  std::vector<int64_t> updates_;
};

class PpoAgent : public AgentLearner {
 public:
  PpoAgent(std::string id, std::unique_ptr<PpoLearner> learner,
           const Space& obs_space)
      : learner_(std::move(learner)), encoder_(std::move(id), obs_space) {}

  const char* kind() const override { return "ppo"; }

  void SetActingContext(ActingStream stream, const bool* first) override {
    stream_ = stream;
    first_ = first;
  }

  absl::Status Act(const float* obs, const bool* mask, int n,
                   bool deterministic, int64_t* discrete,
                   float* continuous) override {
    if (absl::Status s = encoder_.Encode(obs, n, &encoded_); !s.ok()) return s;
    learner_->Act(encoded_.data(), n, deterministic, discrete, continuous,
                  stream_, first_, mask);
    return absl::OkStatus();
  }

  absl::Status Observe(const float*, const int64_t*, const float*, float,
                       const float*, bool) override {
    return absl::InternalError("ppo learns from whole batched steps");
  }

  absl::Status ObserveBatch(const TransitionBatch& batch, int agent,
                            int64_t obs_size, int64_t act_size) override {
    const int n = batch.num_copies;
    absl::Status s = encoder_.Encode(batch.observation[agent], n, &encoded_);
    if (s.ok()) s = encoder_.Encode(batch.next_observation[agent], n, &next_);
    if (!s.ok()) return s;
    // Turn-based: the copies where it was this agent's turn.
    const bool* acting = nullptr;
    if (batch.current_agent != nullptr) {
      if (acting_size_ != n) {
        acting_.reset(new bool[n]);
        acting_size_ = n;
      }
      for (int c = 0; c < n; ++c) acting_[c] = batch.current_agent[c] == agent;
      acting = acting_.get();
    }
    return learner_->Observe(n, encoded_.data(), batch.discrete_action[agent],
                             batch.continuous_action[agent],
                             batch.reward[agent], next_.data(),
                             batch.terminated, batch.truncated, acting);
  }

  absl::Status Metrics(const float* obs, Values* values) override {
    const PpoLosses losses = learner_->TakeLosses();
    if (losses.steps > 0) {
      values->push_back({"loss_policy", losses.policy_loss});
      values->push_back({"loss_value", losses.value_loss});
      values->push_back({"entropy", losses.entropy});
      values->push_back({"approx_kl", losses.approx_kl});
      values->push_back({"clip_fraction", losses.clip_fraction});
    }
    values->push_back({"updates", double(learner_->updates())});
    return AddGreedyAction(GreedyAction(obs), values);
  }

  absl::StatusOr<std::vector<double>> GreedyAction(const float* obs) override {
    if (absl::Status s = encoder_.Encode(obs, 1, &encoded_); !s.ok()) return s;
    int64_t index = 0;
    std::vector<float> box(static_cast<size_t>(learner_->action_size()));
    learner_->Act(encoded_.data(), 1, true, &index, box.data());
    if (learner_->num_actions() > 0) return std::vector<double>{double(index)};
    return std::vector<double>(box.begin(), box.end());
  }

  absl::StatusOr<std::string> Save(bool) const override {
    return learner_->Save();
  }
  absl::Status Load(const std::string& bytes) override {
    return learner_->Load(bytes);
  }

 private:
  std::unique_ptr<PpoLearner> learner_;
  ObservationEncoder encoder_;
  std::vector<float> encoded_, next_;
  ActingStream stream_ = ActingStream::kProbe;
  std::unique_ptr<bool[]> acting_;  // per copy, this agent's turn
  int acting_size_ = 0;
  const bool* first_ = nullptr;
};

// One agent's learner (soft-Q, PPO) as an AgentsLearner.
class OneAgent : public AgentsLearner {
 public:
  OneAgent(int agent, bool box_actions, std::unique_ptr<AgentLearner> learner)
      : AgentsLearner({agent}),
        box_actions_(box_actions),
        learner_(std::move(learner)) {}

  absl::Status Act(const std::vector<const float*>& obs,
                   const std::vector<const bool*>& masks, int n,
                   bool deterministic,
                   std::vector<std::vector<int64_t>>* discrete,
                   std::vector<std::vector<float>>* continuous) override {
    const int a = agents()[0];
    return learner_->Act(obs[a], masks[a], n, deterministic,
                         box_actions_ ? nullptr : (*discrete)[a].data(),
                         box_actions_ ? (*continuous)[a].data() : nullptr);
  }
  absl::Status ObserveBatch(const TransitionBatch& batch,
                            const EnvSpec& spec) override {
    const int a = agents()[0];
    return learner_->ObserveBatch(batch, a,
                                  spec.observation_spaces[a].FlatSize(),
                                  spec.action_spaces[a].FlatSize());
  }
  void SetActingContext(ActingStream stream, const bool* first) override {
    learner_->SetActingContext(stream, first);
  }
  absl::Status Metrics(int, const float* obs, Values* values) override {
    return learner_->Metrics(obs, values);
  }
  absl::StatusOr<std::string> Save(bool with_replay) const override {
    return learner_->Save(with_replay);
  }
  absl::Status Load(const std::string& bytes) override {
    return learner_->Load(bytes);
  }

 private:
  bool box_actions_;
  std::unique_ptr<AgentLearner> learner_;
};

}  // namespace

absl::Status CheckLearnerName(const std::string& learner) {
  if (learner != "auto" && learner != "soft_q" && learner != "sac" &&
      learner != "ppo") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--learner must be 'auto', 'soft_q', 'sac' or 'ppo', got '", learner,
        "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<IndependentLearner>> IndependentLearner::Create(
    const EnvSpec& spec, uint64_t run_seed, const IndependentOptions& options) {
  const std::string& learner = options.learner;
  const SoftQOptions& soft_q = options.soft_q;
  const SacOptions& sac = options.sac;
  const PpoOptions& ppo = options.ppo;
  if (absl::Status s = CheckLearnerName(learner); !s.ok()) return s;
  std::unique_ptr<IndependentLearner> out(new IndependentLearner());
  out->spec_ = spec;
  const std::vector<std::string>& ids = spec.agent_ids;
  // SAC agents wait to be grouped by their observation and action sizes.
  struct SacMember {
    int agent;
    int64_t obs_dim, action_dim;
  };
  std::vector<SacMember> sac_members;
  std::vector<std::unique_ptr<AgentsLearner>> units;
  for (int a = 0; a < spec.num_agents(); ++a) {
    const Space& obs = spec.observation_spaces[a];
    const Space& act = spec.action_spaces[a];
    const uint64_t seed = DeriveSeed(run_seed, 1 + a);
    std::string kind = learner;
    if (kind == "auto") kind = act.is_box() ? "sac" : "soft_q";
    if (learner == "auto" && kind == "soft_q" && !obs.is_discrete()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agent ", ids[a], ": --learner=auto has no learner for observation ",
          obs.DebugString(),
          " with Discrete actions: choose --learner=ppo, "
          "or --learner=soft_q for a table over the distinct observations"));
    }
    if (act.is_multi_discrete() || obs.is_multi_discrete()) {
      return absl::UnimplementedError(
          absl::StrCat("agent ", ids[a], ": MultiDiscrete spaces (observation ",
                       obs.DebugString(), ", action ", act.DebugString(),
                       ") have no independent learner"));
    }
    const int64_t obs_dim = obs.is_discrete() ? obs.n : obs.FlatSize();
    if (kind == "soft_q") {
      if (!act.is_discrete()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "agent ", ids[a], ": soft_q needs Discrete actions, got ",
            act.DebugString(), " (use --learner=sac or auto)"));
      }
      // A Box observation: a table over the distinct ones met.
      std::optional<ObservationTable> table;
      if (!obs.is_discrete()) {
        absl::StatusOr<ObservationTable> t = ObservationTable::Create(
            obs.FlatSize(), soft_q.soft_q_max_observations);
        if (!t.ok()) return t.status();
        table = *std::move(t);
      }
      absl::StatusOr<SoftQLearner> q = SoftQLearner::Create(
          table ? table->capacity() : obs.n, act.n, soft_q, seed);
      if (!q.ok()) {
        return absl::Status(
            q.status().code(),
            absl::StrCat("agent ", ids[a], ": ", q.status().message()));
      }
      units.push_back(std::make_unique<OneAgent>(
          a, false,
          std::make_unique<SoftQAgent>(ids[a], *std::move(q), act.n,
                                       obs.FlatSize(), std::move(table))));
    } else if (kind == "ppo") {
      absl::StatusOr<std::unique_ptr<PpoLearner>> p =
          act.is_discrete()
              ? PpoLearner::Create(obs_dim, act.n, {}, {}, ppo, seed)
              : PpoLearner::Create(obs_dim, 0, act.low, act.high, ppo, seed);
      if (!p.ok()) {
        return absl::Status(
            p.status().code(),
            absl::StrCat("agent ", ids[a], ": ", p.status().message()));
      }
      units.push_back(std::make_unique<OneAgent>(
          a, act.is_box(),
          std::make_unique<PpoAgent>(ids[a], *std::move(p), obs)));
    } else {
      if (!act.is_box()) {
        return absl::InvalidArgumentError(
            absl::StrCat("agent ", ids[a], ": sac needs Box actions, got ",
                         act.DebugString(), " (use --learner=soft_q or auto)"));
      }
      sac_members.push_back({a, obs_dim, act.FlatSize()});
    }
    out->kinds_.push_back(kind);
  }
  // One stacked SAC learner per observation and action size, seeded as its
  // first agent.
  std::vector<bool> grouped(sac_members.size(), false);
  for (size_t i = 0; i < sac_members.size(); ++i) {
    if (grouped[i]) continue;
    std::vector<int> agents;
    std::vector<std::vector<float>> low, high;
    std::vector<ObservationEncoder> encoders;
    for (size_t j = i; j < sac_members.size(); ++j) {
      if (grouped[j] || sac_members[j].obs_dim != sac_members[i].obs_dim ||
          sac_members[j].action_dim != sac_members[i].action_dim) {
        continue;
      }
      grouped[j] = true;
      const int a = sac_members[j].agent;
      agents.push_back(a);
      low.push_back(spec.action_spaces[a].low);
      high.push_back(spec.action_spaces[a].high);
      encoders.emplace_back(ids[a], spec.observation_spaces[a]);
    }
    absl::StatusOr<std::unique_ptr<SacLearner>> group =
        SacLearner::Create(sac_members[i].obs_dim, low, high, sac,
                           DeriveSeed(run_seed, 1 + agents[0]));
    if (!group.ok()) {
      return absl::Status(group.status().code(),
                          absl::StrCat("agent ", ids[agents[0]], ": ",
                                       group.status().message()));
    }
    units.push_back(std::make_unique<SacGroup>(
        std::move(agents), *std::move(group), std::move(encoders)));
  }
  std::sort(units.begin(), units.end(), [](const auto& x, const auto& y) {
    return x->agents()[0] < y->agents()[0];
  });
  out->unit_of_agent_.assign(spec.num_agents(), 0);
  for (size_t u = 0; u < units.size(); ++u) {
    for (int a : units[u]->agents()) out->unit_of_agent_[a] = u;
  }
  out->learners_ = std::move(units);
  out->masks_.assign(spec.num_agents(), nullptr);

  JsonObject learners;
  for (int a = 0; a < spec.num_agents(); ++a) {
    learners.Add(ids[a], out->kinds_[a]);
  }
  JsonObject q_json, sac_json, ppo_json;
  q_json.Add("gamma", soft_q.gamma);
  sac_json.Add("gamma", sac.gamma);
  ppo_json.Add("gamma", ppo.gamma);
  JsonObject config;
  config.Add("learner", learner)
      .AddRaw("learners", learners.Build())
      .AddRaw("soft_q", AddParams(soft_q, q_json).Build())
      .AddRaw("sac", AddParams(sac, sac_json).Build())
      .AddRaw("ppo", AddParams(ppo, ppo_json).Build());
  out->config_json_ = config.Build();
  return out;
}

IndependentLearner::~IndependentLearner() = default;

LearnerFactory IndependentFactory(const IndependentOptions& options) {
  return [options](const EnvSpec& spec, uint64_t run_seed)
             -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<IndependentLearner>> learner =
        IndependentLearner::Create(spec, run_seed, options);
    if (!learner.ok()) return learner.status();
    return std::unique_ptr<JointLearner>(*std::move(learner));
  };
}

bool IndependentLearner::TakesTurns() const {
  for (const std::string& kind : kinds_) {
    if (kind != "ppo" && kind != "soft_q") return false;
  }
  return true;
}

void IndependentLearner::SetActingContext(ActingStream stream,
                                          const bool* first) {
  for (auto& learner : learners_) learner->SetActingContext(stream, first);
}

void IndependentLearner::Act(const std::vector<const float*>& observation,
                             int num_copies, bool deterministic,
                             std::vector<std::vector<int64_t>>* discrete,
                             std::vector<std::vector<float>>* continuous) {
  if (!status_.ok()) return;
  const int n = spec_.num_agents();
  if (first_obs_.empty()) {
    first_obs_.resize(n);
    for (int a = 0; a < n; ++a) {
      first_obs_[a].assign(
          observation[a],
          observation[a] + spec_.observation_spaces[a].FlatSize());
    }
  }
  for (auto& learner : learners_) {
    absl::Status s = learner->Act(observation, masks_, num_copies,
                                  deterministic, discrete, continuous);
    if (!s.ok()) return Fail(std::move(s));
  }
}

void IndependentLearner::Learn(const TransitionBatch& batch) {
  if (!status_.ok()) return;
  for (auto& learner : learners_) {
    absl::Status s = learner->ObserveBatch(batch, spec_);
    if (!s.ok()) return Fail(std::move(s));
  }
  // SAC runs its banked gradient updates once per batched step.
  for (auto& learner : learners_) learner->Train();
}

std::vector<std::pair<std::string, double>> IndependentLearner::Metrics(
    int agent) const {
  Values values;
  if (first_obs_.empty()) return values;
  // Metrics reset the learners' loss accumulators: logically const for the
  // loop (it reads them once per log period).
  absl::Status s = learners_[unit_of_agent_[agent]]->Metrics(
      agent, first_obs_[agent].data(), &values);
  if (!s.ok()) const_cast<IndependentLearner*>(this)->Fail(std::move(s));
  return values;
}

// The key of a learner's state: its agents' ids, joined by '+' (one
// agent's learner: the agent's id).
std::string IndependentLearner::StateKey(const AgentsLearner& learner) const {
  std::vector<std::string> ids;
  for (int a : learner.agents()) ids.push_back(spec_.agent_ids[a]);
  return absl::StrJoin(ids, "+");
}

// One learner state holding each learner's (its own learner state) under
// its agents' ids.
absl::StatusOr<std::string> IndependentLearner::Save() const {
  const int n = spec_.num_agents();
  LearnerStateWriter writer("independent", {n});
  for (const auto& learner : learners_) {
    absl::StatusOr<std::string> bytes = learner->Save(checkpoint_replay());
    if (!bytes.ok()) return bytes.status();
    writer.Nested(StateKey(*learner), *std::move(bytes));
  }
  return writer.Finish();
}

absl::Status IndependentLearner::Load(const std::string& data) {
  const int n = spec_.num_agents();
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(data, "independent", {n});
  if (!reader.ok()) {
    return absl::Status(
        reader.status().code(),
        absl::StrCat(reader.status().message(), " (the number of agents)"));
  }
  std::string bytes;
  for (auto& learner : learners_) {
    const std::string key = StateKey(*learner);
    absl::Status s = reader->Bytes(key, &bytes);
    if (s.ok()) s = learner->Load(bytes);
    if (!s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat(learner->agents().size() > 1 ? "agents " : "agent ", key,
                       ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace marl
