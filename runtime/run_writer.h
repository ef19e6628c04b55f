#ifndef MARL_RUNTIME_RUN_WRITER_H_
#define MARL_RUNTIME_RUN_WRITER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace marl {

// One run directory in the shared run format (docs/RUN_FORMAT.md):
//   <runs_root>/<run_name>/config.json        flags, seed, env spec, commit
//   <runs_root>/<run_name>/metrics.jsonl      one JSON object per line
//   <runs_root>/<run_name>/checkpoints/<name> opaque bytes (e.g. torch)
//   <runs_root>/<run_name>/summary.json       final results
// Every file is written atomically (temporary file, then rename), so a
// crash never leaves a half-written file behind.
struct RunOptions {
  std::string runs_root = "runs";
  // Empty: "<algorithm>_<env_name>_seed<seed>_<YYYYmmdd-HHMMSS>" (local
  // time; characters outside [A-Za-z0-9._-] become '_', and "-2", "-3", ...
  // is appended if another run took the name in the same second). A given
  // name must be a single path component (no '/', not "." or "..").
  std::string run_name;
  std::string algorithm;
  std::string env_name;
  uint64_t seed = 0;
  // Seconds between appends to metrics.jsonl (Flush() forces one); <= 0
  // appends on every Log().
  double flush_interval_seconds = 5.0;
};

class RunWriter {
 public:
  // Creates the directory (an error if it exists and is not empty) and
  // writes config.json holding: algorithm, env_name, seed, commit (git HEAD
  // of the workspace, or "unknown"), start time, every command-line flag
  // with its value (absl flags registry), plus `extra_config` — JSON texts
  // keyed by name, e.g. {"env_spec": <MessageToJsonString of the spec>}.
  // Errors: INVALID_ARGUMENT for a bad run_name, an extra_config text that
  // is not valid JSON or whose key is one of the built-in keys;
  // ALREADY_EXISTS if the directory exists and is not empty.
  static absl::StatusOr<std::unique_ptr<RunWriter>> Create(
      const RunOptions& options,
      const std::map<std::string, std::string>& extra_config = {});
  // Opens an existing run directory to go on with it (a resumed run):
  // metrics.jsonl is cut before its first record past step `through_step`
  // (those came after the checkpoint the run resumes from; records are in
  // step order) and before a torn last line, new records are appended, and
  // their "time" goes on from the last record kept.
  // config.json is left as it is. NOT_FOUND if `directory` holds no run;
  // DATA_LOSS for a metrics line that is not a record.
  static absl::StatusOr<std::unique_ptr<RunWriter>> Reopen(
      const std::string& directory, int64_t through_step,
      double flush_interval_seconds = 5.0);
  ~RunWriter();  // flushes

  const std::string& directory() const;

  // Appends one metrics record: {"time": seconds since start, "step": ...,
  // "episode": ..., "agent": ..., "phase": ..., <name>: <value>...}.
  // `agent` may be empty (a record about the whole run). NaN/Inf values are
  // written as null; a value named like a fixed key ("time", "step", ...)
  // is dropped with a warning. Thread-safe. Appends the records not yet
  // written to metrics.jsonl when flush_interval_seconds have passed since
  // the last attempt; a failed append is reported on stderr (and by the
  // next Flush()), and its records are kept for the next attempt.
  void Log(const std::string& phase, int64_t step, int64_t episode,
           const std::string& agent,
           const std::vector<std::pair<std::string, double>>& values);

  // Appends the records not yet written to metrics.jsonl, whole lines, and
  // syncs the file (a no-op if there are none). A failed append leaves the
  // file as it was (whole lines) and keeps the records.
  absl::Status Flush();

  // Number of records logged so far.
  int64_t num_records() const;

  // checkpoints/<name>, atomically; LoadCheckpoint reads it back (NOT_FOUND
  // if absent). INVALID_ARGUMENT if `name` is empty, ".", "..", or contains
  // '/' or '\0'.
  absl::Status SaveCheckpoint(const std::string& name,
                              const std::string& bytes);
  absl::StatusOr<std::string> LoadCheckpoint(const std::string& name) const;
  // Deletes checkpoints/<name> (NOT_FOUND if absent; names as above).
  absl::Status RemoveCheckpoint(const std::string& name);

  // summary.json: a JSON object from name -> value (final results).
  absl::Status WriteSummary(
      const std::vector<std::pair<std::string, double>>& values);

 private:
  RunWriter(std::string directory, double flush_interval_seconds,
            int metrics_fd, double start_seconds = 0, off_t metrics_size = 0);
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string directory_;
  const double flush_interval_seconds_;
  const std::chrono::steady_clock::time_point start_;

  mutable absl::Mutex mu_;
  // metrics.jsonl, open for appending.
  const int metrics_fd_;
  // Records logged but not yet appended, one JSON line each.
  std::string pending_ ABSL_GUARDED_BY(mu_);
  int64_t num_records_ ABSL_GUARDED_BY(mu_) = 0;
  // The file's size after the last successful append: a failed append is
  // cut back to it, so the file only ever holds whole lines.
  off_t appended_size_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point last_flush_attempt_
      ABSL_GUARDED_BY(mu_);
  bool warned_reserved_name_ ABSL_GUARDED_BY(mu_) = false;
};

// Writes `contents` to `path` through a temporary file in the same
// directory and a rename: readers see the old file or the new, never half.
// The data and the directory entry are fsync'ed, so it also survives a
// power cut. The temporary file is removed on failure.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace marl

#endif  // MARL_RUNTIME_RUN_WRITER_H_
