#ifndef MARL_COMMON_RUN_WRITER_H_
#define MARL_COMMON_RUN_WRITER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

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
  // Empty: "<algorithm>_<env_name>_seed<seed>_<YYYYmmdd-HHMMSS>".
  std::string run_name;
  std::string algorithm;
  std::string env_name;
  uint64_t seed = 0;
  // Seconds between rewrites of metrics.jsonl (Flush() forces one).
  double flush_interval_seconds = 5.0;
};

class RunWriter {
 public:
  // Creates the directory (an error if it exists and is not empty) and
  // writes config.json holding: algorithm, env_name, seed, commit (git HEAD
  // of the workspace, or "unknown"), start time, every command-line flag
  // with its value (absl flags registry), plus `extra_config` — JSON texts
  // keyed by name, e.g. {"env_spec": <MessageToJsonString of the spec>}.
  static absl::StatusOr<std::unique_ptr<RunWriter>> Create(
      const RunOptions& options,
      const std::map<std::string, std::string>& extra_config = {});
  ~RunWriter();  // flushes

  const std::string& directory() const;

  // Appends one metrics record: {"time": seconds since start, "step": ...,
  // "episode": ..., "agent": ..., "phase": ..., <name>: <value>...}.
  // `agent` may be empty (a record about the whole run).
  void Log(const std::string& phase, int64_t step, int64_t episode,
           const std::string& agent,
           const std::vector<std::pair<std::string, double>>& values);

  // Rewrites metrics.jsonl atomically with every record so far.
  absl::Status Flush();

  // checkpoints/<name>, atomically; LoadCheckpoint reads it back.
  absl::Status SaveCheckpoint(const std::string& name,
                              const std::string& bytes);
  absl::StatusOr<std::string> LoadCheckpoint(const std::string& name) const;

  // summary.json: a JSON object from name -> value (final results).
  absl::Status WriteSummary(
      const std::vector<std::pair<std::string, double>>& values);

 private:
  // implementation-defined members
};

// Writes `contents` to `path` through a temporary file in the same
// directory and a rename: readers see the old file or the new, never half.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace marl

#endif  // MARL_COMMON_RUN_WRITER_H_
