#include "agents/gr2/gr2_networks.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace marl {
namespace gr2 {
namespace {

TEST(LevelDominanceLoss, ZeroWhenLevelKWeaklyDominates) {
  torch::Tensor q_k = torch::tensor({1.0f, 2.0f, 3.0f});
  torch::Tensor q_km2 = torch::tensor({0.5f, 2.0f, -1.0f});
  EXPECT_EQ(LevelDominanceLoss(q_k, q_km2).item<float>(), 0.0f);
}

TEST(LevelDominanceLoss, PositiveWhereLevelKFallsBehind) {
  torch::Tensor q_k = torch::tensor({1.0f, 0.0f}, torch::requires_grad());
  torch::Tensor q_km2 = torch::tensor({0.0f, 2.0f});
  torch::Tensor loss = LevelDominanceLoss(q_k, q_km2);
  EXPECT_FLOAT_EQ(loss.item<float>(), 1.0f);  // mean(0, 2)
  loss.backward();
  // Only the lagging element is pushed up.
  EXPECT_FLOAT_EQ(q_k.grad()[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(q_k.grad()[1].item<float>(), -0.5f);
}

TEST(EnsembleMlp, MembersAreIndependent) {
  torch::manual_seed(0);
  EnsembleMlp net(3, 2, std::vector<int64_t>{4}, 1, /*tanh_output=*/false);
  torch::Tensor x = torch::randn({3, 5, 2});
  torch::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{3, 5, 1}));
  // A loss on member 1 alone leaves members 0 and 2 without gradient.
  y[1].sum().backward();
  for (const auto& p : net->parameters()) {
    EXPECT_EQ(p.grad()[0].abs().sum().item<float>(), 0.0f);
    EXPECT_EQ(p.grad()[2].abs().sum().item<float>(), 0.0f);
  }
  EnsembleMlp squashed(2, 1, std::vector<int64_t>{3}, 1, /*tanh_output=*/true);
  torch::Tensor z = squashed->forward(100 * torch::randn({2, 7, 1}));
  EXPECT_LE(z.abs().max().item<float>(), 1.0f);
}

}  // namespace
}  // namespace gr2
}  // namespace marl
