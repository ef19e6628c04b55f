#include "runtime/observation_encoder.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace marl {

absl::StatusOr<int64_t> DiscreteIndex(float value, int64_t n,
                                      const std::string& agent) {
  const int64_t index = std::llround(value);
  if (!(std::fabs(value - static_cast<float>(index)) < 1e-3f) || index < 0 ||
      index >= n) {
    return absl::OutOfRangeError(
        absl::StrCat("agent ", agent, " got observation ", value,
                     ", not an index of its Discrete(", n, ") space"));
  }
  return index;
}

ObservationEncoder::ObservationEncoder(std::string agent, const Space& space)
    : agent_(std::move(agent)),
      space_(space),
      raw_size_(space.FlatSize()),
      size_(space.is_discrete() ? space.n : space.FlatSize()) {}

absl::Status ObservationEncoder::Encode(const float* raw, int64_t n,
                                        float* out) const {
  if (!space_.is_discrete()) {
    std::copy(raw, raw + n * raw_size_, out);
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < n; ++i) {
    absl::StatusOr<int64_t> index = DiscreteIndex(raw[i], space_.n, agent_);
    if (!index.ok()) return index.status();
    float* row = out + i * size_;
    std::fill(row, row + size_, 0.0f);
    row[*index] = 1.0f;
  }
  return absl::OkStatus();
}

absl::Status ObservationEncoder::Encode(const float* raw, int64_t n,
                                        std::vector<float>* out) const {
  out->resize(static_cast<size_t>(n * size_));
  return Encode(raw, n, out->data());
}

}  // namespace marl
