#include "agents/rommeo/rommeo_ac_learner.h"

#include <torch/torch.h>

#include "agents/rommeo/rommeo_ac_losses.h"
#include "common/training_loop.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(RommeoAcLossTest, RegularisedTargetByHand) {
  const torch::Tensor reward = torch::tensor({1.0f, 2.0f});
  const torch::Tensor done = torch::tensor({0.0f, 1.0f});
  const torch::Tensor next_q = torch::tensor({3.0f, 100.0f});
  const torch::Tensor log_rho = torch::tensor({-0.5f, 0.0f});
  const torch::Tensor log_pi = torch::tensor({0.25f, 0.0f});
  // Row 0: 1 + 0.9 * (3 - 2 * (-0.5 + 0.25)) = 1 + 0.9 * 3.5 = 4.15.
  const torch::Tensor y = rommeo::RegularisedTarget(reward, done, next_q,
                                                    log_rho, log_pi, 2.0, 0.9);
  EXPECT_NEAR(y[0].item<float>(), 4.15, 1e-5);
  EXPECT_NEAR(y[1].item<float>(), 2.0, 1e-6);  // terminal: no bootstrap
  EXPECT_NEAR(
      rommeo::RegularisedValue(next_q, log_rho, log_pi, 0.1)[0].item<float>(),
      3.0 + 0.1 * 0.25, 1e-5);
}

// A short run on the max of two quadratics: from the untrained policies'
// start near (0, 0) (reward about -4.4) the shared return rises to an
// optimum's basin.
TEST(RommeoAcTrainingTest, ImprovesOnMaxOfTwoQuadratics) {
  RommeoAcOptions o;
  o.base.batch_size = 128;
  o.hidden = {64, 64};
  TrainingOptions t;
  t.env = "max_of_two_quadratics";
  t.num_copies = 8;
  t.seed = 1;
  t.steps = 4000;
  t.eval_episodes = 8;
  t.log_every = 500;
  t.runs_root = ::testing::TempDir() + "/runs";
  t.run_name = "rommeo_ac_quadratics";
  absl::StatusOr<TrainingResult> result =
      RunTraining(t, "rommeo_ac", [o](const EnvSpec& spec, uint64_t seed) {
        return CreateRommeoAcLearner(spec, o, DeriveSeed(seed, 1));
      });
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  EXPECT_GT(result->agents[0].eval_return, -1.0);
}

}  // namespace
}  // namespace marl
