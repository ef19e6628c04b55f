#include "learners/discrete_joint_actions.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "gtest/gtest.h"

namespace marl {
namespace deep {
namespace {

// Three agents with 2, 3 and 2 actions; agent 0's view of the others
// (agents 1 and 2): 6 joint actions, agent 2 varying fastest.
TEST(OtherJointActionsTest, EnumeratesInMixedRadixWithReplayLayout) {
  auto view = OtherJointActions::Enumerate({2, 3, 2}, 0, 64, "test");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->size(), 6);
  EXPECT_EQ(view->num_own_actions(), 2);
  const torch::Tensor expected = torch::tensor({{1.f, 0.f, 0.f, 1.f, 0.f},
                                                {1.f, 0.f, 0.f, 0.f, 1.f},
                                                {0.f, 1.f, 0.f, 1.f, 0.f},
                                                {0.f, 1.f, 0.f, 0.f, 1.f},
                                                {0.f, 0.f, 1.f, 1.f, 0.f},
                                                {0.f, 0.f, 1.f, 0.f, 1.f}});
  EXPECT_TRUE(torch::equal(view->one_hots(), expected)) << view->one_hots();
  // Index inverts the table.
  EXPECT_TRUE(torch::equal(view->Index(view->one_hots()),
                           torch::arange(6, torch::kLong)));
}

TEST(OtherJointActionsTest, MiddleAgentSeesOthersInAgentOrder) {
  auto view = OtherJointActions::Enumerate({2, 3, 2}, 1, 64, "test");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->size(), 4);
  // Joint action 2 = (agent 0 plays 1, agent 2 plays 0).
  EXPECT_TRUE(
      torch::equal(view->one_hots()[2], torch::tensor({0.f, 1.f, 1.f, 0.f})));
}

TEST(OtherJointActionsTest, RejectsTooManyJointActions) {
  EXPECT_TRUE(OtherJointActions::Enumerate({16, 16}, 0, 256, "x").ok());
  auto big = OtherJointActions::Enumerate({16, 17}, 0, 256, "algo");
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("algo"), std::string::npos);
  // Many agents: rejected as the product grows, without overflow.
  std::vector<int64_t> many(40, 1000);
  EXPECT_FALSE(OtherJointActions::Enumerate(many, 0, 256, "x").ok());
  EXPECT_FALSE(OtherJointActions::Enumerate({2, 0}, 0, 256, "x").ok());
}

TEST(OtherJointActionsTest, EveryAgentsViewAndMixedKindsRejected) {
  auto views = OtherJointActions::EnumerateForEveryAgent({2, 3}, 64, "x");
  ASSERT_TRUE(views.ok()) << views.status();
  ASSERT_EQ(views->size(), 2u);
  EXPECT_EQ((*views)[0].size(), 3);
  EXPECT_EQ((*views)[1].size(), 2);
  auto mixed = OtherJointActions::EnumerateForEveryAgent({2, 0}, 64, "algo");
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("mixed"), std::string::npos);
}

// With a linear critic Q = w_own . a + w_other . a^-i the table is the sum
// of the two weights' entries.
TEST(OtherJointActionsTest, QTableEvaluatesEveryPair) {
  auto view = OtherJointActions::Enumerate({2, 3}, 0, 64, "test");
  ASSERT_TRUE(view.ok());
  nn::QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 2;
  o.other_action_dim = 3;
  o.hidden = {};
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  nn::QNetwork q(o, init);
  torch::NoGradGuard no_grad;
  for (auto& p : q->named_parameters()) {
    if (p.key().find("bias") != std::string::npos) {
      p.value().zero_();
    } else {
      // Input order: obs, own one-hot, others' one-hot.
      p.value().copy_(torch::tensor({{0.f, 1.f, 2.f, 10.f, 20.f, 30.f}}));
    }
  }
  const torch::Tensor table = view->QTable(q, torch::zeros({4, 1}));
  ASSERT_EQ(table.sizes(), torch::IntArrayRef({4, 2, 3}));
  EXPECT_FLOAT_EQ(table[3][1][2].item<float>(), 32.0f);
  EXPECT_FLOAT_EQ(table[0][0][0].item<float>(), 11.0f);
}

}  // namespace
}  // namespace deep
}  // namespace marl
