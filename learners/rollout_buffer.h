#ifndef MARL_LEARNERS_ROLLOUT_BUFFER_H_
#define MARL_LEARNERS_ROLLOUT_BUFFER_H_

// On-policy experience in time order, for A2C / PPO-style learners and for
// recurrent ones trained by truncated backpropagation through time: the
// last `steps` batched steps of `copies` environment copies, each field a
// contiguous [steps, copies, width] float array. Torch-free, like the
// replay buffer it shares its field description with.

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "learners/replay_buffer.h"

namespace marl {

class RolloutBuffer {
 public:
  // INVALID_ARGUMENT for steps or copies < 1, no fields, a width < 1,
  // duplicate names, or more than 2^31 floats in one field.
  static absl::StatusOr<RolloutBuffer> Create(int64_t steps, int64_t copies,
                                              std::vector<ReplayField> fields);

  int64_t steps() const { return steps_; }
  int64_t copies() const { return copies_; }
  int64_t size() const { return size_; }  // steps stored
  bool full() const { return size_ == steps_; }
  int FieldIndex(const std::string& name) const;
  int num_fields() const { return static_cast<int>(fields_.size()); }
  const ReplayField& field(int f) const { return fields_[f]; }

  // Appends one batched step: `values[f]` holds copies x field(f).width
  // floats. FAILED_PRECONDITION when full (Clear() starts the next
  // rollout), INVALID_ARGUMENT on a count or width mismatch.
  absl::Status Append(absl::Span<const absl::Span<const float>> values);
  // Field f at step t of copy c (width floats).
  const float* row(int f, int64_t t, int64_t c) const {
    return data_[f].data() + (t * copies_ + c) * fields_[f].width;
  }
  // Field f of every stored step and copy, [size, copies, width].
  absl::Span<const float> column(int f) const {
    return absl::MakeConstSpan(data_[f].data(),
                               size_ * copies_ * fields_[f].width);
  }
  void Clear() { size_ = 0; }

  // The rows [0, size * copies) in an order drawn from `rng`, for
  // minibatches of the whole rollout (PPO's epochs).
  std::vector<int64_t> ShuffledRows(std::mt19937_64& rng) const;

  // One copy's steps [start, start + length) for truncated backpropagation
  // through time; a recurrent learner starts the window from the recurrent
  // state it stored at `start` and resets it where an episode ended inside.
  struct Window {
    int64_t copy;
    int64_t start;
    int64_t length;
  };
  // Every copy's time line cut into consecutive windows of `length` steps
  // (the last of each copy shorter if size is not a multiple), copy-major.
  std::vector<Window> Windows(int64_t length) const;

 private:
  RolloutBuffer(int64_t steps, int64_t copies, std::vector<ReplayField> fields);

  int64_t steps_;
  int64_t copies_;
  std::vector<ReplayField> fields_;
  std::vector<std::vector<float>> data_;  // per field [steps, copies, width]
  int64_t size_ = 0;
};

// 0 .. n-1 in an order drawn from `rng` (the same on every standard
// library): minibatches of rows or of windows.
std::vector<int64_t> ShuffledIndices(int64_t n, std::mt19937_64& rng);

// Generalised advantage estimation (Schulman et al. 2016) over a [steps,
// copies] rollout in time order, every array row-major [steps, copies]:
//   delta_t = r_t + gamma (1 - terminated_t) V'_t - V_t
//   A_t     = delta_t + gamma lambda (1 - ended_t) A_{t+1},  A_steps = 0
//   R_t     = A_t + V_t (the value targets)
// `next_values[t]` is the value of the observation after step t: of the
// next step's observation, or, where the episode was truncated there, of
// its final observation (so a time limit bootstraps, a termination does
// not). `ended` = terminated or truncated: the trace stops at episode ends.
// With lambda = 1 and no ends, A + V is the discounted return bootstrapped
// from the last next_values. INVALID_ARGUMENT if an array is not
// steps x copies long.
absl::Status GeneralisedAdvantages(int64_t steps, int64_t copies,
                                   absl::Span<const float> rewards,
                                   absl::Span<const float> values,
                                   absl::Span<const float> next_values,
                                   absl::Span<const bool> terminated,
                                   absl::Span<const bool> ended, double gamma,
                                   double lambda, absl::Span<float> advantages,
                                   absl::Span<float> returns);

}  // namespace marl

#endif  // MARL_LEARNERS_ROLLOUT_BUFFER_H_
