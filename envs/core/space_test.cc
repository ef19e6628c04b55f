#include "envs/core/space.h"

#include <cmath>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(SpaceTest, FlatSizes) {
  EXPECT_EQ(Space::Discrete(4).FlatSize(), 1);
  EXPECT_EQ(Space::Box({2, 3}, {0.f}, {1.f}).FlatSize(), 6);
  EXPECT_EQ(Space::MultiDiscrete({2, 5, 3}).FlatSize(), 3);
}

TEST(SpaceTest, BoundsBroadcastAndCheck) {
  Space box = Space::Box({2}, {-1.f}, {1.f});
  EXPECT_EQ(box.low, (std::vector<float>{-1.f, -1.f}));
  const float inside[] = {-1.f, 1.f};
  const float outside[] = {0.f, 1.01f};
  const float nan[] = {NAN, 0.f};
  EXPECT_TRUE(box.CheckFloat(inside).ok());
  EXPECT_EQ(box.CheckFloat(outside).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(box.CheckFloat(nan).code(), absl::StatusCode::kOutOfRange);
  const int64_t one = 1;
  EXPECT_FALSE(box.CheckInteger(&one).ok());
}

TEST(SpaceTest, HugeShapesHaveNoFlatSize) {
  const int64_t big = int64_t{1} << 32;
  Space wraps;  // built by hand: Box() would broadcast the bounds
  wraps.kind = Space::Kind::kBox;
  wraps.shape = {big, big};
  EXPECT_EQ(wraps.FlatSize(), -1);
  EXPECT_EQ(wraps.CheckedFlatSize().status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(wraps.Validate().code(), absl::StatusCode::kInvalidArgument);
  // 2^62 + 1 times 4 wraps to 4 in int64 arithmetic.
  Space wraps_to_four = wraps;
  wraps_to_four.shape = {(int64_t{1} << 62) + 1, 4};
  wraps_to_four.low.assign(4, 0.f);
  wraps_to_four.high.assign(4, 1.f);
  EXPECT_EQ(wraps_to_four.FlatSize(), -1);
  EXPECT_FALSE(wraps_to_four.Validate().ok());
  // Box() does not try to broadcast a bound over an unrepresentable shape.
  Space built = Space::Box({big, big}, {0.f}, {1.f});
  EXPECT_EQ(built.low.size(), 1u);
  EXPECT_FALSE(built.Validate().ok());
  // A zero dimension makes 0 elements whatever the order.
  Space zero = wraps;
  zero.shape = {big, big, 0};
  EXPECT_EQ(zero.FlatSize(), 0);
  EXPECT_EQ(*zero.CheckedFlatSize(), 0);
  EXPECT_FALSE(zero.Validate().ok());  // an empty dimension
  Space negative = Space::Box({-2, -3}, {0.f}, {1.f});
  EXPECT_EQ(negative.FlatSize(), -1);
  EXPECT_EQ(negative.CheckedFlatSize().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(negative.Validate().ok());
}

TEST(SpaceTest, ValidateAcceptsWellFormedSpaces) {
  for (const Space& space : {Space::Discrete(1), Space::Box({}, {0.f}, {0.f}),
                             Space::Box({2, 3}, {-INFINITY}, {INFINITY}),
                             Space::MultiDiscrete({1, 4})}) {
    EXPECT_TRUE(space.Validate().ok()) << space.DebugString();
  }
  EXPECT_EQ(Space::Box({}, {0.f}, {0.f}).FlatSize(), 1);  // a scalar
}

TEST(SpaceTest, ValidateRejectsMalformedSpaces) {
  Space bad_bounds = Space::Box({2}, {0.f, 0.f}, {1.f, 1.f});
  bad_bounds.high.pop_back();
  Space inverted = Space::Box({1}, {1.f}, {0.f});
  Space nan_bound = Space::Box({1}, {NAN}, {0.f});
  for (const Space& space :
       {Space::Discrete(0), Space::Discrete(-5), Space::Box({0}, {}, {}),
        bad_bounds, inverted, nan_bound, Space::MultiDiscrete({}),
        Space::MultiDiscrete({3, 0})}) {
    EXPECT_EQ(space.Validate().code(), absl::StatusCode::kInvalidArgument)
        << space.DebugString();
  }
}

TEST(SpaceTest, DiscreteChecks) {
  Space discrete = Space::Discrete(3);
  const int64_t ok = 2, high = 3, negative = -1;
  EXPECT_TRUE(discrete.CheckInteger(&ok).ok());
  EXPECT_FALSE(discrete.CheckInteger(&high).ok());
  EXPECT_FALSE(discrete.CheckInteger(&negative).ok());
  Space multi = Space::MultiDiscrete({2, 3});
  const int64_t good[] = {1, 2}, bad[] = {2, 0};
  EXPECT_TRUE(multi.CheckInteger(good).ok());
  EXPECT_FALSE(multi.CheckInteger(bad).ok());
}

}  // namespace
}  // namespace marl
