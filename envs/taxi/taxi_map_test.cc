#include "envs/taxi/taxi_map.h"

#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(TaxiMapTest, TheDefaultMapHasThePapersDepotsAndStartCells) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse(TaxiMap::kDefault);
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->width(), 8);
  EXPECT_EQ(map->height(), 8);
  EXPECT_EQ(map->depot_letters(), "RGYB");            // reading order
  EXPECT_EQ(map->depot_cells()[0], map->Cell(1, 1));  // R
  EXPECT_EQ(map->depot_cells()[1], map->Cell(6, 1));  // G
  EXPECT_EQ(map->depot_cells()[2], map->Cell(1, 6));  // Y
  EXPECT_EQ(map->depot_cells()[3], map->Cell(5, 6));  // B
  EXPECT_EQ(map->start_cells().size(), 26u);
  EXPECT_EQ(map->DepotIndex('B'), 3);
  EXPECT_EQ(map->DepotIndex('Q'), -1);
  // Walls are blocked cells: the inner wall at (3, 1), the border, off-map.
  EXPECT_FALSE(map->IsRoad(3, 1));
  EXPECT_FALSE(map->IsRoad(0, 4));
  EXPECT_FALSE(map->IsRoad(-1, 4));
  EXPECT_FALSE(map->IsRoad(8, 4));
  EXPECT_TRUE(map->IsRoad(2, 1));
  EXPECT_TRUE(map->IsRoad(1, 1));  // a depot is road
}

TEST(TaxiMapTest, ABorderIsNotNeeded) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse("A..B");
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->height(), 1);
  EXPECT_EQ(map->start_cells().size(), 2u);
}

void ExpectRejected(const std::string& text, const std::string& words) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse(text);
  ASSERT_FALSE(map.ok()) << text;
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(map.status().message().find(words), std::string::npos)
      << map.status();
}

TEST(TaxiMapTest, BadMapsAreRefusedWithTheReason) {
  ExpectRejected("", "rows must be");
  ExpectRejected("A..B/A.", "row 1 has 2 characters");
  ExpectRejected("A.x.B", "cell (2, 0) is 'x'");
  // A byte of a multi-byte character is escaped: messages stay UTF-8.
  ExpectRejected("A.\xc3\xa9.B", "cell (2, 0) is '\\xc3'");
  ExpectRejected("A..A", "depot A appears twice");
  ExpectRejected("....", "at least one depot");
  ExpectRejected("AB", "at least one depot");  // no start cell
  // A wall cuts the road between the depots.
  ExpectRejected("A.#.B", "no road from depot A to cell (3, 0)");
  ExpectRejected("A.#/###/..B", "no road from depot A");
  ExpectRejected(std::string(65, '.') + "A", "rows must be 1..64");
  std::string tall = "A";
  for (int i = 0; i < 64; ++i) tall += "/.";
  ExpectRejected(tall, "65 rows");
  ExpectRejected(std::string(100000, '.'), "characters");
}

}  // namespace
}  // namespace marl
