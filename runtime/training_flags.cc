#include "runtime/training_flags.h"

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <system_error>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/remote_env.h"
#include "protocol/working_directory.h"
#include "runtime/blas_threads.h"
#include "runtime/json.h"
#include "runtime/public_observation_fold.h"
#include "runtime/replica_group.h"
#include "runtime/run_writer.h"

ABSL_FLAG(std::string, endpoint, "",
          "Environment server endpoint (tcp://host:port, ipc://path), or "
          "several separated by commas: the copies are split over them in "
          "contiguous blocks and every server steps at once; the results are "
          "the same, copy for copy, as with one server. Empty: start an "
          "embedded in-process server.");
ABSL_FLAG(bool, tolerate_server_loss, false,
          "With several --endpoint servers: when one stops answering (after "
          "--timeout_ms), make its copies again on the next live server and "
          "go on (their episodes end there, truncated) instead of ending the "
          "run with an error naming it.");
ABSL_FLAG(bool, overlap_learning, false,
          "Update on each step's transitions while the environment servers "
          "step the next one (the next actions come from the learner before "
          "that update): faster when both take time; results differ from a "
          "run without it. For replay learners without per-step latent "
          "state (MADDPG, PR2-AC, ROMMEO-AC, GR2, deep Balancing-Q); others "
          "refuse it.");
ABSL_FLAG(int, data_parallel_timeout_s, 1800,
          "Data-parallel runs (started by a launcher with WORLD_SIZE > 1, "
          "RANK, MASTER_ADDR, MASTER_PORT): how long a rank waits for the "
          "others to join, and at each gradient average, before failing.");
ABSL_FLAG(int, timeout_ms, 30000,
          "How long one server call may take before the run fails.");
ABSL_FLAG(std::string, curve_server_key_file, "",
          "The server's public CURVE certificate (NAME.key, from "
          "make_curve_keys): encrypts the connection and authenticates the "
          "server. Needed when env_server runs with --curve_secret_key_file.");
ABSL_FLAG(std::string, curve_client_key_file, "",
          "This agent's secret CURVE certificate (NAME.key_secret), for a "
          "server that admits only listed keys (--curve_authorized_keys). "
          "Empty: a fresh key pair per run.");
ABSL_FLAG(std::string, env, "matrix_game",
          "Environment name (matrix_game, iterated_matrix_game, "
          "max_of_two_quadratics, beauty_contest, ...).");
ABSL_FLAG(std::string, env_settings, "",
          "Environment settings as name=value pairs separated by commas, e.g. "
          "'game=climbing' or 'payoffs_row=[[4,0],[0,2]],payoffs_column=[[4,"
          "0],[0,2]]' (commas inside brackets belong to the value).");
ABSL_FLAG(int, num_copies, 8,
          "Environment copies stepped together in one batched request.");
ABSL_FLAG(uint64_t, seed, 0,
          "Run seed: environment copies and learners derive their seeds from "
          "it.");
ABSL_FLAG(std::string, mode, "train",
          "'train': train then evaluate; 'eval': evaluate the checkpoint given "
          "by --restore.");
ABSL_FLAG(int64_t, steps, 20000,
          "Training length in environment transitions summed over all copies "
          "(one batched step of --num_copies copies counts --num_copies); "
          "rounded up to a whole number of batched steps.");
ABSL_FLAG(int64_t, eval_every, 0,
          "Evaluate every this many transitions (0 = only at the end). "
          "Evaluation plays the greedy / deterministic policies on a separate "
          "environment handle.");
ABSL_FLAG(int, eval_episodes, 100, "Episodes per evaluation.");
ABSL_FLAG(int, eval_trace_episodes, 0,
          "The final evaluation writes its first N episodes (at most 64) "
          "step by step to <run>/eval_trace.jsonl: observations, actions, "
          "rewards and the agents' latent state (options).");
ABSL_FLAG(int64_t, log_every, 1000,
          "Write train metrics (episode_return, the learner's losses, "
          "temperatures and policy probabilities, steps_per_second) every "
          "this many transitions (0 = never).");
ABSL_FLAG(int, return_window, 100,
          "Episodes in the moving average of returns shown on screen.");
ABSL_FLAG(double, progress_seconds, 5.0,
          "Seconds between progress lines on screen.");
ABSL_FLAG(std::string, runs_root, "runs",
          "Directory that holds run directories.");
ABSL_FLAG(std::string, run_name, "",
          "Run directory name under --runs_root (empty = "
          "<algorithm>_<env>_seed<seed>_<time>).");
ABSL_FLAG(
    int64_t, checkpoint_every, 0,
    "Save a checkpoint (checkpoints/step_<N>) every this many transitions "
    "(0 = only checkpoints/final at the end).");
ABSL_FLAG(int64_t, keep_checkpoints, 5,
          "Keep only the newest this many checkpoints/step_<N> (older ones "
          "are deleted as new ones are saved; checkpoints/final is always "
          "kept; 0 = keep every one).");
ABSL_FLAG(bool, checkpoint_replay, false,
          "Checkpoints also hold the learners' replay buffers (larger files): "
          "a run resumed with --resume then goes on with the experience it "
          "had.");
ABSL_FLAG(bool, observe_public, false,
          "Every agent also observes the environment's public observation, "
          "appended to its own (one-hot if Discrete): for learners that read "
          "only per-agent observations on environments whose per-agent "
          "observations are private (tiny_hanabi). An error where the "
          "environment has no public observation.");
ABSL_FLAG(std::string, restore, "",
          "Checkpoint file to load before training or evaluating (e.g. "
          "runs/<run>/checkpoints/final); required by --mode=eval. The "
          "environment and the algorithm's options must match the "
          "checkpoint's.");
ABSL_FLAG(std::string, resume, "",
          "A run directory to go on training (e.g. after a crash, or with a "
          "larger --steps): its latest checkpoint (checkpoints/final, else "
          "the newest step_<N>) is restored with the step count, the "
          "schedules and the optimisers; training continues to --steps in the "
          "same directory, whose metrics.jsonl keeps its records up to that "
          "step. The run's flags come from its config.json (as with "
          "--config); flags on the command line win.");
ABSL_FLAG(std::string, config, "",
          "A run's config.json: start from the flags it recorded, then apply "
          "those given on the command line, which win (e.g. --config=runs/"
          "<run>/config.json --seed=2). Not taken from the file: where the "
          "server is (--endpoint, --timeout_ms, --curve_*_key_file) and "
          "--run_name (the new run gets its own directory). The same flags "
          "and seed give the same run.");

namespace marl {
namespace {

// Recorded flags that --config does not restore: how to reach the server
// says nothing about the run, a new run needs its own directory, and
// Abseil's own flags read other sources.
bool RestoredByConfig(absl::string_view flag) {
  for (const char* skipped :
       {"config", "resume", "endpoint", "tolerate_server_loss", "timeout_ms",
        "data_parallel_timeout_s", "curve_server_key_file",
        "curve_client_key_file", "run_name", "flagfile", "fromenv",
        "tryfromenv", "undefok"}) {
    if (flag == skipped) return false;
  }
  return true;
}

// The last --<flag> value on the command line ("" if none), found before
// Abseil parses it, so that a config file's values can be set first and the
// command line's override them.
std::string FlagOnCommandLine(int argc, char** argv, absl::string_view flag) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      continue;
    }
    absl::string_view value = arg;
    if (absl::ConsumePrefix(&value, flag) && absl::ConsumePrefix(&value, "=")) {
      path = std::string(value);
    } else if (arg == flag && i + 1 < argc) {
      path = argv[++i];
    }
  }
  return path;
}

// A run's config.json is a few kB; anything this large is not one.
constexpr std::uintmax_t kMaxConfigBytes = 16 << 20;

// Sets every flag recorded in the config.json at `path` (see --config);
// for a resumed run (`resuming`), not the checkpoint it started from.
absl::Status ApplyConfig(const std::string& path, bool resuming) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", error.message()));
  }
  if (size > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " has ", size, " bytes: not a run's config.json (at most ",
        kMaxConfigBytes, ")"));
  }
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> flags =
      StringMembers(*text, "flags");
  if (!flags.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a run's config.json: ", flags.status().message()));
  }
  for (const auto& [name, value] : *flags) {
    if (!RestoredByConfig(name) || (resuming && name == "restore")) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " records --", name,
          ", which this binary does not have (a run of another agent?)"));
    }
    std::string parse_error;
    if (!flag->ParseFrom(value, &parse_error)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": --", name, "=", value, ": ", parse_error));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingOptions> TrainingOptionsFromFlags() {
  TrainingOptions o;
  for (absl::string_view endpoint :
       absl::StrSplit(absl::GetFlag(FLAGS_endpoint), ',')) {
    endpoint = absl::StripAsciiWhitespace(endpoint);
    if (endpoint.empty() && !absl::GetFlag(FLAGS_endpoint).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--endpoint=", absl::GetFlag(FLAGS_endpoint),
          ": an empty endpoint in the list (separate endpoints by single "
          "commas)"));
    }
    if (!endpoint.empty()) o.endpoints.emplace_back(endpoint);
  }
  o.tolerate_server_loss = absl::GetFlag(FLAGS_tolerate_server_loss);
  o.overlap_learning = absl::GetFlag(FLAGS_overlap_learning);
  o.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  o.curve_server_key_file = absl::GetFlag(FLAGS_curve_server_key_file);
  o.curve_client_key_file = absl::GetFlag(FLAGS_curve_client_key_file);
  o.env = absl::GetFlag(FLAGS_env);
  absl::StatusOr<std::map<std::string, std::string>> settings =
      ParseSettingsFlag(absl::GetFlag(FLAGS_env_settings));
  if (!settings.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--env_settings: ", settings.status().message()));
  }
  o.env_settings = *std::move(settings);
  o.num_copies = absl::GetFlag(FLAGS_num_copies);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.mode = absl::GetFlag(FLAGS_mode);
  o.steps = absl::GetFlag(FLAGS_steps);
  o.eval_every = absl::GetFlag(FLAGS_eval_every);
  o.eval_episodes = absl::GetFlag(FLAGS_eval_episodes);
  o.eval_trace_episodes = absl::GetFlag(FLAGS_eval_trace_episodes);
  o.log_every = absl::GetFlag(FLAGS_log_every);
  o.return_window = absl::GetFlag(FLAGS_return_window);
  o.progress_seconds = absl::GetFlag(FLAGS_progress_seconds);
  o.progress = &std::cout;
  o.runs_root = absl::GetFlag(FLAGS_runs_root);
  o.run_name = absl::GetFlag(FLAGS_run_name);
  o.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  o.keep_checkpoints = absl::GetFlag(FLAGS_keep_checkpoints);
  o.checkpoint_replay = absl::GetFlag(FLAGS_checkpoint_replay);
  o.restore = absl::GetFlag(FLAGS_restore);
  o.resume = absl::GetFlag(FLAGS_resume);
  return o;
}

bool ParseAgentCommandLine(int argc, char** argv, absl::string_view program,
                           absl::string_view usage,
                           absl::string_view agent_folder) {
  if (absl::Status s = EnterBazelRunDirectory(); !s.ok()) {
    std::cerr << program << ": error: " << s.message() << std::endl;
    return false;
  }
  RestartWithOneBlasThreadUnlessSet(argv);
  absl::SetProgramUsageMessage(usage);
  // --help lists the agent's flags and the loop's (the default matches
  // only a file named after the binary, and ours are main.cc files).
  static std::string* folder = new std::string(agent_folder);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, *folder) ||
           absl::StrContains(file, "runtime/training_flags") ||
           absl::StrContains(file, "learners/deep_joint_flags");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  // --config, or else the config.json of the run --resume goes on with.
  std::string config_path = FlagOnCommandLine(argc, argv, "config");
  const std::string resume = FlagOnCommandLine(argc, argv, "resume");
  const bool resuming = config_path.empty() && !resume.empty();
  if (resuming) {
    config_path = (std::filesystem::path(resume) / "config.json").string();
  }
  if (!config_path.empty()) {
    absl::Status applied = ApplyConfig(config_path, resuming);
    if (!applied.ok()) {
      std::cerr << program
                << ": error: " << (resuming ? "--resume: " : "--config: ")
                << applied.message() << std::endl;
      return false;
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::cerr << program << ": error: unexpected argument '" << positional[1]
              << "' (flags are --name=value)" << std::endl;
    return false;
  }
  return true;
}

int RunAgentMain(
    int argc, char** argv, absl::string_view program, absl::string_view usage,
    absl::string_view agent_folder,
    const std::function<absl::StatusOr<AgentAlgorithm>()>& make_algorithm) {
  if (!ParseAgentCommandLine(argc, argv, program, usage, agent_folder)) {
    return 2;
  }
  try {
    absl::StatusOr<TrainingOptions> options = TrainingOptionsFromFlags();
    absl::StatusOr<AgentAlgorithm> algorithm =
        options.ok() ? make_algorithm() : options.status();
    if (!algorithm.ok()) {
      std::cerr << program << ": error: " << algorithm.status().message()
                << std::endl;
      return 2;
    }
    // A launcher's data-parallel group (WORLD_SIZE > 1), if this agent's
    // learners can average over one.
    std::unique_ptr<ReplicaGroup> replicas;
    if (const ReplicaGroupFactory& make = RegisteredReplicaGroupFactory()) {
      absl::StatusOr<std::unique_ptr<ReplicaGroup>> group =
          make(absl::GetFlag(FLAGS_data_parallel_timeout_s));
      if (!group.ok()) {
        std::cerr << program << ": error: " << group.status().message()
                  << std::endl;
        return 2;
      }
      replicas = *std::move(group);
    } else if (const char* world = std::getenv("WORLD_SIZE");
               world != nullptr && absl::string_view(world) != "1") {
      std::cerr << program << ": error: WORLD_SIZE=" << world << ": " << program
                << "'s learners have no LibTorch optimizers to average, so it "
                   "cannot run data-parallel (unset WORLD_SIZE)"
                << std::endl;
      return 2;
    }
    options->replicas = replicas.get();
    const LearnerFactory factory = absl::GetFlag(FLAGS_observe_public)
                                       ? ObservePublic(algorithm->factory)
                                       : algorithm->factory;
    absl::StatusOr<TrainingResult> result =
        RunTraining(*options, algorithm->name, factory);
    if (!result.ok()) {
      std::cerr << program << ": error: " << result.status() << std::endl;
      return 1;
    }
    std::cout << FormatResult(*result);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << program << ": error: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace marl
