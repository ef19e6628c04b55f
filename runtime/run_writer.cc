#include "runtime/run_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/json.h"
#include "runtime/tensorboard_events.h"

namespace marl {
namespace {

// Bumped when a reader would misread files written by an older writer.
constexpr int kFormatVersion = 1;

constexpr char kConfigFile[] = "config.json";
constexpr char kMetricsFile[] = "metrics.jsonl";
constexpr char kSummaryFile[] = "summary.json";
constexpr char kCheckpointsDir[] = "checkpoints";
constexpr char kTensorBoardDir[] = "tensorboard";
// tensorboard/<this>: the records about the whole run (agent "").
constexpr char kRunEventDir[] = "run";
// Longer agent names are cut (and hashed, below) in directory names.
constexpr size_t kMaxEventDirName = 100;

// Keys that config.json always has; extra_config may not shadow them.
const std::set<std::string>& ConfigKeys() {
  static const auto* keys = new std::set<std::string>{
      "format_version", "run_name",   "algorithm",       "env_name", "seed",
      "commit",         "start_time", "start_time_unix", "flags"};
  return *keys;
}

// Keys that every metrics record starts with; metric names may not reuse
// them, or a reader would see the metric instead of the step.
bool IsRecordKey(absl::string_view name) {
  return name == "time" || name == "step" || name == "episode" ||
         name == "agent" || name == "phase";
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  return (std::filesystem::path(std::string(dir)) / std::string(name)).string();
}

absl::Status ErrnoError(int error, absl::string_view what,
                        absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

// One path component that stays inside its parent directory.
absl::Status ValidateComponent(absl::string_view kind, absl::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find('/') != absl::string_view::npos ||
      name.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", kind, " name \"", absl::CEscape(name),
        "\": must be non-empty, not \".\" or \"..\", without '/' or NUL"));
  }
  return absl::OkStatus();
}

// Keeps generated run names portable and shell-friendly.
std::string SanitizeForName(absl::string_view s, absl::string_view fallback) {
  if (s.empty()) return std::string(fallback);
  std::string out(s);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      c = '_';
    }
  }
  return out;
}

// The directory under tensorboard/ of `agent`'s events. A name that is
// already a plain path component of [A-Za-z0-9._-] (not ".", "..", or
// "run", which holds the run's own records) is used as it is; any other
// is sanitized like run names and gets "_<CRC-32C of the name, 8 hex>", so
// that names alike after sanitizing stay apart. A pure function of the
// name: a resumed run finds the same directories without a stored map.
std::string EventDirName(absl::string_view agent) {
  if (agent.empty()) return kRunEventDir;
  const bool plain = agent.size() <= kMaxEventDirName && agent != "." &&
                     agent != ".." && agent != kRunEventDir &&
                     SanitizeForName(agent, "") == agent;
  if (plain) return std::string(agent);
  return absl::StrFormat("%s_%08x",
                         SanitizeForName(agent.substr(0, kMaxEventDirName), ""),
                         Crc32c(agent));
}

// This machine's name for event file names, as TensorFlow uses it.
std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return SanitizeForName(host, "localhost");
}

double UnixSeconds(absl::Time time) {
  return absl::ToDoubleSeconds(time - absl::UnixEpoch());
}

// A filesystem error as a status naming what was done to which path.
absl::Status FilesystemError(const std::error_code& error,
                             absl::string_view what, absl::string_view path) {
  return ErrnoError(error.value(), what, path);
}

// mkdir -p.
absl::Status MakeDirs(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return FilesystemError(error, "cannot create directory", path);
  if (!std::filesystem::is_directory(path, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a directory"));
  }
  return absl::OkStatus();
}

// OK if `path` is an existing empty directory.
absl::Status CheckEmptyDir(const std::string& path) {
  std::error_code error;
  const std::filesystem::file_status status =
      std::filesystem::status(path, error);
  if (error) return FilesystemError(error, "cannot stat", path);
  if (!std::filesystem::is_directory(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, " exists and is not a directory"));
  }
  const bool empty = std::filesystem::is_empty(path, error);
  if (error) return FilesystemError(error, "cannot open", path);
  if (!empty) {
    return absl::AlreadyExistsError(absl::StrCat(
        "run directory ", path, " already exists and is not empty"));
  }
  return absl::OkStatus();
}

// mkdir that accepts an existing empty directory (e.g. made by a launcher).
absl::Status MakeRunDir(const std::string& path) {
  std::error_code error;
  if (std::filesystem::create_directory(path, error)) return absl::OkStatus();
  if (error && error != std::errc::file_exists) {
    return FilesystemError(error, "cannot create", path);
  }
  return CheckEmptyDir(path);
}

// HEAD of the git checkout holding the sources: `bazel run` sets
// BUILD_WORKSPACE_DIRECTORY, since the binary itself runs in a runfiles tree
// outside the checkout.
std::string GitCommit() {
  const char* workspace = ::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string dir =
      workspace != nullptr && *workspace != '\0' ? workspace : ".";
  // Single-quote the directory for the shell; stderr is silenced for the
  // whole command so neither git's complaints nor "git: not found" leak.
  const std::string command = absl::StrCat(
      "exec 2>/dev/null; git -C '", absl::StrReplaceAll(dir, {{"'", "'\\''"}}),
      "' rev-parse HEAD");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "unknown";
  std::string output;
  char buf[256];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "unknown";
  }
  absl::string_view hash = absl::StripAsciiWhitespace(output);
  // SHA-1 (40) or SHA-256 (64) hex; anything else is not a commit id.
  if ((hash.size() != 40 && hash.size() != 64) ||
      !std::all_of(hash.begin(), hash.end(), [](char c) {
        return absl::ascii_isxdigit(static_cast<unsigned char>(c));
      })) {
    return "unknown";
  }
  return std::string(hash);
}

// Every registered absl flag with its current value, as strings (the text
// the flag would accept on the command line), sorted by name.
std::string FlagsJson() {
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    flags.emplace_back(std::string(name), flag->CurrentValue());
  }
  std::sort(flags.begin(), flags.end());
  JsonObject object;
  for (const auto& [name, value] : flags) object.Add(name, value);
  return object.BuildIndented();
}

absl::Status WriteAll(int fd, const std::string& contents,
                      const std::string& path) {
  const char* data = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot write", path);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Appends `*pending` to the file `fd` (at `*appended_size` bytes) and syncs
// it; then clears it and advances the size. On failure the file is cut back
// to `*appended_size` (part of the text may have gone out, e.g. on a full
// disk), so it only ever holds whole records, and `*pending` is kept for
// the next attempt.
absl::Status AppendWhole(int fd, const std::string& path, std::string* pending,
                         off_t* appended_size) {
  if (pending->empty()) return absl::OkStatus();
  absl::Status s = WriteAll(fd, *pending, path);
  // Synced like the files written atomically: a power cut keeps it.
  if (s.ok() && ::fdatasync(fd) != 0) {
    s = ErrnoError(errno, "cannot sync", path);
  }
  if (!s.ok()) {
    if (::ftruncate(fd, *appended_size) != 0) {
      std::cerr << "RunWriter: cannot cut " << path << " back to "
                << *appended_size << " bytes: " << std::strerror(errno)
                << std::endl;
    }
    return s;
  }
  *appended_size += static_cast<off_t>(pending->size());
  pending->clear();
  return absl::OkStatus();
}

// The names in directory `path` (only subdirectories with `dirs_only`);
// none if it does not exist. Errors are returned, not thrown, as
// everywhere here.
absl::StatusOr<std::vector<std::string>> ListNames(const std::string& path,
                                                   bool dirs_only) {
  std::vector<std::string> names;
  std::error_code error;
  std::filesystem::directory_iterator it(path, error);
  if (error == std::errc::no_such_file_or_directory) return names;
  for (; !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    std::error_code type_error;
    if (!dirs_only || it->is_directory(type_error)) {
      names.push_back(it->path().filename().string());
    }
  }
  if (error) return FilesystemError(error, "cannot list", path);
  return names;
}

// Creates the event file `path` (and its directory) for appending, 0644
// like every run file. O_EXCL: a name is only ever started once.
absl::StatusOr<int> CreateEventFile(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  const int fd = ::open(
      path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(errno, "cannot create", path);
  if (::fchmod(fd, 0644) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return ErrnoError(error, "cannot chmod", path);
  }
  // Persist the new directory entry; best effort, as in
  // WriteFileAtomically.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return fd;
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents) {
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string base =
      slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a file path: \"", path, "\""));
  }
  // Same directory as the target, so rename() stays on one file system and
  // is atomic; a leading '.' keeps it out of casual listings.
  std::string temp = JoinPath(dir, absl::StrCat(".", base, ".tmp.XXXXXX"));
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return ErrnoError(errno, "cannot create a temporary file in", dir);

  absl::Status status = WriteAll(fd, contents, temp);
  // mkstemp makes the file 0600; run files are meant to be shared.
  if (status.ok() && ::fchmod(fd, 0644) != 0) {
    status = ErrnoError(errno, "cannot chmod", temp);
  }
  // fsync before rename: otherwise a power cut can leave the new name
  // pointing at an empty file.
  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoError(errno, "cannot fsync", temp);
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoError(errno, "cannot close", temp);
  }
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError(errno, "cannot rename to", path);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  // Persist the rename itself; best effort (some file systems refuse).
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open", path);
  std::string contents;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return ErrnoError(error, "cannot read", path);
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

absl::StatusOr<std::unique_ptr<RunWriter>> RunWriter::Create(
    const RunOptions& options,
    const std::map<std::string, std::string>& extra_config) {
  // Check every argument before touching the disk, so a bad call leaves
  // nothing behind.
  for (const auto& [key, text] : extra_config) {
    if (ConfigKeys().count(key) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "extra_config key \"", key, "\" is a built-in config.json key"));
    }
    if (absl::Status s = ValidateJson(text); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("extra_config \"", key, "\": ", s.message()));
    }
  }
  const bool generated = options.run_name.empty();
  if (!generated) {
    if (absl::Status s = ValidateComponent("run", options.run_name); !s.ok()) {
      return s;
    }
  }
  const std::string root = options.runs_root.empty() ? "." : options.runs_root;
  if (absl::Status s = MakeDirs(root); !s.ok()) return s;

  const absl::Time now = absl::Now();
  std::string run_name = options.run_name;
  std::string directory;
  if (generated) {
    const std::string base = absl::StrCat(
        SanitizeForName(options.algorithm, "run"), "_",
        SanitizeForName(options.env_name, "env"), "_seed", options.seed, "_",
        absl::FormatTime("%Y%m%d-%H%M%S", now, absl::LocalTimeZone()));
    // Creating a directory is atomic, so two runs started in the same second (a
    // seed sweep) get distinct directories instead of sharing one.
    for (int attempt = 1;; ++attempt) {
      run_name = attempt == 1 ? base : absl::StrCat(base, "-", attempt);
      directory = JoinPath(root, run_name);
      std::error_code error;
      if (std::filesystem::create_directory(directory, error)) break;
      const bool taken = !error || error == std::errc::file_exists;
      if (!taken) return FilesystemError(error, "cannot create", directory);
      if (attempt >= 1000) {
        return absl::AlreadyExistsError(absl::StrCat(
            "cannot create ", directory, ": 1000 run names taken"));
      }
    }
  } else {
    directory = JoinPath(root, run_name);
    if (absl::Status s = MakeRunDir(directory); !s.ok()) return s;
  }
  if (absl::Status s = MakeDirs(JoinPath(directory, kCheckpointsDir));
      !s.ok()) {
    return s;
  }

  JsonObject config;
  config.Add("format_version", kFormatVersion)
      .Add("run_name", run_name)
      .Add("algorithm", options.algorithm)
      .Add("env_name", options.env_name)
      .Add("seed", options.seed)
      .Add("commit", GitCommit())
      .Add("start_time",
           absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone()))
      .Add("start_time_unix", UnixSeconds(now))
      .AddRaw("flags", FlagsJson());
  for (const auto& [key, text] : extra_config) {
    config.AddRaw(key, absl::StripAsciiWhitespace(text));
  }
  if (absl::Status s =
          WriteFileAtomically(JoinPath(directory, kConfigFile),
                              absl::StrCat(config.BuildIndented(), "\n"));
      !s.ok()) {
    return s;
  }
  // An empty metrics file from the start: readers can tell "no records
  // yet" from "not a run". Records are then appended to it.
  const std::string metrics = JoinPath(directory, kMetricsFile);
  if (absl::Status s = WriteFileAtomically(metrics, ""); !s.ok()) return s;
  const int fd = ::open(metrics.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open", metrics);
  return std::unique_ptr<RunWriter>(
      new RunWriter(std::move(directory), options.flush_interval_seconds, fd,
                    UnixSeconds(now), options.tensorboard));
}

RunWriter::RunWriter(std::string directory, double flush_interval_seconds,
                     int metrics_fd, double start_unix_seconds,
                     bool tensorboard, double start_seconds, off_t metrics_size)
    : directory_(std::move(directory)),
      flush_interval_seconds_(flush_interval_seconds),
      start_(std::chrono::steady_clock::now() -
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                 std::chrono::duration<double>(start_seconds))),
      start_unix_seconds_(start_unix_seconds),
      tensorboard_(tensorboard),
      host_(tensorboard ? HostName() : ""),
      metrics_fd_(metrics_fd),
      appended_size_(metrics_size),
      last_flush_attempt_(start_) {}

absl::StatusOr<std::unique_ptr<RunWriter>> RunWriter::Reopen(
    const std::string& directory, int64_t through_step,
    double flush_interval_seconds, bool tensorboard) {
  const std::string metrics = JoinPath(directory, kMetricsFile);
  std::error_code error;
  if (!std::filesystem::is_regular_file(JoinPath(directory, kConfigFile),
                                        error) ||
      !std::filesystem::is_regular_file(metrics, error)) {
    return absl::NotFoundError(
        absl::StrCat(directory,
                     " is not a run directory (no config.json and "
                     "metrics.jsonl)"));
  }
  // Records are appended in step order: the file is cut at the first one
  // past `through_step`, read a line at a time (a long run's metrics can be
  // large). A last line without its newline was torn by a crash mid-append
  // and is cut too.
  std::ifstream in(metrics, std::ios::binary);
  if (!in) return ErrnoError(errno, "cannot read", metrics);
  std::string line;
  off_t keep = 0;
  double last_time = 0;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const bool whole = !in.eof();  // getline found the newline
    if (!whole) break;
    if (!line.empty()) {
      absl::StatusOr<double> step = NumberMember(line, "step");
      absl::StatusOr<double> time = NumberMember(line, "time");
      if (!step.ok() || !time.ok()) {
        return absl::DataLossError(absl::StrCat(metrics, " line ", line_number,
                                                " is not a metrics record"));
      }
      if (*step > static_cast<double>(through_step)) break;
      last_time = std::max(last_time, *time);
    }
    keep += static_cast<off_t>(line.size()) + 1;
  }
  in.close();
  // The agents with TensorBoard events (below); listed before the cut, so
  // that an error leaves the run as it was.
  absl::StatusOr<std::vector<std::string>> dirs =
      tensorboard
          ? ListNames(JoinPath(directory, kTensorBoardDir), /*dirs_only=*/true)
          : std::vector<std::string>();
  if (!dirs.ok()) return dirs.status();
  const int fd = ::open(metrics.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open", metrics);
  struct stat info;
  if (::fstat(fd, &info) != 0 ||
      (info.st_size != keep &&
       (::ftruncate(fd, keep) != 0 || ::fdatasync(fd) != 0))) {
    const int error = errno;
    ::close(fd);
    return ErrnoError(error, "cannot cut", metrics);
  }
  // Events' wall_time goes on from the run's start, as "time" does; a
  // config.json without the start (not written by Create) counts back from
  // now.
  absl::StatusOr<std::string> config =
      ReadFile(JoinPath(directory, kConfigFile));
  absl::StatusOr<double> start_unix =
      config.ok() ? NumberMember(*config, "start_time_unix")
                  : absl::StatusOr<double>(config.status());
  std::unique_ptr<RunWriter> writer(new RunWriter(
      directory, flush_interval_seconds, fd,
      start_unix.ok() ? *start_unix : UnixSeconds(absl::Now()) - last_time,
      tensorboard, last_time, keep));
  if (!tensorboard) return writer;

  // TensorBoard's own restart mark, in a new file for every agent that has
  // events: a session START at the first step past the cut makes it drop
  // that agent's events from there on (those the cut dropped from
  // metrics.jsonl). Started now, not with the agent's next record, so that
  // an agent that logs nothing more is cut too.
  const double wall_time = writer->start_unix_seconds_ + last_time;
  const int64_t start_step = through_step < std::numeric_limits<int64_t>::max()
                                 ? through_step + 1
                                 : through_step;
  absl::MutexLock lock(&writer->mu_);
  for (const std::string& dir : *dirs) {
    EventFile file = writer->NewEventFile(dir, wall_time);
    file.pending.append(SessionStartRecord(wall_time, start_step));
    writer->event_files_.emplace(dir, std::move(file));
  }
  // A failure is the same as a failed append: reported, and retried with
  // the next one.
  if (absl::Status s = writer->FlushLocked(); !s.ok()) {
    std::cerr << "RunWriter: appending TensorBoard events failed: " << s
              << std::endl;
  }
  return writer;
}

RunWriter::~RunWriter() {
  if (absl::Status s = Flush(); !s.ok()) {
    std::cerr << "RunWriter: final flush of " << directory_ << " failed: " << s
              << std::endl;
  }
  ::close(metrics_fd_);
  for (const auto& [dir, file] : event_files_) {
    if (file.fd >= 0) ::close(file.fd);
  }
}

const std::string& RunWriter::directory() const { return directory_; }

void RunWriter::Log(const std::string& phase, int64_t step, int64_t episode,
                    const std::string& agent,
                    const std::vector<std::pair<std::string, double>>& values) {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  JsonObject record;
  // Microseconds are plenty and keep the lines short.
  record.Add("time", std::round(seconds * 1e6) / 1e6)
      .Add("step", step)
      .Add("episode", episode)
      .Add("agent", agent)
      .Add("phase", phase);
  bool dropped = false;
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [name, value] : values) {
    if (IsRecordKey(name)) {
      dropped = true;
      continue;
    }
    record.Add(name, value);
    if (tensorboard_) {
      scalars.emplace_back(
          phase.empty() ? name : absl::StrCat(phase, "/", name), value);
    }
  }
  const std::string line = record.Build();
  // At the record's own time, so that TensorBoard's wall-clock axis and
  // "time" agree.
  const double wall_time =
      start_unix_seconds_ + std::round(seconds * 1e6) / 1e6;
  const std::string event =
      tensorboard_ ? ScalarsRecord(wall_time, step, scalars) : std::string();

  absl::MutexLock lock(&mu_);
  if (dropped && !warned_reserved_name_) {
    warned_reserved_name_ = true;
    std::cerr << "RunWriter: metric names time/step/episode/agent/phase are "
                 "reserved; such values are dropped"
              << std::endl;
  }
  pending_.append(line);
  pending_.push_back('\n');
  if (tensorboard_) EventFileFor(agent, wall_time)->pending.append(event);
  ++num_records_;
  if (std::chrono::duration<double>(now - last_flush_attempt_).count() >=
      flush_interval_seconds_) {
    if (absl::Status s = FlushLocked(); !s.ok()) {
      std::cerr << "RunWriter: appending metrics failed: " << s << std::endl;
    }
  }
}

absl::Status RunWriter::Flush() {
  absl::MutexLock lock(&mu_);
  return FlushLocked();
}

absl::Status RunWriter::FlushLocked() {
  // Stamped even on failure, so a full disk is retried once per interval
  // instead of on every Log().
  last_flush_attempt_ = std::chrono::steady_clock::now();
  absl::Status status =
      AppendWhole(metrics_fd_, JoinPath(directory_, kMetricsFile), &pending_,
                  &appended_size_);
  // Each event file on its own: one that fails keeps its events and does
  // not hold back the others.
  for (auto& [dir, file] : event_files_) {
    if (file.pending.empty()) continue;
    absl::Status s;
    if (file.fd < 0) {
      absl::StatusOr<int> fd = CreateEventFile(file.path);
      if (fd.ok()) {
        file.fd = *fd;
      } else {
        s = fd.status();
      }
    }
    if (s.ok()) {
      s = AppendWhole(file.fd, file.path, &file.pending, &file.appended_size);
    }
    if (status.ok()) status = s;
  }
  return status;
}

RunWriter::EventFile* RunWriter::EventFileFor(const std::string& agent,
                                              double wall_time) {
  if (auto it = agent_dirs_.find(agent); it != agent_dirs_.end()) {
    return &event_files_.at(it->second);
  }
  // Another agent may hold the directory already (a plain name equal to a
  // hashed one, which takes intent): "-2", "-3", ... after it.
  const std::string base = EventDirName(agent);
  std::string dir = base;
  for (int n = 2;; ++n) {
    auto it = event_files_.find(dir);
    if (it == event_files_.end()) {
      it = event_files_.emplace(dir, NewEventFile(dir, wall_time)).first;
    }
    if (!it->second.agent.has_value()) it->second.agent = agent;
    if (*it->second.agent == agent) break;
    dir = absl::StrCat(base, "-", n);
  }
  agent_dirs_.emplace(agent, dir);
  return &event_files_.at(dir);
}

RunWriter::EventFile RunWriter::NewEventFile(const std::string& dir,
                                             double wall_time) const {
  const std::string path = JoinPath(JoinPath(directory_, kTensorBoardDir), dir);
  // TensorBoard reads a directory's event files in name order: a resumed
  // run's file must sort after the old ones, also when it starts within
  // the same second or on a machine whose clock is behind.
  // (A directory that cannot be listed fails on the first append instead.)
  int64_t seconds = absl::ToUnixSeconds(absl::Now());
  absl::StatusOr<std::vector<std::string>> names =
      ListNames(path, /*dirs_only=*/false);
  for (const std::string& name :
       names.ok() ? *names : std::vector<std::string>()) {
    if (std::optional<int64_t> taken = EventFileSeconds(name)) {
      seconds = std::max(seconds, *taken + 1);
    }
  }
  EventFile file;
  file.path = JoinPath(path, EventFileName(seconds, host_));
  file.pending = FileVersionRecord(wall_time);
  return file;
}

int64_t RunWriter::num_records() const {
  absl::MutexLock lock(&mu_);
  return num_records_;
}

absl::Status RunWriter::SaveCheckpoint(const std::string& name,
                                       const std::string& bytes) {
  if (absl::Status s = ValidateComponent("checkpoint", name); !s.ok()) {
    return s;
  }
  return WriteFileAtomically(
      JoinPath(JoinPath(directory_, kCheckpointsDir), name), bytes);
}

absl::Status RunWriter::RemoveCheckpoint(const std::string& name) {
  if (absl::Status s = ValidateComponent("checkpoint", name); !s.ok()) {
    return s;
  }
  const std::string path =
      JoinPath(JoinPath(directory_, kCheckpointsDir), name);
  std::error_code error;
  if (!std::filesystem::remove(path, error)) {
    if (error) return FilesystemError(error, "cannot remove", path);
    return absl::NotFoundError(absl::StrCat("no checkpoint ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RunWriter::LoadCheckpoint(
    const std::string& name) const {
  if (absl::Status s = ValidateComponent("checkpoint", name); !s.ok()) {
    return s;
  }
  return ReadFile(JoinPath(JoinPath(directory_, kCheckpointsDir), name));
}

absl::Status RunWriter::WriteSummary(
    const std::vector<std::pair<std::string, double>>& values) {
  JsonObject summary;
  for (const auto& [name, value] : values) summary.Add(name, value);
  return WriteFileAtomically(JoinPath(directory_, kSummaryFile),
                             absl::StrCat(summary.BuildIndented(), "\n"));
}

}  // namespace marl
