#include "envs/core/space.h"

#include <cmath>
#include <functional>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marl {

Space Space::Discrete(int64_t n) {
  Space space;
  space.kind = Kind::kDiscrete;
  space.n = n;
  return space;
}

Space Space::Box(std::vector<int64_t> shape, std::vector<float> low,
                 std::vector<float> high) {
  Space space;
  space.kind = Kind::kBox;
  space.shape = std::move(shape);
  const int64_t size = space.FlatSize();
  if (low.size() == 1) low.assign(size, low[0]);
  if (high.size() == 1) high.assign(size, high[0]);
  space.low = std::move(low);
  space.high = std::move(high);
  return space;
}

Space Space::MultiDiscrete(std::vector<int64_t> nvec) {
  Space space;
  space.kind = Kind::kMultiDiscrete;
  space.nvec = std::move(nvec);
  return space;
}

int64_t Space::FlatSize() const {
  switch (kind) {
    case Kind::kDiscrete:
      return 1;
    case Kind::kBox:
      return std::accumulate(shape.begin(), shape.end(), int64_t{1},
                             std::multiplies<int64_t>());
    case Kind::kMultiDiscrete:
      return static_cast<int64_t>(nvec.size());
  }
  return 0;
}

absl::Status Space::CheckInteger(const int64_t* values) const {
  if (kind == Kind::kDiscrete) {
    if (values[0] < 0 || values[0] >= n) {
      return absl::OutOfRangeError(
          absl::StrCat("discrete action ", values[0], " outside [0, ", n, ")"));
    }
    return absl::OkStatus();
  }
  if (kind == Kind::kMultiDiscrete) {
    for (size_t k = 0; k < nvec.size(); ++k) {
      if (values[k] < 0 || values[k] >= nvec[k]) {
        return absl::OutOfRangeError(
            absl::StrCat("multi-discrete element ", k, " = ", values[k],
                         " outside [0, ", nvec[k], ")"));
      }
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("box space takes float values");
}

absl::Status Space::CheckFloat(const float* values) const {
  if (kind != Kind::kBox) {
    return absl::InvalidArgumentError("discrete space takes integer values");
  }
  const int64_t size = FlatSize();
  for (int64_t k = 0; k < size; ++k) {
    // NaN fails both comparisons, so test for being inside.
    if (!(values[k] >= low[k] && values[k] <= high[k])) {
      return absl::OutOfRangeError(absl::StrCat("box element ", k, " = ",
                                                values[k], " outside [", low[k],
                                                ", ", high[k], "]"));
    }
  }
  return absl::OkStatus();
}

std::string Space::DebugString() const {
  switch (kind) {
    case Kind::kDiscrete:
      return absl::StrCat("Discrete(", n, ")");
    case Kind::kBox:
      return absl::StrCat("Box(shape=[", absl::StrJoin(shape, ","), "])");
    case Kind::kMultiDiscrete:
      return absl::StrCat("MultiDiscrete([", absl::StrJoin(nvec, ","), "])");
  }
  return "?";
}

bool operator==(const Space& a, const Space& b) {
  return a.kind == b.kind && a.n == b.n && a.shape == b.shape &&
         a.low == b.low && a.high == b.high && a.nvec == b.nvec;
}

}  // namespace marl
