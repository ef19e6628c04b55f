#ifndef MARL_LEARNERS_OBSERVATION_TABLE_H_
#define MARL_LEARNERS_OBSERVATION_TABLE_H_

// Numbers the distinct observation rows a tabular learner meets, so a
// table can be indexed by observations that are not one Discrete value (a
// Box of one-hots, a card game's public history): row i is the i-th
// distinct row seen. A tabular learner over such observations is exact
// where they take finitely many values, and says so clearly where they do
// not (the table fills up). Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {

class ObservationTable {
 public:
  // Rows of `width` floats, at most `capacity` distinct ones (both >= 1;
  // checked by Create).
  static absl::StatusOr<ObservationTable> Create(int64_t width,
                                                 int64_t capacity);

  int64_t width() const { return width_; }
  int64_t capacity() const { return capacity_; }
  int64_t size() const { return static_cast<int64_t>(index_.size()); }

  // The index of `row` (width() floats), numbering it when new.
  // INVALID_ARGUMENT for a NaN or infinite element; RESOURCE_EXHAUSTED,
  // naming `who`, when a new row would exceed the capacity.
  absl::StatusOr<int64_t> IndexOf(const float* row, const std::string& who);

  // The rows in index order, as a learner state part (runtime/learner_state.h
  // is the caller's): size() x width() values.
  std::vector<double> Rows() const;
  // Replaces the table by `rows` (a multiple of width(), distinct, finite,
  // at most capacity() of them); DATA_LOSS otherwise, changing nothing.
  absl::Status Restore(const std::vector<double>& rows);

 private:
  ObservationTable(int64_t width, int64_t capacity)
      : width_(width), capacity_(capacity) {}
  // The row's bytes with -0 made +0 (equal observations, one key).
  std::string Key(const float* row) const;

  int64_t width_;
  int64_t capacity_;
  absl::flat_hash_map<std::string, int64_t> index_;
};

}  // namespace marl

#endif  // MARL_LEARNERS_OBSERVATION_TABLE_H_
