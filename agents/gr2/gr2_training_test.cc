// Learning on the beauty contest through the shared training loop: with
// p = 0.7 the equilibrium is 0, so the guesses must fall well below the
// uniform start (mean 50).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agents/gr2/gr2_learner.h"
#include "gtest/gtest.h"
#include "runtime/joint_learner.h"
#include "runtime/training_loop.h"

namespace marl {
namespace {

TrainingOptions BeautyContest(const std::string& p, const std::string& name) {
  TrainingOptions t;
  t.env = "beauty_contest";
  t.env_settings = {{"num_agents", "3"}, {"p", p}};
  t.num_copies = 8;
  t.seed = 3;
  t.steps = 3000;
  t.log_every = 1000;
  t.eval_episodes = 8;
  t.runs_root = absl::StrCat(testing::TempDir(), "/gr2_runs");
  t.run_name = name;
  return t;
}

Gr2Options Fast(Gr2Options::Mode mode, int level) {
  Gr2Options o;
  o.variant = mode;
  o.level = level;
  o.lr = 1e-2;
  o.warmup = 500;
  o.update_ratio = 0.25;
  o.reward_scale = 0.02;
  return o;
}

LearnerFactory Factory(const Gr2Options& o) {
  return [o](const EnvSpec& spec,
             uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    return CreateGr2BoxLearner(spec, o, DeriveSeed(seed, 1));
  };
}

// Every agent's level_<j>_action metrics, j = 0.., after acting greedily
// (no random draws) at one observation per agent.
std::vector<std::vector<double>> LevelActions(
    JointLearner& learner, const std::vector<const float*>& observation) {
  const int n = static_cast<int>(observation.size());
  std::vector<std::vector<int64_t>> discrete(n);
  std::vector<std::vector<float>> continuous(n, std::vector<float>(1));
  learner.Act(observation, 1, /*deterministic=*/true, &discrete, &continuous);
  std::vector<std::vector<double>> levels(n);
  for (int a = 0; a < n; ++a) {
    for (const auto& [name, value] : learner.Metrics(a)) {
      if (absl::StartsWith(name, "level_")) levels[a].push_back(value);
    }
  }
  return levels;
}

double MeanGreedy(const TrainingResult& r) {
  double sum = 0;
  for (const AgentResult& a : r.agents) sum += a.greedy_action.at(0);
  return sum / r.agents.size();
}

TEST(Gr2Training, LevelTwoGuessesFallOnBeautyContest) {
  absl::StatusOr<TrainingResult> r =
      RunTraining(BeautyContest("0.7", "l2"), "gr2_l2",
                  Factory(Fast(Gr2Options::Mode::kLevel, 2)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 3000);
  EXPECT_LT(MeanGreedy(*r), 25.0);
}

// The level-0 policy fitted to its closed form at sampled candidates
// (Qbar regressed at the replayed guesses) also learns to guess low.
TEST(Gr2Training, FittedLevelZeroGuessesFallOnBeautyContest) {
  Gr2Options o = Fast(Gr2Options::Mode::kLevel, 2);
  o.level0_fit_sampled = true;
  absl::StatusOr<TrainingResult> r =
      RunTraining(BeautyContest("0.7", "l2_fit"), "gr2_l2", Factory(o));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(MeanGreedy(*r), 25.0);
}

TEST(Gr2Training, MixtureGuessesFallOnBeautyContest) {
  absl::StatusOr<TrainingResult> r =
      RunTraining(BeautyContest("0.7", "m3"), "gr2_m3",
                  Factory(Fast(Gr2Options::Mode::kMixture, 3)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(MeanGreedy(*r), 25.0);
}

TEST(Gr2BoxLearner, RejectsDiscreteGamesAndBadLevels) {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  spec.observation_spaces = {Space::Box({1}, {0}, {1}),
                             Space::Box({1}, {0}, {1})};
  spec.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
  EXPECT_FALSE(CreateGr2BoxLearner(spec, Gr2Options(), 1).ok());
  spec.action_spaces = {Space::Box({1}, {0}, {100}),
                        Space::Box({1}, {0}, {100})};
  EXPECT_TRUE(CreateGr2BoxLearner(spec, Gr2Options(), 1).ok());
  Gr2Options bad;
  bad.variant = Gr2Options::Mode::kMixture;
  bad.level = 0;
  EXPECT_FALSE(CreateGr2BoxLearner(spec, bad, 1).ok());
  bad.level = 2;
  bad.poisson_mean = -1;
  EXPECT_FALSE(CreateGr2BoxLearner(spec, bad, 1).ok());
}

TEST(Gr2BoxLearner, SaveLoadRoundTripsLevelActions) {
  EnvSpec spec;
  spec.agent_ids = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    spec.observation_spaces.push_back(Space::Box({1}, {0}, {1}));
    spec.action_spaces.push_back(Space::Box({1}, {0}, {100}));
  }
  Gr2Options o;
  o.level = 3;
  auto a = CreateGr2BoxLearner(spec, o, 1);
  auto b = CreateGr2BoxLearner(spec, o, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  const float zero = 0;
  std::vector<const float*> obs = {&zero, &zero, &zero};
  ASSERT_EQ(LevelActions(**a, obs)[0].size(), 4u);  // levels 0..3
  ASSERT_NE(LevelActions(**a, obs), LevelActions(**b, obs));
  absl::StatusOr<std::string> bytes = (*a)->Save();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_TRUE((*b)->Load(*bytes).ok());
  EXPECT_EQ(LevelActions(**a, obs), LevelActions(**b, obs));
  EXPECT_FALSE((*b)->Load("junk").ok());
  o.level = 2;
  auto c = CreateGr2BoxLearner(spec, o, 1);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE((*c)->Load(*bytes).ok());
}

// A checkpoint holds the whole training state but the replay: networks,
// optimisers, random streams and counters. A learner that saw the same
// experience (so its replay is the same) but trained from other initial
// weights and another seed, once it loads the checkpoint, goes on exactly
// as the original: the same updates, the same actions.
// With --level0_fit_sampled the checkpoint also holds Qbar and its
// optimiser.
class Gr2Checkpoint : public testing::TestWithParam<bool> {};

TEST_P(Gr2Checkpoint, HoldsTheTrainingState) {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  for (int i = 0; i < 2; ++i) {
    spec.observation_spaces.push_back(Space::Box({1}, {0}, {1}));
    spec.action_spaces.push_back(Space::Box({1}, {0}, {100}));
  }
  Gr2Options o;
  o.warmup = 8;
  o.batch_size = 8;
  o.update_ratio = 0.5;
  o.level0_fit_sampled = GetParam();
  o.level0_candidates = 4;
  auto a = CreateGr2BoxLearner(spec, o, 1);
  auto b = CreateGr2BoxLearner(spec, o, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  const int n = 8;
  std::vector<float> obs(n, 0.0f), act(n), rew(n);
  bool terminated[n], truncated[n];
  for (int r = 0; r < n; ++r) {
    act[r] = 10.0f * r;
    rew[r] = -0.1f * r;
    terminated[r] = true;
    truncated[r] = false;
  }
  TransitionBatch batch;
  batch.num_copies = n;
  batch.observation = {obs.data(), obs.data()};
  batch.discrete_action = {nullptr, nullptr};
  batch.continuous_action = {act.data(), act.data()};
  batch.reward = {rew.data(), rew.data()};
  batch.next_observation = {obs.data(), obs.data()};
  batch.terminated = terminated;
  batch.truncated = truncated;
  for (int k = 0; k < 4; ++k) {  // 16 updates each, from different weights
    (*a)->Learn(batch);
    (*b)->Learn(batch);
  }
  ASSERT_TRUE((*a)->status().ok()) << (*a)->status();
  const float zero = 0;
  const std::vector<const float*> at = {&zero, &zero};
  ASSERT_NE(LevelActions(**a, at), LevelActions(**b, at));
  absl::StatusOr<std::string> saved = (*a)->Save();
  ASSERT_TRUE(saved.ok()) << saved.status();
  ASSERT_TRUE((*b)->Load(*saved).ok());
  for (int k = 0; k < 2; ++k) {  // Adam moments and sampling must agree
    (*a)->Learn(batch);
    (*b)->Learn(batch);
  }
  EXPECT_EQ(LevelActions(**a, at), LevelActions(**b, at));
  std::vector<std::vector<int64_t>> discrete(2);
  std::vector<std::vector<float>> from_a(2, std::vector<float>(1)),
      from_b(2, std::vector<float>(1));
  (*a)->Act(at, 1, /*deterministic=*/false, &discrete, &from_a);
  (*b)->Act(at, 1, /*deterministic=*/false, &discrete, &from_b);
  EXPECT_EQ(from_a, from_b);  // the same random draws
}

INSTANTIATE_TEST_SUITE_P(Level0, Gr2Checkpoint, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Fitted" : "Gradient";
                         });

}  // namespace
}  // namespace marl
