#include "nn/svgd.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nn/mlp.h"

namespace marl {
namespace nn {
namespace {

// Two 1-D particles x = {0, 1}, target N(0, 1) so grad log p = -x = {0, -1}.
// Squared distances {0, 1; 1, 0}; their median (mean of the middle two of
// {0, 0, 1, 1}) is 0.5, so h = 0.5 / log(3), and
//   k(0, 1) = exp(-1 / h) = exp(-2 log 3) = 1/9,
//   dk(x_j, x_i)/dx_j = -2 (x_j - x_i) / h * k = -4 log3 (x_j - x_i) k.
// phi(x_0) = 1/2 [k00 g0 + dk00 + k10 g1 + dk10]
//          = 1/2 [0 + 0 + (1/9)(-1) + (-4 log3)(1)(1/9)]
//          = -(1 + 4 log3) / 18          ~= -0.299704
// phi(x_1) = 1/2 [k01 g0 + dk01 + k11 g1 + dk11]
//          = 1/2 [0 + (-4 log3)(-1)(1/9) + (1)(-1) + 0]
//          = (4 log3 - 9) / 18           ~= -0.255851
TEST(SvgdTest, TwoParticlesByHand) {
  const double log3 = std::log(3.0);
  torch::Tensor x = torch::tensor({{0.0}, {1.0}}, torch::kDouble);
  torch::Tensor g = -x;
  RbfKernelResult k = RbfKernel(x, x);
  EXPECT_NEAR(k.bandwidth.item<double>(), 0.5 / log3, 1e-12);
  EXPECT_NEAR(k.value[0][0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(k.value[0][1].item<double>(), 1.0 / 9.0, 1e-12);
  EXPECT_NEAR(k.value[1][0].item<double>(), 1.0 / 9.0, 1e-12);
  EXPECT_EQ(k.gradient.sizes(), torch::IntArrayRef({2, 2, 1}));
  // d k(x_0, x_1) / d x_0 = -4 log3 (0 - 1) / 9.
  EXPECT_NEAR(k.gradient[0][1][0].item<double>(), 4 * log3 / 9, 1e-12);
  EXPECT_NEAR(k.gradient[1][0][0].item<double>(), -4 * log3 / 9, 1e-12);
  EXPECT_NEAR(k.gradient[0][0][0].item<double>(), 0.0, 1e-12);

  torch::Tensor phi = SvgdDirection(x, g);
  ASSERT_EQ(phi.sizes(), torch::IntArrayRef({2, 1}));
  EXPECT_NEAR(phi[0][0].item<double>(), -(1 + 4 * log3) / 18, 1e-12);
  EXPECT_NEAR(phi[1][0].item<double>(), (4 * log3 - 9) / 18, 1e-12);
}

TEST(SvgdTest, KernelGradientMatchesAutograd) {
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({3, 5, 2}, torch::kDouble);
  torch::Tensor y = torch::randn({3, 4, 2}, torch::kDouble);
  RbfKernelResult k = RbfKernel(x, y);
  EXPECT_EQ(k.value.sizes(), torch::IntArrayRef({3, 5, 4}));
  EXPECT_EQ(k.bandwidth.sizes(), torch::IntArrayRef({3}));
  // Bandwidth held fixed, d/dx_j of sum_i k(x_j, y_i) equals sum_i gradient.
  RbfKernelOptions fixed;
  fixed.fixed_bandwidth = 0.7;
  torch::Tensor leaf = x.clone().requires_grad_(true);
  RbfKernelResult kf = RbfKernel(leaf, y, fixed);
  torch::Tensor auto_grad = torch::autograd::grad({kf.value.sum()}, {leaf})[0];
  EXPECT_TRUE(torch::allclose(auto_grad, kf.gradient.sum(-2)));
}

TEST(SvgdTest, TinyBandwidthIsGuarded) {
  torch::Tensor x = torch::zeros({4, 1});
  RbfKernelResult k = RbfKernel(x, x);
  EXPECT_NEAR(k.bandwidth.item<float>(), 1e-3, 1e-9);
  EXPECT_TRUE(torch::isfinite(SvgdDirection(x, -x)).all().item<bool>());
}

TEST(SvgdTest, FiftyParticlesReachGaussian) {
  // From N(0, 1) to N(3, 0.5^2): log p(x) = -(x - 3)^2 / (2 * 0.25).
  torch::manual_seed(42);
  torch::Tensor init = torch::randn({50, 1}, torch::kDouble);
  auto log_p = [](const torch::Tensor& x) {
    return -(x - 3.0).pow(2).sum(-1) / (2 * 0.25);
  };
  torch::Tensor x = RunSvgd(log_p, init, 2000, 0.05);
  const double mean = x.mean().item<double>();
  const double std = x.std().item<double>();
  EXPECT_NEAR(mean, 3.0, 0.05);
  EXPECT_NEAR(std, 0.5, 0.1);
  // Deterministic for a fixed seed.
  torch::manual_seed(42);
  torch::Tensor again =
      RunSvgd(log_p, torch::randn({50, 1}, torch::kDouble), 2000, 0.05);
  EXPECT_TRUE(torch::equal(x, again));
}

TEST(SvgdTest, BatchedParticleSets) {
  // Two independent particle sets in one call, different targets.
  torch::manual_seed(7);
  torch::Tensor init = torch::randn({2, 30, 1}, torch::kDouble);
  torch::Tensor centers =
      torch::tensor({-2.0, 2.0}, torch::kDouble).view({2, 1, 1});
  auto log_p = [&](const torch::Tensor& x) {
    return -0.5 * (x - centers).pow(2).sum(-1);
  };
  torch::Tensor x = RunSvgd(log_p, init, 1000, 0.1);
  EXPECT_NEAR(x[0].mean().item<double>(), -2.0, 0.1);
  EXPECT_NEAR(x[1].mean().item<double>(), 2.0, 0.1);
}

TEST(SvgdTest, AmortizedSamplerMatchesTargetMean) {
  // A tiny sampler a = f_theta(xi), xi ~ N(0, 1), trained with the amortised
  // SVGD surrogate towards N(1.5, 0.5^2).
  torch::manual_seed(123);
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(123);
  torch::nn::Sequential sampler = MakeMlp(1, {16}, 1, init, Activation::kTanh);
  torch::optim::Adam opt(sampler->parameters(),
                         torch::optim::AdamOptions(1e-2));
  auto log_p = [](const torch::Tensor& x) {
    return -(x - 1.5).pow(2).sum(-1) / (2 * 0.25);
  };
  for (int step = 0; step < 1200; ++step) {
    // A smaller step at the end, so the test reads the fit, not Adam's jitter.
    if (step == 800) {
      static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options())
          .lr(1e-3);
    }
    torch::Tensor samples = sampler->forward(torch::randn({128, 1}));
    // Split as soft Q-learning does: half for the kernel, half updated.
    torch::Tensor fixed = samples.slice(0, 0, 64).detach();
    torch::Tensor updated = samples.slice(0, 64, 128);
    torch::Tensor loss =
        AmortizedSvgdLoss(fixed, updated, GradLogDensity(log_p, fixed));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  torch::Tensor samples = sampler->forward(torch::randn({2000, 1}));
  EXPECT_NEAR(samples.mean().item<float>(), 1.5, 0.1);
  EXPECT_NEAR(samples.std().item<float>(), 0.5, 0.25);
}

TEST(SvgdTest, AmortizedLossGradientIsMinusPhiTimesJacobian) {
  // For samples y = theta (identity sampler) the gradient is exactly -phi.
  torch::manual_seed(5);
  torch::Tensor fixed = torch::randn({6, 2}, torch::kDouble);
  torch::Tensor theta = torch::randn({4, 2}, torch::kDouble).requires_grad_();
  torch::Tensor grad_log_p = -fixed;
  AmortizedSvgdLoss(fixed, theta, grad_log_p).backward();
  torch::Tensor phi = SvgdDirection(fixed, grad_log_p, theta);
  EXPECT_TRUE(torch::allclose(theta.grad(), -phi));
}

}  // namespace
}  // namespace nn
}  // namespace marl
