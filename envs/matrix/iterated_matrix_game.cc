#include "envs/matrix/iterated_matrix_game.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "envs/core/checked_size.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {

std::vector<SettingDecl> IteratedMatrixGameEnv::SettingDecls() {
  std::vector<SettingDecl> decls =
      PayoffSettingDecls(std::string("stackelberg_pd"));
  decls.push_back({"episode_length", "steps per episode (ended by truncation)",
                   int64_t{10}});
  decls.push_back({"memory",
                   "\"full\": 1 + a0 + n*a1 of the last step; \"small\": 1 + "
                   "the other agent's last action (0 on the first step)",
                   std::string("full")});
  decls.push_back({"reward_offset",
                   "added to every reward (the Stackelberg code used -2.5)",
                   double{0.0}});
  decls.push_back({"reward_scale", "multiplies every payoff", double{1.0}});
  decls.push_back({"roles",
                   "\"players\": agents player_0 and player_1; "
                   "\"stackelberg\": the same agents named leader and "
                   "follower",
                   std::string("players")});
  decls.push_back({"query_states",
                   "leader observations queried at every episode's start, "
                   "one query step each, the answers shown to the follower "
                   "(e.g. [0,1,2,3,4]: every memory state of a 2x2 game); "
                   "empty: no queries",
                   DoubleArray{}});
  decls.push_back({"follower_clock",
                   "the follower also observes the play step (a one-hot of "
                   "episode_length after its memory observation; its "
                   "observation is then a Box)",
                   false});
  return decls;
}

namespace {

// The leader's and the follower's observation counts.
int64_t LeaderStates(const IteratedMatrixGameEnv::Config& c) {
  return c.memory == IteratedMatrixGameEnv::Memory::kFull
             ? 1 + c.payoffs.rows * c.payoffs.cols
             : 1 + c.payoffs.cols;
}
int64_t FollowerStates(const IteratedMatrixGameEnv::Config& c) {
  return c.memory == IteratedMatrixGameEnv::Memory::kFull
             ? 1 + c.payoffs.rows * c.payoffs.cols
             : 1 + c.payoffs.rows;
}

// The query states of a setting: a 1-D array of distinct integers, each a
// leader observation (0 .. leader_states - 1).
absl::StatusOr<std::vector<int64_t>> ReadQueryStates(const DoubleArray& array,
                                                     int64_t leader_states) {
  if (array.values.empty()) return std::vector<int64_t>();
  if (array.shape.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("query_states must be a list of leader observations "
                     "(e.g. [0,1,2,3,4]), got an array of ",
                     array.shape.size(), " dimensions"));
  }
  std::vector<int64_t> states;
  states.reserve(array.values.size());  // the copy keeps this buffer
  std::vector<bool> seen(
      static_cast<size_t>(std::min<int64_t>(leader_states, int64_t{1} << 24)));
  for (double v : array.values) {
    if (!(v >= 0 && v < static_cast<double>(leader_states)) ||
        v != std::floor(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("query_states: ", v,
                       " is not a leader observation (the leader "
                       "observes 0 .. ",
                       leader_states - 1, ")"));
    }
    const int64_t state = static_cast<int64_t>(v);
    if (seen[state]) {
      return absl::InvalidArgumentError(
          absl::StrCat("query_states: ", state, " is queried twice"));
    }
    seen[state] = true;
    states.push_back(state);
  }
  return states;
}

// The follower's observation floats when it is a Box: its own one-hot,
// the play step's one-hot with a clock, then one one-hot of the leader's n
// actions per query.
absl::StatusOr<int64_t> FollowerBoxSize(
    const IteratedMatrixGameEnv::Config& c) {
  int64_t answers, size;
  const int64_t clock = c.follower_clock ? c.episode_length : 0;
  if (!CheckedMul(static_cast<int64_t>(c.query_states.size()), c.payoffs.rows,
                  &answers) ||
      !CheckedAdd(FollowerStates(c), answers, &size) ||
      !CheckedAdd(size, clock, &size) || size > (int64_t{1} << 24)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the follower would observe ", FollowerStates(c), " + ", clock, " + ",
        c.query_states.size(), " x ", c.payoffs.rows,
        " floats (memory, clock, query_states x actions); at most 2^24"));
  }
  return size;
}

// Every setting checked, into a Config whose payoffs are left empty
// (`summary` has their sizes): shared by Create and the estimate.
absl::StatusOr<IteratedMatrixGameEnv::Config> CheckedConfig(
    const Settings& settings, PayoffSummary* summary) {
  absl::StatusOr<PayoffSummary> payoffs = SummarizePayoffSettings(settings);
  if (!payoffs.ok()) return payoffs.status();
  *summary = *payoffs;
  IteratedMatrixGameEnv::Config c;
  c.payoffs.rows = payoffs->rows;
  c.payoffs.cols = payoffs->cols;
  if (absl::Status s =
          CheckIntInRange("episode_length", settings.GetInt("episode_length"),
                          1, std::numeric_limits<int32_t>::max() / 2);
      !s.ok()) {
    return s;
  }
  c.episode_length = static_cast<int>(settings.GetInt("episode_length"));
  const std::string& memory_name = settings.GetString("memory");
  if (memory_name == "full") {
    c.memory = IteratedMatrixGameEnv::Memory::kFull;
    // Observations travel as floats, exact only up to 2^24.
    int64_t joint;
    if (!CheckedMul(payoffs->rows, payoffs->cols, &joint) ||
        joint >= (int64_t{1} << 24)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "full memory needs 1 + n*m <= 2^24 observation states, got ",
          payoffs->rows, " x ", payoffs->cols, " actions"));
    }
  } else if (memory_name == "small") {
    c.memory = IteratedMatrixGameEnv::Memory::kSmall;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory must be \"full\" or \"small\", got \"", memory_name, "\""));
  }
  c.reward_scale = settings.GetDouble("reward_scale");
  c.reward_offset = settings.GetDouble("reward_offset");
  if (absl::Status s =
          CheckRewardSettings(*payoffs, c.reward_scale, c.reward_offset);
      !s.ok()) {
    return s;
  }
  const std::string& roles = settings.GetString("roles");
  if (roles != "players" && roles != "stackelberg") {
    return absl::InvalidArgumentError(absl::StrCat(
        "roles must be \"players\" or \"stackelberg\", got \"", roles, "\""));
  }
  c.stackelberg_roles = roles == "stackelberg";
  absl::StatusOr<std::vector<int64_t>> queries =
      ReadQueryStates(settings.GetArray("query_states"), LeaderStates(c));
  if (!queries.ok()) return queries.status();
  c.query_states = *std::move(queries);
  c.follower_clock = settings.GetBool("follower_clock");
  if (absl::StatusOr<int64_t> size = FollowerBoxSize(c); !size.ok()) {
    return size.status();
  }
  return c;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Env>> IteratedMatrixGameEnv::Create(
    const Settings& settings) {
  PayoffSummary summary;
  absl::StatusOr<Config> config = CheckedConfig(settings, &summary);
  if (!config.ok()) return config.status();
  absl::StatusOr<PayoffMatrices> payoffs = PayoffsFromSettings(settings);
  if (!payoffs.ok()) return payoffs.status();
  config->payoffs = *std::move(payoffs);
  return std::make_unique<IteratedMatrixGameEnv>(*std::move(config));
}

absl::StatusOr<int64_t> IteratedMatrixGameEnv::EstimateCopyBytes(
    const Settings& settings) {
  PayoffSummary summary;
  absl::StatusOr<Config> config = CheckedConfig(settings, &summary);
  if (!config.ok()) return config.status();
  absl::StatusOr<int64_t> payoff_bytes = PayoffCopyBytes(summary);
  if (!payoff_bytes.ok()) return payoff_bytes.status();
  const int64_t queries = static_cast<int64_t>(config->query_states.size());
  // Mirrors the constructor: the payoffs, the query states and answers,
  // and with queries the follower's Box (shape and bounds) and one info
  // key.
  ByteEstimate estimate;
  estimate.AddObject(sizeof(IteratedMatrixGameEnv))
      .AddBytes(1, *payoff_bytes)
      .AddArray(queries, sizeof(int64_t))
      .AddArray(queries, sizeof(int64_t));
  if (queries > 0 || config->follower_clock) {
    absl::StatusOr<int64_t> box = FollowerBoxSize(*config);
    if (!box.ok()) return box.status();
    estimate.AddArray(1, sizeof(int64_t))
        .AddArray(*box, sizeof(float))
        .AddArray(*box, sizeof(float));
  }
  if (queries > 0) estimate.AddArray(1, sizeof(std::string));
  return estimate.Total();
}

IteratedMatrixGameEnv::IteratedMatrixGameEnv(Config config)
    : config_(std::move(config)),
      num_queries_(static_cast<int64_t>(config_.query_states.size())),
      follower_states_(FollowerStates(config_)),
      clock_steps_(config_.follower_clock ? config_.episode_length : 0),
      follower_box_(num_queries_ > 0 || config_.follower_clock),
      answers_(config_.query_states.size(), -1) {
  const int64_t n = config_.payoffs.rows;
  const int64_t m = config_.payoffs.cols;
  if (config_.stackelberg_roles) {
    spec_.agent_ids = {"leader", "follower"};
  } else {
    spec_.agent_ids = {"player_0", "player_1"};
  }
  const Space leader = Space::Discrete(LeaderStates(config_));
  Space follower = Space::Discrete(follower_states_);
  if (follower_box_) {
    follower = Space::Box({follower_states_ + clock_steps_ + num_queries_ * n},
                          {0.0f}, {1.0f});
  }
  if (num_queries_ > 0) spec_.info_keys = {"query"};
  spec_.observation_spaces = {leader, follower};
  spec_.action_spaces = {Space::Discrete(n), Space::Discrete(m)};
  spec_.episode_limit = num_queries_ + config_.episode_length;
}

void IteratedMatrixGameEnv::Observe(int64_t leader_obs, int64_t follower_obs,
                                    const Output& out) const {
  out.observation(0)[0] = static_cast<float>(leader_obs);
  if (!follower_box_) {
    out.observation(1)[0] = static_cast<float>(follower_obs);
    return;
  }
  // The runner clears the row before every call: only the ones are set.
  float* obs = out.observation(1);
  if (follower_obs >= 0) {
    obs[follower_obs] = 1.0f;
    // The runner ends the episode after episode_length play steps.
    if (play_steps_ < clock_steps_) obs[follower_states_ + play_steps_] = 1.0f;
  }
  const int64_t n = config_.payoffs.rows;
  const int64_t answers = follower_states_ + clock_steps_;
  for (int64_t q = 0; q < num_queries_; ++q) {
    if (answers_[q] >= 0) obs[answers + q * n + answers_[q]] = 1.0f;
  }
}

void IteratedMatrixGameEnv::Reset(const Output& out) {
  // Play's state is only the last joint action, which the observation
  // carries; the query steps' progress and answers are this copy's.
  queries_done_ = 0;
  play_steps_ = 0;
  std::fill(answers_.begin(), answers_.end(), -1);
  if (num_queries_ > 0) {
    Observe(config_.query_states[0], -1, out);
  } else {
    Observe(0, 0, out);
  }
}

void IteratedMatrixGameEnv::Step(const Actions& actions, const Output& out) {
  const int64_t a0 = actions.discrete(0);
  const int64_t a1 = actions.discrete(1);
  if (queries_done_ < num_queries_) {
    // A query step: the leader's action answers; no play, no reward.
    answers_[queries_done_++] = a0;
    out.info()[0] = 1.0f;
    if (queries_done_ < num_queries_) {
      Observe(config_.query_states[queries_done_], -1, out);
    } else {
      Observe(0, 0, out);  // play starts
    }
    return;
  }
  const PayoffMatrices& p = config_.payoffs;
  ++play_steps_;
  out.set_reward(0,
                 static_cast<float>(config_.reward_scale * p.RowPayoff(a0, a1) +
                                    config_.reward_offset));
  out.set_reward(
      1, static_cast<float>(config_.reward_scale * p.ColumnPayoff(a0, a1) +
                            config_.reward_offset));
  if (config_.memory == Memory::kFull) {
    const int64_t joint = 1 + a0 + p.rows * a1;
    Observe(joint, joint, out);
  } else {
    Observe(1 + a1, 1 + a0, out);
  }
}

MARL_REGISTER_ENV({IteratedMatrixGameEnv::kName,
                   "two-player matrix game repeated for episode_length steps "
                   "with memory of the last joint action",
                   IteratedMatrixGameEnv::SettingDecls(),
                   IteratedMatrixGameEnv::Create,
                   IteratedMatrixGameEnv::EstimateCopyBytes});

}  // namespace marl
