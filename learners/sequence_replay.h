#ifndef MARL_LEARNERS_SEQUENCE_REPLAY_H_
#define MARL_LEARNERS_SEQUENCE_REPLAY_H_

// Replay of stored episode stretches for off-policy learners with recurrent
// state (an RNN, a particle-filter belief). Such a learner cannot sample
// single transitions: it replays a window of an episode in order, after
// rebuilding its recurrent state from the episode's start with its current
// parameters (a burn-in without gradient). Torch-free, like ReplayBuffer,
// whose field description it shares.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "learners/replay_buffer.h"

namespace marl {

// A ring of the last `capacity` batched steps of `copies` environment
// copies. Each field is a contiguous [capacity, copies, width] float array;
// the row of copy c at ring slot s is s * copies + c. A copy's steps form
// its time line, and an episode is the run of a copy's steps from one
// episode start up to (not including) its next.
//
// Sampling draws window end steps uniformly over every sampleable stored
// step, so episodes are drawn in proportion to their stored length and each
// step ends a window equally often. A step is sampleable while its
// episode's first step is stored: once the ring overwrites that start the
// episode's remaining steps cannot be burnt in, so they are never returned
// (nor are a copy's steps before its first stored start).
class SequenceReplay {
 public:
  // Every field holds at most 2^31 floats (capacity x copies x width).
  static constexpr int64_t kMaxFloats = int64_t{1} << 31;
  // At most this many windows per Sample.
  static constexpr int64_t kMaxBatch = int64_t{1} << 24;

  // INVALID_ARGUMENT for capacity or copies < 1, no fields, a width < 1,
  // duplicate names, or a field past kMaxFloats.
  static absl::StatusOr<SequenceReplay> Create(int64_t capacity, int64_t copies,
                                               std::vector<ReplayField> fields);

  int64_t capacity() const { return capacity_; }
  int64_t copies() const { return copies_; }
  // Batched steps stored, and ever appended (older ones were overwritten).
  int64_t size() const { return size_; }
  int64_t total_appended() const { return total_; }
  int num_fields() const { return static_cast<int>(fields_.size()); }
  const ReplayField& field(int f) const { return fields_[f]; }
  // Index of the named field, or -1.
  int FieldIndex(const std::string& name) const;
  // Stored (step, copy) pairs a window can end at.
  int64_t sampleable() const;

  // Appends one batched step, overwriting the oldest when full: `values[f]`
  // holds copies x field(f).width floats (copy-major), and
  // `episode_start[c]` is true where copy c's observation at this step
  // starts an episode. INVALID_ARGUMENT (and nothing appended) on a count
  // or width mismatch.
  absl::Status Append(absl::Span<const absl::Span<const float>> values,
                      absl::Span<const bool> episode_start);

  // Field f of row r (width floats).
  const float* row(int f, int64_t r) const {
    return data_[f].data() + r * fields_[f].width;
  }

  // `batch` sampled windows, each the last <= max_length steps of one
  // copy's episode up to a sampled end step, with the episode's steps
  // before them for the burn-in. Matrices are [batch, length] row-major,
  // each window's steps left-aligned in time order from its episode start.
  struct Sequences {
    int64_t batch = 0;
    int64_t length = 0;  // T: the longest sequence (burn-in + window)
    // Row indices; -1 pads past a sequence's end.
    std::vector<int64_t> rows;
    // 1 where `rows` holds a step, 0 on padding.
    std::vector<float> valid;
    // 1 on the trained window (a sequence's last steps), 0 on burn-in and
    // padding.
    std::vector<float> trained;
    // Per window: its copy, its burn-in steps (before the trained window),
    // and its sequence's length (burn-in + window).
    std::vector<int64_t> copy;
    std::vector<int64_t> burn_in;
    std::vector<int64_t> lengths;
    // Per window: the row of the step after its end in the same episode,
    // or -1 when there is none stored: either the episode ended at the
    // end step, or it is still running and the end step is its copy's
    // newest. The learner's own fields (terminated / truncated) tell which.
    std::vector<int64_t> next_row;
  };
  // INVALID_ARGUMENT for batch outside [1, kMaxBatch], max_length < 1, or
  // batch x T past kMaxFloats; FAILED_PRECONDITION when no step is
  // sampleable. `out` is written only on success. Deterministic given
  // `rng` on every standard library.
  absl::Status Sample(int64_t batch, int64_t max_length, std::mt19937_64& rng,
                      Sequences* out) const;
  // Copies field f of the rows `indices` to `out` (indices.size() x width,
  // row-major); a -1 index (padding) writes zeros.
  void Gather(int f, absl::Span<const int64_t> indices, float* out) const;

  // Everything the buffer holds, as bytes for a checkpoint. Restore reads
  // them back into a buffer of the same capacity, copies and fields
  // (INVALID_ARGUMENT naming what differs; DATA_LOSS for bytes that are not
  // such a buffer, leaving this one unchanged).
  std::string Serialize() const;
  absl::Status Restore(absl::string_view bytes);

 private:
  SequenceReplay(int64_t capacity, int64_t copies,
                 std::vector<ReplayField> fields);

  // Ring slot of absolute step t (steps are numbered from 0 as appended).
  int64_t slot(int64_t t) const { return t % capacity_; }
  // Row of copy c at absolute step t.
  int64_t RowAt(int64_t t, int64_t c) const { return slot(t) * copies_ + c; }
  bool starts(int64_t t, int64_t c) const { return starts_[RowAt(t, c)] != 0; }
  // The oldest stored start of copy c at or after absolute step t, or -1.
  int64_t FirstStartFrom(int64_t t, int64_t c) const;

  int64_t capacity_;
  int64_t copies_;
  std::vector<ReplayField> fields_;
  std::vector<std::vector<float>> data_;  // per field [capacity, copies, w]
  std::vector<uint8_t> starts_;           // [capacity, copies] episode starts
  int64_t size_ = 0;
  int64_t total_ = 0;
  // Per copy, the absolute step of its oldest stored episode start, or -1:
  // steps of that copy from there on are sampleable. Derived from starts_
  // (not serialized), kept up to date as the ring overwrites.
  std::vector<int64_t> first_start_;
};

}  // namespace marl

#endif  // MARL_LEARNERS_SEQUENCE_REPLAY_H_
