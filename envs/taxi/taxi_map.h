#ifndef MARL_ENVS_TAXI_TAXI_MAP_H_
#define MARL_ENVS_TAXI_TAXI_MAP_H_

// The grid of the taxi environments: a map written as rows of text, parsed
// and checked once. Coordinates (x, y): x to the right, y downward, (0, 0)
// the first character of the first row.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/settings.h"

namespace marl {

class TaxiMap {
 public:
  // The 8x8 map of Multitask Soft Option Learning (EXPERIMENTS.md §6):
  // depots R (1,1), G (6,1), Y (1,6), B (5,6), 26 other road cells.
  static constexpr char kDefault[] =
      "########/#R.#..G#/#..#...#/#......#/#......#/#.#.#..#/#Y#.#B.#/"
      "########";
  static constexpr int kMaxSide = 64;

  // Rows separated by '/'; '#' a wall, '.' a road, a capital letter a depot
  // (a road cell with a name; each letter at most once). INVALID_ARGUMENT,
  // naming the row or cell, unless the rows are 1..kMaxSide of equal length
  // 1..kMaxSide, every character is one of those, there is at least one
  // depot and one road cell that is not a depot, and every road cell can
  // reach every other (4-neighbour moves, walls and the map's edge block).
  static absl::StatusOr<TaxiMap> Parse(const std::string& text);

  int width() const { return width_; }
  int height() const { return height_; }
  int num_cells() const { return width_ * height_; }
  // Row-major cell index y * width + x.
  int Cell(int x, int y) const { return y * width_ + x; }
  // False for walls and for positions off the map.
  bool IsRoad(int x, int y) const;
  // The depots' letters in reading order (row by row, left to right) and
  // their cells.
  const std::string& depot_letters() const { return depot_letters_; }
  const std::vector<int>& depot_cells() const { return depot_cells_; }
  // The index of `letter` in depot_letters(), or -1.
  int DepotIndex(char letter) const;
  // Road cells that are not depots, in reading order: where a taxi starts.
  const std::vector<int>& start_cells() const { return start_cells_; }

  // The moves both taxi environments share: action 1 up (y - 1), 2 down
  // (y + 1), 3 right (x + 1), 4 left (x - 1). Moves (x, y) one cell unless
  // a wall or the map's edge blocks it; false for a blocked move (other
  // actions stay and return true).
  bool TryMove(int64_t action, int* x, int* y) const;

  // Adds what a copy's map holds (road bits, depot letters and cells,
  // start cells) to an environment's copy estimate.
  void AddBytes(ByteEstimate* estimate) const;

 private:
  int width_ = 0, height_ = 0;
  std::vector<bool> road_;  // per cell
  std::string depot_letters_;
  std::vector<int> depot_cells_;
  std::vector<int> start_cells_;
};

// The settings both taxi environments check alike: each reward of
// `rewards` (setting name, where its value goes) within +-kMaxTaxiReward,
// and max_steps in [1, 2^31 - 1]. INVALID_ARGUMENT naming the setting.
inline constexpr double kMaxTaxiReward = 1e6;
absl::Status ReadTaxiRewardsAndSteps(
    const Settings& settings,
    std::initializer_list<std::pair<const char*, float*>> rewards);

}  // namespace marl

#endif  // MARL_ENVS_TAXI_TAXI_MAP_H_
