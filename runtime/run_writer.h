#ifndef MARL_RUNTIME_RUN_WRITER_H_
#define MARL_RUNTIME_RUN_WRITER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
//   <runs_root>/<run_name>/tensorboard/<agent>/events.out.tfevents.*
//                                             the metrics for TensorBoard
// config.json, checkpoints and summary.json are written atomically
// (temporary file, then rename); metrics.jsonl and the event files are
// appended whole records at a time and cut back on a failed append. So a
// crash never leaves a half-written file behind (at worst a torn last
// record, which Reopen and TensorBoard's readers skip).
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
  // Also write every record as a TensorBoard event (tensorboard/, one event
  // file per agent; docs/RUN_FORMAT.md), appended with metrics.jsonl.
  bool tensorboard = true;
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
  // With `tensorboard`, every agent directory under tensorboard/ gets a new
  // event file at once, starting with a session START at through_step + 1:
  // TensorBoard then drops that agent's older events from that step on.
  // The old event files are left as they are.
  static absl::StatusOr<std::unique_ptr<RunWriter>> Reopen(
      const std::string& directory, int64_t through_step,
      double flush_interval_seconds = 5.0, bool tensorboard = true);
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
  // With RunOptions::tensorboard the record is also one TensorBoard event
  // at `step` in the agent's event file (`agent` empty: tensorboard/run/),
  // with one scalar "<phase>/<name>" per value (NaN/Inf as they are); it
  // is appended with the metrics.
  void Log(const std::string& phase, int64_t step, int64_t episode,
           const std::string& agent,
           const std::vector<std::pair<std::string, double>>& values);

  // Appends the records not yet written to metrics.jsonl, whole lines, and
  // syncs the file (a no-op if there are none); the same for the event
  // files. A failed append leaves the file as it was (whole lines, whole
  // events) and keeps the records; the first failure is returned.
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
  // One TensorBoard event file, tensorboard/<dir>/<name>.
  struct EventFile {
    // The agent whose records it holds ("" for the run's own); nullopt for
    // a file Reopen started in an existing directory, until the first
    // record of the agent that maps to that directory.
    std::optional<std::string> agent;
    std::string path;
    int fd = -1;  // created on the first append
    // Framed events not yet appended, and the file's size after the last
    // successful append (as for metrics.jsonl).
    std::string pending;
    off_t appended_size = 0;
  };

  RunWriter(std::string directory, double flush_interval_seconds,
            int metrics_fd, double start_unix_seconds, bool tensorboard,
            double start_seconds = 0, off_t metrics_size = 0);
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The event file of `agent`'s records, started (named, with its
  // file_version event pending) on its first record.
  EventFile* EventFileFor(const std::string& agent, double wall_time)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new event file in tensorboard/<dir>/ (not created yet), named to
  // sort after the files already there.
  EventFile NewEventFile(const std::string& dir, double wall_time) const;

  const std::string directory_;
  const double flush_interval_seconds_;
  const std::chrono::steady_clock::time_point start_;
  // config.json's start_time_unix: events' wall_time is it plus "time".
  const double start_unix_seconds_;
  const bool tensorboard_;
  // For event file names, made a valid path component.
  const std::string host_;

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
  // Event files by directory name under tensorboard/, and which directory
  // each agent's records go to.
  std::map<std::string, EventFile> event_files_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> agent_dirs_ ABSL_GUARDED_BY(mu_);
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
