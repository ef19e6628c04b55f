#include "envs/core/random_draws.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(RandomDrawsTest, UniformIndexCoversItsRangeEvenly) {
  std::mt19937_64 rng(7);
  for (uint64_t n : {1u, 2u, 3u, 7u, 26u}) {
    std::vector<int> counts(n, 0);
    const int draws = 26000;
    for (int i = 0; i < draws; ++i) {
      const uint64_t k = UniformIndex(rng, n);
      ASSERT_LT(k, n);
      ++counts[k];
    }
    const double expected = static_cast<double>(draws) / n;
    for (uint64_t k = 0; k < n; ++k) {
      // Binomial spread: within 5 standard deviations.
      EXPECT_NEAR(counts[k], expected, 5 * std::sqrt(expected) + 1e-9)
          << "n " << n << " k " << k;
    }
  }
}

TEST(RandomDrawsTest, UniformIndexOfTheWholeRangeIsTheRawDraw) {
  // n = 2^63: the product's high word is the draw's top 63 bits.
  std::mt19937_64 a(3), b(3);
  const uint64_t n = uint64_t{1} << 63;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(UniformIndex(a, n), b() >> 1);
}

TEST(RandomDrawsTest, CoinFlipAndUniformDoubleFollowTheSeed) {
  std::mt19937_64 a(11), b(11);
  int heads = 0;
  for (int i = 0; i < 10000; ++i) {
    const int flip = CoinFlip(a);
    EXPECT_EQ(flip, static_cast<int>(b() >> 63));
    heads += flip;
    const double u = UniformDouble(a);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    b();
  }
  EXPECT_NEAR(heads, 5000, 250);
}

// Bernoulli(1/2) is the coin flip draw for draw; other probabilities hit
// their rate, and 0 and 1 are certain (each still takes one draw).
TEST(RandomDrawsTest, BernoulliTakesOneDrawAndHitsItsRate) {
  std::mt19937_64 a(13), b(13);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(Bernoulli(a, 0.5), CoinFlip(b) == 1);
  }
  for (double p : {0.0, 0.1, 0.75, 1.0, 1e-300}) {
    std::mt19937_64 rng(17), count(17);
    int hits = 0;
    const int draws = 20000;
    for (int i = 0; i < draws; ++i) hits += Bernoulli(rng, p);
    count.discard(draws);
    EXPECT_EQ(rng(), count()) << p;  // one draw each
    EXPECT_NEAR(hits, p * draws, 5 * std::sqrt(p * (1 - p) * draws) + 1e-9)
        << p;
  }
}

}  // namespace
}  // namespace marl
