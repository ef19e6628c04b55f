#ifndef MARL_RUNTIME_TENSORBOARD_EVENTS_H_
#define MARL_RUNTIME_TENSORBOARD_EVENTS_H_

// TensorBoard event files without TensorFlow: the TFRecord framing and the
// Event messages (runtime/tensorboard_event.proto) that RunWriter appends
// to <run>/tensorboard/<agent>/events.out.tfevents.* (docs/RUN_FORMAT.md).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace marl {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and
// final xor 0xFFFFFFFF): Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(absl::string_view data);

// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8, so that
// a CRC stored inside CRC'd data does not look like a valid CRC of itself.
uint32_t MaskedCrc32c(absl::string_view data);

// One TFRecord: the length as a little-endian uint64, the masked CRC-32C
// of those 8 bytes (little-endian uint32), `data`, and the masked CRC-32C
// of `data` (little-endian uint32).
std::string TfRecord(absl::string_view data);

// The file_version of every event file's first event.
inline constexpr char kTensorBoardFileVersion[] = "brain.Event:2";

// Serialized Events, each framed as one TFRecord, ready to append to an
// event file. `wall_time` is in seconds since 1970.
//
// {wall_time, file_version: "brain.Event:2"}: every file starts with it.
std::string FileVersionRecord(double wall_time);
// {wall_time, step, session_log {status: START}}: TensorBoard drops the
// run's events with step >= `step` read before it (a restart).
std::string SessionStartRecord(double wall_time, int64_t step);
// {wall_time, step, summary {value {tag, simple_value}...}}: one scalar per
// (tag, value), in order. Values are cast to float: NaN and +-Inf stay as
// they are, and finite values beyond float's range become +-Inf.
std::string ScalarsRecord(
    double wall_time, int64_t step,
    const std::vector<std::pair<std::string, double>>& tagged_values);

// "events.out.tfevents.<unix_seconds, 10 digits>.<host>", the name
// TensorFlow gives event files; TensorBoard reads a directory's event files
// in name order. `host` must be a valid path component.
std::string EventFileName(int64_t unix_seconds, absl::string_view host);
// The seconds in a name made by EventFileName; nullopt for other names.
std::optional<int64_t> EventFileSeconds(absl::string_view name);

}  // namespace marl

#endif  // MARL_RUNTIME_TENSORBOARD_EVENTS_H_
