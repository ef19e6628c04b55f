#include "runtime/run_writer.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "runtime/json.h"

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
  EXPECT_EQ(ListDir(root + "/r").size(), 3u);  // no temp files left
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
  EXPECT_EQ(ListDir(root + "/r").size(), 3u);
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
  EXPECT_EQ(ListDir(root + "/r").size(), 3u);
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

}  // namespace
}  // namespace marl
