#include "runtime/run_writer.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/json.h"
#include "runtime/tensorboard_event.pb.h"

// Registered so the test can see flags land in config.json.
ABSL_FLAG(std::string, run_writer_test_flag, "hello \"flags\"",
          "A flag that run_writer_test expects in config.json.");

namespace marl {
namespace {

// A fresh directory per test under Bazel's TEST_TMPDIR.
std::string FreshDir(const std::string& name) {
  const char* tmp = ::getenv("TEST_TMPDIR");
  const std::string root = tmp != nullptr ? tmp : "/tmp";
  std::string dir = absl::StrCat(root, "/", name, "_XXXXXX");
  EXPECT_NE(::mkdtemp(dir.data()), nullptr);
  return dir;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string ReadOrDie(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFile(path);
  EXPECT_TRUE(contents.ok()) << contents.status();
  return contents.ok() ? *contents : "";
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

RunOptions Options(const std::string& root, const std::string& name) {
  RunOptions options;
  options.runs_root = root;
  options.run_name = name;
  options.algorithm = "dqn";
  options.env_name = "gridworld";
  options.seed = 7;
  options.flush_interval_seconds = 3600;  // tests flush explicitly
  return options;
}

std::unique_ptr<RunWriter> CreateOrDie(
    const RunOptions& options,
    const std::map<std::string, std::string>& extra = {}) {
  absl::StatusOr<std::unique_ptr<RunWriter>> writer =
      RunWriter::Create(options, extra);
  EXPECT_TRUE(writer.ok()) << writer.status();
  return writer.ok() ? std::move(*writer) : nullptr;
}

// TensorBoard event files, read back by the TFRecord definition alone:
// uint64 length (LE), masked CRC-32C of those 8 bytes (LE uint32), data,
// masked CRC-32C of data (LE uint32); the data an Event. The CRCs are
// computed here bit by bit, independently of the library's table.
namespace tb = ::marl::runtime::tensorboard;

uint32_t BitwiseCrc32c(absl::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data) {
    crc ^= static_cast<uint8_t>(c);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F63B78u : 0u);
    }
  }
  return ~crc;
}

uint32_t Masked(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

uint64_t LittleEndian(absl::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    value |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  }
  return value;
}

struct EventFileContents {
  std::vector<tb::Event> events;
  // The file ends in a partial record (a crash mid-append): readers stop.
  bool torn = false;
};

EventFileContents ReadEventFile(const std::string& path) {
  const std::string bytes = ReadOrDie(path);
  const absl::string_view view(bytes);
  EventFileContents contents;
  size_t pos = 0;
  while (pos < view.size()) {
    if (view.size() - pos < 12) {
      contents.torn = true;
      break;
    }
    const absl::string_view length_bytes = view.substr(pos, 8);
    EXPECT_EQ(LittleEndian(view.substr(pos + 8, 4)),
              Masked(BitwiseCrc32c(length_bytes)))
        << path << " at " << pos;
    const uint64_t length = LittleEndian(length_bytes);
    const size_t left = view.size() - pos - 12;
    if (left < 4 || length > left - 4) {
      contents.torn = true;
      break;
    }
    const absl::string_view data = view.substr(pos + 12, length);
    EXPECT_EQ(LittleEndian(view.substr(pos + 12 + length, 4)),
              Masked(BitwiseCrc32c(data)))
        << path << " at " << pos;
    tb::Event event;
    EXPECT_TRUE(event.ParseFromArray(data.data(), data.size()))
        << path << " at " << pos;
    contents.events.push_back(std::move(event));
    pos += 12 + length + 4;
  }
  return contents;
}

// The event files of tensorboard/<dir>, in name order (TensorBoard's).
std::vector<std::string> EventFiles(const std::string& run,
                                    const std::string& dir) {
  const std::string path = absl::StrCat(run, "/tensorboard/", dir);
  std::vector<std::string> names = ListDir(path);
  std::sort(names.begin(), names.end());
  for (std::string& name : names) name = absl::StrCat(path, "/", name);
  return names;
}

// events.out.tfevents.<10 digits>.<host>
bool IsEventFileName(const std::string& path) {
  const std::string name = path.substr(path.rfind('/') + 1);
  const std::string prefix = "events.out.tfevents.";
  if (!absl::StartsWith(name, prefix) || name.size() < prefix.size() + 12) {
    return false;
  }
  const std::string digits = name.substr(prefix.size(), 10);
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return absl::ascii_isdigit(c); }) &&
         name[prefix.size() + 10] == '.';
}

struct Point {
  int64_t step;
  std::string tag;
  float value;
  double wall_time;
};

// What TensorBoard shows of tensorboard/<dir>: every file's scalars in name
// order, where a session START at step s first drops the points read
// before with step >= s (its EventAccumulator's purge_orphaned_data).
std::vector<Point> Purged(const std::string& run, const std::string& dir) {
  std::vector<Point> points;
  for (const std::string& file : EventFiles(run, dir)) {
    for (const tb::Event& event : ReadEventFile(file).events) {
      if (event.has_session_log() &&
          event.session_log().status() == tb::SessionLog::START) {
        points.erase(std::remove_if(points.begin(), points.end(),
                                    [&](const Point& p) {
                                      return p.step >= event.step();
                                    }),
                     points.end());
      }
      for (const auto& value : event.summary().value()) {
        points.push_back({event.step(), value.tag(), value.simple_value(),
                          event.wall_time()});
      }
    }
  }
  return points;
}

TEST(WriteFileAtomicallyTest, WritesReplacesAndLeavesNoTempFiles) {
  const std::string dir = FreshDir("atomic");
  const std::string path = dir + "/file.txt";
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(WriteFileAtomically(path, absl::StrCat("version ", i)).ok());
  }
  EXPECT_EQ(ReadOrDie(path), "version 19");
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"file.txt"});
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(WriteFileAtomicallyTest, ReportsErrors) {
  const std::string dir = FreshDir("atomic_err");
  EXPECT_EQ(WriteFileAtomically(dir + "/missing/file", "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFile(dir + "/nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(dir).empty());
}

TEST(RunWriterTest, CreateWritesConfig) {
  const std::string root = FreshDir("config");
  const std::string spec = "{\n  \"name\": \"gridworld\",\n  \"agents\": 2\n}";
  auto writer = CreateOrDie(Options(root, "run1"),
                            {{"env_spec", spec}, {"note", "\"hi\""}});
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->directory(), root + "/run1");
  EXPECT_TRUE(Exists(root + "/run1/checkpoints"));
  EXPECT_EQ(ReadOrDie(root + "/run1/metrics.jsonl"), "");

  const std::string config = ReadOrDie(root + "/run1/config.json");
  EXPECT_TRUE(ValidateJson(config).ok()) << config;
  EXPECT_TRUE(absl::StrContains(config, "\"format_version\": 1"));
  EXPECT_TRUE(absl::StrContains(config, "\"run_name\": \"run1\""));
  EXPECT_TRUE(absl::StrContains(config, "\"algorithm\": \"dqn\""));
  EXPECT_TRUE(absl::StrContains(config, "\"env_name\": \"gridworld\""));
  EXPECT_TRUE(absl::StrContains(config, "\"seed\": 7"));
  EXPECT_TRUE(absl::StrContains(config, "\"commit\": \""));
  EXPECT_TRUE(absl::StrContains(config, "\"start_time\": \"20"));
  EXPECT_TRUE(absl::StrContains(config, "\"start_time_unix\": "));
  EXPECT_TRUE(absl::StrContains(
      config, "\"run_writer_test_flag\": \"hello \\\"flags\\\"\""));
  // Inserted as JSON (not as a string), only re-indented to nest.
  EXPECT_TRUE(
      absl::StrContains(config,
                        "\"env_spec\": {\n    \"name\": \"gridworld\",\n"
                        "    \"agents\": 2\n  }"))
      << config;
  EXPECT_TRUE(absl::StrContains(config, "\"note\": \"hi\""));
}

TEST(RunWriterTest, ConfigRecordsCurrentFlagValues) {
  absl::SetFlag(&FLAGS_run_writer_test_flag, "changed");
  const std::string root = FreshDir("flags");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  EXPECT_TRUE(absl::StrContains(ReadOrDie(root + "/r/config.json"),
                                "\"run_writer_test_flag\": \"changed\""));
  absl::SetFlag(&FLAGS_run_writer_test_flag, "hello \"flags\"");
}

TEST(RunWriterTest, CommitComesFromBuildWorkspaceDirectory) {
  const std::string repo = FreshDir("repo");
  const std::string git = absl::StrCat(
      "cd '", repo,
      "' && git init -q . && git -c user.name=t -c user.email=t@t "
      "commit -q --allow-empty -m init && git rev-parse HEAD > head.txt");
  if (std::system(git.c_str()) != 0) GTEST_SKIP() << "git is unavailable";
  const std::string head = Lines(ReadOrDie(repo + "/head.txt")).at(0);

  const std::string root = FreshDir("commit");
  ::setenv("BUILD_WORKSPACE_DIRECTORY", repo.c_str(), 1);
  auto in_repo = CreateOrDie(Options(root, "in_repo"));
  // A directory that is no git checkout: "unknown", and nothing on stderr.
  ::setenv("BUILD_WORKSPACE_DIRECTORY", root.c_str(), 1);
  auto outside = CreateOrDie(Options(root, "outside"));
  ::unsetenv("BUILD_WORKSPACE_DIRECTORY");
  ASSERT_NE(in_repo, nullptr);
  ASSERT_NE(outside, nullptr);
  EXPECT_TRUE(absl::StrContains(ReadOrDie(root + "/in_repo/config.json"),
                                "\"commit\": \"" + head + "\""));
  EXPECT_TRUE(absl::StrContains(ReadOrDie(root + "/outside/config.json"),
                                "\"commit\": \"unknown\""));
}

TEST(RunWriterTest, MetricsLinesCountAndContent) {
  const std::string root = FreshDir("metrics");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 10; ++i) {
    writer->Log("train", 100 * i, i, "agent_0",
                {{"episode_return", i + 0.5}, {"loss_q", 0.1}});
  }
  writer->Log("eval", 1000, 10, "", {{"eval_return", -3.25}});
  EXPECT_EQ(writer->num_records(), 11);
  // The interval is an hour: nothing reached the disk yet.
  EXPECT_EQ(ReadOrDie(root + "/r/metrics.jsonl"), "");
  ASSERT_TRUE(writer->Flush().ok());

  const std::string text = ReadOrDie(root + "/r/metrics.jsonl");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 11u);
  for (const std::string& line : lines) {
    EXPECT_TRUE(ValidateJson(line).ok()) << line;
    EXPECT_TRUE(absl::StartsWith(line, "{\"time\": ")) << line;
  }
  EXPECT_TRUE(absl::StrContains(
      lines[3],
      "\"step\": 300, \"episode\": 3, \"agent\": \"agent_0\", "
      "\"phase\": \"train\", \"episode_return\": 3.5, \"loss_q\": 0.1}"))
      << lines[3];
  EXPECT_TRUE(
      absl::StrContains(lines[10],
                        "\"step\": 1000, \"episode\": 10, \"agent\": \"\", "
                        "\"phase\": \"eval\", \"eval_return\": -3.25}"))
      << lines[10];
  // No temp files left; tensorboard/ holds the events.
  std::vector<std::string> files = ListDir(root + "/r");
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"checkpoints", "config.json",
                                             "metrics.jsonl", "tensorboard"}));
}

TEST(RunWriterTest, NanAndInfBecomeNull) {
  const std::string root = FreshDir("nan");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  writer->Log("train", 1, 0, "a",
              {{"loss_q", std::nan("")},
               {"entropy", std::numeric_limits<double>::infinity()},
               {"ok", 2.0}});
  ASSERT_TRUE(writer->Flush().ok());
  const std::string line = Lines(ReadOrDie(root + "/r/metrics.jsonl")).at(0);
  EXPECT_TRUE(ValidateJson(line).ok()) << line;
  EXPECT_TRUE(
      absl::EndsWith(line, "\"loss_q\": null, \"entropy\": null, \"ok\": 2}"))
      << line;
}

TEST(RunWriterTest, ReservedMetricNamesAreDropped) {
  const std::string root = FreshDir("reserved");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  writer->Log("train", 5, 1, "a", {{"step", 99}, {"loss_q", 1}});
  ASSERT_TRUE(writer->Flush().ok());
  const std::string line = Lines(ReadOrDie(root + "/r/metrics.jsonl")).at(0);
  EXPECT_TRUE(absl::StrContains(line, "\"step\": 5,"));
  EXPECT_FALSE(absl::StrContains(line, "99"));
  EXPECT_TRUE(absl::StrContains(line, "\"loss_q\": 1}"));
}

TEST(RunWriterTest, ZeroIntervalAppendsOnEveryLog) {
  const std::string root = FreshDir("interval");
  RunOptions options = Options(root, "r");
  options.flush_interval_seconds = 0;
  auto writer = CreateOrDie(options);
  ASSERT_NE(writer, nullptr);
  const std::string path = root + "/r/metrics.jsonl";
  struct stat first;
  ASSERT_EQ(stat(path.c_str(), &first), 0);
  for (int i = 1; i <= 5; ++i) {
    writer->Log("train", i, 0, "a", {{"x", i}});
    const std::vector<std::string> lines = Lines(ReadOrDie(path));
    ASSERT_EQ(lines.size(), static_cast<size_t>(i));
    EXPECT_TRUE(absl::StrContains(lines.back(), absl::StrCat("\"x\": ", i)))
        << lines.back();
  }
  // Appended to the same file (a reader's `tail -f` keeps following it),
  // not replaced by a rewrite.
  struct stat last;
  ASSERT_EQ(stat(path.c_str(), &last), 0);
  EXPECT_EQ(first.st_ino, last.st_ino);
  EXPECT_EQ(ListDir(root + "/r").size(), 4u);  // and tensorboard/
  // The events went out with the lines.
  const std::vector<std::string> events = EventFiles(root + "/r", "a");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(ReadEventFile(events[0]).events.size(), 6u);
}

TEST(RunWriterTest, DestructorFlushes) {
  const std::string root = FreshDir("dtor");
  {
    auto writer = CreateOrDie(Options(root, "r"));
    ASSERT_NE(writer, nullptr);
    writer->Log("train", 1, 0, "a", {{"x", 1}});
    writer->Log("train", 2, 0, "a", {{"x", 2}});
  }
  EXPECT_EQ(Lines(ReadOrDie(root + "/r/metrics.jsonl")).size(), 2u);
}

TEST(RunWriterTest, ConcurrentLogsAreAllKept) {
  const std::string root = FreshDir("threads");
  RunOptions options = Options(root, "r");
  options.flush_interval_seconds = 0.001;
  auto writer = CreateOrDie(options);
  ASSERT_NE(writer, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&writer, t] {
      for (int i = 0; i < 250; ++i) {
        writer->Log("train", i, 0, absl::StrCat("agent_", t), {{"x", i}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(writer->Flush().ok());
  const std::vector<std::string> lines =
      Lines(ReadOrDie(root + "/r/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 1000u);
  for (const std::string& line : lines) {
    ASSERT_TRUE(ValidateJson(line).ok()) << line;
  }
  EXPECT_EQ(ListDir(root + "/r").size(), 4u);  // and tensorboard/
  for (int t = 0; t < 4; ++t) {
    const std::vector<Point> points =
        Purged(root + "/r", absl::StrCat("agent_", t));
    ASSERT_EQ(points.size(), 250u) << t;
    for (int i = 0; i < 250; ++i) {
      EXPECT_EQ(points[i].step, i);
      EXPECT_EQ(points[i].value, static_cast<float>(i));
    }
  }
}

TEST(RunWriterTest, CheckpointRoundTripWithBinaryBytes) {
  const std::string root = FreshDir("ckpt");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  std::string bytes("\0head\0", 6);
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  bytes.append(std::string(100000, '\0'));
  ASSERT_TRUE(writer->SaveCheckpoint("model.pt", bytes).ok());
  absl::StatusOr<std::string> loaded = writer->LoadCheckpoint("model.pt");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, bytes);
  // Overwriting replaces the whole file.
  ASSERT_TRUE(writer->SaveCheckpoint("model.pt", "v2").ok());
  EXPECT_EQ(*writer->LoadCheckpoint("model.pt"), "v2");
  EXPECT_EQ(ListDir(root + "/r/checkpoints"),
            std::vector<std::string>{"model.pt"});
  EXPECT_EQ(writer->LoadCheckpoint("other").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RunWriterTest, BadCheckpointNamesAreRejected) {
  const std::string root = FreshDir("badname");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  for (const std::string& name :
       {std::string(""), std::string("."), std::string(".."),
        std::string("a/b"), std::string("/etc/passwd"), std::string("../x"),
        std::string("a\0b", 3)}) {
    EXPECT_EQ(writer->SaveCheckpoint(name, "x").code(),
              absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_EQ(writer->LoadCheckpoint(name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_EQ(writer->RemoveCheckpoint(name).code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_TRUE(ListDir(root + "/r/checkpoints").empty());
  EXPECT_TRUE(writer->SaveCheckpoint("..hidden", "x").ok());
  EXPECT_TRUE(writer->RemoveCheckpoint("..hidden").ok());
  EXPECT_EQ(writer->RemoveCheckpoint("..hidden").code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(root + "/r/checkpoints").empty());
}

TEST(RunWriterTest, ExistingDirectories) {
  const std::string root = FreshDir("exists");
  // An existing empty directory is fine (a launcher may make it).
  ASSERT_EQ(::mkdir((root + "/empty").c_str(), 0755), 0);
  EXPECT_NE(CreateOrDie(Options(root, "empty")), nullptr);
  // Now it holds a run: a second writer must not clobber it.
  absl::StatusOr<std::unique_ptr<RunWriter>> again =
      RunWriter::Create(Options(root, "empty"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);

  ASSERT_EQ(::mkdir((root + "/full").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomically(root + "/full/keep.txt", "mine").ok());
  EXPECT_EQ(RunWriter::Create(Options(root, "full")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadOrDie(root + "/full/keep.txt"), "mine");
  EXPECT_EQ(ListDir(root + "/full").size(), 1u);
}

TEST(RunWriterTest, RejectsBadArgumentsWithoutTouchingDisk) {
  const std::string root = FreshDir("badargs");
  for (const char* name : {".", "..", "a/b"}) {
    EXPECT_EQ(RunWriter::Create(Options(root, name)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_EQ(RunWriter::Create(Options(root, "r"), {{"env_spec", "{not json"}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RunWriter::Create(Options(root, "r"), {{"seed", "1"}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ListDir(root).empty());
}

TEST(RunWriterTest, GeneratedNamesAreSanitizedAndUnique) {
  const std::string root = FreshDir("generated") + "/nested/runs";
  RunOptions options = Options(root, "");
  options.env_name = "grid/v1 x";
  options.seed = 3;
  auto first = CreateOrDie(options);
  auto second = CreateOrDie(options);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first->directory(), second->directory());
  const std::string prefix = root + "/dqn_grid_v1_x_seed3_";
  EXPECT_TRUE(absl::StartsWith(first->directory(), prefix))
      << first->directory();
  EXPECT_TRUE(absl::StartsWith(second->directory(), prefix))
      << second->directory();
  EXPECT_EQ(ListDir(root).size(), 2u);
}

TEST(RunWriterTest, WriteSummary) {
  const std::string root = FreshDir("summary");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(
      writer->WriteSummary({{"final_return", 12.5}, {"loss_q", std::nan("")}})
          .ok());
  const std::string summary = ReadOrDie(root + "/r/summary.json");
  EXPECT_TRUE(ValidateJson(summary).ok()) << summary;
  EXPECT_EQ(summary, "{\n  \"final_return\": 12.5,\n  \"loss_q\": null\n}\n");
}

// A resumed run: the records after the checkpoint's step and a line torn
// by a crash are cut, new ones are appended, and "time" goes on.
TEST(RunWriterTest, ReopenCutsAfterTheStepAndAppends) {
  const std::string root = FreshDir("reopen");
  std::string dir;
  {
    auto writer = CreateOrDie(Options(root, "run"));
    ASSERT_NE(writer, nullptr);
    dir = writer->directory();
    for (int step = 10; step <= 50; step += 10) {
      writer->Log("train", step, step, "a", {{"loss", 0.5 * step}});
    }
    ASSERT_TRUE(writer->Flush().ok());
  }
  const std::string metrics = dir + "/metrics.jsonl";
  {
    std::ofstream torn(metrics, std::ios::app);
    torn << "{\"time\": 9, \"step\": 60, \"epi";  // no newline: torn
  }
  absl::StatusOr<std::unique_ptr<RunWriter>> reopened =
      RunWriter::Reopen(dir, 30, /*flush_interval_seconds=*/3600);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(Lines(ReadOrDie(metrics)).size(), 3u);  // steps 10, 20, 30
  (*reopened)->Log("train", 40, 40, "a", {{"loss", -1}});
  ASSERT_TRUE((*reopened)->Flush().ok());
  const std::vector<std::string> lines = Lines(ReadOrDie(metrics));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(absl::StrContains(lines[3], "\"step\": 40"));
  EXPECT_TRUE(absl::StrContains(lines[3], "\"loss\": -1"));
  EXPECT_GE(*NumberMember(lines[3], "time"), *NumberMember(lines[2], "time"));
  reopened->reset();

  // A damaged record in the middle is an error, the file untouched.
  std::string text = ReadOrDie(metrics);
  text.replace(text.find("\"step\""), 6, "\"stpp\"");
  ASSERT_TRUE(WriteFileAtomically(metrics, text).ok());
  EXPECT_EQ(RunWriter::Reopen(dir, 30).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadOrDie(metrics), text);
  EXPECT_EQ(RunWriter::Reopen(root + "/nothing", 0).status().code(),
            absl::StatusCode::kNotFound);
}

// Every Log() is one event in its agent's event file, read back here by
// the TFRecord definition and TensorFlow's Event fields.
TEST(RunWriterTensorBoardTest, EventsReadBackAsLogged) {
  const std::string root = FreshDir("tensorboard");
  const double before = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  const double nan = std::nan("");
  writer->Log("train", 100, 1, "agent_0",
              {{"episode_return", 1.5}, {"loss_q", 0.1}, {"step", 7}});
  writer->Log("train", 100, 1, "agent_1", {{"episode_return", -2.25}});
  writer->Log("train", 100, 1, "", {{"steps_per_second", 1520.4}});
  writer->Log("eval", 200, 2, "agent_0",
              {{"eval_return", 8.5}, {"loss_q", nan}, {"big", 1e300}});
  writer->Log("train", 300, 3, "agent_0", {{"episode_return", 3.0}});
  // Nothing before the flush: the events go out with metrics.jsonl.
  EXPECT_FALSE(Exists(root + "/r/tensorboard"));
  ASSERT_TRUE(writer->Flush().ok());
  const double after = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());

  std::vector<std::string> dirs = ListDir(root + "/r/tensorboard");
  std::sort(dirs.begin(), dirs.end());
  ASSERT_EQ(dirs, (std::vector<std::string>{"agent_0", "agent_1", "run"}));

  struct Expected {
    int64_t step;
    std::vector<std::pair<std::string, float>> values;
  };
  const std::map<std::string, std::vector<Expected>> expected = {
      {"agent_0",
       {{100, {{"train/episode_return", 1.5f}, {"train/loss_q", 0.1f}}},
        {200,
         {{"eval/eval_return", 8.5f},
          {"eval/loss_q", std::nanf("")},
          {"eval/big", std::numeric_limits<float>::infinity()}}},
        {300, {{"train/episode_return", 3.0f}}}}},
      {"agent_1", {{100, {{"train/episode_return", -2.25f}}}}},
      {"run", {{100, {{"train/steps_per_second", 1520.4f}}}}},
  };
  for (const auto& [dir, records] : expected) {
    SCOPED_TRACE(dir);
    const std::vector<std::string> files = EventFiles(root + "/r", dir);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_TRUE(IsEventFileName(files[0])) << files[0];
    const EventFileContents contents = ReadEventFile(files[0]);
    EXPECT_FALSE(contents.torn);
    ASSERT_EQ(contents.events.size(), records.size() + 1);
    const tb::Event& first = contents.events[0];
    ASSERT_EQ(first.what_case(), tb::Event::kFileVersion);
    EXPECT_EQ(first.file_version(), "brain.Event:2");
    double last_wall_time = 0;
    for (size_t i = 0; i < contents.events.size(); ++i) {
      const tb::Event& event = contents.events[i];
      EXPECT_GE(event.wall_time(), last_wall_time);
      EXPECT_GE(event.wall_time(), before - 1);
      EXPECT_LE(event.wall_time(), after + 1);
      last_wall_time = event.wall_time();
      if (i == 0) continue;
      const Expected& record = records[i - 1];
      EXPECT_EQ(event.step(), record.step);
      ASSERT_EQ(event.what_case(), tb::Event::kSummary);
      ASSERT_EQ(event.summary().value_size(), record.values.size());
      for (size_t v = 0; v < record.values.size(); ++v) {
        const auto& value = event.summary().value(v);
        EXPECT_EQ(value.tag(), record.values[v].first);
        ASSERT_EQ(value.value_case(), tb::Summary::Value::kSimpleValue);
        if (std::isnan(record.values[v].second)) {
          EXPECT_TRUE(std::isnan(value.simple_value()));
        } else {
          EXPECT_EQ(value.simple_value(), record.values[v].second);
        }
      }
    }
  }

  // Each event's wall_time is config.json's start_time_unix plus the
  // record's "time".
  const double start =
      *NumberMember(ReadOrDie(root + "/r/config.json"), "start_time_unix");
  std::vector<double> times;
  for (const std::string& line : Lines(ReadOrDie(root + "/r/metrics.jsonl"))) {
    if (absl::StrContains(line, "\"agent\": \"agent_0\"")) {
      times.push_back(*NumberMember(line, "time"));
    }
  }
  const std::vector<tb::Event> events =
      ReadEventFile(EventFiles(root + "/r", "agent_0")[0]).events;
  ASSERT_EQ(times.size() + 1, events.size());
  for (size_t i = 0; i < times.size(); ++i) {
    EXPECT_NEAR(events[i + 1].wall_time(), start + times[i], 1e-5);
  }
}

TEST(RunWriterTensorBoardTest, AgentNamesBecomeDistinctDirectories) {
  const std::string root = FreshDir("tb_names");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  const std::vector<std::string> agents = {
      "a_b",      "a/b", "a b", "run", "", ".", "..", std::string(300, 'x'),
      "agent-0.x"};
  for (size_t i = 0; i < agents.size(); ++i) {
    writer->Log("train", 1, 0, agents[i], {{"id", static_cast<double>(i)}});
  }
  ASSERT_TRUE(writer->Flush().ok());
  const std::vector<std::string> dirs = ListDir(root + "/r/tensorboard");
  ASSERT_EQ(dirs.size(), agents.size());
  const std::set<std::string> names(dirs.begin(), dirs.end());
  // Plain names as they are, and the run's own records in run/.
  EXPECT_EQ(names.count("a_b"), 1u);
  EXPECT_EQ(names.count("agent-0.x"), 1u);
  EXPECT_EQ(names.count("run"), 1u);
  std::set<int> ids;
  for (const std::string& dir : dirs) {
    EXPECT_LE(dir.size(), 120u) << dir;
    EXPECT_NE(dir, ".");
    EXPECT_NE(dir, "..");
    for (const char c : dir) {
      EXPECT_TRUE(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-')
          << dir;
    }
    const std::vector<Point> points = Purged(root + "/r", dir);
    ASSERT_EQ(points.size(), 1u) << dir;
    ids.insert(static_cast<int>(points[0].value));
    if (dir == "run") {
      EXPECT_EQ(points[0].value, 4.0f);  // agent ""
    }
  }
  EXPECT_EQ(ids.size(), agents.size());  // every agent in its own
}

TEST(RunWriterTensorBoardTest, CanBeTurnedOff) {
  const std::string root = FreshDir("tb_off");
  RunOptions options = Options(root, "r");
  options.tensorboard = false;
  {
    auto writer = CreateOrDie(options);
    ASSERT_NE(writer, nullptr);
    writer->Log("train", 1, 0, "a", {{"x", 1}});
  }
  EXPECT_FALSE(Exists(root + "/r/tensorboard"));
  absl::StatusOr<std::unique_ptr<RunWriter>> reopened =
      RunWriter::Reopen(root + "/r", 1, 3600, /*tensorboard=*/false);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  (*reopened)->Log("train", 2, 0, "a", {{"x", 2}});
  reopened->reset();
  EXPECT_FALSE(Exists(root + "/r/tensorboard"));
  EXPECT_EQ(Lines(ReadOrDie(root + "/r/metrics.jsonl")).size(), 2u);
}

// A resumed run gets a new event file per agent whose first events are
// file_version and a session START at the first step past the cut; with
// TensorBoard's purge, every step shows once, the new values after the cut.
TEST(RunWriterTensorBoardTest, ReopenStartsNewFilesWithSessionStart) {
  const std::string root = FreshDir("tb_reopen");
  std::string run;
  {
    auto writer = CreateOrDie(Options(root, "r"));
    ASSERT_NE(writer, nullptr);
    run = writer->directory();
    for (int step = 1; step <= 5; ++step) {
      writer->Log("train", step, step, "a", {{"x", step}});
      writer->Log("train", step, step, "b", {{"x", -step}});
    }
  }
  // A crash mid-append leaves a torn record at the end of a file.
  const std::vector<std::string> old_files = EventFiles(run, "a");
  ASSERT_EQ(old_files.size(), 1u);
  const std::string old_bytes = ReadOrDie(old_files[0]);
  {
    std::ofstream torn(old_files[0], std::ios::app | std::ios::binary);
    torn << old_bytes.substr(0, 20);
  }
  const std::string torn_bytes = ReadOrDie(old_files[0]);
  EXPECT_TRUE(ReadEventFile(old_files[0]).torn);

  absl::StatusOr<std::unique_ptr<RunWriter>> reopened =
      RunWriter::Reopen(run, 3, /*flush_interval_seconds=*/3600);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  for (int step = 4; step <= 6; ++step) {
    (*reopened)->Log("train", step, step, "a", {{"x", 100 + step}});
  }
  ASSERT_TRUE((*reopened)->Flush().ok());

  // The old file is left as it was, torn end included.
  EXPECT_EQ(ReadOrDie(old_files[0]), torn_bytes);
  for (const std::string& dir : std::vector<std::string>{"a", "b"}) {
    SCOPED_TRACE(dir);
    const std::vector<std::string> files = EventFiles(run, dir);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_TRUE(IsEventFileName(files[1])) << files[1];
    if (dir == "a") {
      EXPECT_EQ(files[0], old_files[0]);
    }
    const EventFileContents newest = ReadEventFile(files[1]);
    EXPECT_FALSE(newest.torn);
    // b logs nothing after the resume: its file is started all the same.
    ASSERT_EQ(newest.events.size(), dir == "a" ? 5u : 2u);
    EXPECT_EQ(newest.events[0].file_version(), "brain.Event:2");
    ASSERT_TRUE(newest.events[1].has_session_log());
    EXPECT_EQ(newest.events[1].session_log().status(), tb::SessionLog::START);
    EXPECT_EQ(newest.events[1].step(), 4);
    for (size_t i = 2; i < newest.events.size(); ++i) {
      EXPECT_EQ(newest.events[i].step(), static_cast<int64_t>(i) + 2);
    }
  }
  std::vector<int64_t> steps;
  std::vector<float> values;
  for (const Point& p : Purged(run, "a")) {
    steps.push_back(p.step);
    values.push_back(p.value);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 104, 105, 106}));
  steps.clear();
  for (const Point& p : Purged(run, "b")) steps.push_back(p.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3}));

  // Reopened again within the same second: the next file still sorts last.
  reopened->reset();
  absl::StatusOr<std::unique_ptr<RunWriter>> again =
      RunWriter::Reopen(run, 5, /*flush_interval_seconds=*/3600);
  ASSERT_TRUE(again.ok()) << again.status();
  (*again)->Log("train", 6, 6, "a", {{"x", 206}});
  again->reset();
  steps.clear();
  values.clear();
  for (const Point& p : Purged(run, "a")) {
    steps.push_back(p.step);
    values.push_back(p.value);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 104, 105, 206}));
  EXPECT_EQ(EventFiles(run, "a").size(), 3u);
}

// A failed append (here: beyond RLIMIT_FSIZE, as on a full disk) is cut
// back to whole records in metrics.jsonl and in the event files, and the
// records are written by the next append that succeeds.
TEST(RunWriterTensorBoardTest, FailedAppendsAreCutBackToWholeEvents) {
  const std::string root = FreshDir("tb_full");
  auto writer = CreateOrDie(Options(root, "r"));
  ASSERT_NE(writer, nullptr);
  writer->Log("train", 0, 0, "a", {{"x", 0}});
  ASSERT_TRUE(writer->Flush().ok());
  const std::string metrics = root + "/r/metrics.jsonl";
  const std::string events = EventFiles(root + "/r", "a").at(0);
  const std::string metrics_before = ReadOrDie(metrics);
  const std::string events_before = ReadOrDie(events);

  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 1000;  // past every file's size now, short of the next
  ASSERT_LT(metrics_before.size(), 1000u);
  void (*old_handler)(int) = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  for (int step = 1; step <= 100; ++step) {
    writer->Log("train", step, 0, "a", {{"x", step}, {"y", 0.5}});
  }
  const absl::Status failed = writer->Flush();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(ReadOrDie(metrics), metrics_before);
  EXPECT_EQ(ReadOrDie(events), events_before);

  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_EQ(Lines(ReadOrDie(metrics)).size(), 101u);
  const EventFileContents contents = ReadEventFile(events);
  EXPECT_FALSE(contents.torn);
  ASSERT_EQ(contents.events.size(), 102u);  // file_version and 101
  for (int step = 0; step <= 100; ++step) {
    EXPECT_EQ(contents.events[step + 1].step(), step);
  }
}

}  // namespace
}  // namespace marl
