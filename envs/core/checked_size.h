#ifndef MARL_ENVS_CORE_CHECKED_SIZE_H_
#define MARL_ENVS_CORE_CHECKED_SIZE_H_

// Overflow-safe size arithmetic for everything that comes from the wire or
// the command line: a shape whose product wraps must be refused, never used.

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace marl {

// *out = a * b (a + b below); false when an operand is negative or the
// result leaves int64.
inline bool CheckedMul(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  return !__builtin_mul_overflow(a, b, out);
}

inline bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  return !__builtin_add_overflow(a, b, out);
}

// The number of elements of `shape` (1 for an empty shape when
// `empty_is_scalar`, else 0), at most `limit`; INVALID_ARGUMENT for a
// negative dimension, RESOURCE_EXHAUSTED past `limit` (or INT64_MAX).
inline absl::StatusOr<int64_t> CheckedElementCount(
    absl::Span<const int64_t> shape, const std::string& what,
    int64_t limit = std::numeric_limits<int64_t>::max(),
    bool empty_is_scalar = false) {
  if (shape.empty()) return empty_is_scalar ? 1 : 0;
  // A zero dimension anywhere makes the count 0, whatever the others: the
  // answer must not depend on the order of the dimensions.
  bool has_zero = false;
  for (int64_t dim : shape) {
    if (dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": negative dimension ", dim));
    }
    has_zero = has_zero || dim == 0;
  }
  if (has_zero) return 0;
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (!CheckedMul(count, dim, &count) || count > limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat(what, ": shape has more than ", limit, " elements"));
    }
  }
  return count;
}

}  // namespace marl

#endif  // MARL_ENVS_CORE_CHECKED_SIZE_H_
