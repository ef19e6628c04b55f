#include "learners/soft_math.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(SoftMathTest, SoftMaxMatchesHandComputed) {
  const double x[] = {0.0, 3.0};
  // log(e^0 + e^3) = 3.048587...
  EXPECT_NEAR(SoftMax(x, 2, 1.0), std::log(1.0 + std::exp(3.0)), 1e-12);
  // Temperature 2: 2 log(e^0 + e^1.5).
  EXPECT_NEAR(SoftMax(x, 2, 2.0), 2.0 * std::log(1.0 + std::exp(1.5)), 1e-12);
  // Low temperature: the hard maximum (no overflow).
  EXPECT_NEAR(SoftMax(x, 2, 1e-3), 3.0, 1e-9);
  const double big[] = {1000.0, 1000.0};
  EXPECT_NEAR(SoftMax(big, 2, 1.0), 1000.0 + std::log(2.0), 1e-9);
}

TEST(SoftMathTest, SoftMaxWithPrior) {
  const double x[] = {1.0, 2.0};
  const double prior[] = {0.25, 0.75};
  EXPECT_NEAR(SoftMaxWithPrior(x, prior, 2, 1.0),
              std::log(0.25 * std::exp(1.0) + 0.75 * std::exp(2.0)), 1e-12);
  // Uniform prior = SoftMax - T log n.
  const double uniform[] = {0.5, 0.5};
  EXPECT_NEAR(SoftMaxWithPrior(x, uniform, 2, 0.5),
              SoftMax(x, 2, 0.5) - 0.5 * std::log(2.0), 1e-12);
  // Zero-weight entries are skipped even when they are the largest.
  const double skip[] = {1.0, 0.0};
  EXPECT_NEAR(SoftMaxWithPrior(x, skip, 2, 1.0), 1.0, 1e-12);
  // High temperature under a prior: the prior's expectation.
  EXPECT_NEAR(SoftMaxWithPrior(x, prior, 2, 1e6), 0.25 * 1 + 0.75 * 2, 1e-5);
}

TEST(SoftMathTest, SoftmaxPolicy) {
  const double x[] = {0.0, std::log(3.0)};
  double p[2];
  SoftmaxPolicy(x, nullptr, nullptr, 2, 1.0, p);
  EXPECT_NEAR(p[0], 0.25, 1e-12);
  EXPECT_NEAR(p[1], 0.75, 1e-12);
  // Prior weights multiply: 0.75*1 vs 0.25*3 -> equal.
  const double prior[] = {0.75, 0.25};
  SoftmaxPolicy(x, prior, nullptr, 2, 1.0, p);
  EXPECT_NEAR(p[0], 0.5, 1e-12);
  const bool mask[] = {true, false};
  SoftmaxPolicy(x, nullptr, mask, 2, 1.0, p);
  EXPECT_EQ(p[0], 1.0);
  EXPECT_EQ(p[1], 0.0);
  const bool none[] = {false, false};
  SoftmaxPolicy(x, nullptr, none, 2, 1.0, p);
  EXPECT_EQ(p[0], 0.5);
}

TEST(SoftMathTest, SampleAndArgMax) {
  std::mt19937_64 rng(1);
  const double p[] = {0.0, 0.3, 0.7};
  std::vector<int> counts(3);
  for (int i = 0; i < 10000; ++i) ++counts[SampleIndex(p, 3, &rng)];
  EXPECT_EQ(counts[0], 0);
  EXPECT_NEAR(counts[1] / 10000.0, 0.3, 0.03);
  const double x[] = {1.0, 5.0, 5.0};
  EXPECT_EQ(ArgMax(x, nullptr, 3), 1);  // lowest index on ties
  const bool mask[] = {true, false, true};
  EXPECT_EQ(ArgMax(x, mask, 3), 2);
}

}  // namespace
}  // namespace marl
