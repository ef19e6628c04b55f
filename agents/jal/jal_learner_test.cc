// JAL through the real training loop and an embedded server.
#include "agents/jal/jal_learner.h"

#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

// On the coordination game [[4,0],[0,2]], both agents settle on one of its
// pure equilibria, whatever the seed: never a miscoordinated pair.
TEST(JalTest, CoordinatesOnAPureEquilibrium) {
  for (uint64_t seed : {1, 2, 3}) {
    TrainingOptions t =
        ShortTrainingRun("matrix_game", seed, 3000, "jal_coordination");
    t.run_name += std::to_string(seed);
    t.env_settings = {{"payoffs_row", "[[4,0],[0,2]]"},
                      {"payoffs_column", "[[4,0],[0,2]]"}};
    absl::StatusOr<TrainingResult> r =
        RunTraining(t, "jal", FactoryOf(CreateJalLearner, JalOptions()));
    ASSERT_TRUE(r.ok()) << r.status();
    const double a = r->agents[0].greedy_action[0];
    EXPECT_EQ(a, r->agents[1].greedy_action[0]) << "seed " << seed;
    EXPECT_DOUBLE_EQ(r->agents[0].eval_return, a == 0 ? 4.0 : 2.0);
  }
}

TEST(JalTest, CheckpointRestoresForEvaluation) {
  ExpectCheckpointRoundTrip(ShortTrainingRun("matrix_game", 4, 800, "jal_ckpt"),
                            "jal", FactoryOf(CreateJalLearner, JalOptions()));
}

TEST(JalTest, RefusesSpacesItCannotLearn) {
  TrainingOptions t =
      ShortTrainingRun("max_of_two_quadratics", 1, 80, "jal_box");
  absl::Status s =
      RunTraining(t, "jal", FactoryOf(CreateJalLearner, JalOptions())).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

}  // namespace
}  // namespace marl
