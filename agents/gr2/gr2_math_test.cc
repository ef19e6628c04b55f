#include "agents/gr2/gr2_math.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace gr2 {
namespace {

TEST(PoissonLevelWeights, MeanOnePointFiveLevelsZeroToThree) {
  // lambda^j / j! = 1, 1.5, 1.125, 0.5625; sum 4.1875.
  absl::StatusOr<std::vector<double>> w = PoissonLevelWeights(1.5, 3);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->size(), 4u);
  EXPECT_NEAR((*w)[0], 1.0 / 4.1875, 1e-12);
  EXPECT_NEAR((*w)[1], 1.5 / 4.1875, 1e-12);
  EXPECT_NEAR((*w)[2], 1.125 / 4.1875, 1e-12);
  EXPECT_NEAR((*w)[3], 0.5625 / 4.1875, 1e-12);
  EXPECT_NEAR((*w)[0], 0.238806, 1e-6);
  EXPECT_NEAR((*w)[3], 0.134328, 1e-6);
}

TEST(PoissonLevelWeights, MatchesNormalisedPmf) {
  const double lambda = 2.3;
  absl::StatusOr<std::vector<double>> w = PoissonLevelWeights(lambda, 5);
  ASSERT_TRUE(w.ok());
  double z = 0;
  std::vector<double> pmf;
  for (int j = 0; j <= 5; ++j) {
    pmf.push_back(std::exp(-lambda) * std::pow(lambda, j) / std::tgamma(j + 1));
    z += pmf.back();
  }
  double sum = 0;
  for (int j = 0; j <= 5; ++j) {
    EXPECT_NEAR((*w)[j], pmf[j] / z, 1e-12);
    sum += (*w)[j];
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(PoissonLevelWeights, LevelZeroOnlyIsOne) {
  absl::StatusOr<std::vector<double>> w = PoissonLevelWeights(1.5, 0);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, std::vector<double>{1.0});
}

TEST(PoissonLevelWeights, RejectsBadArguments) {
  EXPECT_FALSE(PoissonLevelWeights(1.5, -1).ok());
  EXPECT_FALSE(PoissonLevelWeights(0.0, 2).ok());
  EXPECT_FALSE(PoissonLevelWeights(NAN, 2).ok());
}

TEST(RollOutLevels, ContractionGivesPowersOfP) {
  // BR(x) = p * x for both sides, same level-0 action: level k = p^k x0.
  const double p = 0.7, x0 = 50.0;
  auto br = [p](double x) { return p * x; };
  LevelRollout<double> r = RollOutLevels(4, x0, x0, br, br);
  ASSERT_EQ(r.self.size(), 5u);
  ASSERT_EQ(r.opponent.size(), 5u);
  for (int k = 0; k <= 4; ++k) {
    EXPECT_NEAR(r.self[k], std::pow(p, k) * x0, 1e-9) << "level " << k;
  }
}

TEST(RollOutLevels, OrderAlternatesBetweenSides) {
  // Non-commuting, labelled best responses expose the order: level k of
  // self ends in BR_self, reads the opponents' level k-1, which read self's
  // level k-2, ... down to self0 (k even) or opp0 (k odd).
  auto br_self = [](std::string x) { return "S(" + x + ")"; };
  auto br_opp = [](std::string x) { return "O(" + x + ")"; };
  LevelRollout<std::string> r =
      RollOutLevels(3, std::string("s0"), std::string("o0"), br_self, br_opp);
  EXPECT_EQ(r.self[0], "s0");
  EXPECT_EQ(r.self[1], "S(o0)");
  EXPECT_EQ(r.self[2], "S(O(s0))");
  EXPECT_EQ(r.self[3], "S(O(S(o0)))");
  EXPECT_EQ(r.opponent[1], "O(s0)");
  EXPECT_EQ(r.opponent[2], "O(S(o0))");

  // Numerically: BR_self(x) = x + 1, BR_opp(x) = 2x, self0 = 3, opp0 = 10.
  LevelRollout<double> n = RollOutLevels(
      2, 3.0, 10.0, [](double x) { return x + 1; },
      [](double x) { return 2 * x; });
  EXPECT_DOUBLE_EQ(n.self[1], 11.0);  // BR_self(opp0)
  EXPECT_DOUBLE_EQ(n.self[2], 7.0);   // BR_self(BR_opp(3)) = 2*3 + 1
}

TEST(RollOutLevels, LevelZeroIsTheBase) {
  int calls = 0;
  auto br = [&calls](double x) {
    ++calls;
    return x;
  };
  LevelRollout<double> r = RollOutLevels(0, 1.0, 2.0, br, br);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(r.self, std::vector<double>{1.0});
}

TEST(DominanceHinge, ZeroWhenLevelKDominates) {
  EXPECT_EQ(DominanceHinge(2.0, 1.0), 0.0);
  EXPECT_EQ(DominanceHinge(1.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(DominanceHinge(0.5, 2.0), 1.5);
}

}  // namespace
}  // namespace gr2
}  // namespace marl
