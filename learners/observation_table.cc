#include "learners/observation_table.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace marl {

absl::StatusOr<ObservationTable> ObservationTable::Create(int64_t width,
                                                          int64_t capacity) {
  if (width < 1 || capacity < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("an observation table needs rows of >= 1 float and a "
                     "capacity >= 1, got width ",
                     width, " and capacity ", capacity));
  }
  return ObservationTable(width, capacity);
}

std::string ObservationTable::Key(const float* row) const {
  std::string key(static_cast<size_t>(width_) * sizeof(float), '\0');
  for (int64_t i = 0; i < width_; ++i) {
    const float value = row[i] + 0.0f;  // -0 + 0 = +0
    std::memcpy(&key[static_cast<size_t>(i) * sizeof(float)], &value,
                sizeof(float));
  }
  return key;
}

absl::StatusOr<int64_t> ObservationTable::IndexOf(const float* row,
                                                  const std::string& who) {
  for (int64_t i = 0; i < width_; ++i) {
    if (!std::isfinite(row[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": observation element ", i, " is ", row[i],
                       "; a table needs finite observations"));
    }
  }
  std::string key = Key(row);
  if (auto it = index_.find(key); it != index_.end()) return it->second;
  if (size() >= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        who, ": more than ", capacity_,
        " distinct observations for a table (raise the table's capacity, or "
        "use a learner that generalises)"));
  }
  const int64_t index = size();
  index_.emplace(std::move(key), index);
  return index;
}

std::vector<double> ObservationTable::Rows() const {
  std::vector<double> rows(static_cast<size_t>(size() * width_));
  for (const auto& [key, index] : index_) {
    for (int64_t i = 0; i < width_; ++i) {
      float value;
      std::memcpy(&value, &key[static_cast<size_t>(i) * sizeof(float)],
                  sizeof(float));
      rows[static_cast<size_t>(index * width_ + i)] = value;
    }
  }
  return rows;
}

absl::Status ObservationTable::Restore(const std::vector<double>& rows) {
  const int64_t count = static_cast<int64_t>(rows.size());
  if (count % width_ != 0 || count / width_ > capacity_) {
    return absl::DataLossError(
        absl::StrCat("observation table of ", count, " values: not rows of ",
                     width_, " floats, or more than ", capacity_, " of them"));
  }
  ObservationTable restored(width_, capacity_);
  std::vector<float> row(static_cast<size_t>(width_));
  for (int64_t r = 0; r < count / width_; ++r) {
    for (int64_t i = 0; i < width_; ++i) {
      const double value = rows[static_cast<size_t>(r * width_ + i)];
      if (!std::isfinite(value) || static_cast<float>(value) != value) {
        return absl::DataLossError(absl::StrCat("observation table row ", r,
                                                ": element ", i, " (", value,
                                                ") is not a finite float"));
      }
      row[static_cast<size_t>(i)] = static_cast<float>(value);
    }
    if (!restored.index_.emplace(restored.Key(row.data()), r).second) {
      return absl::DataLossError(
          absl::StrCat("observation table row ", r, " repeats an earlier row"));
    }
  }
  index_ = std::move(restored.index_);
  return absl::OkStatus();
}

}  // namespace marl
