#include "nn/q_network.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace marl {
namespace nn {
namespace {

TEST(QNetworkTest, Shapes) {
  torch::manual_seed(0);
  QNetworkOptions o;
  o.obs_dim = 3;
  o.action_dim = 2;
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  QNetwork q(o, init);
  EXPECT_EQ(q->forward(torch::randn({5, 3}), torch::randn({5, 2})).sizes(),
            torch::IntArrayRef({5, 1}));
  // Broadcast: one observation per row, 16 action particles.
  EXPECT_EQ(
      q->forward(torch::randn({5, 1, 3}), torch::randn({5, 16, 2})).sizes(),
      torch::IntArrayRef({5, 16, 1}));
  EXPECT_THROW(q->forward(torch::randn({5, 3}), torch::randn({5, 2}),
                          torch::randn({5, 1})),
               c10::Error);
}

TEST(QNetworkTest, JointActionShapes) {
  QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 1;
  o.other_action_dim = 1;
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  QNetwork q(o, init);
  EXPECT_EQ(q->forward(torch::zeros({4, 1, 1}), torch::zeros({4, 1, 1}),
                       torch::zeros({4, 32, 1}))
                .sizes(),
            torch::IntArrayRef({4, 32, 1}));
  EXPECT_THROW(q->forward(torch::zeros({4, 1}), torch::zeros({4, 1})),
               c10::Error);
}

TEST(QNetworkTest, ValueShapes) {
  ValueNetworkOptions o;
  o.obs_dim = 4;
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  ValueNetwork v(o, init);
  EXPECT_EQ(v->forward(torch::randn({6, 4})).sizes(),
            torch::IntArrayRef({6, 1}));
}

TEST(PolyakTest, PointOneThenPointOneNine) {
  // Target 0, source 1, tau 0.1: 0.1 after one update, 0.19 after two
  // (0.9 * 0.1 + 0.1 * 1).
  torch::nn::Linear target(2, 2), source(2, 2);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : target->parameters()) p.fill_(0.0);
    for (auto& p : source->parameters()) p.fill_(1.0);
  }
  PolyakUpdate(*target, *source, 0.1);
  for (auto& p : target->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 0.1)));
  }
  PolyakUpdate(*target, *source, 0.1);
  for (auto& p : target->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 0.19)));
  }
  HardUpdate(*target, *source);
  for (auto& p : target->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::ones_like(p)));
  }
}

TEST(PolyakTest, BuffersAndMismatch) {
  torch::nn::BatchNorm1d target(3), source(3);
  {
    torch::NoGradGuard no_grad;
    source->running_mean.fill_(1.0);
    source->num_batches_tracked.fill_(7);
  }
  PolyakUpdate(*target, *source, 0.5);
  EXPECT_TRUE(torch::allclose(target->running_mean, torch::full({3}, 0.5)));
  EXPECT_EQ(target->num_batches_tracked.item<int64_t>(), 7);

  torch::nn::Linear a(2, 2), b(2, 3);
  EXPECT_THROW(PolyakUpdate(*a, *b, 0.1), c10::Error);
}

TEST(PolyakTest, CloneTargetIsFrozenDeepCopy) {
  torch::manual_seed(3);
  QNetworkOptions o;
  o.obs_dim = 2;
  o.action_dim = 1;
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  QNetwork q(o, init);
  QNetwork target = CloneTarget(q);
  torch::Tensor s = torch::randn({4, 2}), a = torch::randn({4, 1});
  EXPECT_TRUE(torch::allclose(q->forward(s, a), target->forward(s, a)));
  for (auto& p : target->parameters()) EXPECT_FALSE(p.requires_grad());
  for (auto& p : q->parameters()) EXPECT_TRUE(p.requires_grad());
  // Deep: changing the source leaves the copy alone.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : q->parameters()) p.add_(1.0);
  }
  EXPECT_FALSE(torch::allclose(q->forward(s, a), target->forward(s, a)));
  HardUpdate(*target, *q);
  EXPECT_TRUE(torch::allclose(q->forward(s, a), target->forward(s, a)));
}

}  // namespace
}  // namespace nn
}  // namespace marl
