#include "envs/core/checked_size.h"

#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(CheckedSizeTest, MulAndAddRefuseOverflowAndNegatives) {
  int64_t out = 0;
  EXPECT_TRUE(CheckedMul(int64_t{1} << 31, int64_t{1} << 31, &out));
  EXPECT_EQ(out, int64_t{1} << 62);
  EXPECT_FALSE(CheckedMul(int64_t{1} << 32, int64_t{1} << 32, &out));
  EXPECT_FALSE(CheckedMul((int64_t{1} << 62) + 1, 4, &out));
  EXPECT_FALSE(CheckedMul(-1, 4, &out));
  EXPECT_TRUE(CheckedAdd(kMax - 1, 1, &out));
  EXPECT_EQ(out, kMax);
  EXPECT_FALSE(CheckedAdd(kMax, 1, &out));
  EXPECT_FALSE(CheckedAdd(-1, 1, &out));
}

TEST(CheckedSizeTest, ElementCounts) {
  EXPECT_EQ(*CheckedElementCount(std::vector<int64_t>{3, 4}, "x"), 12);
  EXPECT_EQ(*CheckedElementCount({}, "x"), 0);
  EXPECT_EQ(*CheckedElementCount({}, "x", kMax, /*empty_is_scalar=*/true), 1);
  EXPECT_EQ(*CheckedElementCount(std::vector<int64_t>{5, 0}, "x"), 0);
  // Zero whatever the order: the product never leaves int64.
  const int64_t huge = int64_t{1} << 62;
  EXPECT_EQ(*CheckedElementCount(std::vector<int64_t>{huge, huge, 0}, "x", 0),
            0);
  EXPECT_EQ(*CheckedElementCount(std::vector<int64_t>{0, huge, huge}, "x", 0),
            0);
  // The shapes of issue 9, whose products wrap to 0 and to 4.
  const int64_t big = int64_t{1} << 32;
  EXPECT_EQ(
      CheckedElementCount(std::vector<int64_t>{big, big}, "x").status().code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      CheckedElementCount(std::vector<int64_t>{(int64_t{1} << 62) + 1, 4}, "x")
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      CheckedElementCount(std::vector<int64_t>{2, -3}, "x").status().code(),
      absl::StatusCode::kInvalidArgument);
  // A limit below INT64_MAX.
  EXPECT_TRUE(CheckedElementCount(std::vector<int64_t>{2, 2}, "x", 4).ok());
  EXPECT_EQ(
      CheckedElementCount(std::vector<int64_t>{2, 3}, "x", 4).status().code(),
      absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace marl
