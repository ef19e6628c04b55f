#include "learners/replay_buffer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marl {

absl::Status CheckReplayFields(const std::vector<ReplayField>& fields,
                               int64_t rows, int64_t copies,
                               int64_t max_floats) {
  if (fields.empty()) {
    return absl::InvalidArgumentError("a replay needs at least one field");
  }
  std::set<std::string> names;
  for (const ReplayField& f : fields) {
    if (f.width < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay field '", f.name, "' has width ", f.width, " (need >= 1)"));
    }
    if (!names.insert(f.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate replay field '", f.name, "'"));
    }
    if (rows > max_floats / copies || rows * copies > max_floats / f.width) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay field '", f.name, "' would hold more than ", max_floats,
          " floats (", rows, " x ", copies, " x ", f.width, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStepValues(const std::vector<ReplayField>& fields,
                             int64_t copies,
                             absl::Span<const absl::Span<const float>> values,
                             absl::string_view holder) {
  if (values.size() != fields.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "got ", values.size(), " fields, ", holder, " has ", fields.size()));
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    const int64_t want = copies * fields[f].width;
    if (static_cast<int64_t>(values[f].size()) != want) {
      return absl::InvalidArgumentError(absl::StrCat("field '", fields[f].name,
                                                     "' got ", values[f].size(),
                                                     " floats, not ", want));
    }
  }
  return absl::OkStatus();
}

int FieldIndexOf(const std::vector<ReplayField>& fields,
                 const std::string& name) {
  for (size_t f = 0; f < fields.size(); ++f) {
    if (fields[f].name == name) return static_cast<int>(f);
  }
  return -1;
}

bool ConsumeHeaderLine(absl::string_view* bytes, std::string* out) {
  const size_t end = bytes->find('\n');
  if (end == absl::string_view::npos) return false;
  *out = std::string(bytes->substr(0, end));
  bytes->remove_prefix(end + 1);
  return true;
}

absl::StatusOr<ReplayBuffer> ReplayBuffer::Create(
    int64_t capacity, std::vector<ReplayField> fields) {
  if (capacity < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("replay buffer capacity must be >= 1, got ", capacity));
  }
  if (absl::Status s = CheckReplayFields(fields, capacity, 1,
                                         std::numeric_limits<int64_t>::max());
      !s.ok()) {
    return s;
  }
  return ReplayBuffer(capacity, std::move(fields));
}

ReplayBuffer::ReplayBuffer(int64_t capacity, std::vector<ReplayField> fields)
    : capacity_(capacity), fields_(std::move(fields)) {
  data_.reserve(fields_.size());
  for (const ReplayField& f : fields_) {
    data_.emplace_back(static_cast<size_t>(capacity_ * f.width), 0.0f);
  }
}

int ReplayBuffer::FieldIndex(const std::string& name) const {
  return FieldIndexOf(fields_, name);
}

absl::Status ReplayBuffer::Add(
    absl::Span<const absl::Span<const float>> values) {
  if (static_cast<int>(values.size()) != num_fields()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replay Add got ", values.size(), " fields, expected ", num_fields()));
  }
  for (int f = 0; f < num_fields(); ++f) {
    if (static_cast<int64_t>(values[f].size()) != fields_[f].width) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay field '", fields_[f].name, "' got ", values[f].size(),
          " values, expected ", fields_[f].width));
    }
  }
  const int64_t slot = Push();
  for (int f = 0; f < num_fields(); ++f) {
    std::copy(values[f].begin(), values[f].end(), mutable_row(f, slot));
  }
  return absl::OkStatus();
}

int64_t ReplayBuffer::Push() {
  const int64_t slot = next_;
  next_ = (next_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
  ++total_added_;
  return slot;
}

void ReplayBuffer::SampleIndices(int64_t batch, std::mt19937_64& rng,
                                 std::vector<int64_t>* indices) const {
  indices->resize(static_cast<size_t>(batch));
  std::uniform_int_distribution<int64_t> pick(0, size_ - 1);
  for (int64_t& i : *indices) i = pick(rng);
}

void ReplayBuffer::Gather(int f, absl::Span<const int64_t> indices,
                          float* out) const {
  const int64_t w = fields_[f].width;
  const float* base = data_[f].data();
  for (int64_t i : indices) {
    std::copy(base + i * w, base + (i + 1) * w, out);
    out += w;
  }
}

absl::Status ReplayBuffer::Sample(int64_t batch, std::mt19937_64& rng,
                                  Batch* out) const {
  if (empty()) {
    return absl::FailedPreconditionError(
        "cannot sample an empty replay buffer");
  }
  SampleIndices(batch, rng, &out->indices);
  out->fields.resize(fields_.size());
  for (int f = 0; f < num_fields(); ++f) {
    out->fields[f].resize(static_cast<size_t>(batch * fields_[f].width));
    Gather(f, out->indices, out->fields[f].data());
  }
  return absl::OkStatus();
}

void ReplayBuffer::Clear() {
  size_ = 0;
  next_ = 0;
}

namespace {
constexpr char kReplayMagic[] = "marl-replay-v1";
}  // namespace

std::string ReplayBuffer::Serialize() const {
  std::string out =
      absl::StrCat(kReplayMagic, " ", capacity_, " ", size_, " ", next_, " ",
                   total_added_, " ", fields_.size(), "\n");
  for (const ReplayField& field : fields_) {
    absl::StrAppend(&out, field.name, " ", field.width, "\n");
  }
  for (size_t f = 0; f < fields_.size(); ++f) {
    out.append(reinterpret_cast<const char*>(data_[f].data()),
               static_cast<size_t>(size_ * fields_[f].width) * sizeof(float));
  }
  return out;
}

absl::Status ReplayBuffer::Restore(absl::string_view bytes) {
  std::string header;
  std::vector<std::string> parts;
  int64_t capacity = 0, size = 0, next = 0, total = 0, num_fields = 0;
  if (!ConsumeHeaderLine(&bytes, &header) ||
      (parts = absl::StrSplit(header, ' ')).size() != 6 ||
      parts[0] != kReplayMagic || !absl::SimpleAtoi(parts[1], &capacity) ||
      !absl::SimpleAtoi(parts[2], &size) ||
      !absl::SimpleAtoi(parts[3], &next) ||
      !absl::SimpleAtoi(parts[4], &total) ||
      !absl::SimpleAtoi(parts[5], &num_fields)) {
    return absl::DataLossError("not a replay buffer's bytes");
  }
  if (capacity != capacity_ ||
      num_fields != static_cast<int64_t>(fields_.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the saved replay holds ", capacity, " transitions of ",
                     num_fields, " fields, this one ", capacity_, " of ",
                     fields_.size(), " (another --buffer_size?)"));
  }
  if (size < 0 || size > capacity || next < 0 || next >= capacity ||
      total < size) {
    return absl::DataLossError("corrupt replay buffer counters");
  }
  size_t payload = 0;
  for (const ReplayField& field : fields_) {
    std::string spec;
    if (!ConsumeHeaderLine(&bytes, &spec))
      return absl::DataLossError("truncated replay buffer");
    if (spec != absl::StrCat(field.name, " ", field.width)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the saved replay's field '", spec, "' is not '",
                       field.name, " ", field.width, "'"));
    }
    payload += static_cast<size_t>(size * field.width) * sizeof(float);
  }
  if (bytes.size() != payload) {
    return absl::DataLossError(absl::StrCat("replay buffer holds ",
                                            bytes.size(), " bytes of rows, ",
                                            payload, " expected"));
  }
  for (size_t f = 0; f < fields_.size(); ++f) {
    const size_t n = static_cast<size_t>(size * fields_[f].width);
    std::memcpy(data_[f].data(), bytes.data(), n * sizeof(float));
    bytes.remove_prefix(n * sizeof(float));
  }
  size_ = size;
  next_ = next;
  total_added_ = total;
  return absl::OkStatus();
}

}  // namespace marl
