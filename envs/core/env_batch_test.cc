// Batch semantics with a tiny counting environment registered here: episode
// limit, same-step auto-reset, validation errors, masks, determinism.
#include "envs/core/env_batch.h"

#include <functional>
#include <random>
#include <thread>

#include "envs/core/registry.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

// Two agents. Agent 0 picks 0..2 (action 2 is masked out when the count is
// odd), agent 1 a float in [-1, 1]. Observation: the step count and a random
// draw from the copy's engine. Terminates when agent 0 plays 1.
class CountingEnv : public Env {
 public:
  explicit CountingEnv(int limit) {
    spec_.agent_ids = {"a", "b"};
    spec_.observation_spaces = {Space::Box({2}, {0.0f}, {100.0f}),
                                Space::Box({2}, {0.0f}, {100.0f})};
    spec_.action_spaces = {Space::Discrete(3),
                           Space::Box({1}, {-1.0f}, {1.0f})};
    spec_.has_action_masks = true;
    spec_.has_state = true;
    spec_.state_space = Space::Box({1}, {0.0f}, {100.0f});
    spec_.episode_limit = limit;
    spec_.info_keys = {"sum"};
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override {
    count_ = 0;
    Write(out);
  }
  void Step(const Actions& actions, const Output& out) override {
    ++count_;
    out.set_reward(0, static_cast<float>(actions.discrete(0)));
    out.set_reward(1, actions.continuous(1)[0]);
    out.info()[0] = actions.discrete(0) + actions.continuous(1)[0];
    out.set_terminated(actions.discrete(0) == 1);
    Write(out);
  }

 private:
  void Write(const Output& out) {
    const float draw = std::uniform_int_distribution<int>(0, 99)(rng());
    for (int agent = 0; agent < 2; ++agent) {
      out.observation(agent)[0] = count_;
      out.observation(agent)[1] = draw;
    }
    out.state()[0] = count_;
    out.action_mask(0)[2] = count_ % 2 == 0;
  }
  EnvSpec spec_;
  int count_ = 0;
};

MARL_REGISTER_ENV(
    {"test_counting",
     "counts steps",
     {{"limit", "episode limit", int64_t{3}}},
     [](const Settings& s) -> absl::StatusOr<std::unique_ptr<Env>> {
       return std::make_unique<CountingEnv>(s.GetInt("limit"));
     }});

// Turn-based: agents a and b (Discrete(3), masked) take turns, starting
// with a; agent m has MultiDiscrete([2, 3]) actions (no mask). Action 2 is
// always masked out; action 1 is masked out for the agent not acting.
class TurnsEnv : public Env {
 public:
  TurnsEnv() {
    spec_.agent_ids = {"a", "b", "m"};
    for (int agent = 0; agent < 3; ++agent) {
      spec_.observation_spaces.push_back(Space::Box({1}, {0.0f}, {1.0f}));
    }
    spec_.action_spaces = {Space::Discrete(3), Space::Discrete(3),
                           Space::MultiDiscrete({2, 3})};
    spec_.has_action_masks = true;
    spec_.sequential = true;
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override {
    turn_ = 0;
    Write(out);
  }
  void Step(const Actions& actions, const Output& out) override {
    turn_ = 1 - turn_;
    Write(out);
  }

 private:
  void Write(const Output& out) {
    out.set_current_agent(turn_);
    for (int agent = 0; agent < 2; ++agent) {
      out.action_mask(agent)[2] = false;
      if (agent != turn_) out.action_mask(agent)[1] = false;
    }
  }
  EnvSpec spec_;
  int turn_ = 0;
};

MARL_REGISTER_ENV({"test_turns",
                   "takes turns",
                   {},
                   [](const Settings&) -> absl::StatusOr<std::unique_ptr<Env>> {
                     return std::make_unique<TurnsEnv>();
                   }});

LocalBatch MakeBatch(int copies, uint64_t seed, bool auto_reset = true) {
  auto batch = EnvBatch::Create("test_counting", {}, copies, seed, auto_reset);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return LocalBatch(*std::move(batch));
}

TEST(EnvBatchTest, UnknownEnvironmentAndSettingAreErrors) {
  EXPECT_EQ(EnvBatch::Create("nope", {}, 1, 0, true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      EnvBatch::Create("test_counting", {{"limitt", int64_t{2}}}, 1, 0, true)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvBatch::Create("test_counting", {{"limit", 2.5}}, 1, 0, true)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvBatch::Create("test_counting", {}, 0, 0, true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EnvBatchTest, StepBeforeResetIsFailedPrecondition) {
  LocalBatch batch = MakeBatch(2, 1);
  EXPECT_EQ(batch.StepAll({{0, 0}, {}}, {{}, {0.f, 0.f}}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(EnvBatchTest, TruncatesAtLimitAndAutoResetsInTheSameStep) {
  LocalBatch batch = MakeBatch(2, 1);
  ASSERT_TRUE(batch.ResetAll().ok());
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE(batch.StepAll({{0, 0}, {}}, {{}, {0.5f, -0.5f}}).ok());
    EXPECT_FALSE(batch.terminated(0));
    EXPECT_EQ(batch.truncated(1), step == 3);
    EXPECT_FLOAT_EQ(batch.reward(1)[0], 0.5f);
    EXPECT_FLOAT_EQ(batch.reward(1)[1], -0.5f);
    EXPECT_FLOAT_EQ(batch.info()[1], -0.5f);
  }
  // The step that truncated: rows 0 and 1 ended; their final observation
  // shows count 3 while the live observation is the new episode's 0.
  ASSERT_EQ(batch.final_rows(), (std::vector<int32_t>{0, 1}));
  EXPECT_FLOAT_EQ(batch.final_observation(0)[0], 3.0f);
  EXPECT_FLOAT_EQ(batch.final_observation(1)[2], 3.0f);
  EXPECT_FLOAT_EQ(batch.observation(0)[0], 0.0f);
  EXPECT_EQ(batch.episode_step(0), 3);
  EXPECT_FLOAT_EQ(batch.state()[0], 0.0f);
}

TEST(EnvBatchTest, TerminationIsNotTruncation) {
  LocalBatch batch = MakeBatch(2, 1);
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{1, 0}, {}}, {{}, {0.f, 0.f}}).ok());
  EXPECT_TRUE(batch.terminated(0));
  EXPECT_FALSE(batch.truncated(0));
  EXPECT_FALSE(batch.terminated(1));
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0}));
  EXPECT_FLOAT_EQ(batch.final_observation(0)[0], 1.0f);
  EXPECT_FLOAT_EQ(batch.reward(0)[0], 1.0f);  // the ended episode's reward
}

// Rows that end among rows that do not: their final observations are
// compacted in row order, their rewards and infos stay the ended
// episode's, and the new episode's masks and observations are live.
TEST(EnvBatchTest, FinalObservationsOfSomeRowsAreCompactedInRowOrder) {
  LocalBatch batch = MakeBatch(4, 1);
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{0, 0, 0, 0}, {}}, {{}, {0, 0, 0, 0}}).ok());
  // Count 1 everywhere; rows 1 and 3 end now (agent 0 plays 1).
  ASSERT_TRUE(
      batch.StepAll({{0, 1, 0, 1}, {}}, {{}, {0.25f, 0.5f, 0.f, -0.5f}}).ok());
  ASSERT_EQ(batch.final_rows(), (std::vector<int32_t>{1, 3}));
  for (int agent = 0; agent < 2; ++agent) {
    // Two values per row: the count, then a draw.
    EXPECT_FLOAT_EQ(batch.final_observation(agent)[0], 2.0f);
    EXPECT_FLOAT_EQ(batch.final_observation(agent)[2], 2.0f);
    EXPECT_FLOAT_EQ(batch.observation(agent)[0], 2.0f);
    EXPECT_FLOAT_EQ(batch.observation(agent)[2], 0.0f);
    EXPECT_FLOAT_EQ(batch.observation(agent)[4], 2.0f);
    EXPECT_FLOAT_EQ(batch.observation(agent)[6], 0.0f);
  }
  EXPECT_EQ(batch.episode_step(1), 2);
  EXPECT_EQ(batch.episode_step(2), 2);
  EXPECT_FLOAT_EQ(batch.reward(0)[1], 1.0f);
  EXPECT_FLOAT_EQ(batch.reward(1)[3], -0.5f);
  EXPECT_FLOAT_EQ(batch.info()[1], 1.5f);
  EXPECT_FLOAT_EQ(batch.info()[3], 0.5f);
  EXPECT_TRUE(batch.terminated(1) && batch.terminated(3));
  EXPECT_FALSE(batch.terminated(0) || batch.terminated(2));
  // Count 2 (rows 0, 2) allows action 2; the reset rows are at count 0,
  // which allows it too; count 1 would not.
  EXPECT_TRUE(batch.action_mask(0)[0 * 3 + 2]);
  EXPECT_TRUE(batch.action_mask(0)[1 * 3 + 2]);
  EXPECT_FLOAT_EQ(batch.state()[1], 0.0f);
  EXPECT_FLOAT_EQ(batch.state()[2], 2.0f);
  // Next, rows 0 and 2 reach the limit (3) while the reset rows go on at
  // count 1 (action 2 masked).
  ASSERT_TRUE(batch.StepAll({{0, 0, 0, 0}, {}}, {{}, {0, 0, 0, 0}}).ok());
  EXPECT_EQ(batch.final_rows(), (std::vector<int32_t>{0, 2}));
  EXPECT_TRUE(batch.truncated(0) && batch.truncated(2));
  EXPECT_FLOAT_EQ(batch.observation(0)[2], 1.0f);
  EXPECT_FALSE(batch.action_mask(0)[1 * 3 + 2]);
  EXPECT_EQ(batch.StepAll({{0, 2, 0, 0}, {}}, {{}, {0, 0, 0, 0}}).code(),
            absl::StatusCode::kInvalidArgument);
}

// Runs body over [0, n) on two threads, the rows interleaved, as the
// server's worker pool may.
void TwoThreads(int64_t n, const std::function<void(int64_t)>& body) {
  std::thread other([&] {
    for (int64_t i = 1; i < n; i += 2) body(i);
  });
  for (int64_t i = 0; i < n; i += 2) body(i);
  other.join();
}

// Everything a step returns, for comparing runs.
struct StepResult {
  std::vector<float> observations, rewards, finals, state, info;
  std::vector<int32_t> final_rows, steps;
  std::vector<char> flags;
  bool operator==(const StepResult& o) const {
    return observations == o.observations && rewards == o.rewards &&
           finals == o.finals && state == o.state && info == o.info &&
           final_rows == o.final_rows && steps == o.steps && flags == o.flags;
  }
};

// Steps 64 copies 30 times with random actions, on one thread or two.
std::vector<StepResult> RandomRun(const ParallelFor& parallel) {
  constexpr int kCopies = 64;
  auto made = EnvBatch::Create("test_counting", {{"limit", int64_t{4}}},
                               kCopies, 3, true);
  EXPECT_TRUE(made.ok()) << made.status();
  EnvBatch& batch = **made;
  const BatchLayout& layout = batch.layout();
  std::vector<std::vector<float>> obs(2), finals(2), rewards(2);
  std::vector<float> state(kCopies), final_state(kCopies), info(kCopies);
  std::unique_ptr<bool[]> mask(new bool[kCopies * 3]);
  std::unique_ptr<bool[]> terminated(new bool[kCopies]),
      truncated(new bool[kCopies]);
  std::vector<int32_t> steps(kCopies), final_rows;
  BatchBuffers out;
  FinalBuffers final_out;
  for (int agent = 0; agent < 2; ++agent) {
    obs[agent].resize(kCopies * layout.observation_size[agent]);
    finals[agent].resize(kCopies * layout.observation_size[agent]);
    rewards[agent].resize(kCopies);
    out.observation.push_back(obs[agent].data());
    out.reward.push_back(rewards[agent].data());
    final_out.observation.push_back(finals[agent].data());
  }
  out.action_mask = {mask.get(), nullptr};
  out.terminated = terminated.get();
  out.truncated = truncated.get();
  out.episode_step = steps.data();
  out.state = state.data();
  out.info = info.data();
  final_out.state = final_state.data();
  final_out.rows = &final_rows;
  std::vector<int32_t> all(kCopies);
  for (int c = 0; c < kCopies; ++c) all[c] = c;
  EXPECT_TRUE(batch.Reset(all, {}, out, parallel).ok());
  std::mt19937 rng(5);
  std::vector<StepResult> results;
  for (int t = 0; t < 30; ++t) {
    std::vector<int64_t> discrete(kCopies);
    std::vector<float> continuous(kCopies);
    for (int c = 0; c < kCopies; ++c) {
      // A legal action: 2 only where the mask allows it.
      discrete[c] = std::uniform_int_distribution<int>(0, 6)(rng) % 3;
      if (!mask[c * 3 + discrete[c]]) discrete[c] = 0;
      continuous[c] = std::uniform_real_distribution<float>(-1, 1)(rng);
    }
    PackedActions actions;
    actions.discrete = {discrete, {}};
    actions.continuous = {{}, continuous};
    EXPECT_TRUE(batch.CheckStep(all, actions).ok());
    absl::StatusOr<int> ended =
        batch.Step(all, actions, out, final_out, parallel);
    EXPECT_TRUE(ended.ok()) << ended.status();
    StepResult result;
    for (int agent = 0; agent < 2; ++agent) {
      result.observations.insert(result.observations.end(), obs[agent].begin(),
                                 obs[agent].end());
      result.rewards.insert(result.rewards.end(), rewards[agent].begin(),
                            rewards[agent].end());
      result.finals.insert(
          result.finals.end(), finals[agent].begin(),
          finals[agent].begin() + *ended * layout.observation_size[agent]);
    }
    result.state = state;
    result.finals.insert(result.finals.end(), final_state.begin(),
                         final_state.begin() + *ended);
    result.info = info;
    result.final_rows = final_rows;
    result.steps = steps;
    for (int c = 0; c < kCopies; ++c) {
      result.flags.push_back(terminated[c] + 2 * truncated[c]);
      for (int a = 0; a < 3; ++a) result.flags.push_back(mask[c * 3 + a]);
    }
    results.push_back(result);
  }
  return results;
}

TEST(EnvBatchTest, ParallelRowsGiveTheSameResultsAsOneThread) {
  const std::vector<StepResult> serial = RandomRun(nullptr);
  const std::vector<StepResult> parallel = RandomRun(TwoThreads);
  ASSERT_EQ(serial.size(), parallel.size());
  int ended = 0;
  for (size_t t = 0; t < serial.size(); ++t) {
    EXPECT_TRUE(serial[t] == parallel[t]) << "step " << t;
    ended += serial[t].final_rows.size();
  }
  // The run covers termination, truncation and rows that go on.
  EXPECT_GT(ended, 64);
  EXPECT_LT(ended, 30 * 64);
}

TEST(EnvBatchTest, WithoutAutoResetAFinishedCopyMustBeReset) {
  LocalBatch batch = MakeBatch(1, 1, /*auto_reset=*/false);
  ASSERT_TRUE(batch.ResetAll().ok());
  ASSERT_TRUE(batch.StepAll({{1}, {}}, {{}, {0.f}}).ok());
  EXPECT_TRUE(batch.terminated(0));
  EXPECT_TRUE(batch.final_rows().empty());
  EXPECT_EQ(batch.StepAll({{0}, {}}, {{}, {0.f}}).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(batch.ResetAll().ok());
  EXPECT_TRUE(batch.StepAll({{0}, {}}, {{}, {0.f}}).ok());
}

TEST(EnvBatchTest, BadActionsAreRejectedAndNothingIsStepped) {
  LocalBatch batch = MakeBatch(2, 1);
  ASSERT_TRUE(batch.ResetAll().ok());
  // Wrong count, out of range, NaN, wrong kind.
  EXPECT_EQ(batch.StepAll({{0}, {}}, {{}, {0.f, 0.f}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.StepAll({{0, 3}, {}}, {{}, {0.f, 0.f}}).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(batch.StepAll({{0, 0}, {}}, {{}, {0.f, NAN}}).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(batch.StepAll({{0, 0}, {}}, {{}, {0.f, 1.5f}}).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(batch.episode_step(0), 0);
  // Action 2 is legal at count 0, masked at count 1.
  ASSERT_TRUE(batch.StepAll({{2, 0}, {}}, {{}, {0.f, 0.f}}).ok());
  EXPECT_FALSE(batch.action_mask(0)[2]);
  EXPECT_TRUE(batch.action_mask(0)[1]);
  EXPECT_EQ(batch.StepAll({{2, 0}, {}}, {{}, {0.f, 0.f}}).code(),
            absl::StatusCode::kInvalidArgument);
}

// Masks bind only the acting agent; ranges bind every agent; errors name
// the agent, the copy and the problem.
TEST(EnvBatchTest, TurnsMasksAndMultiDiscreteActionsAreChecked) {
  auto made = EnvBatch::Create("test_turns", {}, 2, 0, true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  ASSERT_TRUE(batch.ResetAll().ok());
  const std::vector<int64_t> m = {1, 2, 0, 0};
  // a acts: b's masked-out actions do not count.
  ASSERT_TRUE(batch.StepAll({{1, 0}, {2, 1}, m}, {}).ok());
  EXPECT_EQ(batch.current_agent(), (std::vector<int32_t>{1, 1}));
  // b acts: a's action 2 does not count, b's does.
  absl::Status masked = batch.StepAll({{2, 2}, {0, 2}, m}, {});
  EXPECT_EQ(masked.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(masked.message().find("agent 'b', copy 1: action 2 is masked out"),
            std::string::npos)
      << masked;
  // Out of range is refused for an agent not acting too.
  EXPECT_EQ(batch.StepAll({{3, 0}, {0, 0}, m}, {}).code(),
            absl::StatusCode::kOutOfRange);
  absl::Status multi = batch.StepAll({{0, 0}, {0, 0}, {1, 2, 0, 3}}, {});
  EXPECT_EQ(multi.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(multi.message().find("agent 'm', copy 1: multi-discrete element "
                                 "1 = 3 outside [0, 3)"),
            std::string::npos)
      << multi;
  EXPECT_EQ(batch.StepAll({{0, 0}, {0, 0}, {2, 0, 0, 0}}, {}).code(),
            absl::StatusCode::kOutOfRange);
  // Nothing stepped meanwhile: still b's turn.
  ASSERT_TRUE(batch.StepAll({{2, 2}, {1, 0}, m}, {}).ok());
  EXPECT_EQ(batch.current_agent(), (std::vector<int32_t>{0, 0}));
}

TEST(EnvBatchTest, ResolveCopiesRejectsRepeatsAndOutOfRange) {
  auto batch = EnvBatch::Create("test_counting", {}, 3, 0, true);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ((*batch)->ResolveCopies({}).value().size(), 3u);
  EXPECT_EQ((*batch)->ResolveCopies({2, 0}).value(),
            (std::vector<int32_t>{2, 0}));
  EXPECT_FALSE((*batch)->ResolveCopies({1, 1}).ok());
  EXPECT_FALSE((*batch)->ResolveCopies({3}).ok());
  EXPECT_FALSE((*batch)->ResolveCopies({-1}).ok());
}

std::vector<float> Trajectory(uint64_t seed) {
  LocalBatch batch = MakeBatch(4, seed);
  std::vector<float> seen;
  EXPECT_TRUE(batch.ResetAll().ok());
  for (int step = 0; step < 10; ++step) {
    EXPECT_TRUE(batch.StepAll({{0, 0, 0, 0}, {}}, {{}, {0, 0, 0, 0}}).ok());
    seen.insert(seen.end(), batch.observation(0).begin(),
                batch.observation(0).end());
  }
  return seen;
}

TEST(EnvBatchTest, SameSeedSameTrajectoryOtherSeedDiffers) {
  EXPECT_EQ(Trajectory(7), Trajectory(7));
  EXPECT_NE(Trajectory(7), Trajectory(8));
  // Copies of one batch get different streams.
  LocalBatch batch = MakeBatch(2, 7);
  ASSERT_TRUE(batch.ResetAll().ok());
  std::vector<float> a, b;
  for (int step = 0; step < 5; ++step) {
    ASSERT_TRUE(batch.StepAll({{0, 0}, {}}, {{}, {0, 0}}).ok());
    a.push_back(batch.observation(0)[1]);
    b.push_back(batch.observation(0)[3]);
  }
  EXPECT_NE(a, b);
}

TEST(EnvBatchTest, ResetSeedsRestartStreams) {
  LocalBatch batch = MakeBatch(1, 7);
  ASSERT_TRUE(batch.ResetAll(std::vector<uint64_t>{42}).ok());
  const float first = batch.observation(0)[1];
  ASSERT_TRUE(batch.StepAll({{0}, {}}, {{}, {0}}).ok());
  ASSERT_TRUE(batch.ResetAll(std::vector<uint64_t>{42}).ok());
  EXPECT_FLOAT_EQ(batch.observation(0)[1], first);
  EXPECT_FALSE(batch.ResetAll(std::vector<uint64_t>{1, 2}).ok());
}

}  // namespace
}  // namespace marl
