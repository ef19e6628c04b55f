#include "learners/sequence_replay.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marl {

absl::StatusOr<SequenceReplay> SequenceReplay::Create(
    int64_t capacity, int64_t copies, std::vector<ReplayField> fields) {
  if (capacity < 1 || copies < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a sequence replay needs capacity and copies >= 1, got ",
                     capacity, " x ", copies));
  }
  if (absl::Status s = CheckReplayFields(fields, capacity, copies, kMaxFloats);
      !s.ok()) {
    return s;
  }
  return SequenceReplay(capacity, copies, std::move(fields));
}

SequenceReplay::SequenceReplay(int64_t capacity, int64_t copies,
                               std::vector<ReplayField> fields)
    : capacity_(capacity),
      copies_(copies),
      fields_(std::move(fields)),
      starts_(static_cast<size_t>(capacity * copies), 0),
      first_start_(static_cast<size_t>(copies), -1) {
  for (const ReplayField& field : fields_) {
    data_.emplace_back(static_cast<size_t>(capacity_ * copies_ * field.width));
  }
}

int SequenceReplay::FieldIndex(const std::string& name) const {
  return FieldIndexOf(fields_, name);
}

int64_t SequenceReplay::sampleable() const {
  int64_t n = 0;
  for (int64_t first : first_start_) {
    if (first >= 0) n += total_ - first;
  }
  return n;
}

int64_t SequenceReplay::FirstStartFrom(int64_t t, int64_t c) const {
  for (; t < total_; ++t) {
    if (starts(t, c)) return t;
  }
  return -1;
}

absl::Status SequenceReplay::Append(
    absl::Span<const absl::Span<const float>> values,
    absl::Span<const bool> episode_start) {
  if (absl::Status s =
          CheckStepValues(fields_, copies_, values, "the sequence replay");
      !s.ok()) {
    return s;
  }
  if (static_cast<int64_t>(episode_start.size()) != copies_) {
    return absl::InvalidArgumentError(absl::StrCat("got ", episode_start.size(),
                                                   " episode starts for ",
                                                   copies_, " copies"));
  }
  if (size_ == capacity_) {
    // The oldest step is about to go; a copy whose oldest start it was
    // becomes sampleable from its next stored start on. Each search walks
    // steps of an episode that was just lost, so appends stay O(1)
    // amortised.
    const int64_t evicted = total_ - capacity_;
    for (int64_t c = 0; c < copies_; ++c) {
      if (first_start_[c] == evicted) {
        first_start_[c] = FirstStartFrom(evicted + 1, c);
      }
    }
  }
  const int64_t s = slot(total_);
  for (size_t f = 0; f < fields_.size(); ++f) {
    std::memcpy(data_[f].data() + s * copies_ * fields_[f].width,
                values[f].data(), values[f].size() * sizeof(float));
  }
  for (int64_t c = 0; c < copies_; ++c) {
    starts_[s * copies_ + c] = episode_start[c] ? 1 : 0;
    if (episode_start[c] && first_start_[c] < 0) first_start_[c] = total_;
  }
  ++total_;
  size_ = std::min(total_, capacity_);
  return absl::OkStatus();
}

absl::Status SequenceReplay::Sample(int64_t batch, int64_t max_length,
                                    std::mt19937_64& rng,
                                    Sequences* out) const {
  if (batch < 1 || batch > kMaxBatch || max_length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence replay sampling needs 1 <= batch <= ", kMaxBatch,
                     " and max_length >= 1, got ", batch, " and ", max_length));
  }
  // The sampleable steps of all copies numbered one after another: copy c's
  // are [offset[c], offset[c + 1]).
  std::vector<int64_t> offset(static_cast<size_t>(copies_ + 1), 0);
  for (int64_t c = 0; c < copies_; ++c) {
    const int64_t first = first_start_[c];
    offset[c + 1] = offset[c] + (first < 0 ? 0 : total_ - first);
  }
  const int64_t n = offset.back();
  if (n == 0) {
    return absl::FailedPreconditionError(
        "no stored step has its episode's start stored: nothing to sample");
  }
  Sequences s;
  s.batch = batch;
  s.copy.resize(static_cast<size_t>(batch));
  s.burn_in.resize(static_cast<size_t>(batch));
  s.lengths.resize(static_cast<size_t>(batch));
  s.next_row.resize(static_cast<size_t>(batch));
  std::vector<int64_t> ends(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    // The engine's own bits rather than a distribution, whose use of the
    // engine differs across standard libraries; the modulo bias is below
    // 2^-32 for n <= 2^31.
    const int64_t u = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
    const int64_t c =
        std::upper_bound(offset.begin(), offset.end(), u) - offset.begin() - 1;
    const int64_t end = first_start_[c] + (u - offset[c]);
    // Stops at first_start_[c] at the latest: the walk is no longer than
    // the burn-in it returns.
    int64_t start = end;
    while (!starts(start, c)) --start;
    const int64_t length = end - start + 1;
    s.copy[b] = c;
    s.lengths[b] = length;
    s.burn_in[b] = length - std::min(length, max_length);
    s.next_row[b] =
        end + 1 < total_ && !starts(end + 1, c) ? RowAt(end + 1, c) : -1;
    ends[b] = end;
    s.length = std::max(s.length, length);
  }
  if (batch > kMaxFloats / s.length) {
    return absl::InvalidArgumentError(
        absl::StrCat(batch, " sequences of up to ", s.length,
                     " steps hold more than 2^31 entries"));
  }
  const size_t cells = static_cast<size_t>(batch * s.length);
  s.rows.assign(cells, -1);
  s.valid.assign(cells, 0.0f);
  s.trained.assign(cells, 0.0f);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t first = ends[b] - s.lengths[b] + 1;
    for (int64_t t = 0; t < s.lengths[b]; ++t) {
      const int64_t i = b * s.length + t;
      s.rows[i] = RowAt(first + t, s.copy[b]);
      s.valid[i] = 1.0f;
      if (t >= s.burn_in[b]) s.trained[i] = 1.0f;
    }
  }
  *out = std::move(s);
  return absl::OkStatus();
}

void SequenceReplay::Gather(int f, absl::Span<const int64_t> indices,
                            float* out) const {
  const int64_t w = fields_[f].width;
  for (int64_t i : indices) {
    if (i < 0) {
      std::fill(out, out + w, 0.0f);
    } else {
      std::copy(row(f, i), row(f, i) + w, out);
    }
    out += w;
  }
}

namespace {
constexpr char kSequenceReplayMagic[] = "marl-sequence-replay-v1";
}  // namespace

// The ring's slots in use are [0, size) in both its filling and its full
// state, so the counters, the start flags and the rows of those slots are
// everything.
std::string SequenceReplay::Serialize() const {
  std::string out =
      absl::StrCat(kSequenceReplayMagic, " ", capacity_, " ", copies_, " ",
                   total_, " ", fields_.size(), "\n");
  for (const ReplayField& field : fields_) {
    absl::StrAppend(&out, field.name, " ", field.width, "\n");
  }
  out.append(reinterpret_cast<const char*>(starts_.data()),
             static_cast<size_t>(size_ * copies_));
  for (size_t f = 0; f < fields_.size(); ++f) {
    out.append(reinterpret_cast<const char*>(data_[f].data()),
               static_cast<size_t>(size_ * copies_ * fields_[f].width) *
                   sizeof(float));
  }
  return out;
}

absl::Status SequenceReplay::Restore(absl::string_view bytes) {
  std::string header;
  std::vector<std::string> parts;
  int64_t capacity = 0, copies = 0, total = 0, num_fields = 0;
  if (!ConsumeHeaderLine(&bytes, &header) ||
      (parts = absl::StrSplit(header, ' ')).size() != 5 ||
      parts[0] != kSequenceReplayMagic ||
      !absl::SimpleAtoi(parts[1], &capacity) ||
      !absl::SimpleAtoi(parts[2], &copies) ||
      !absl::SimpleAtoi(parts[3], &total) ||
      !absl::SimpleAtoi(parts[4], &num_fields)) {
    return absl::DataLossError("not a sequence replay's bytes");
  }
  if (capacity != capacity_ || copies != copies_ ||
      num_fields != static_cast<int64_t>(fields_.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the saved sequence replay holds ", capacity, " steps of ",
                     copies, " copies and ", num_fields, " fields, this one ",
                     capacity_, " of ", copies_, " and ", fields_.size()));
  }
  if (total < 0) return absl::DataLossError("corrupt sequence replay counter");
  const int64_t size = std::min(total, capacity_);
  const size_t num_starts = static_cast<size_t>(size * copies_);
  size_t payload = num_starts;
  for (const ReplayField& field : fields_) {
    std::string spec;
    if (!ConsumeHeaderLine(&bytes, &spec)) {
      return absl::DataLossError("truncated sequence replay");
    }
    if (spec != absl::StrCat(field.name, " ", field.width)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the saved sequence replay's field '", spec,
                       "' is not '", field.name, " ", field.width, "'"));
    }
    payload +=
        static_cast<size_t>(size * copies_ * field.width) * sizeof(float);
  }
  if (bytes.size() != payload) {
    return absl::DataLossError(absl::StrCat("sequence replay holds ",
                                            bytes.size(), " bytes of rows, ",
                                            payload, " expected"));
  }
  for (size_t i = 0; i < num_starts; ++i) {
    if (bytes[i] != 0 && bytes[i] != 1) {
      return absl::DataLossError("corrupt sequence replay episode starts");
    }
  }
  std::memcpy(starts_.data(), bytes.data(), num_starts);
  bytes.remove_prefix(num_starts);
  for (size_t f = 0; f < fields_.size(); ++f) {
    const size_t n = static_cast<size_t>(size * copies_ * fields_[f].width);
    std::memcpy(data_[f].data(), bytes.data(), n * sizeof(float));
    bytes.remove_prefix(n * sizeof(float));
  }
  total_ = total;
  size_ = size;
  for (int64_t c = 0; c < copies_; ++c) {
    first_start_[c] = FirstStartFrom(total_ - size_, c);
  }
  return absl::OkStatus();
}

}  // namespace marl
