#include "learners/rollout_buffer.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace marl {

absl::StatusOr<RolloutBuffer> RolloutBuffer::Create(
    int64_t steps, int64_t copies, std::vector<ReplayField> fields) {
  if (steps < 1 || copies < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a rollout needs steps and copies >= 1, got ", steps, " x ", copies));
  }
  if (absl::Status s =
          CheckReplayFields(fields, steps, copies, int64_t{1} << 31);
      !s.ok()) {
    return s;
  }
  return RolloutBuffer(steps, copies, std::move(fields));
}

RolloutBuffer::RolloutBuffer(int64_t steps, int64_t copies,
                             std::vector<ReplayField> fields)
    : steps_(steps), copies_(copies), fields_(std::move(fields)) {
  for (const ReplayField& field : fields_) {
    data_.emplace_back(static_cast<size_t>(steps_ * copies_ * field.width));
  }
}

int RolloutBuffer::FieldIndex(const std::string& name) const {
  return FieldIndexOf(fields_, name);
}

absl::Status RolloutBuffer::Append(
    absl::Span<const absl::Span<const float>> values) {
  if (full()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the rollout holds its ", steps_, " steps; Clear() it"));
  }
  if (absl::Status s = CheckStepValues(fields_, copies_, values, "the rollout");
      !s.ok()) {
    return s;
  }
  for (size_t f = 0; f < fields_.size(); ++f) {
    std::memcpy(data_[f].data() + size_ * copies_ * fields_[f].width,
                values[f].data(), values[f].size() * sizeof(float));
  }
  ++size_;
  return absl::OkStatus();
}

std::vector<int64_t> ShuffledIndices(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates with the engine's own bits (std::shuffle's use of the
  // engine is implementation-defined, so runs would differ across
  // standard libraries).
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[rng() % i]);
  }
  return order;
}

std::vector<int64_t> RolloutBuffer::ShuffledRows(std::mt19937_64& rng) const {
  return ShuffledIndices(size_ * copies_, rng);
}

std::vector<RolloutBuffer::Window> RolloutBuffer::Windows(
    int64_t length) const {
  std::vector<Window> out;
  if (length < 1) return out;
  for (int64_t c = 0; c < copies_; ++c) {
    for (int64_t t = 0; t < size_; t += length) {
      out.push_back({c, t, std::min(length, size_ - t)});
    }
  }
  return out;
}

absl::Status GeneralisedAdvantages(int64_t steps, int64_t copies,
                                   absl::Span<const float> rewards,
                                   absl::Span<const float> values,
                                   absl::Span<const float> next_values,
                                   absl::Span<const bool> terminated,
                                   absl::Span<const bool> ended, double gamma,
                                   double lambda, absl::Span<float> advantages,
                                   absl::Span<float> returns) {
  const size_t n = static_cast<size_t>(std::max<int64_t>(0, steps) *
                                       std::max<int64_t>(0, copies));
  for (size_t size :
       {rewards.size(), values.size(), next_values.size(), terminated.size(),
        ended.size(), advantages.size(), returns.size()}) {
    if (size != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("advantages over ", steps, " x ", copies,
                       " steps need arrays of ", n, ", got one of ", size));
    }
  }
  for (int64_t c = 0; c < copies; ++c) {
    double next_advantage = 0;
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t i = t * copies + c;
      const double bootstrap = terminated[i] ? 0.0 : gamma * next_values[i];
      const double delta = rewards[i] + bootstrap - values[i];
      const double advantage =
          delta + (ended[i] ? 0.0 : gamma * lambda * next_advantage);
      advantages[i] = static_cast<float>(advantage);
      returns[i] = static_cast<float>(advantage + values[i]);
      next_advantage = advantage;
    }
  }
  return absl::OkStatus();
}

}  // namespace marl
