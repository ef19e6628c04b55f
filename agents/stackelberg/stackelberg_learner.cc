#include "agents/stackelberg/stackelberg_learner.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agents/stackelberg/memory_one_solver.h"
#include "envs/core/checked_size.h"
#include "learners/observation_table.h"
#include "learners/ppo_learner.h"
#include "learners/soft_q_learner.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"
#include "runtime/observation_encoder.h"
#include "runtime/seeds.h"

namespace marl {
namespace {

using Values = std::vector<std::pair<std::string, double>>;

constexpr int kLeader = 0;
constexpr int kFollower = 1;

// The most deterministic leaders the pre-training's stopping test plays
// (2x2 games have 32).
constexpr double kMaxCheckedLeaders = 4096;

// The stage game as play shows it: each joint action's rewards and the
// leader's next observation, recorded from play steps.
class StageModel {
 public:
  StageModel(int64_t n, int64_t m)
      : n_(n), m_(m), cells_(static_cast<size_t>(n * m)) {}

  void Record(int64_t a0, int64_t a1, float r0, float r1, int64_t next) {
    Cell& cell = cells_[a0 * m_ + a1];
    if (!cell.seen) {
      cell = {true, r0, r1, next};
      ++seen_;
    } else if (cell.r0 != r0 || cell.r1 != r1 || cell.next != next) {
      consistent_ = false;  // stochastic, or not a repeated matrix game
    }
  }

  // The memory-one game of episode_length steps, rewards as payoffs, once
  // every joint action was seen, always with the same outcome, the next
  // observation numbered 1 + a0 + n a1 (iterated_matrix_game's full
  // memory); empty otherwise.
  std::optional<MemoryOneGame> Game(int episode_length,
                                    double follower_discount) const {
    if (!consistent_ || seen_ < n_ * m_) return std::nullopt;
    MemoryOneGame game;
    game.follower_discount = follower_discount;
    game.payoffs.rows = n_;
    game.payoffs.cols = m_;
    game.episode_length = episode_length;
    for (int64_t a0 = 0; a0 < n_; ++a0) {
      for (int64_t a1 = 0; a1 < m_; ++a1) {
        const Cell& cell = cells_[a0 * m_ + a1];
        if (cell.next != 1 + a0 + n_ * a1) return std::nullopt;
        game.payoffs.row_payoffs.push_back(cell.r0);
        game.payoffs.column_payoffs.push_back(cell.r1);
      }
    }
    return game;
  }

  // As doubles for checkpoints: per cell seen, r0, r1, next; then
  // consistent.
  std::vector<double> Save() const {
    std::vector<double> out;
    for (const Cell& c : cells_) {
      out.insert(out.end(), {c.seen ? 1.0 : 0.0, c.r0, c.r1, double(c.next)});
    }
    out.push_back(consistent_ ? 1.0 : 0.0);
    return out;
  }
  absl::Status Load(const std::vector<double>& values) {
    if (values.size() != cells_.size() * 4 + 1) {
      return absl::DataLossError("stackelberg checkpoint: a stage model of " +
                                 std::to_string(values.size()) + " values");
    }
    int64_t seen = 0;
    std::vector<Cell> cells(cells_.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      const double* v = &values[i * 4];
      if (!std::isfinite(v[1]) || !std::isfinite(v[2]) || !(v[3] >= 0) ||
          !(v[3] < 1e9)) {
        return absl::DataLossError(
            "stackelberg checkpoint: a stage model cell out of range");
      }
      cells[i] = {v[0] != 0, static_cast<float>(v[1]), static_cast<float>(v[2]),
                  static_cast<int64_t>(v[3])};
      seen += cells[i].seen;
    }
    cells_ = std::move(cells);
    seen_ = seen;
    consistent_ = values.back() != 0;
    return absl::OkStatus();
  }

 private:
  struct Cell {
    bool seen = false;
    float r0 = 0, r1 = 0;
    int64_t next = 0;
  };
  int64_t n_, m_;
  std::vector<Cell> cells_;
  int64_t seen_ = 0;
  bool consistent_ = true;
};

enum class Phase { kPretrain = 0, kFollower = 1, kLeader = 2 };

PpoOptions LeaderPpo(const StackelbergOptions& o, int64_t episode_steps) {
  PpoOptions p;
  p.ppo_hidden = o.leader_hidden;
  p.ppo_lr = o.leader_lr;
  p.ppo_rollout = o.leader_rollout_episodes * episode_steps;
  p.ppo_epochs = o.leader_epochs;
  p.ppo_minibatch = 1 << 20;  // the whole rollout: one step per epoch
  p.ppo_gae_lambda = 1.0;     // Monte Carlo credit, through the answers
  p.ppo_entropy = o.leader_entropy;
  p.gamma = o.gamma;
  return p;
}

PpoOptions FollowerPpo(const StackelbergOptions& o, int64_t play_steps) {
  PpoOptions p;
  p.ppo_hidden = o.follower_hidden;
  p.ppo_lr = o.follower_lr;
  p.ppo_rollout = o.follower_rollout_episodes * play_steps;
  p.ppo_epochs = 1;  // a policy gradient step per rollout, as the reference
  p.ppo_minibatch = 1 << 20;
  p.ppo_gae_lambda = 1.0;
  p.ppo_entropy = o.follower_entropy;
  p.gamma = o.follower_gamma;
  return p;
}

class StackelbergLearner : public JointLearner {
 public:
  static absl::StatusOr<std::unique_ptr<StackelbergLearner>> Create(
      const EnvSpec& spec, const StackelbergOptions& o, uint64_t seed);

  void SetActingContext(ActingStream stream, const bool* first) override {
    stream_ = stream;
    first_ = first;
  }

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override;
  void Learn(const TransitionBatch& batch) override;
  std::vector<std::pair<std::string, double>> Metrics(int agent) const override;
  absl::StatusOr<std::string> Save() const override;
  absl::Status Load(const std::string& bytes) override;
  absl::Status status() const override { return status_; }
  std::string AgentNote(int agent) const override {
    if (agent == kLeader) return "ppo leader";
    if (!contextual_) return "tabular follower";
    return follower_ppo_ ? "contextual ppo follower"
                         : "contextual table follower";
  }
  std::string ConfigJson() const override { return config_json_; }

 private:
  StackelbergLearner() = default;
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  // Each copy's step in its episode for the stream being acted, advanced
  // from the episode-start flags.
  std::vector<int64_t>& StepsOf(ActingStream stream) {
    return stream == ActingStream::kEval ? eval_steps_ : train_steps_;
  }
  // The follower's observation (a row) -> its table row.
  absl::StatusOr<int64_t> FollowerRow(const float* obs) {
    if (follower_rows_) return follower_rows_->IndexOf(obs, "follower");
    return DiscreteIndex(obs[0], follower_states_, "follower");
  }
  int64_t FollowerWidth() const {
    return follower_box_ ? follower_states_ + clock_steps_ + queries_ * n_ : 1;
  }
  void EndEpisodes(int copies);
  // The contextual follower's greedy response to every deterministic
  // leader (the stopping test); sets best_response_share_.
  void CheckFollower();
  // The leader's greedy memory-one policy (one action per observation).
  MemoryOnePolicy GreedyLeader() const;
  // The follower's observation row in memory state `state` at play step
  // `step` given `answers` (one leader action per state; contextual).
  void FollowerObservation(const MemoryOnePolicy& answers, int64_t state,
                           int64_t step, float* row) const;
  // The follower's greedy action for an observation row.
  absl::StatusOr<int> FollowerGreedy(const float* row);
  // The memory-one game play has shown, with the follower's discount and
  // clock; empty until every joint action was seen, or when the follower's
  // memory is not the leader's (no exact measures).
  std::optional<MemoryOneGame> ExactGame() const;

  StackelbergOptions options_;
  bool contextual_ = false;
  int64_t leader_states_ = 0;    // S
  int64_t follower_states_ = 0;  // the follower's memory observations
  int64_t clock_steps_ = 0;      // play steps, when the follower sees them
  bool follower_box_ = false;    // its observation is a Box
  int64_t n_ = 0, m_ = 0;        // actions of leader and follower
  int64_t queries_ = 0;          // query steps per episode (S or 0)
  int64_t episode_steps_ = 0;    // queries_ + play steps
  std::unique_ptr<PpoLearner> leader_;
  // The follower: PPO (contextual, --follower=ppo) or a soft Q table,
  // whose rows are the Discrete observations (inner_outer) or the distinct
  // observations met (contextual, --follower=table).
  std::unique_ptr<PpoLearner> follower_ppo_;
  std::optional<SoftQLearner> follower_q_;
  std::optional<SoftQLearner> follower_q_fresh_;  // for follower_reset
  std::optional<ObservationTable> follower_rows_;
  std::mt19937_64 rng_;  // random leaders of the pre-training
  StageModel model_{1, 1};

  Phase phase_ = Phase::kPretrain;
  int64_t episodes_ = 0;  // training episodes, over all copies
  int64_t pretrain_episodes_ = 0;
  int64_t phase_episodes_ = 0;       // in the current inner_outer phase
  int64_t leader_rounds_ = 0;        // leader phases (inner_outer)
  double best_response_share_ = -1;  // -1 = not checked yet
  double follower_regret_ = 0;       // its mean shortfall from best responses

  ActingStream stream_ = ActingStream::kProbe;
  const bool* first_ = nullptr;
  std::vector<int64_t> train_steps_, eval_steps_;
  std::vector<int64_t> acted_steps_;  // the train step each copy acted at
  std::vector<MemoryOnePolicy> random_leaders_;  // per copy
  std::vector<float> leader_in_, leader_next_;   // one-hot rows
  std::vector<int64_t> leader_obs_;              // per copy
  std::vector<char> ended_;  // per copy: the step ended the episode
  std::string config_json_;
  absl::Status status_;
};

absl::StatusOr<std::unique_ptr<StackelbergLearner>> StackelbergLearner::Create(
    const EnvSpec& spec, const StackelbergOptions& o, uint64_t seed) {
  if (o.oracle != "contextual" && o.oracle != "inner_outer") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--oracle must be \"contextual\" or \"inner_outer\", got \"", o.oracle,
        "\""));
  }
  if (spec.agent_ids != std::vector<std::string>{"leader", "follower"}) {
    return absl::InvalidArgumentError(
        "the Stackelberg agent needs agents named leader and follower "
        "(iterated_matrix_game with roles=stackelberg)");
  }
  const Space& leader_obs = spec.observation_spaces[kLeader];
  const Space& follower_obs = spec.observation_spaces[kFollower];
  const Space& leader_act = spec.action_spaces[kLeader];
  const Space& follower_act = spec.action_spaces[kFollower];
  if (!leader_obs.is_discrete() || !leader_act.is_discrete() ||
      !follower_act.is_discrete()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the Stackelberg agent needs a Discrete leader observation and "
        "Discrete actions, got leader observation ",
        leader_obs.DebugString(), ", actions ", leader_act.DebugString(),
        " and ", follower_act.DebugString()));
  }
  if (spec.episode_limit < 1) {
    return absl::InvalidArgumentError(
        "the Stackelberg agent needs fixed-length episodes (an episode limit)");
  }
  std::unique_ptr<StackelbergLearner> l(new StackelbergLearner());
  l->options_ = o;
  l->contextual_ = o.oracle == "contextual";
  l->leader_states_ = leader_obs.n;
  l->n_ = leader_act.n;
  l->m_ = follower_act.n;
  l->episode_steps_ = spec.episode_limit;
  const bool queried = std::find(spec.info_keys.begin(), spec.info_keys.end(),
                                 "query") != spec.info_keys.end();
  if (l->contextual_) {
    int64_t answers;
    if (!queried || !follower_obs.is_box() ||
        !CheckedMul(l->leader_states_, l->n_, &answers) ||
        follower_obs.FlatSize() <= answers ||
        spec.episode_limit <= l->leader_states_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--oracle=contextual needs the leader queried in every one of its ",
          l->leader_states_,
          " observations, in order (iterated_matrix_game with query_states=[0,"
          "1,...,",
          l->leader_states_ - 1, "]), got follower observation ",
          follower_obs.DebugString()));
    }
    l->queries_ = l->leader_states_;
    l->follower_states_ = follower_obs.FlatSize() - answers;
  } else {
    if (queried || !(follower_obs.is_discrete() || follower_obs.is_box())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--oracle=inner_outer plays without queries and needs a Discrete "
          "or Box follower observation (iterated_matrix_game without "
          "query_states), got follower observation ",
          follower_obs.DebugString()));
    }
    l->follower_states_ =
        follower_obs.is_box() ? follower_obs.FlatSize() : follower_obs.n;
    l->phase_ = Phase::kFollower;
  }
  // A follower that sees the clock (iterated_matrix_game's follower_clock)
  // has a one-hot of the play steps after the leader's memory states.
  l->follower_box_ = follower_obs.is_box();
  const int64_t play_steps = l->episode_steps_ - l->queries_;
  if (l->follower_box_ &&
      l->follower_states_ == l->leader_states_ + play_steps) {
    l->clock_steps_ = play_steps;
    l->follower_states_ = l->leader_states_;
  }
  if (l->contextual_ && o.pretrain_episodes == 0) l->phase_ = Phase::kLeader;
  absl::StatusOr<std::unique_ptr<PpoLearner>> leader =
      PpoLearner::Create(l->leader_states_, l->n_, {}, {},
                         LeaderPpo(o, l->episode_steps_), DeriveSeed(seed, 1));
  if (!leader.ok()) return leader.status();
  l->leader_ = *std::move(leader);
  if (o.follower != "ppo" && o.follower != "table") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--follower must be \"ppo\" or \"table\", got \"", o.follower, "\""));
  }
  if (l->contextual_ && o.follower == "ppo") {
    absl::StatusOr<std::unique_ptr<PpoLearner>> follower =
        PpoLearner::Create(follower_obs.FlatSize(), l->m_, {}, {},
                           FollowerPpo(o, play_steps), DeriveSeed(seed, 2));
    if (!follower.ok()) return follower.status();
    l->follower_ppo_ = *std::move(follower);
  } else {
    int64_t rows = l->follower_states_;
    if (l->follower_box_) {
      absl::StatusOr<ObservationTable> table = ObservationTable::Create(
          follower_obs.FlatSize(), o.follower_table_rows);
      if (!table.ok()) return table.status();
      l->follower_rows_ = *std::move(table);
      rows = o.follower_table_rows;
    }
    SoftQOptions q;
    q.soft_q_lr = o.follower_q_lr;
    q.soft_q_alpha = q.soft_q_alpha_min = o.follower_q_alpha;
    q.soft_q_alpha_decay = 1.0;
    q.gamma = o.follower_gamma;
    q.initial_q = o.follower_q_initial;
    absl::StatusOr<SoftQLearner> follower =
        SoftQLearner::Create(rows, l->m_, q, DeriveSeed(seed, 2));
    if (!follower.ok()) return follower.status();
    l->follower_q_ = *follower;
    l->follower_q_fresh_ = *std::move(follower);
  }
  l->rng_.seed(DeriveSeed(seed, 3));
  l->model_ = StageModel(l->n_, l->m_);
  JsonObject json;
  l->config_json_ = AddParams(o, json).Build();
  return l;
}

void StackelbergLearner::Act(const std::vector<const float*>& observation,
                             int num_copies, bool deterministic,
                             std::vector<std::vector<int64_t>>* discrete,
                             std::vector<std::vector<float>>*) {
  if (!status_.ok()) return;
  const int n = num_copies;
  // Each copy's step in its episode (probes: a first observation).
  std::vector<int64_t>& steps = StepsOf(stream_);
  std::vector<int64_t> probe_steps(n, 0);
  if (stream_ != ActingStream::kProbe) {
    if (static_cast<int>(steps.size()) != n) steps.assign(n, -1);
    for (int c = 0; c < n; ++c) {
      steps[c] = (first_ == nullptr || first_[c]) ? 0 : steps[c] + 1;
    }
  }
  const std::vector<int64_t>& step =
      stream_ == ActingStream::kProbe ? probe_steps : steps;
  const bool training = stream_ == ActingStream::kTrain && !deterministic;
  if (training) acted_steps_ = steps;

  // The leader: its policy, or in pre-training a random deterministic one
  // per copy and episode.
  leader_in_.assign(static_cast<size_t>(n * leader_states_), 0.0f);
  leader_obs_.resize(n);
  for (int c = 0; c < n; ++c) {
    absl::StatusOr<int64_t> s =
        DiscreteIndex(observation[kLeader][c], leader_states_, "leader");
    if (!s.ok()) return Fail(s.status());
    leader_obs_[c] = *s;
    // The query steps show the queried observations in order.
    if (step[c] < queries_ && *s != step[c]) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "query step ", step[c], " shows the leader observation ", *s,
          ": the contextual oracle needs query_states=[0,1,...,",
          leader_states_ - 1, "] in order")));
    }
    leader_in_[c * leader_states_ + *s] = 1.0f;
  }
  int64_t* leader_out = (*discrete)[kLeader].data();
  if (training && phase_ == Phase::kPretrain) {
    if (static_cast<int>(random_leaders_.size()) != n) {
      random_leaders_.assign(n, MemoryOnePolicy(leader_states_, 0));
    }
    std::uniform_int_distribution<int> action(0, static_cast<int>(n_ - 1));
    for (int c = 0; c < n; ++c) {
      if (step[c] == 0) {
        for (int& a : random_leaders_[c]) a = action(rng_);
      }
      leader_out[c] = random_leaders_[c][leader_obs_[c]];
    }
  } else {
    leader_->Act(leader_in_.data(), n, deterministic, leader_out, nullptr,
                 stream_, first_);
  }

  // The follower: its action does nothing in query steps; frozen (greedy)
  // once the leader trains.
  int64_t* follower_out = (*discrete)[kFollower].data();
  const bool greedy = deterministic || phase_ == Phase::kLeader;
  if (step[0] < queries_) {  // every copy is at the same step
    std::fill(follower_out, follower_out + n, 0);
  } else if (follower_ppo_) {
    follower_ppo_->Act(observation[kFollower], n, greedy, follower_out, nullptr,
                       stream_, first_);
  } else {
    for (int c = 0; c < n; ++c) {
      absl::StatusOr<int64_t> s =
          FollowerRow(observation[kFollower] + c * FollowerWidth());
      if (!s.ok()) return Fail(s.status());
      follower_out[c] =
          greedy ? follower_q_->Greedy(*s) : follower_q_->Sample(*s);
    }
  }
}

void StackelbergLearner::Learn(const TransitionBatch& batch) {
  if (!status_.ok()) return;
  const int n = batch.num_copies;
  if (static_cast<int>(acted_steps_.size()) != n) {
    return Fail(absl::InternalError("Learn without a training Act"));
  }
  // Fixed-length episodes started together keep every copy at one step.
  const int64_t t = acted_steps_[0];
  for (int c = 1; c < n; ++c) {
    if (acted_steps_[c] != t) {
      return Fail(absl::InvalidArgumentError(
          "the Stackelberg agent needs every copy at the same step of its "
          "episode (fixed-length episodes)"));
    }
  }
  const bool query = t < queries_;
  // The episode's length is the game's horizon, not a time limit: its last
  // step ends the returns both players count, so no bootstrap there.
  const bool last = t == episode_steps_ - 1;
  if (static_cast<int>(ended_.size()) != n) ended_.assign(n, 0);
  for (int c = 0; c < n; ++c) ended_[c] = last || batch.terminated[c];
  const bool* ended = reinterpret_cast<const bool*>(ended_.data());
  const int64_t* a0 = batch.discrete_action[kLeader];
  const int64_t* a1 = batch.discrete_action[kFollower];
  if (!query) {
    for (int c = 0; c < n; ++c) {
      absl::StatusOr<int64_t> next = DiscreteIndex(
          batch.next_observation[kLeader][c], leader_states_, "leader");
      if (!next.ok()) return Fail(next.status());
      model_.Record(a0[c], a1[c], batch.reward[kLeader][c],
                    batch.reward[kFollower][c], *next);
    }
  }
  if (phase_ == Phase::kLeader) {
    // Every step is the leader's: answers and play alike.
    leader_in_.assign(static_cast<size_t>(n * leader_states_), 0.0f);
    leader_next_.assign(static_cast<size_t>(n * leader_states_), 0.0f);
    for (int c = 0; c < n; ++c) {
      absl::StatusOr<int64_t> s = DiscreteIndex(batch.observation[kLeader][c],
                                                leader_states_, "leader");
      absl::StatusOr<int64_t> next = DiscreteIndex(
          batch.next_observation[kLeader][c], leader_states_, "leader");
      if (!s.ok()) return Fail(s.status());
      if (!next.ok()) return Fail(next.status());
      leader_in_[c * leader_states_ + *s] = 1.0f;
      leader_next_[c * leader_states_ + *next] = 1.0f;
    }
    if (absl::Status s = leader_->Observe(
            n, leader_in_.data(), a0, nullptr, batch.reward[kLeader],
            leader_next_.data(), ended, batch.truncated);
        !s.ok()) {
      return Fail(s);
    }
  } else if (!query && phase_ == Phase::kPretrain && follower_ppo_) {
    if (absl::Status s = follower_ppo_->Observe(
            n, batch.observation[kFollower], a1, nullptr,
            batch.reward[kFollower], batch.next_observation[kFollower], ended,
            batch.truncated);
        !s.ok()) {
      return Fail(s);
    }
  } else if (!query &&
             (phase_ == Phase::kFollower || phase_ == Phase::kPretrain)) {
    const int64_t width = FollowerWidth();
    for (int c = 0; c < n; ++c) {
      absl::StatusOr<int64_t> s =
          FollowerRow(batch.observation[kFollower] + c * width);
      if (!s.ok()) return Fail(s.status());
      absl::StatusOr<int64_t> next =
          FollowerRow(batch.next_observation[kFollower] + c * width);
      if (!next.ok()) return Fail(next.status());
      follower_q_->Update(*s, a1[c], batch.reward[kFollower][c], *next,
                          ended[c]);
    }
  }
  if (last) EndEpisodes(n);
}

void StackelbergLearner::EndEpisodes(int copies) {
  episodes_ += copies;
  phase_episodes_ += copies;
  switch (phase_) {
    case Phase::kPretrain: {
      const int64_t before = pretrain_episodes_;
      pretrain_episodes_ += copies;
      if (before / options_.check_every !=
          pretrain_episodes_ / options_.check_every) {
        CheckFollower();
      }
      if (best_response_share_ == 1.0 ||
          pretrain_episodes_ >= options_.pretrain_episodes) {
        phase_ = Phase::kLeader;
        phase_episodes_ = 0;
      }
      break;
    }
    case Phase::kFollower:
      if (phase_episodes_ >= options_.follower_episodes) {
        phase_ = Phase::kLeader;
        phase_episodes_ = 0;
      }
      break;
    case Phase::kLeader:
      // inner_outer: one episode per copy against each trained follower.
      if (!contextual_) {
        ++leader_rounds_;
        phase_ = Phase::kFollower;
        phase_episodes_ = 0;
        if (options_.follower_reset) follower_q_ = follower_q_fresh_;
      }
      break;
  }
}

void StackelbergLearner::FollowerObservation(const MemoryOnePolicy& answers,
                                             int64_t state, int64_t step,
                                             float* row) const {
  std::fill(row, row + FollowerWidth(), 0.0f);
  row[state] = 1.0f;
  if (step < clock_steps_) row[follower_states_ + step] = 1.0f;
  const int64_t offset = follower_states_ + clock_steps_;
  for (int64_t q = 0; q < queries_; ++q) row[offset + q * n_ + answers[q]] = 1;
}

absl::StatusOr<int> StackelbergLearner::FollowerGreedy(const float* row) {
  if (follower_ppo_) {
    int64_t action = 0;
    follower_ppo_->Act(row, 1, true, &action, nullptr);
    return static_cast<int>(action);
  }
  absl::StatusOr<int64_t> index = FollowerRow(row);
  if (!index.ok()) return index.status();
  return static_cast<int>(follower_q_->Greedy(*index));
}

std::optional<MemoryOneGame> StackelbergLearner::ExactGame() const {
  if (follower_states_ != leader_states_) return std::nullopt;
  std::optional<MemoryOneGame> game = model_.Game(
      static_cast<int>(episode_steps_ - queries_), options_.follower_gamma);
  if (game) game->follower_clock = clock_steps_ > 0;
  return game;
}

void StackelbergLearner::CheckFollower() {
  std::optional<MemoryOneGame> game = ExactGame();
  const double leaders =
      std::pow(static_cast<double>(n_), static_cast<double>(leader_states_));
  if (!game || !contextual_ || leaders > kMaxCheckedLeaders) {
    return;  // no exact test: pre-training runs its full length
  }
  std::vector<float> row(static_cast<size_t>(FollowerWidth()));
  int64_t best = 0;
  double regret = 0;
  for (int64_t l = 0; l < static_cast<int64_t>(leaders); ++l) {
    const MemoryOnePolicy leader = MemoryOneLeader(*game, l);
    absl::Status failed;
    absl::StatusOr<MemoryOneReturns> played =
        PlayMemoryOne(*game, leader, [&](int t, int64_t s) {
          FollowerObservation(leader, s, t, row.data());
          absl::StatusOr<int> action = FollowerGreedy(row.data());
          if (action.ok()) return *action;
          failed = action.status();
          return 0;
        });
    if (!failed.ok()) return Fail(failed);
    absl::StatusOr<MemoryOneResponse> response =
        RespondToMemoryOneLeader(*game, leader);
    if (!response.ok() || !played.ok()) return;
    best += played->follower >= response->follower_best - 1e-6;
    regret += response->follower_best - played->follower;
  }
  best_response_share_ = best / leaders;
  follower_regret_ = regret / leaders;
}

MemoryOnePolicy StackelbergLearner::GreedyLeader() const {
  std::vector<float> rows(static_cast<size_t>(leader_states_ * leader_states_),
                          0.0f);
  for (int64_t s = 0; s < leader_states_; ++s) {
    rows[s * leader_states_ + s] = 1.0f;
  }
  std::vector<int64_t> actions(leader_states_);
  leader_->Act(rows.data(), leader_states_, true, actions.data(), nullptr);
  return MemoryOnePolicy(actions.begin(), actions.end());
}

std::vector<std::pair<std::string, double>> StackelbergLearner::Metrics(
    int agent) const {
  Values values;
  const PpoLosses losses = agent == kLeader ? leader_->TakeLosses()
                           : follower_ppo_  ? follower_ppo_->TakeLosses()
                                            : PpoLosses();
  if (losses.steps > 0) {
    values.push_back({"loss_policy", losses.policy_loss});
    values.push_back({"loss_value", losses.value_loss});
    values.push_back({"entropy", losses.entropy});
  }
  if (agent != kLeader) return values;
  values.push_back({"stage", static_cast<double>(phase_)});
  values.push_back({"training_episodes", static_cast<double>(episodes_)});
  if (contextual_) {
    values.push_back(
        {"pretrain_episodes", static_cast<double>(pretrain_episodes_)});
    if (best_response_share_ >= 0) {
      values.push_back({"follower_best_response_share", best_response_share_});
      values.push_back({"follower_regret", follower_regret_});
    }
  } else {
    values.push_back({"leader_rounds", static_cast<double>(leader_rounds_)});
  }
  // Exact measures once play has shown the whole stage game.
  std::optional<MemoryOneGame> game = ExactGame();
  if (game) {
    const MemoryOnePolicy leader = GreedyLeader();
    absl::StatusOr<MemoryOneResponse> response =
        RespondToMemoryOneLeader(*game, leader);
    absl::StatusOr<MemoryOneStackelberg> solution =
        SolveMemoryOneStackelberg(*game);
    if (response.ok() && solution.ok()) {
      double index = 0;
      for (int64_t s = leader_states_ - 1; s >= 0; --s) {
        index = index * n_ + leader[s];
      }
      values.push_back({"leader_policy", index});
      values.push_back({"leader_exact_value", response->leader_strong});
      values.push_back({"leader_exact_weak_value", response->leader_weak});
      values.push_back({"stackelberg_value", solution->value});
      values.push_back({"stackelberg_weak_value", solution->weak_value});
    }
  }
  return values;
}

absl::StatusOr<std::string> StackelbergLearner::Save() const {
  absl::StatusOr<std::string> leader = leader_->Save();
  if (!leader.ok()) return leader.status();
  std::string follower;
  if (follower_ppo_) {
    absl::StatusOr<std::string> bytes = follower_ppo_->Save();
    if (!bytes.ok()) return bytes.status();
    follower = *std::move(bytes);
  } else {
    follower = follower_q_->Serialize();
  }
  return LearnerStateWriter("stackelberg", {contextual_ ? 1 : 0, leader_states_,
                                            follower_states_, clock_steps_, n_,
                                            m_, episode_steps_})
      .Bytes("leader", *std::move(leader))
      .Bytes("follower", std::move(follower))
      .Ints("counters", {static_cast<int64_t>(phase_), episodes_,
                         pretrain_episodes_, phase_episodes_, leader_rounds_})
      .Doubles("best_response_share", {best_response_share_, follower_regret_})
      .Doubles("stage_model", model_.Save())
      .Doubles("follower_rows",
               follower_rows_ ? follower_rows_->Rows() : std::vector<double>())
      .Engine("rng", rng_)
      .Finish();
}

absl::Status StackelbergLearner::Load(const std::string& bytes) {
  absl::StatusOr<LearnerStateReader> reader = LearnerStateReader::Open(
      bytes, "stackelberg",
      {contextual_ ? 1 : 0, leader_states_, follower_states_, clock_steps_, n_,
       m_, episode_steps_});
  if (!reader.ok()) {
    return absl::Status(
        reader.status().code(),
        absl::StrCat(
            reader.status().message(),
            " (oracle, observations, clock, actions and episode length)"));
  }
  std::string leader, follower;
  std::vector<int64_t> counters;
  std::vector<double> share, model;
  std::mt19937_64 rng;
  absl::Status s = reader->Bytes("leader", &leader);
  if (s.ok()) s = reader->Bytes("follower", &follower);
  if (s.ok()) s = reader->Ints("counters", 5, &counters);
  if (s.ok()) s = reader->Doubles("best_response_share", 2, &share);
  if (s.ok()) s = reader->Doubles("stage_model", -1, &model);
  std::vector<double> rows;
  if (s.ok()) s = reader->Doubles("follower_rows", -1, &rows);
  if (s.ok()) s = reader->Engine("rng", &rng);
  if (!s.ok()) return s;
  if (counters[0] < 0 || counters[0] > 2 ||
      std::any_of(counters.begin() + 1, counters.end(),
                  [](int64_t v) { return v < 0; })) {
    return absl::DataLossError("stackelberg checkpoint: bad counters");
  }
  StageModel restored(n_, m_);
  if (s = restored.Load(model); !s.ok()) return s;
  std::optional<ObservationTable> follower_rows = follower_rows_;
  if (follower_rows && !(s = follower_rows->Restore(rows)).ok()) return s;
  if (s = leader_->Load(leader); !s.ok()) return s;
  if (follower_ppo_) {
    s = follower_ppo_->Load(follower);
  } else {
    s = follower_q_->Restore(follower);
  }
  if (!s.ok()) return s;
  follower_rows_ = std::move(follower_rows);
  phase_ = static_cast<Phase>(counters[0]);
  episodes_ = counters[1];
  pretrain_episodes_ = counters[2];
  phase_episodes_ = counters[3];
  leader_rounds_ = counters[4];
  best_response_share_ = share[0];
  follower_regret_ = share[1];
  model_ = std::move(restored);
  rng_ = rng;
  return absl::OkStatus();
}

}  // namespace

std::string StackelbergAlgorithmName(const StackelbergOptions& options) {
  return "stackelberg_" + options.oracle;
}

absl::StatusOr<std::unique_ptr<JointLearner>> CreateStackelbergLearner(
    const EnvSpec& spec, const StackelbergOptions& options, uint64_t seed) {
  absl::StatusOr<std::unique_ptr<StackelbergLearner>> learner =
      StackelbergLearner::Create(spec, options, seed);
  if (!learner.ok()) return learner.status();
  return std::unique_ptr<JointLearner>(*std::move(learner));
}

}  // namespace marl
