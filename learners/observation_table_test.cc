#include "learners/observation_table.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(ObservationTableTest, NumbersDistinctRowsInOrderOfFirstSight) {
  absl::StatusOr<ObservationTable> table = ObservationTable::Create(3, 10);
  ASSERT_TRUE(table.ok()) << table.status();
  const float a[] = {1, 0, 0.5f}, b[] = {0, 1, 0.5f}, a_again[] = {1, 0, 0.5f};
  EXPECT_EQ(*table->IndexOf(a, "p"), 0);
  EXPECT_EQ(*table->IndexOf(b, "p"), 1);
  EXPECT_EQ(*table->IndexOf(a_again, "p"), 0);
  EXPECT_EQ(table->size(), 2);
  // -0 is the same observation as +0.
  const float b_negative_zero[] = {-0.0f, 1, 0.5f};
  EXPECT_EQ(*table->IndexOf(b_negative_zero, "p"), 1);
}

TEST(ObservationTableTest, RefusesNonFiniteRowsAndAFullTable) {
  absl::StatusOr<ObservationTable> table = ObservationTable::Create(2, 2);
  ASSERT_TRUE(table.ok());
  const float nan_row[] = {0, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EQ(table->IndexOf(nan_row, "p").status().code(),
            absl::StatusCode::kInvalidArgument);
  const float r0[] = {0, 0}, r1[] = {0, 1}, r2[] = {1, 1};
  ASSERT_TRUE(table->IndexOf(r0, "p").ok());
  ASSERT_TRUE(table->IndexOf(r1, "p").ok());
  absl::StatusOr<int64_t> full = table->IndexOf(r2, "player_1");
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("player_1"), std::string::npos);
  EXPECT_EQ(*table->IndexOf(r1, "p"), 1);  // known rows still answer
  EXPECT_FALSE(ObservationTable::Create(0, 2).ok());
  EXPECT_FALSE(ObservationTable::Create(2, 0).ok());
}

TEST(ObservationTableTest, RowsRoundTripAndBadRowsChangeNothing) {
  absl::StatusOr<ObservationTable> table = ObservationTable::Create(2, 4);
  ASSERT_TRUE(table.ok());
  const float r0[] = {0.25f, 3}, r1[] = {-1, 7};
  ASSERT_TRUE(table->IndexOf(r0, "p").ok());
  ASSERT_TRUE(table->IndexOf(r1, "p").ok());
  const std::vector<double> rows = table->Rows();
  EXPECT_EQ(rows, (std::vector<double>{0.25, 3, -1, 7}));

  absl::StatusOr<ObservationTable> copy = ObservationTable::Create(2, 4);
  ASSERT_TRUE(copy->Restore(rows).ok());
  EXPECT_EQ(*copy->IndexOf(r1, "p"), 1);
  EXPECT_EQ(*copy->IndexOf(r0, "p"), 0);

  // Ragged, repeated, non-float and too many rows are refused whole.
  EXPECT_EQ(copy->Restore({1, 2, 3}).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(copy->Restore({1, 2, 1, 2}).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(copy->Restore({0.1, 2}).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(copy->Restore({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(copy->size(), 2);
  EXPECT_EQ(*copy->IndexOf(r1, "p"), 1);
}

}  // namespace
}  // namespace marl
