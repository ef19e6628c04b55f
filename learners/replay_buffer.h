#ifndef MARL_LEARNERS_REPLAY_BUFFER_H_
#define MARL_LEARNERS_REPLAY_BUFFER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace marl {

// One column of a replay buffer: a fixed number of floats per transition
// ("obs" 4, "action" 1, "reward" 1, "done" 1, ...).
struct ReplayField {
  std::string name;
  int64_t width = 1;
};

// The checks every replay's fields pass (ReplayBuffer, RolloutBuffer,
// SequenceReplay): at least one field, widths >= 1, distinct names, and
// rows x copies x width <= max_floats for each field (checked factor by
// factor, so nothing overflows). INVALID_ARGUMENT naming the problem.
absl::Status CheckReplayFields(const std::vector<ReplayField>& fields,
                               int64_t rows, int64_t copies,
                               int64_t max_floats);

// One batched step's values for `fields` (RolloutBuffer, SequenceReplay):
// one span per field of copies x width floats. INVALID_ARGUMENT naming
// `holder` (what receives them) or the field otherwise.
absl::Status CheckStepValues(const std::vector<ReplayField>& fields,
                             int64_t copies,
                             absl::Span<const absl::Span<const float>> values,
                             absl::string_view holder);

// Index of the field named `name` in `fields`, or -1.
int FieldIndexOf(const std::vector<ReplayField>& fields,
                 const std::string& name);

// One line of a replay's serialized header: moves it from `bytes` into
// `out` (without the newline); false when `bytes` has no newline.
bool ConsumeHeaderLine(absl::string_view* bytes, std::string* out);

// A fixed-capacity ring of transitions with uniform sampling, free of any
// tensor library so every agent (tabular or neural) can share it. Each field
// is stored as its own contiguous [capacity, width] float array, so a sampled
// minibatch of a field can be gathered straight into a tensor's memory.
// Integers (discrete actions) are stored as floats; they are exact up to
// 2^24.
class ReplayBuffer {
 public:
  // INVALID_ARGUMENT for capacity < 1, no fields, a width < 1 or duplicate
  // field names.
  static absl::StatusOr<ReplayBuffer> Create(int64_t capacity,
                                             std::vector<ReplayField> fields);

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Transitions ever added (older ones beyond capacity were overwritten).
  int64_t total_added() const { return total_added_; }
  int num_fields() const { return static_cast<int>(fields_.size()); }
  const ReplayField& field(int f) const { return fields_[f]; }
  // Index of the named field, or -1.
  int FieldIndex(const std::string& name) const;

  // Adds one transition: `values[f]` holds field(f).width floats.
  // INVALID_ARGUMENT (and nothing added) on a count or width mismatch.
  absl::Status Add(absl::Span<const absl::Span<const float>> values);
  // Allocation-free alternative to Add: claims the next slot (overwriting the
  // oldest transition when full) and returns its index; fill every field
  // through mutable_row(f, slot) before the next sample.
  int64_t Push();
  float* mutable_row(int f, int64_t slot) {
    return data_[f].data() + slot * fields_[f].width;
  }
  // Row `i` in [0, size()) of field f (slot order, not age order).
  const float* row(int f, int64_t i) const {
    return data_[f].data() + i * fields_[f].width;
  }

  // `batch` slot indices drawn uniformly with replacement from [0, size()).
  // The buffer must not be empty.
  void SampleIndices(int64_t batch, std::mt19937_64& rng,
                     std::vector<int64_t>* indices) const;
  // Copies field f of the rows `indices` to `out` (indices.size() x width,
  // row-major).
  void Gather(int f, absl::Span<const int64_t> indices, float* out) const;

  // A sampled minibatch: per field, batch x width floats.
  struct Batch {
    std::vector<int64_t> indices;
    std::vector<std::vector<float>> fields;
  };
  // SampleIndices then Gather of every field; FAILED_PRECONDITION if empty.
  absl::Status Sample(int64_t batch, std::mt19937_64& rng, Batch* out) const;

  void Clear();

  // Everything the buffer holds, as bytes for a checkpoint: its fields,
  // counters and the rows in use. Restore reads them back into a buffer
  // with the same fields and capacity (INVALID_ARGUMENT naming what
  // differs; DATA_LOSS for bytes that are not such a buffer).
  std::string Serialize() const;
  absl::Status Restore(absl::string_view bytes);

 private:
  ReplayBuffer(int64_t capacity, std::vector<ReplayField> fields);

  int64_t capacity_;
  std::vector<ReplayField> fields_;
  std::vector<std::vector<float>> data_;  // per field, capacity x width
  int64_t size_ = 0;
  int64_t next_ = 0;  // slot the next Push writes
  int64_t total_added_ = 0;
};

}  // namespace marl

#endif  // MARL_LEARNERS_REPLAY_BUFFER_H_
