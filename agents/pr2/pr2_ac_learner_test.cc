#include "agents/pr2/pr2_ac_learner.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "agents/pr2/pr2_ac_losses.h"
#include "common/training_loop.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(Pr2AcLossTest, SoftMarginalIsLogMeanExp) {
  // Particles' Q values 0, 1, 2: log((1 + e + e^2) / 3).
  const torch::Tensor v = torch::tensor({{0.0f, 1.0f, 2.0f}});
  const double expected = std::log((1 + std::exp(1.0) + std::exp(2.0)) / 3);
  EXPECT_NEAR(pr2::SoftMarginal(v, -1, 1.0).item<float>(), expected, 1e-5);
  // Temperature 2: 2 log mean exp(v / 2).
  const double expected2 =
      2 * std::log((1 + std::exp(0.5) + std::exp(1.0)) / 3);
  EXPECT_NEAR(pr2::SoftMarginal(v, -1, 2.0).item<float>(), expected2, 1e-5);
  // Equal particles give back their value (no log K bias).
  EXPECT_NEAR(
      pr2::SoftMarginal(torch::full({1, 16}, 3.0f), -1, 1.0).item<float>(), 3.0,
      1e-5);
}

TEST(Pr2AcLossTest, MarginalQOnFixedParticles) {
  // Linear Q = 1 * s + 2 * a + 3 * b + 0.5.
  nn::QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 1;
  o.other_action_dim = 1;
  o.hidden = {};
  nn::QNetwork q(o);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : q->named_parameters()) {
      if (p.key().find("weight") != std::string::npos) {
        p.value().copy_(torch::tensor({{1.0f, 2.0f, 3.0f}}));
      } else {
        p.value().fill_(0.5f);
      }
    }
  }
  const torch::Tensor s = torch::tensor({{1.0f}, {0.0f}});
  const torch::Tensor a = torch::tensor({{0.5f}, {-0.5f}});
  // Two particles per row: b in {0, 1} and {-1, 1}.
  const torch::Tensor b = torch::tensor({{{0.0f}, {1.0f}}, {{-1.0f}, {1.0f}}});
  const torch::Tensor m = pr2::MarginalQ(q, s, a, b, 1.0);
  ASSERT_EQ(m.sizes(), torch::IntArrayRef({2}));
  // Row 0: Q = 2.5, 5.5; row 1: Q = -3.5, 2.5.
  EXPECT_NEAR(m[0].item<float>(), std::log((std::exp(2.5) + std::exp(5.5)) / 2),
              1e-4);
  EXPECT_NEAR(m[1].item<float>(),
              std::log((std::exp(-3.5) + std::exp(2.5)) / 2), 1e-4);
}

// A short run on the max of two quadratics: from the untrained policies'
// start near (0, 0) (reward about -4.4) the shared return rises to an
// optimum's basin.
TEST(Pr2AcTrainingTest, ImprovesOnMaxOfTwoQuadratics) {
  Pr2AcOptions o;
  o.base.batch_size = 64;
  o.value_particles = 8;
  o.kernel_particles = 16;
  o.hidden = {64, 64};
  TrainingOptions t;
  t.env = "max_of_two_quadratics";
  t.num_copies = 8;
  t.seed = 1;
  t.steps = 2000;
  t.eval_episodes = 8;
  t.log_every = 500;
  t.runs_root = ::testing::TempDir() + "/runs";
  t.run_name = "pr2_ac_quadratics";
  absl::StatusOr<TrainingResult> result =
      RunTraining(t, "pr2_ac", [o](const EnvSpec& spec, uint64_t seed) {
        return CreatePr2AcLearner(spec, o, DeriveSeed(seed, 1));
      });
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  EXPECT_GT(result->agents[0].eval_return, -1.0);
  EXPECT_GT(result->steps_per_second, 0);
}

}  // namespace
}  // namespace marl
