// GR2 on Discrete-action matrix games through the shared training loop:
// which learner CreateGr2Learner picks, learning on coordination games,
// and a checkpoint restored for evaluation.
#include "agents/gr2/gr2_discrete_learner.h"

#include <map>
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

EnvSpec TwoAgents(const Space& a, const Space& b) {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {a, b};
  return spec;
}

TEST(CreateGr2Learner, PicksTheLearnerByActionKind) {
  Gr2Options o;
  EXPECT_TRUE(
      CreateGr2Learner(TwoAgents(Space::Discrete(3), Space::Discrete(3)), o, 1)
          .ok());
  EXPECT_TRUE(
      CreateGr2Learner(
          TwoAgents(Space::Box({1}, {0}, {1}), Space::Box({1}, {0}, {1})), o, 1)
          .ok());
  // The others' action enters as the mean of their one-hots: equal k only.
  EXPECT_FALSE(
      CreateGr2Learner(TwoAgents(Space::Discrete(3), Space::Discrete(2)), o, 1)
          .ok());
  EXPECT_FALSE(
      CreateGr2Learner(TwoAgents(Space::Discrete(2), Space::Box({1}, {0}, {1})),
                       o, 1)
          .ok());
  Gr2Options bad;
  bad.variant = Gr2Options::Mode::kMixture;
  bad.level = 0;
  EXPECT_FALSE(CreateGr2DiscreteLearner(
                   TwoAgents(Space::Discrete(2), Space::Discrete(2)), bad, 1)
                   .ok());
  bad.level = 2;
  bad.explore_epsilon = 1.5;
  EXPECT_FALSE(CreateGr2DiscreteLearner(
                   TwoAgents(Space::Discrete(2), Space::Discrete(2)), bad, 1)
                   .ok());
  // The Discrete level 0 is its closed form already.
  bad = Gr2Options();
  bad.level0_fit_sampled = true;
  absl::StatusOr<std::unique_ptr<JointLearner>> fit = CreateGr2Learner(
      TwoAgents(Space::Discrete(2), Space::Discrete(2)), bad, 1);
  EXPECT_EQ(fit.status().code(), absl::StatusCode::kInvalidArgument);
}

Gr2Options Fast(Gr2Options::Mode mode, int level) {
  Gr2Options o;
  o.variant = mode;
  o.level = level;
  o.hidden.sizes = {16, 16};
  o.lr = 1e-2;
  o.warmup = 200;
  o.update_ratio = 0.25;
  return o;
}

LearnerFactory Factory(const Gr2Options& o) {
  return FactoryOf(CreateGr2Learner, o);
}

TrainingOptions Matrix(const std::map<std::string, std::string>& settings,
                       uint64_t seed, int64_t steps, const std::string& name) {
  TrainingOptions t = ShortTrainingRun("matrix_game", seed, steps, name);
  t.env_settings = settings;
  return t;
}

// [[4,0],[0,2]] for both: uniform early play makes action 0 the level-0
// soft best response (2 against 1), and the greedy level-2 reasoning
// coordinates on the payoff-dominant (0,0) = 4.
TEST(Gr2DiscreteTraining, LevelTwoCoordinatesOnPayoffDominantNash) {
  for (uint64_t seed : {1, 2, 3}) {
    absl::StatusOr<TrainingResult> r = RunTraining(
        Matrix({{"payoffs_row", "[[4,0],[0,2]]"},
                {"payoffs_column", "[[4,0],[0,2]]"}},
               seed, 1200, absl::StrCat("l2_coordination_seed", seed)),
        "gr2_l2", Factory(Fast(Gr2Options::Mode::kLevel, 2)));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->agents.size(), 2u);
    EXPECT_EQ(r->agents[0].greedy_action.at(0), 0) << "seed " << seed;
    EXPECT_EQ(r->agents[1].greedy_action.at(0), 0) << "seed " << seed;
    EXPECT_DOUBLE_EQ(r->agents[0].eval_return, 4.0) << "seed " << seed;
  }
}

// The thesis cooperative game [[2,3,3],[1,4,0],[1,0,10]]: GR2-M (levels
// 0..3, Poisson mean 1.5) ends at the optimum (2,2) = 10.
TEST(Gr2DiscreteTraining, MixtureReachesThesisCoopOptimum) {
  for (uint64_t seed : {1, 2}) {
    absl::StatusOr<TrainingResult> r =
        RunTraining(Matrix({{"game", "thesis_coop"}}, seed, 1200,
                           absl::StrCat("m3_thesis_coop_seed", seed)),
                    "gr2_m3", Factory(Fast(Gr2Options::Mode::kMixture, 3)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_DOUBLE_EQ(r->agents[0].eval_return, 10.0) << "seed " << seed;
  }
}

// The final checkpoint, restored in eval mode through RunTraining, plays
// the same greedy joint action with the same return.
TEST(Gr2DiscreteTraining, CheckpointRestoresForEvaluation) {
  const Gr2Options o = Fast(Gr2Options::Mode::kMixture, 2);
  TrainingOptions t = Matrix({{"game", "climbing"}}, 4, 800, "m2_climbing");
  absl::StatusOr<TrainingResult> trained = RunTraining(t, "gr2_m2", Factory(o));
  ASSERT_TRUE(trained.ok()) << trained.status();

  TrainingOptions e = t;
  e.mode = "eval";
  e.restore = trained->run_directory + "/checkpoints/final";
  e.run_name = "m2_climbing_eval";
  absl::StatusOr<TrainingResult> restored =
      RunTraining(e, "gr2_m2", Factory(o));
  ASSERT_TRUE(restored.ok()) << restored.status();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(restored->agents[i].greedy_action,
              trained->agents[i].greedy_action);
    EXPECT_EQ(restored->agents[i].eval_return, trained->agents[i].eval_return);
  }
  // A checkpoint of another level does not load.
  e.run_name = "m2_climbing_eval_as_l2";
  EXPECT_FALSE(
      RunTraining(e, "gr2_l2", Factory(Fast(Gr2Options::Mode::kLevel, 2)))
          .ok());
}

}  // namespace
}  // namespace marl
