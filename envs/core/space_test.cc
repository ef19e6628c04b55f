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
