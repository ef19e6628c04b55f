#include "agents/stackelberg/stackelberg_learner.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

// The spec of iterated_matrix_game with roles=stackelberg (2x2, full
// memory, 10 steps), with or without queries of every memory state and
// the follower's clock.
EnvSpec GameSpec(bool queries, bool clock = false) {
  EnvSpec spec;
  spec.agent_ids = {"leader", "follower"};
  spec.observation_spaces = {Space::Discrete(5), Space::Discrete(5)};
  spec.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
  spec.episode_limit = 10;
  if (queries || clock) {
    spec.observation_spaces[1] = Space::Box(
        {5 + (clock ? 10 : 0) + (queries ? 5 * 2 : 0)}, {0.0f}, {1.0f});
  }
  if (queries) {
    spec.info_keys = {"query"};
    spec.episode_limit = 15;
  }
  return spec;
}

StackelbergOptions Oracle(const std::string& oracle) {
  StackelbergOptions o;
  o.oracle = oracle;
  return o;
}

void ExpectRefused(const EnvSpec& spec, const StackelbergOptions& o,
                   const std::string& fragment) {
  absl::StatusOr<std::unique_ptr<JointLearner>> l =
      CreateStackelbergLearner(spec, o, 1);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(l.status().message().find(fragment), std::string::npos)
      << l.status();
}

TEST(StackelbergLearnerTest, RefusesWhatItCannotLearn) {
  EXPECT_TRUE(
      CreateStackelbergLearner(GameSpec(true), Oracle("contextual"), 1).ok());
  EXPECT_TRUE(
      CreateStackelbergLearner(GameSpec(false), Oracle("inner_outer"), 1).ok());
  EXPECT_TRUE(
      CreateStackelbergLearner(GameSpec(true, true), Oracle("contextual"), 1)
          .ok());
  EXPECT_TRUE(
      CreateStackelbergLearner(GameSpec(false, true), Oracle("inner_outer"), 1)
          .ok());
  // One leader and one follower, by name: an unknown follower is refused.
  EnvSpec three = GameSpec(false);
  three.agent_ids.push_back("follower_2");
  three.observation_spaces.push_back(Space::Discrete(5));
  three.action_spaces.push_back(Space::Discrete(2));
  ExpectRefused(three, Oracle("inner_outer"),
                "agents named leader and follower");
  EnvSpec players = GameSpec(true);
  players.agent_ids = {"player_0", "player_1"};
  ExpectRefused(players, Oracle("contextual"), "roles=stackelberg");
  ExpectRefused(GameSpec(false), Oracle("contextual"),
                "query_states=[0,1,...,4]");
  ExpectRefused(GameSpec(true), Oracle("inner_outer"), "without query_states");
  ExpectRefused(GameSpec(true), Oracle("oracular"), "--oracle must be");
  StackelbergOptions bad_follower = Oracle("contextual");
  bad_follower.follower = "oracle";
  ExpectRefused(GameSpec(true), bad_follower, "--follower must be");
  EnvSpec box_actions = GameSpec(false);
  box_actions.action_spaces[0] = Space::Box({1}, {-1.0f}, {1.0f});
  ExpectRefused(box_actions, Oracle("inner_outer"), "Discrete actions");
}

TrainingOptions StackelbergRun(bool queries, uint64_t seed, int64_t steps,
                               const std::string& name, bool clock = true) {
  TrainingOptions t =
      ShortTrainingRun("iterated_matrix_game", seed, steps, name);
  t.env_settings = {{"roles", "stackelberg"}, {"reward_offset", "-2.5"}};
  if (queries) t.env_settings["query_states"] = "[0,1,2,3,4]";
  if (clock) t.env_settings["follower_clock"] = "true";
  return t;
}

// Queries of other states, or in another order, than the contextual
// oracle asks for end the run with an error that says what to set.
TEST(StackelbergLearnerTest, WrongQueriesEndTheRunWithAClearError) {
  const StackelbergOptions o = Oracle("contextual");
  for (const std::string states : {"[4,3,2,1,0]", "[0,1,2]"}) {
    TrainingOptions t = StackelbergRun(
        true, 1, 400, absl::StrCat("stk_wrong_queries", states.size()));
    t.env_settings["query_states"] = states;
    absl::StatusOr<TrainingResult> r = RunTraining(
        t, StackelbergAlgorithmName(o), FactoryOf(CreateStackelbergLearner, o));
    ASSERT_FALSE(r.ok()) << states;
    EXPECT_NE(r.status().message().find("query_states=[0,1,...,4]"),
              std::string::npos)
        << r.status();
  }
}

// Through the loop, both oracles train past their follower phases and a
// checkpoint restores them.
TEST(StackelbergLearnerTest, ContextualPpoFollowerTrainsAndRoundTrips) {
  StackelbergOptions o = Oracle("contextual");
  o.follower = "ppo";
  o.pretrain_episodes = 160;
  o.check_every = 80;
  for (bool clock : {false, true}) {
    TrainingOptions t = StackelbergRun(
        true, 3, 4800, absl::StrCat("stk_contextual_ppo", clock), clock);
    ExpectCheckpointRoundTrip(t, StackelbergAlgorithmName(o),
                              FactoryOf(CreateStackelbergLearner, o));
  }
}

TEST(StackelbergLearnerTest, ContextualTableFollowerTrainsAndRoundTrips) {
  StackelbergOptions o = Oracle("contextual");
  o.pretrain_episodes = 160;
  o.check_every = 80;
  for (bool clock : {false, true}) {
    TrainingOptions t = StackelbergRun(
        true, 3, 4800, absl::StrCat("stk_contextual_table", clock), clock);
    ExpectCheckpointRoundTrip(t, StackelbergAlgorithmName(o),
                              FactoryOf(CreateStackelbergLearner, o));
  }
}

TEST(StackelbergLearnerTest, InnerOuterTrainsAndRoundTrips) {
  StackelbergOptions o = Oracle("inner_outer");
  o.follower_episodes = 16;
  o.leader_rollout_episodes = 2;
  for (bool clock : {false, true}) {
    TrainingOptions t = StackelbergRun(
        false, 3, 4800, absl::StrCat("stk_inner_outer", clock), clock);
    ExpectCheckpointRoundTrip(t, StackelbergAlgorithmName(o),
                              FactoryOf(CreateStackelbergLearner, o));
  }
}

// Trains a contextual learner on the 10-step prisoner's dilemma with the
// follower's clock and keeps it.
std::shared_ptr<JointLearner> TrainedContextual(const StackelbergOptions& o,
                                                int64_t steps,
                                                const std::string& name) {
  std::shared_ptr<JointLearner> kept;
  const LearnerFactory factory =
      [&](const EnvSpec& spec,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<JointLearner>> l =
        CreateStackelbergLearner(spec, o, seed);
    if (!l.ok()) return l.status();
    kept = std::shared_ptr<JointLearner>(*std::move(l));
    return std::unique_ptr<JointLearner>(new SharedLearner(kept));
  };
  absl::StatusOr<TrainingResult> r =
      RunTraining(StackelbergRun(true, 1, steps, name),
                  StackelbergAlgorithmName(o), factory);
  EXPECT_TRUE(r.ok()) << r.status();
  return kept;
}

// Plays one greedy episode through `learner`'s Act with hand-made
// observations: 32 copies, copy c's answers being deterministic leader c;
// in play step t copy c is in memory state (c + t + shift) % 5. Returns
// the leader's answers (5 per copy) and the follower's actions (10 per
// copy).
void ActEpisode(JointLearner* learner, int shift, std::vector<int64_t>* answers,
                std::vector<int64_t>* actions) {
  constexpr int kCopies = 32, kWidth = 5 + 10 + 10;
  std::vector<float> leader_obs(kCopies), follower_obs(kCopies * kWidth);
  std::vector<std::vector<int64_t>> out(2, std::vector<int64_t>(kCopies));
  std::vector<std::vector<float>> continuous(2);
  std::vector<char> first(kCopies, 1);
  answers->clear();
  actions->clear();
  for (int step = 0; step < 15; ++step) {
    learner->SetActingContext(ActingStream::kEval,
                              reinterpret_cast<const bool*>(first.data()));
    std::fill(follower_obs.begin(), follower_obs.end(), 0.0f);
    for (int c = 0; c < kCopies; ++c) {
      float* row = &follower_obs[c * kWidth];
      if (step < 5) {
        leader_obs[c] = step;  // the query state
        continue;
      }
      const int t = step - 5;
      const int s = (c + t + shift) % 5;
      leader_obs[c] = s;
      row[s] = 1;
      row[5 + t] = 1;
      for (int q = 0; q < 5; ++q) row[15 + 2 * q + ((c >> q) & 1)] = 1;
    }
    learner->Act({leader_obs.data(), follower_obs.data()}, kCopies, true, &out,
                 &continuous);
    ASSERT_TRUE(learner->status().ok()) << learner->status();
    for (int c = 0; c < kCopies; ++c) {
      (step < 5 ? answers : actions)->push_back(out[step < 5 ? 0 : 1][c]);
    }
    std::fill(first.begin(), first.end(), 0);
  }
}

// Query isolation: the follower reaches the leader only through its
// answers. Two learners with the same seed pre-train the same follower
// (the leader does not act in pre-training), then train different leaders
// (one barely moves); given the same observations, their followers act
// alike everywhere, and they do respond to the answers they are shown.
TEST(StackelbergLearnerTest, TheFollowerSeesOnlyTheAnswers) {
  StackelbergOptions trained = Oracle("contextual");
  StackelbergOptions frozen = trained;
  frozen.leader_lr = 1e-9;
  std::shared_ptr<JointLearner> a =
      TrainedContextual(trained, 120000, "stk_isolation_trained");
  std::shared_ptr<JointLearner> b =
      TrainedContextual(frozen, 120000, "stk_isolation_frozen");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  bool leaders_differ = false;
  for (int shift = 0; shift < 5; ++shift) {
    std::vector<int64_t> answers_a, actions_a, answers_b, actions_b;
    ActEpisode(a.get(), shift, &answers_a, &actions_a);
    ActEpisode(b.get(), shift, &answers_b, &actions_b);
    leaders_differ = leaders_differ || answers_a != answers_b;
    EXPECT_EQ(actions_a, actions_b) << "shift " << shift;
    EXPECT_NE(std::count(actions_a.begin(), actions_a.end(), 0), 0);
    EXPECT_NE(std::count(actions_a.begin(), actions_a.end(), 1), 0);
  }
  EXPECT_TRUE(leaders_differ);
}

// The learning test: in the 10-step prisoner's dilemma (offset
// -2.5) the one-shot Nash equilibrium, mutual defection, pays the leader
// 10 x (2 - 2.5) = -5. With contextual followers (the defaults: a table
// follower with a clock) the leader earns more in every seed, and in fact
// its Stackelberg value against such followers, 4 (memory_one_solver.h).
TEST(StackelbergLearnerTest, LeaderBeatsItsNashPayoffInThePrisonersDilemma) {
  const StackelbergOptions o = Oracle("contextual");
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    TrainingOptions t = StackelbergRun(true, seed, 200000,
                                       "stk_pd_seed" + std::to_string(seed));
    t.log_every = 20000;
    absl::StatusOr<TrainingResult> r = RunTraining(
        t, StackelbergAlgorithmName(o), FactoryOf(CreateStackelbergLearner, o));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(r->agents[0].eval_return, -5.0 + 1.0) << "seed " << seed;
    EXPECT_NEAR(r->agents[0].eval_return, 4.0, 1e-4) << "seed " << seed;
  }
}

}  // namespace
}  // namespace marl
