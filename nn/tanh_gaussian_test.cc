#include "nn/tanh_gaussian.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace marl {
namespace nn {
namespace {

// mean 0.2, std 0.5, noise 0.6: u = 0.2 + 0.5 * 0.6 = 0.5,
// y = tanh(0.5) = 0.4621171573,
// log N(0.5; 0.2, 0.5) = -0.5 * 0.6^2 - log 0.5 - 0.5 log(2 pi)
//                      = -0.18 + 0.6931471806 - 0.9189385332 = -0.4057913526,
// log(1 - y^2) = log(0.7864496612) = -0.2402290139,
// log p(y) = -0.4057913526 + 0.2402290139 = -0.1655623387.
TEST(TanhGaussianTest, LogProbByHand) {
  torch::Tensor mean = torch::tensor({{0.2}}, torch::kDouble);
  torch::Tensor log_std = torch::full({1, 1}, std::log(0.5), torch::kDouble);
  torch::Tensor noise = torch::tensor({{0.6}}, torch::kDouble);
  TanhGaussianSample s = TanhGaussianFromNoise(mean, log_std, noise);
  EXPECT_NEAR(s.pre_tanh.item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(s.action.item<double>(), 0.4621171573, 1e-10);
  ASSERT_EQ(s.log_prob.sizes(), torch::IntArrayRef({1}));
  EXPECT_NEAR(s.log_prob.item<double>(), -0.1655623387, 1e-9);
  EXPECT_NEAR(
      LogOneMinusTanhSquared(torch::tensor(0.5, torch::kDouble)).item<double>(),
      -0.2402290139, 1e-9);
  // The same through the pre-tanh form.
  EXPECT_NEAR(TanhGaussianLogProb(mean, log_std, s.pre_tanh).item<double>(),
              -0.1655623387, 1e-9);
}

TEST(TanhGaussianTest, StableForLargePreTanh) {
  torch::Tensor u = torch::tensor({-40.0f, -12.0f, 0.0f, 12.0f, 40.0f});
  torch::Tensor v = LogOneMinusTanhSquared(u);
  EXPECT_TRUE(torch::isfinite(v).all().item<bool>());
  // For large |u|: log(1 - tanh^2) ~ log 4 - 2|u|.
  EXPECT_NEAR(v[4].item<float>(), std::log(4.0f) - 80.0f, 1e-3);
  EXPECT_NEAR(v[0].item<float>(), std::log(4.0f) - 80.0f, 1e-3);
  EXPECT_NEAR(v[2].item<float>(), 0.0f, 1e-6);
}

TEST(TanhGaussianTest, MonteCarloDensity) {
  // Histogram of 400k samples of y against exp(log_prob) averaged over each
  // bin (midpoint rule on 50 sub-points: near +-1 the density bends too fast
  // for the bin centre alone to stand for the bin).
  const double m = 0.3, sd = 0.8;
  const int64_t n = 400000, bins = 40, sub = 50;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  torch::Tensor mean = torch::full({n, 1}, m, torch::kDouble);
  torch::Tensor log_std = torch::full({n, 1}, std::log(sd), torch::kDouble);
  torch::Tensor noise = torch::randn({n, 1}, gen, torch::kDouble);
  torch::Tensor y = TanhGaussianFromNoise(mean, log_std, noise).action;
  const double width = 2.0 / bins;
  torch::Tensor counts = torch::histc(y.flatten(), bins, -1.0, 1.0);

  const double step = width / sub;
  torch::Tensor grid =
      torch::arange(bins * sub, torch::kDouble).mul(step).add(-1.0 + step / 2);
  torch::Tensor density =
      torch::exp(TanhGaussianLogProb(torch::full({bins * sub, 1}, m),
                                     torch::full({bins * sub, 1}, std::log(sd)),
                                     AtanhClamped(grid.view({-1, 1}))))
          .view({bins, sub})
          .mean(-1);
  EXPECT_NEAR(density.sum().item<double>() * width, 1.0, 1e-3);
  for (int b = 0; b < bins; ++b) {
    const double expected = density[b].item<double>();
    const double empirical = counts[b].item<double>() / (n * width);
    EXPECT_NEAR(empirical, expected, 0.01 + 0.03 * expected) << "bin " << b;
  }
}

TEST(TanhGaussianTest, PolicyShapesAndBounds) {
  torch::manual_seed(0);
  TanhGaussianPolicyOptions o;
  o.obs_dim = 3;
  o.action_dim = 2;
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  TanhGaussianPolicy policy(o, init);
  torch::Tensor obs = torch::randn({8, 3});
  auto [mean, log_std] = policy->forward(obs);
  EXPECT_EQ(mean.sizes(), torch::IntArrayRef({8, 2}));
  EXPECT_LE(log_std.max().item<float>(), 2.0f);
  EXPECT_GE(log_std.min().item<float>(), -5.0f);

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  TanhGaussianSample s = policy->rsample(obs, gen);
  EXPECT_EQ(s.action.sizes(), torch::IntArrayRef({8, 2}));
  EXPECT_EQ(s.log_prob.sizes(), torch::IntArrayRef({8}));
  EXPECT_LT(s.action.abs().max().item<float>(), 1.0f);
  EXPECT_TRUE(torch::allclose(s.action, torch::tanh(s.pre_tanh)));
  // log_prob of the sampled action agrees with the sample's.
  EXPECT_TRUE(
      torch::allclose(policy->log_prob(obs, s.action), s.log_prob, 1e-3, 1e-3));
  // Reparameterised: gradients reach the policy.
  s.action.sum().backward();
  bool any_grad = false;
  for (auto& p : policy->parameters()) {
    any_grad |= p.grad().defined() && p.grad().abs().sum().item<float>() > 0;
  }
  EXPECT_TRUE(any_grad);

  // Same generator seed, same sample.
  at::Generator gen2 = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_TRUE(torch::equal(policy->rsample(obs, gen2).action.detach(),
                           s.action.detach()));
  EXPECT_TRUE(torch::allclose(policy->deterministic(obs), torch::tanh(mean)));
}

TEST(TanhGaussianTest, BoxScaling) {
  torch::Tensor low = torch::tensor({-10.0f, 0.0f});
  torch::Tensor high = torch::tensor({10.0f, 4.0f});
  torch::Tensor y = torch::tensor({{-1.0f, 1.0f}, {0.5f, 0.0f}});
  torch::Tensor a = ScaleToBox(y, low, high);
  EXPECT_TRUE(
      torch::allclose(a, torch::tensor({{-10.0f, 4.0f}, {5.0f, 2.0f}})));
  EXPECT_TRUE(torch::allclose(UnscaleFromBox(a, low, high), y));
  EXPECT_NEAR(BoxLogAbsDet(low, high).item<float>(),
              std::log(10.0f) + std::log(2.0f), 1e-6);
}

}  // namespace
}  // namespace nn
}  // namespace marl
