#include "nn/categorical.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace marl {
namespace nn {
namespace {

at::Generator MakeGen(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

TEST(CategoricalTest, SampleFrequenciesMatchSoftmax) {
  torch::Tensor logits = torch::tensor({0.0f, 1.0f, -1.0f, 2.0f});
  torch::Tensor probs = torch::softmax(logits, -1);
  torch::Tensor batch = logits.expand({100000, 4});
  torch::Tensor a = SampleCategorical(batch, MakeGen(1));
  EXPECT_EQ(a.sizes(), torch::IntArrayRef({100000}));
  EXPECT_EQ(a.scalar_type(), torch::kLong);
  torch::Tensor freq = torch::bincount(a, {}, 4).to(torch::kFloat) / 100000.0;
  EXPECT_TRUE(torch::allclose(freq, probs, 0.0, 0.01)) << freq << probs;
  // Same seed, same samples.
  EXPECT_TRUE(torch::equal(a, SampleCategorical(batch, MakeGen(1))));
}

TEST(CategoricalTest, LogProbAndEntropy) {
  torch::Tensor logits =
      torch::tensor({{0.0f, std::log(3.0f)}});  // p = 1/4, 3/4
  torch::Tensor lp = CategoricalLogProb(logits, torch::tensor({1}));
  EXPECT_NEAR(lp.item<float>(), std::log(0.75f), 1e-6);
  EXPECT_NEAR(CategoricalEntropy(logits).item<float>(),
              -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)), 1e-6);
  EXPECT_NEAR(CategoricalEntropy(torch::zeros({5})).item<float>(),
              std::log(5.0f), 1e-6);
  // A masked (-inf) action contributes nothing and gives no NaN.
  torch::Tensor masked = torch::tensor({0.0f, 0.0f, -INFINITY});
  EXPECT_NEAR(CategoricalEntropy(masked).item<float>(), std::log(2.0f), 1e-6);
}

TEST(CategoricalTest, GumbelSoftmaxSumsToOne) {
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({16, 5}, torch::requires_grad());
  torch::Tensor y = GumbelSoftmax(logits, 0.5, false, MakeGen(2));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({16, 5}));
  EXPECT_TRUE(torch::allclose(y.sum(-1), torch::ones({16})));
  EXPECT_GE(y.min().item<float>(), 0.0f);
}

TEST(CategoricalTest, StraightThroughIsOneHotWithSoftGradient) {
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({16, 5}, torch::requires_grad());
  torch::Tensor hard = GumbelSoftmax(logits, 1.0, true, MakeGen(3));
  torch::Tensor soft = GumbelSoftmax(logits, 1.0, false, MakeGen(3));
  // Forward: exactly one-hot at the soft sample's argmax.
  EXPECT_TRUE(torch::equal(hard.detach().sum(-1), torch::ones({16})));
  EXPECT_TRUE(torch::equal((hard.detach() == 1).sum(-1),
                           torch::ones({16}, torch::kLong)));
  EXPECT_TRUE(torch::equal(hard.argmax(-1), soft.argmax(-1)));
  // Backward: the soft sample's gradient.
  torch::Tensor w = torch::randn({16, 5});
  torch::Tensor g_hard = torch::autograd::grad({(hard * w).sum()}, {logits})[0];
  torch::Tensor g_soft = torch::autograd::grad({(soft * w).sum()}, {logits})[0];
  EXPECT_TRUE(torch::allclose(g_hard, g_soft, 1e-5, 1e-6));
}

TEST(CategoricalTest, PolicyShapes) {
  torch::manual_seed(4);
  CategoricalPolicyOptions o;
  o.obs_dim = 3;
  o.num_actions = 4;
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(4);
  CategoricalPolicy policy(o, init);
  torch::Tensor obs = torch::randn({7, 3});
  EXPECT_EQ(policy->forward(obs).sizes(), torch::IntArrayRef({7, 4}));
  torch::Tensor a = policy->sample(obs, MakeGen(5));
  EXPECT_EQ(a.sizes(), torch::IntArrayRef({7}));
  EXPECT_EQ(policy->log_prob(obs, a).sizes(), torch::IntArrayRef({7}));
  EXPECT_EQ(policy->entropy(obs).sizes(), torch::IntArrayRef({7}));
  EXPECT_EQ(policy->greedy(obs).sizes(), torch::IntArrayRef({7}));
  EXPECT_EQ(policy->gumbel_softmax(obs, 1.0, true).sizes(),
            torch::IntArrayRef({7, 4}));
  EXPECT_TRUE(
      torch::equal(OneHot(torch::tensor({2, 0}), 3),
                   torch::tensor({{0.0f, 0.0f, 1.0f}, {1.0f, 0.0f, 0.0f}})));
}

}  // namespace
}  // namespace nn
}  // namespace marl
