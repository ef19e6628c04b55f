#include "nn/stacked_mlp.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "nn/mlp.h"
#include "nn/q_network.h"

namespace marl {
namespace nn {
namespace {

StackedMlpOptions Options(int64_t groups) {
  StackedMlpOptions options;
  options.groups = groups;
  options.in = 3;
  options.hidden = {5, 4};
  options.out = 2;
  return options;
}

// Network g of `stacked` as an nn::MakeMlp with the same weights.
torch::nn::Sequential Unstacked(StackedMlp& stacked, int64_t g) {
  const StackedMlpOptions& o = stacked->options();
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::nn::Sequential mlp =
      MakeMlp(o.in, o.hidden, o.out, init, o.activation);
  torch::NoGradGuard no_grad;
  int64_t layer = 0;
  for (auto& module : mlp->children()) {
    auto* linear = module->as<torch::nn::Linear>();
    if (linear == nullptr) continue;
    linear->weight.copy_(stacked->weight(layer)[g].t());
    linear->bias.copy_(stacked->bias(layer)[g][0]);
    ++layer;
  }
  EXPECT_EQ(layer, stacked->num_layers());
  return mlp;
}

TEST(StackedMlpTest, EachNetworkComputesWhatItsOwnMlpWould) {
  for (Activation activation : {Activation::kRelu, Activation::kTanh}) {
    StackedMlpOptions options = Options(3);
    options.activation = activation;
    StackedMlp stacked(options);
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(7);
    stacked->Initialize(generator);
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({3, 6, 3});
    const torch::Tensor y = stacked->forward(x);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{3, 6, 2}));
    // Gradients too: the sum over networks of each one's loss gives each
    // network the gradient of its own loss.
    (y * y).sum().backward();
    for (int64_t g = 0; g < 3; ++g) {
      SCOPED_TRACE(g);
      torch::nn::Sequential mlp = Unstacked(stacked, g);
      const torch::Tensor own = mlp->forward(x[g]);
      EXPECT_TRUE(torch::allclose(y[g], own, 1e-6, 1e-6));
      EXPECT_TRUE(
          torch::allclose(stacked->ForwardOne(g, x[g]), own, 1e-6, 1e-6));
      (own * own).sum().backward();
      int64_t layer = 0;
      for (auto& module : mlp->children()) {
        auto* linear = module->as<torch::nn::Linear>();
        if (linear == nullptr) continue;
        EXPECT_TRUE(torch::allclose(stacked->weight(layer).grad()[g],
                                    linear->weight.grad().t(), 1e-5, 1e-6));
        EXPECT_TRUE(torch::allclose(stacked->bias(layer).grad()[g][0],
                                    linear->bias.grad(), 1e-5, 1e-6));
        ++layer;
      }
    }
  }
}

TEST(StackedMlpTest, InitializationIsLinearsDefaultFromTheGivenGenerator) {
  StackedMlp a(Options(2)), b(Options(2)), c(Options(2));
  at::Generator g7 = at::make_generator<at::CPUGeneratorImpl>(7);
  at::Generator g7_again = at::make_generator<at::CPUGeneratorImpl>(7);
  at::Generator g8 = at::make_generator<at::CPUGeneratorImpl>(8);
  torch::manual_seed(0);
  a->Initialize(g7);
  torch::manual_seed(123);  // the global generator plays no part
  b->Initialize(g7_again);
  c->Initialize(g8);
  for (int64_t l = 0; l < a->num_layers(); ++l) {
    SCOPED_TRACE(l);
    EXPECT_TRUE(torch::equal(a->weight(l), b->weight(l)));
    EXPECT_TRUE(torch::equal(a->bias(l), b->bias(l)));
    EXPECT_FALSE(torch::equal(a->weight(l), c->weight(l)));
    // The two networks differ, and stay within U(-1/sqrt(in), 1/sqrt(in)).
    EXPECT_FALSE(torch::equal(a->weight(l)[0], a->weight(l)[1]));
    const double bound = 1.0 / std::sqrt(double(a->weight(l).size(1)));
    EXPECT_LE(a->weight(l).abs().max().item<double>(), bound);
    EXPECT_LE(a->bias(l).abs().max().item<double>(), bound);
    EXPECT_GT(a->weight(l).abs().max().item<double>(), 0.5 * bound);
  }
}

TEST(StackedMlpTest, ATargetCopyIsDeepAndFrozen) {
  StackedMlp source(Options(2));
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(3);
  source->Initialize(generator);
  StackedMlp target = CloneTarget(source);
  EXPECT_TRUE(torch::equal(target->weight(0), source->weight(0)));
  {
    torch::NoGradGuard no_grad;
    source->weight(0).add_(1.0);
  }
  EXPECT_FALSE(torch::equal(target->weight(0), source->weight(0)));
  for (const torch::Tensor& p : target->parameters()) {
    EXPECT_FALSE(p.requires_grad());
  }
  PolyakUpdate(*target, *source, 1.0);
  EXPECT_TRUE(torch::equal(target->weight(0), source->weight(0)));
}

}  // namespace
}  // namespace nn
}  // namespace marl
