#include "agents/stackelberg/stackelberg_learner.h"

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

// The spec of iterated_matrix_game with roles=stackelberg (2x2, full
// memory), with or without queries of every memory state.
EnvSpec GameSpec(bool queries) {
  EnvSpec spec;
  spec.agent_ids = {"leader", "follower"};
  spec.observation_spaces = {Space::Discrete(5), Space::Discrete(5)};
  spec.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
  spec.episode_limit = 10;
  if (queries) {
    spec.observation_spaces[1] = Space::Box({5 + 5 * 2}, {0.0f}, {1.0f});
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
                               const std::string& name) {
  TrainingOptions t =
      ShortTrainingRun("iterated_matrix_game", seed, steps, name);
  t.env_settings = {{"roles", "stackelberg"}, {"reward_offset", "-2.5"}};
  if (queries) t.env_settings["query_states"] = "[0,1,2,3,4]";
  return t;
}

// Through the loop, both oracles train past their follower phases and a
// checkpoint restores them.
TEST(StackelbergLearnerTest, ContextualTrainsAndRoundTrips) {
  StackelbergOptions o = Oracle("contextual");
  o.pretrain_episodes = 160;
  o.check_every = 80;
  TrainingOptions t = StackelbergRun(true, 3, 4800, "stk_contextual");
  ExpectCheckpointRoundTrip(t, StackelbergAlgorithmName(o),
                            FactoryOf(CreateStackelbergLearner, o));
}

TEST(StackelbergLearnerTest, ContextualTableFollowerTrainsAndRoundTrips) {
  StackelbergOptions o = Oracle("contextual");
  o.follower = "table";
  o.follower_q_lr = 0.1;
  o.pretrain_episodes = 160;
  o.check_every = 80;
  TrainingOptions t = StackelbergRun(true, 3, 4800, "stk_contextual_table");
  ExpectCheckpointRoundTrip(t, StackelbergAlgorithmName(o),
                            FactoryOf(CreateStackelbergLearner, o));
}

TEST(StackelbergLearnerTest, InnerOuterTrainsAndRoundTrips) {
  StackelbergOptions o = Oracle("inner_outer");
  o.follower_episodes = 16;
  o.leader_rollout_episodes = 2;
  TrainingOptions t = StackelbergRun(false, 3, 4800, "stk_inner_outer");
  ExpectCheckpointRoundTrip(t, StackelbergAlgorithmName(o),
                            FactoryOf(CreateStackelbergLearner, o));
}

// The learning test: in the 10-step prisoner's dilemma (offset
// -2.5) the one-shot Nash equilibrium, mutual defection, pays the leader
// 10 x (2 - 2.5) = -5. With contextual followers the leader earns more
// in every seed.
TEST(StackelbergLearnerTest, LeaderBeatsItsNashPayoffInThePrisonersDilemma) {
  StackelbergOptions o = Oracle("contextual");
  o.pretrain_episodes = 8000;
  o.follower_lr = 0.005;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    TrainingOptions t = StackelbergRun(true, seed, 240000,
                                       "stk_pd_seed" + std::to_string(seed));
    t.eval_episodes = 16;
    t.log_every = 20000;
    absl::StatusOr<TrainingResult> r = RunTraining(
        t, StackelbergAlgorithmName(o), FactoryOf(CreateStackelbergLearner, o));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(r->agents[0].eval_return, -5.0 + 1.0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace marl
