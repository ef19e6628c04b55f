#ifndef MARL_PROTOCOL_PROTOCOL_ARRAYS_H_
#define MARL_PROTOCOL_PROTOCOL_ARRAYS_H_

// The protocol's arrays (TimeStep, AgentActions) are `bytes` fields holding
// little-endian values: float32, int32, int64, or one byte 0/1 per bool
// (docs/PROTOCOL.md, "Arrays"). These read and write them whole.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace marl {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the protocol's arrays are little-endian: add byte swapping "
              "to protocol/protocol_arrays.h for this host");

// Sizes `bytes` for `n` values of T and returns where to write them.
template <typename T>
T* ResizeArray(std::string* bytes, int64_t n) {
  static_assert(std::is_trivially_copyable_v<T>);
  bytes->resize(static_cast<size_t>(n) * sizeof(T));
  return reinterpret_cast<T*>(bytes->data());
}

template <typename T>
void SetArray(absl::Span<const T> values, std::string* bytes) {
  static_assert(std::is_trivially_copyable_v<T>);
  bytes->assign(reinterpret_cast<const char*>(values.data()),
                values.size() * sizeof(T));
}

// Whole values of T in `bytes`; an INVALID_ARGUMENT naming `what` when its
// length is not a multiple of sizeof(T). `what` is text, or a callable
// returning it (built only on error: the hot path formats nothing).
template <typename T, typename What>
absl::StatusOr<int64_t> ArrayLength(const std::string& bytes,
                                    const What& what) {
  if (bytes.size() % sizeof(T) != 0) {
    std::string name;
    if constexpr (std::is_invocable_v<What>) {
      name = what();
    } else {
      name = std::string(what);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", bytes.size(), " bytes is not a whole number ",
                     "of ", sizeof(T), "-byte values"));
  }
  return static_cast<int64_t>(bytes.size() / sizeof(T));
}

// The values of `bytes` as T, in place when the data is aligned for T (as
// protobuf's string storage is), else copied into `scratch`. Checks the
// length first (see ArrayLength).
template <typename T, typename What>
absl::StatusOr<absl::Span<const T>> ArrayView(const std::string& bytes,
                                              const What& what,
                                              std::vector<T>* scratch) {
  absl::StatusOr<int64_t> n = ArrayLength<T>(bytes, what);
  if (!n.ok()) return n.status();
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(T) == 0) {
    return absl::MakeConstSpan(reinterpret_cast<const T*>(bytes.data()), *n);
  }
  scratch->resize(*n);
  std::memcpy(scratch->data(), bytes.data(), bytes.size());
  return absl::MakeConstSpan(*scratch);
}

// A copy of the values (for readers that keep them); a trailing partial
// value is dropped (readers that must refuse it check ArrayLength).
template <typename T>
std::vector<T> ArrayToVector(const std::string& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) {
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  }
  return values;
}

// One value (index in range: the caller checked the length).
template <typename T>
T ArrayAt(const std::string& bytes, int64_t index) {
  T value;
  std::memcpy(&value, bytes.data() + index * sizeof(T), sizeof(T));
  return value;
}

// The rows of a TimeStep that have final observations (protocol version 3
// does not send them), from its `terminated` and `truncated` arrays: under
// auto-reset (SAME_STEP) the rows with either byte set, in row order; none
// under NONE. Into `rows`, cleared first; a row past either array is not
// ended.
inline void FinalRows(const std::string& terminated,
                      const std::string& truncated, bool auto_reset,
                      std::vector<int32_t>* rows) {
  rows->clear();
  if (!auto_reset) return;
  const size_t n = std::min<size_t>(
      std::max(terminated.size(), truncated.size()), INT32_MAX);
  for (size_t row = 0; row < n; ++row) {
    if ((row < terminated.size() && terminated[row] != 0) ||
        (row < truncated.size() && truncated[row] != 0)) {
      rows->push_back(static_cast<int32_t>(row));
    }
  }
}

}  // namespace marl

#endif  // MARL_PROTOCOL_PROTOCOL_ARRAYS_H_
