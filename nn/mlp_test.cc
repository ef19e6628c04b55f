#include "nn/mlp.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace marl {
namespace nn {
namespace {

TEST(MlpTest, ShapesAndLayers) {
  torch::manual_seed(0);
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::nn::Sequential mlp = MakeMlp(3, {100, 100}, 2, init);
  // Linear, ReLU, Linear, ReLU, Linear.
  EXPECT_EQ(mlp->size(), 5u);
  EXPECT_EQ(mlp->forward(torch::randn({7, 3})).sizes(),
            torch::IntArrayRef({7, 2}));
  // Any leading dims pass through (particles per observation).
  EXPECT_EQ(mlp->forward(torch::randn({4, 16, 3})).sizes(),
            torch::IntArrayRef({4, 16, 2}));
}

TEST(MlpTest, NoHiddenIsOneLinear) {
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::nn::Sequential mlp = MakeMlp(3, {}, 1, init);
  EXPECT_EQ(mlp->size(), 1u);
}

TEST(MlpTest, TanhOutputIsBounded) {
  torch::manual_seed(1);
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(1);
  torch::nn::Sequential mlp =
      MakeMlp(2, {8}, 4, init, Activation::kTanh, Activation::kTanh);
  EXPECT_EQ(mlp->size(), 4u);
  torch::Tensor y = mlp->forward(100.0 * torch::randn({50, 2}));
  EXPECT_LE(y.abs().max().item<float>(), 1.0f);
}

TEST(MlpTest, InitRanges) {
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(2);
  torch::nn::Sequential mlp =
      MakeMlp(4, {25}, 3, init, Activation::kRelu, Activation::kNone, 3e-3);
  auto params = mlp->named_parameters();
  // Default init: |w| <= 1/sqrt(fan_in) = 0.5 for the first layer.
  EXPECT_LE(params["0.weight"].abs().max().item<float>(), 0.5f);
  EXPECT_GT(params["0.weight"].abs().max().item<float>(), 0.1f);
  EXPECT_LE(params["2.weight"].abs().max().item<float>(), 3e-3f);
  EXPECT_LE(params["2.bias"].abs().max().item<float>(), 3e-3f);
}

// Initial weights come from the generator passed in, nothing else: the same
// seed gives the same network whatever the global generator's state, and
// another seed another network.
TEST(MlpTest, InitialWeightsDependOnTheGeneratorOnly) {
  auto make = [](uint64_t seed) {
    at::Generator init = at::make_generator<at::CPUGeneratorImpl>(seed);
    return MakeMlp(3, {5}, 2, init);
  };
  torch::manual_seed(1);
  torch::nn::Sequential a = make(7);
  torch::manual_seed(99);
  torch::nn::Sequential b = make(7);
  torch::nn::Sequential c = make(8);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  ASSERT_EQ(pa.size(), 4u);
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
    EXPECT_FALSE(torch::equal(pa[i], pc[i])) << i;
  }
}

TEST(MlpTest, ParseActivation) {
  Activation a = Activation::kNone;
  EXPECT_TRUE(ParseActivation("tanh", &a));
  EXPECT_EQ(a, Activation::kTanh);
  EXPECT_TRUE(ParseActivation("relu", &a));
  EXPECT_EQ(a, Activation::kRelu);
  EXPECT_FALSE(ParseActivation("gelu", &a));
  EXPECT_EQ(a, Activation::kRelu);
}

}  // namespace
}  // namespace nn
}  // namespace marl
