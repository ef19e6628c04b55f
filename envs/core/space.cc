#include "envs/core/space.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/checked_size.h"

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
  if (size >= 0) {
    if (low.size() == 1) low.assign(size, low[0]);
    if (high.size() == 1) high.assign(size, high[0]);
  }
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
  // On the step path (CheckFloat): no status or message built here.
  if (kind == Kind::kDiscrete) return 1;
  if (kind == Kind::kMultiDiscrete) return static_cast<int64_t>(nvec.size());
  // As CheckedElementCount: negative is an error, a zero dimension makes 0.
  bool has_zero = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    has_zero = has_zero || d == 0;
  }
  if (has_zero) return 0;
  int64_t count = 1;
  for (int64_t d : shape) {
    if (!CheckedMul(count, d, &count)) return -1;
  }
  return count;
}

absl::StatusOr<int64_t> Space::CheckedFlatSize() const {
  switch (kind) {
    case Kind::kDiscrete:
      return 1;
    case Kind::kBox:
      // An empty shape is a scalar.
      return CheckedElementCount(shape, "Box",
                                 std::numeric_limits<int64_t>::max(),
                                 /*empty_is_scalar=*/true);
    case Kind::kMultiDiscrete:
      return static_cast<int64_t>(nvec.size());
  }
  return absl::InvalidArgumentError("unknown space kind");
}

absl::Status Space::Validate() const {
  switch (kind) {
    case Kind::kDiscrete:
      if (n < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("Discrete(", n, ") has no values"));
      }
      return absl::OkStatus();
    case Kind::kMultiDiscrete:
      if (nvec.empty()) {
        return absl::InvalidArgumentError("MultiDiscrete with empty nvec");
      }
      for (int64_t values : nvec) {
        if (values < 1) {
          return absl::InvalidArgumentError(
              absl::StrCat("MultiDiscrete element with ", values, " values"));
        }
      }
      return absl::OkStatus();
    case Kind::kBox: {
      for (int64_t d : shape) {
        if (d < 1) {
          return absl::InvalidArgumentError(
              absl::StrCat(DebugString(), " has an empty dimension"));
        }
      }
      absl::StatusOr<int64_t> size = CheckedFlatSize();
      if (!size.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(DebugString(), ": ", size.status().message()));
      }
      if (static_cast<int64_t>(low.size()) != *size ||
          static_cast<int64_t>(high.size()) != *size) {
        return absl::InvalidArgumentError(
            absl::StrCat(DebugString(), " has ", low.size(), " low and ",
                         high.size(), " high bounds for ", *size, " elements"));
      }
      for (int64_t k = 0; k < *size; ++k) {
        if (!(low[k] <= high[k])) {  // also catches NaN
          return absl::InvalidArgumentError(
              absl::StrCat(DebugString(), " element ", k, ": low ", low[k],
                           " > high ", high[k]));
        }
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("unknown space kind");
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
