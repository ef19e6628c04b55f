#include "envs/taxi/taxi_map.h"

#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marl {

absl::StatusOr<TaxiMap> TaxiMap::Parse(const std::string& text) {
  // Bounded before splitting: a setting can come from the wire.
  constexpr size_t kMaxText = kMaxSide * (kMaxSide + 1);
  if (text.size() > kMaxText) {
    return absl::InvalidArgumentError(
        absl::StrCat("map: ", text.size(), " characters; a ", kMaxSide, "x",
                     kMaxSide, " map has at most ", kMaxText));
  }
  const std::vector<std::string> rows = absl::StrSplit(text, '/');
  if (rows.size() > kMaxSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        "map: ", rows.size(), " rows; at most ", kMaxSide, " are allowed"));
  }
  TaxiMap map;
  map.height_ = static_cast<int>(rows.size());
  map.width_ = static_cast<int>(rows[0].size());
  if (map.width_ < 1 || map.width_ > kMaxSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("map: rows must be 1..", kMaxSide,
                     " characters long; the first has ", rows[0].size()));
  }
  map.road_.assign(map.num_cells(), false);
  for (int y = 0; y < map.height_; ++y) {
    if (static_cast<int>(rows[y].size()) != map.width_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "map: row ", y, " has ", rows[y].size(), " characters, row 0 has ",
          map.width_, " (rows are separated by '/')"));
    }
    for (int x = 0; x < map.width_; ++x) {
      const char c = rows[y][x];
      if (c == '#') continue;
      if (c != '.' && !(c >= 'A' && c <= 'Z')) {
        // Escaped: one byte of a multi-byte character is not UTF-8, and
        // the message travels in a protobuf string.
        return absl::InvalidArgumentError(absl::StrCat(
            "map: cell (", x, ", ", y, ") is '",
            absl::CHexEscape(std::string(1, c)),
            "'; use '#' (wall), '.' (road) or a capital letter (depot)"));
      }
      map.road_[map.Cell(x, y)] = true;
      if (c == '.') {
        map.start_cells_.push_back(map.Cell(x, y));
      } else if (map.DepotIndex(c) >= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("map: depot ", std::string(1, c),
                         " appears twice (again at (", x, ", ", y, "))"));
      } else {
        map.depot_letters_.push_back(c);
        map.depot_cells_.push_back(map.Cell(x, y));
      }
    }
  }
  if (map.depot_cells_.empty() || map.start_cells_.empty()) {
    return absl::InvalidArgumentError(
        "map: needs at least one depot (a capital letter) and one road cell "
        "('.') for the taxi to start on");
  }
  // Every road cell reachable from the first depot (breadth first).
  std::vector<bool> seen(map.num_cells(), false);
  std::vector<int> frontier = {map.depot_cells_[0]};
  seen[map.depot_cells_[0]] = true;
  for (size_t i = 0; i < frontier.size(); ++i) {
    const int x = frontier[i] % map.width_, y = frontier[i] / map.width_;
    for (const auto& [dx, dy] : {std::pair{1, 0}, std::pair{-1, 0},
                                 std::pair{0, 1}, std::pair{0, -1}}) {
      if (!map.IsRoad(x + dx, y + dy)) continue;
      const int next = map.Cell(x + dx, y + dy);
      if (!seen[next]) {
        seen[next] = true;
        frontier.push_back(next);
      }
    }
  }
  for (int cell = 0; cell < map.num_cells(); ++cell) {
    if (map.road_[cell] && !seen[cell]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "map: no road from depot ", std::string(1, map.depot_letters_[0]),
          " to cell (", cell % map.width_, ", ", cell / map.width_,
          "); every road cell and depot must be reachable from every other"));
    }
  }
  // Exact capacities: the memory estimate counts size() elements.
  map.depot_letters_.shrink_to_fit();
  map.depot_cells_.shrink_to_fit();
  map.start_cells_.shrink_to_fit();
  return map;
}

bool TaxiMap::IsRoad(int x, int y) const {
  return x >= 0 && x < width_ && y >= 0 && y < height_ && road_[Cell(x, y)];
}

int TaxiMap::DepotIndex(char letter) const {
  const size_t i = depot_letters_.find(letter);
  return i == std::string::npos ? -1 : static_cast<int>(i);
}

bool TaxiMap::TryMove(int64_t action, int* x, int* y) const {
  const int dx = action == 3 ? 1 : action == 4 ? -1 : 0;
  const int dy = action == 2 ? 1 : action == 1 ? -1 : 0;
  if (dx == 0 && dy == 0) return true;
  if (!IsRoad(*x + dx, *y + dy)) return false;
  *x += dx;
  *y += dy;
  return true;
}

void TaxiMap::AddBytes(ByteEstimate* estimate) const {
  estimate->AddArray((num_cells() + 63) / 64, 8)
      .AddStrings(1, static_cast<int64_t>(depot_letters_.size()))
      .AddArray(static_cast<int64_t>(depot_cells_.size()), sizeof(int))
      .AddArray(static_cast<int64_t>(start_cells_.size()), sizeof(int));
}

absl::Status ReadTaxiRewardsAndSteps(
    const Settings& settings,
    std::initializer_list<std::pair<const char*, float*>> rewards) {
  for (const auto& [name, field] : rewards) {
    const double value = settings.GetDouble(name);
    if (absl::Status s =
            CheckDoubleInRange(name, value, -kMaxTaxiReward, kMaxTaxiReward);
        !s.ok()) {
      return s;
    }
    *field = static_cast<float>(value);
  }
  return CheckIntInRange("max_steps", settings.GetInt("max_steps"), 1,
                         std::numeric_limits<int32_t>::max());
}

}  // namespace marl
