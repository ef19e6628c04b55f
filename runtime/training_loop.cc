#include "runtime/training_loop.h"

#include <google/protobuf/util/json_util.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/env_client.h"
#include "client/sharded_env.h"
#include "protocol/proto/env_protocol.pb.h"
#include "protocol/protocol_arrays.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"
#include "runtime/replica_group.h"
#include "runtime/run_writer.h"
#include "server/embedded_server.h"

namespace marl {
namespace {

using Clock = std::chrono::steady_clock;
using Values = std::vector<std::pair<std::string, double>>;

// The loop's checkpoint wraps the learner's state (runtime/learner_state.h)
// with the algorithm name, so a checkpoint of another algorithm is refused
// before Load sees it, the loop's own counters (transitions and episodes,
// so a resumed run goes on counting), and the state's length and CRC-32,
// so a truncated or corrupt file is refused instead of restoring garbage.
// v4: the learner state is the one layout every learner writes; files of
// earlier versions held each learner's own layout, which no longer loads.
constexpr char kCheckpointMagic[] = "marl-checkpoint-v4";
constexpr char kCheckpointMagicOld[] = "marl-checkpoint-v";
// Environment seeds of a resumed run: a stream of their own per resume
// point, so it does not replay the episodes the run began with.
constexpr uint64_t kResumeSeedStream = 1000033;
// An evaluation episode that never ends is cut after this many steps (when
// the spec has no episode limit).
constexpr int kMaxEvalSteps = 10000;
constexpr uint64_t kEvalSeedStream = 1000003;
// Data-parallel rank r > 0 runs with seed DeriveSeed(seed, kRankSeedStream
// + r): its own environment copies and random streams (rank 0 keeps the
// run's seed, so one rank runs as a run without a group).
constexpr uint64_t kRankSeedStream = 1000037;

// The options a rank runs with.
TrainingOptions ForRank(TrainingOptions options) {
  ReplicaGroup* group = options.replicas;
  if (group != nullptr && group->rank() > 0) {
    options.seed = DeriveSeed(options.seed, kRankSeedStream + group->rank());
  }
  return options;
}

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string ValuesLine(const std::vector<std::string>& ids,
                       const std::vector<double>& values) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < ids.size(); ++i) {
    parts.push_back(absl::StrFormat("%s %.3f", ids[i], values[i]));
  }
  return absl::StrJoin(parts, "  ");
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  const int64_t s = static_cast<int64_t>(std::ceil(seconds));
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

uint32_t Crc32(absl::string_view bytes) {
  // zlib takes lengths as uInt: feed it in pieces below 4 GiB.
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), size_t{1} << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
                static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

// A checkpoint file's contents.
struct Checkpoint {
  std::string bytes;  // the learner's state
  int64_t step = 0;   // transitions trained
  int64_t episodes = 0;
};

std::string PackCheckpoint(const std::string& algorithm, int64_t step,
                           int64_t episodes, const std::string& bytes) {
  return absl::StrCat(
      kCheckpointMagic, "\n", algorithm, "\n",
      absl::StrFormat("step=%d episodes=%d", step, episodes), "\n",
      absl::StrFormat("crc32=%08x length=%d", Crc32(bytes), bytes.size()), "\n",
      bytes);
}

absl::StatusOr<Checkpoint> UnpackCheckpoint(const std::string& data,
                                            const std::string& algorithm) {
  const size_t magic_end = data.find('\n');
  const absl::string_view magic = absl::string_view(data).substr(0, magic_end);
  if (magic_end == std::string::npos || magic != kCheckpointMagic) {
    if (absl::StartsWith(magic, kCheckpointMagicOld)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the checkpoint is ", magic,
          ", whose learner states each learner "
          "wrote in its own layout; this build reads ",
          kCheckpointMagic,
          " (one layout for every learner): restore it with the build that "
          "wrote it, or train again"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("not a checkpoint of this framework (expected '",
                     kCheckpointMagic, "')"));
  }
  const size_t name_end = data.find('\n', magic_end + 1);
  if (name_end == std::string::npos) {
    return absl::DataLossError("truncated checkpoint header");
  }
  const std::string name = data.substr(magic_end + 1, name_end - magic_end - 1);
  if (name != algorithm) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the checkpoint is of algorithm '", name, "', not '", algorithm, "'"));
  }
  Checkpoint out;
  size_t line_start = name_end + 1;
  // One header line, without its newline; false when there is none.
  auto next_line = [&](std::string* line) {
    const size_t end = data.find('\n', line_start);
    if (end == std::string::npos) return false;
    *line = data.substr(line_start, end - line_start);
    line_start = end + 1;
    return true;
  };
  std::string line;
  char rest = 0;
  if (!next_line(&line) ||
      std::sscanf(line.c_str(), "step=%" SCNd64 " episodes=%" SCNd64 "%c",
                  &out.step, &out.episodes, &rest) != 2 ||
      out.step < 0 || out.episodes < 0) {
    return absl::DataLossError("truncated or corrupt checkpoint header");
  }
  unsigned int crc = 0;
  uint64_t length = 0;
  if (!next_line(&line) ||
      std::sscanf(line.c_str(), "crc32=%8x length=%" SCNu64 "%c", &crc, &length,
                  &rest) != 2) {
    return absl::DataLossError("truncated or corrupt checkpoint header");
  }
  const absl::string_view bytes = absl::string_view(data).substr(line_start);
  if (bytes.size() != length) {
    return absl::DataLossError(
        absl::StrCat("the checkpoint is truncated or padded: ", bytes.size(),
                     " bytes where its header says ", length));
  }
  if (Crc32(bytes) != crc) {
    return absl::DataLossError(
        "the checkpoint is corrupt: its CRC-32 does not match its bytes");
  }
  out.bytes = std::string(bytes);
  return out;
}

// The learner settings that differ between the run a checkpoint was saved
// by (its ../../config.json, when there is one) and `learner_json`, this
// run's: "hidden [100,100] -> [64,64]" each; empty if none or unknown.
std::vector<std::string> SettingsChanged(const std::string& checkpoint,
                                         const std::string& learner_json) {
  const std::filesystem::path config =
      std::filesystem::path(checkpoint).parent_path().parent_path() /
      "config.json";
  absl::StatusOr<std::string> text = ReadFile(config.string());
  if (!text.ok()) return {};
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> before =
      MemberTexts(*text, "learner");
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> now =
      MemberTexts(learner_json);
  if (!before.ok() || !now.ok()) return {};
  std::map<std::string, std::string> old_values(before->begin(), before->end());
  std::vector<std::string> changed;
  for (const auto& [name, value] : *now) {
    const auto old = old_values.find(name);
    if (old == old_values.end()) {
      changed.push_back(absl::StrCat(name, " (new) ", value));
    } else if (old->second != value) {
      changed.push_back(absl::StrCat(name, " ", old->second, " -> ", value));
    }
    if (old != old_values.end()) old_values.erase(old);
  }
  for (const auto& [name, value] : old_values) {
    changed.push_back(absl::StrCat(name, " ", value, " (gone)"));
  }
  return changed;
}

// The names of a run directory's checkpoints/step_<N>, oldest step first.
std::vector<std::string> StepCheckpoints(const std::string& run) {
  std::vector<std::pair<int64_t, std::string>> steps;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(run) / "checkpoints", error)) {
    const std::string name = entry.path().filename().string();
    int64_t step = 0;
    if (absl::StartsWith(name, "step_") &&
        absl::SimpleAtoi(absl::string_view(name).substr(5), &step)) {
      steps.emplace_back(step, name);
    }
  }
  std::sort(steps.begin(), steps.end());
  std::vector<std::string> names;
  for (auto& [step, name] : steps) names.push_back(std::move(name));
  return names;
}

// The checkpoint a run directory resumes from: checkpoints/final if the run
// finished, else its latest checkpoints/step_<N>; NOT_FOUND if none.
absl::StatusOr<std::string> LatestCheckpoint(const std::string& run) {
  const std::filesystem::path dir = std::filesystem::path(run) / "checkpoints";
  std::error_code error;
  if (std::filesystem::is_regular_file(dir / "final", error)) {
    return (dir / "final").string();
  }
  const std::vector<std::string> steps = StepCheckpoints(run);
  if (steps.empty()) {
    return absl::NotFoundError(
        absl::StrCat("--resume ", run, ": no checkpoint in ", dir.string(),
                     " (train with --checkpoint_every to resume a run that "
                     "stops early)"));
  }
  return (dir / steps.back()).string();
}

class Runner {
 public:
  Runner(const TrainingOptions& options, std::string algorithm,
         const LearnerFactory& factory)
      : o_(ForRank(options)),
        algorithm_(std::move(algorithm)),
        factory_(factory),
        replicas_(o_.replicas != nullptr && o_.replicas->world_size() > 1
                      ? o_.replicas
                      : nullptr) {}

  absl::StatusOr<TrainingResult> Run() {
    if (absl::Status s = ValidateTrainingOptions(o_); !s.ok()) return s;
    // Read the checkpoint before anything touches the disk or the server,
    // so a wrong path fails fast.
    std::string checkpoint = o_.restore;
    if (!o_.resume.empty()) {
      absl::StatusOr<std::string> latest = LatestCheckpoint(o_.resume);
      if (!latest.ok()) return latest.status();
      checkpoint = *std::move(latest);
    }
    Checkpoint restored;
    if (!checkpoint.empty()) {
      absl::StatusOr<Checkpoint> read = ReadCheckpoint(checkpoint);
      if (!read.ok()) return read.status();
      restored = *std::move(read);
    }
    if (!o_.resume.empty()) {
      transitions_ = restored.step;
      episodes_ = restored.episodes;
    }
    if (absl::Status s = Connect(); !s.ok()) return s;
    absl::StatusOr<std::unique_ptr<JointLearner>> learner =
        factory_(env_->spec(), o_.seed);
    if (!learner.ok()) return learner.status();
    if (*learner == nullptr) {
      return absl::InternalError("the learner factory returned null");
    }
    learner_ = *std::move(learner);
    if (env_->spec().sequential && !learner_->TakesTurns()) {
      return absl::UnimplementedError(
          absl::StrCat("environment '", o_.env, "' is turn-based; ", algorithm_,
                       " needs simultaneous moves"));
    }
    learner_->set_checkpoint_replay(o_.checkpoint_replay);
    if (o_.overlap_learning && !learner_->LearnsOneStepLate()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--overlap_learning: ", algorithm_,
          "'s learners read what they acted with when they learn (per-step "
          "latent state, rollouts), so they cannot learn a step late"));
    }
    if (!checkpoint.empty()) {
      // Settings the checkpoint's run used differently: they explain a
      // checkpoint that does not fit, and are worth a note when it does.
      const std::vector<std::string> changed =
          SettingsChanged(checkpoint, learner_->ConfigJson());
      const std::string changes = changed.empty()
                                      ? ""
                                      : absl::StrCat(
                                            "the checkpoint's run had other "
                                            "learner settings: ",
                                            absl::StrJoin(changed, "; "));
      if (absl::Status s = learner_->Load(restored.bytes); !s.ok()) {
        return absl::Status(
            s.code(),
            absl::StrCat(
                CheckpointFlag(), " ", checkpoint, ": ", s.message(),
                changes.empty() ? "" : absl::StrCat(" (", changes, ")")));
      }
      if (!changes.empty() && o_.progress != nullptr) {
        *o_.progress << "[" << algorithm_ << "] note: " << changes << std::endl;
      }
    }
    if (absl::Status s = ShareModel(); !s.ok()) return s;
    // (Checked at once too: a learner whose Load does not restore its
    // model exactly fails here, before any training.)
    if (absl::Status s = CheckModelsAgree(); !s.ok()) return s;
    if (absl::Status s = OpenRun(); !s.ok()) return s;

    std::vector<double> final_returns;
    if (o_.mode == "train") {
      if (absl::Status s = Train(); !s.ok()) return s;
      if (absl::Status s = SaveCheckpoint("final"); !s.ok()) return s;
    }
    absl::StatusOr<std::vector<double>> returns = Evaluate(/*final=*/true);
    if (!returns.ok()) return returns.status();

    TrainingResult result;
    result.algorithm = algorithm_;
    result.steps = transitions_;
    result.episodes = episodes_;
    result.train_seconds = train_seconds_;
    result.steps_per_second =
        train_seconds_ > 0
            ? (transitions_ - first_transitions_) / train_seconds_
            : 0.0;
    result.run_directory = writer_->directory();
    absl::StatusOr<std::vector<std::vector<double>>> greedy = GreedyActions();
    if (!greedy.ok()) return greedy.status();
    Values summary;
    for (int a = 0; a < num_agents_; ++a) {
      AgentResult agent;
      agent.id = ids_[a];
      agent.note = learner_->AgentNote(a);
      agent.eval_return = (*returns)[a];
      agent.greedy_action = (*greedy)[a];
      summary.push_back(
          {absl::StrCat("final_eval_return_", agent.id), agent.eval_return});
      for (size_t k = 0; k < agent.greedy_action.size(); ++k) {
        summary.push_back(
            {agent.greedy_action.size() == 1
                 ? absl::StrCat("greedy_action_", agent.id)
                 : absl::StrCat("greedy_action_", agent.id, "_", k),
             agent.greedy_action[k]});
      }
      result.agents.push_back(std::move(agent));
    }
    summary.push_back({"total_steps", double(result.steps)});
    summary.push_back({"total_episodes", double(result.episodes)});
    summary.push_back({"train_seconds", result.train_seconds});
    summary.push_back({"steps_per_second", result.steps_per_second});
    if (absl::Status s = writer_->WriteSummary(summary); !s.ok()) return s;
    if (absl::Status s = writer_->Flush(); !s.ok()) return s;
    return result;
  }

 private:
  absl::Status Connect() {
    // One client per server (an embedded one without endpoints).
    const std::vector<std::string> endpoints =
        o_.endpoints.empty() ? std::vector<std::string>{""} : o_.endpoints;
    for (const std::string& endpoint : endpoints) {
      ClientOptions client_options;
      client_options.endpoint = endpoint;
      // The training runtime brings the embedded server in; the client
      // itself does not depend on the server.
      client_options.embedded_server = EmbeddedServerFactory();
      client_options.timeout_ms = o_.timeout_ms;
      client_options.client_name = algorithm_;
      client_options.curve_server_key_file = o_.curve_server_key_file;
      client_options.curve_client_key_file = o_.curve_client_key_file;
      absl::StatusOr<std::unique_ptr<EnvClient>> client =
          EnvClient::Connect(client_options);
      if (!client.ok()) {
        return absl::Status(
            client.status().code(),
            absl::StrCat("connecting to the environment server",
                         endpoint.empty() ? " (embedded)"
                                          : absl::StrCat(" at ", endpoint),
                         ": ", client.status().message()));
      }
      clients_.push_back(*std::move(client));
    }
    std::vector<EnvClient*> clients;
    for (const auto& client : clients_) clients.push_back(client.get());
    ShardedEnvOptions env_options;
    env_options.env_name = o_.env;
    env_options.settings = o_.env_settings;
    env_options.tolerate_server_loss = o_.tolerate_server_loss;
    env_options.log = o_.progress;
    env_options.num_copies = o_.num_copies;
    // A resumed run's copies start fresh episodes from seeds of their own.
    env_options.seed =
        o_.resume.empty()
            ? o_.seed
            : DeriveSeed(DeriveSeed(o_.seed, kResumeSeedStream), transitions_);
    absl::StatusOr<std::unique_ptr<ShardedEnv>> env =
        ShardedEnv::Make(clients, env_options);
    if (!env.ok()) {
      return absl::Status(env.status().code(),
                          absl::StrCat("making environment '", o_.env,
                                       "': ", env.status().message()));
    }
    env_ = *std::move(env);
    // Evaluation runs on its own handles and seed so it never disturbs the
    // training episodes in flight.
    env_options.num_copies = std::min(o_.eval_episodes, 64);
    env_options.seed = DeriveSeed(o_.seed, kEvalSeedStream);
    env = ShardedEnv::Make(clients, env_options);
    if (!env.ok()) return env.status();
    eval_env_ = *std::move(env);
    const EnvSpec& spec = env_->spec();
    num_agents_ = spec.num_agents();
    ids_ = spec.agent_ids;
    public_size_ = spec.has_public_observation
                       ? spec.public_observation_space.FlatSize()
                       : 0;
    act_discrete_.resize(num_agents_);
    act_continuous_.resize(num_agents_);
    return absl::OkStatus();
  }

  const char* CheckpointFlag() const {
    return o_.resume.empty() ? "--restore" : "--resume";
  }

  absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path) {
    absl::StatusOr<std::string> data = ReadFile(path);
    absl::StatusOr<Checkpoint> checkpoint =
        data.ok() ? UnpackCheckpoint(*data, algorithm_)
                  : absl::StatusOr<Checkpoint>(data.status());
    if (!checkpoint.ok()) {
      return absl::Status(checkpoint.status().code(),
                          absl::StrCat(CheckpointFlag(), " ", path, ": ",
                                       checkpoint.status().message()));
    }
    return checkpoint;
  }

  absl::Status OpenRun() {
    std::string spec_json;
    google::protobuf::util::JsonPrintOptions json_options;
    json_options.always_print_primitive_fields = true;
    auto status = google::protobuf::util::MessageToJsonString(
        env_->proto_spec(), &spec_json, json_options);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("env spec to JSON: ", status.ToString()));
    }
    // The values actually used (tests and other callers bypass the flags).
    JsonObject loop;
    loop.Add("mode", o_.mode)
        .Add("num_copies", o_.num_copies)
        .Add("steps", o_.steps)
        .Add("eval_every", o_.eval_every)
        .Add("eval_episodes", o_.eval_episodes)
        .Add("log_every", o_.log_every)
        .Add("checkpoint_every", o_.checkpoint_every)
        .Add("checkpoint_replay", o_.checkpoint_replay)
        .Add("overlap_learning", o_.overlap_learning)
        .Add("restore", o_.restore)
        .Add("resume", o_.resume)
        .Add("endpoints", static_cast<int>(clients_.size()))
        .Add("rank", replicas_ != nullptr ? replicas_->rank() : 0)
        .Add("world_size", replicas_ != nullptr ? replicas_->world_size() : 1);
    std::map<std::string, std::string> extra = {{"env_spec", spec_json},
                                                {"options", loop.Build()}};
    const std::string learner_json = learner_->ConfigJson();
    if (!learner_json.empty()) extra["learner"] = learner_json;

    if (!o_.resume.empty()) return ReopenRun();
    RunOptions run;
    run.runs_root = o_.runs_root;
    run.run_name = o_.run_name;
    // Data-parallel ranks > 0 log beside rank 0's run, as <its name>_rank<r>.
    std::string rank0_name;
    if (replicas_ != nullptr && replicas_->rank() > 0) {
      if (absl::Status s = replicas_->BroadcastBytes(&rank0_name); !s.ok()) {
        return Replicas(s);
      }
      run.run_name = absl::StrCat(rank0_name, "_rank", replicas_->rank());
    }
    run.algorithm = algorithm_;
    run.env_name = o_.env;
    run.seed = o_.seed;
    absl::StatusOr<std::unique_ptr<RunWriter>> writer =
        RunWriter::Create(run, extra);
    if (!writer.ok()) {
      return absl::Status(writer.status().code(),
                          absl::StrCat("creating the run directory: ",
                                       writer.status().message()));
    }
    writer_ = *std::move(writer);
    if (replicas_ != nullptr && replicas_->rank() == 0) {
      rank0_name = std::filesystem::path(writer_->directory()).filename();
      if (absl::Status s = replicas_->BroadcastBytes(&rank0_name); !s.ok()) {
        return Replicas(s);
      }
    }
    return absl::OkStatus();
  }

  // Goes on with the run directory of --resume: metrics after the restored
  // step are dropped, and the step checkpoints already there are pruned
  // with the new ones.
  absl::Status ReopenRun() {
    absl::StatusOr<std::unique_ptr<RunWriter>> writer =
        RunWriter::Reopen(o_.resume, transitions_);
    if (!writer.ok()) {
      return absl::Status(
          writer.status().code(),
          absl::StrCat("--resume: ", writer.status().message()));
    }
    writer_ = *std::move(writer);
    for (std::string& name : StepCheckpoints(o_.resume)) {
      step_checkpoints_.push_back(std::move(name));
    }
    return absl::OkStatus();
  }

  // Copies a TimeStep's observations (masks, public observation) out: the
  // pointer dies at the next call on the client, and evaluation shares the
  // client.
  void CopyObservations(const proto::TimeStep& ts,
                        std::vector<std::vector<float>>* obs,
                        std::vector<std::unique_ptr<bool[]>>* masks,
                        std::vector<float>* public_obs) {
    *public_obs = ArrayToVector<float>(ts.public_observation());
    obs->resize(num_agents_);
    masks->resize(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      const auto& agent = ts.agents(a);
      (*obs)[a] = ArrayToVector<float>(agent.observation());
      const std::string& mask = agent.action_mask();
      if (!mask.empty()) {
        (*masks)[a] = std::make_unique<bool[]>(mask.size());
        for (size_t i = 0; i < mask.size(); ++i) {
          (*masks)[a][i] = mask[i] != 0;
        }
      } else {
        (*masks)[a].reset();
      }
    }
  }

  // Turn-based specs: whose turn it is in each of `rows` copies, into
  // `current` (checked: an agent index per copy); cleared otherwise.
  absl::Status CopyCurrentAgent(const proto::TimeStep& ts, int rows,
                                std::vector<int32_t>* current) {
    current->clear();
    if (!env_->spec().sequential) return absl::OkStatus();
    if (ts.current_agent().size() != sizeof(int32_t) * rows) {
      return absl::InternalError(
          "the server's TimeStep has no current agent per copy");
    }
    *current = ArrayToVector<int32_t>(ts.current_agent());
    for (int32_t agent : *current) {
      if (agent < 0 || agent >= num_agents_) {
        return absl::InternalError(
            "the server's TimeStep names a current agent out of range");
      }
    }
    return absl::OkStatus();
  }

  // Asks the learner for every agent's action of `rows` copies into the
  // loop's buffers (then copied into `env`'s, if given).
  absl::Status ActAll(ShardedEnv* env, const EnvSpec& spec, int rows,
                      const std::vector<std::vector<float>>& obs,
                      const std::vector<std::unique_ptr<bool[]>>* masks,
                      const std::vector<float>& public_obs,
                      const std::vector<int32_t>& current, bool deterministic,
                      ActingStream stream, const bool* first) {
    if (static_cast<int64_t>(public_obs.size()) < rows * public_size_) {
      return absl::InternalError("the server sent too few public observations");
    }
    std::vector<const float*> obs_ptr(num_agents_);
    std::vector<const bool*> mask_ptr(num_agents_, nullptr);
    for (int a = 0; a < num_agents_; ++a) {
      const int64_t act_size = spec.action_spaces[a].FlatSize();
      if (static_cast<int64_t>(obs[a].size()) <
          rows * spec.observation_spaces[a].FlatSize()) {
        return absl::InternalError("the server sent too few observations");
      }
      obs_ptr[a] = obs[a].data();
      if (masks != nullptr) mask_ptr[a] = (*masks)[a].get();
      const bool box = spec.action_spaces[a].is_box();
      act_discrete_[a].assign(box ? 0 : rows * act_size, 0);
      act_continuous_[a].assign(box ? rows * act_size : 0, 0.0f);
    }
    learner_->SetActionMasks(mask_ptr);
    learner_->SetPublicObservation(public_size_ > 0 ? public_obs.data()
                                                    : nullptr);
    learner_->SetCurrentAgents(current.empty() ? nullptr : current.data());
    learner_->SetActingContext(stream, first);
    learner_->Act(obs_ptr, rows, deterministic, &act_discrete_,
                  &act_continuous_);
    if (absl::Status s = learner_->status(); !s.ok()) return s;
    if (env == nullptr) return absl::OkStatus();
    for (int a = 0; a < num_agents_; ++a) {
      if (spec.action_spaces[a].is_box()) {
        std::copy(act_continuous_[a].begin(), act_continuous_[a].end(),
                  env->continuous_actions(a).begin());
      } else {
        std::copy(act_discrete_[a].begin(), act_discrete_[a].end(),
                  env->discrete_actions(a).begin());
      }
    }
    return absl::OkStatus();
  }

  // Each agent's deterministic action at the first observation of an
  // episode.
  absl::StatusOr<std::vector<std::vector<double>>> GreedyActions() {
    const EnvSpec& spec = env_->spec();
    const bool first = true;
    if (absl::Status s =
            ActAll(nullptr, spec, 1, initial_obs_, nullptr, initial_public_obs_,
                   initial_current_, true, ActingStream::kProbe, &first);
        !s.ok()) {
      return s;
    }
    std::vector<std::vector<double>> out(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      if (spec.action_spaces[a].is_box()) {
        out[a].assign(act_continuous_[a].begin(), act_continuous_[a].end());
      } else {
        out[a].assign(act_discrete_[a].begin(), act_discrete_[a].end());
      }
    }
    return out;
  }

  // Every array the loop reads has the size the spec says: then the reads
  // below stay inside the arrays. The final rows (the ended ones) are left
  // in final_rows_.
  absl::Status CheckTimeStep(const proto::TimeStep& ts, int rows) {
    const EnvSpec& spec = env_->spec();
    const size_t n = rows;
    if (ts.agents_size() != num_agents_ || ts.terminated().size() != n ||
        ts.truncated().size() != n) {
      return absl::InternalError(
          "the server's TimeStep does not match the spec");
    }
    FinalRows(ts.terminated(), ts.truncated(),
              env_->proto_spec().auto_reset() == proto::SAME_STEP,
              &final_rows_);
    const size_t public_bytes = sizeof(float) * public_size_;
    if (ts.public_observation().size() != public_bytes * n ||
        ts.final_public_observation().size() !=
            public_bytes * final_rows_.size()) {
      return absl::InternalError(
          "the server's TimeStep has a public observation of the wrong size");
    }
    for (int a = 0; a < num_agents_; ++a) {
      const proto::AgentTimeStep& agent = ts.agents(a);
      const size_t obs_bytes =
          sizeof(float) * spec.observation_spaces[a].FlatSize();
      if (agent.reward().size() != sizeof(float) * n ||
          agent.observation().size() != obs_bytes * n ||
          agent.final_observation().size() != obs_bytes * final_rows_.size()) {
        return absl::InternalError(absl::StrCat(
            "the server's TimeStep has arrays of the wrong size for agent ",
            spec.agent_ids[a]));
      }
    }
    return absl::OkStatus();
  }

  void KeepInitialObservations(const std::vector<std::vector<float>>& obs,
                               const std::vector<float>& public_obs,
                               const std::vector<int32_t>& current) {
    const EnvSpec& spec = env_->spec();
    initial_current_.assign(
        current.begin(), current.begin() + std::min<size_t>(current.size(), 1));
    initial_public_obs_.assign(public_obs.begin(),
                               public_obs.begin() + public_size_);
    initial_obs_.resize(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      const int64_t size = spec.observation_spaces[a].FlatSize();
      initial_obs_[a].assign(obs[a].begin(), obs[a].begin() + size);
    }
  }

  absl::Status Train() {
    const int n = o_.num_copies;
    const EnvSpec& spec = env_->spec();
    absl::StatusOr<const proto::TimeStep*> reset = env_->Reset();
    if (!reset.ok()) return reset.status();
    if (absl::Status s = CheckTimeStep(**reset, n); !s.ok()) return s;
    CopyObservations(**reset, &obs_, &masks_, &public_obs_);
    if (absl::Status s = CopyCurrentAgent(**reset, n, &current_); !s.ok()) {
      return s;
    }
    KeepInitialObservations(obs_, public_obs_, current_);
    returns_.assign(static_cast<size_t>(n) * num_agents_, 0.0);
    window_.assign(num_agents_, {});
    since_log_sum_.assign(num_agents_, 0.0);
    since_log_count_ = 0;
    next_obs_.resize(num_agents_);
    rewards_.resize(num_agents_);
    terminated_ = std::make_unique<bool[]>(n);
    truncated_ = std::make_unique<bool[]>(n);
    // Every copy starts an episode now (a resumed run's too).
    first_ = std::make_unique<bool[]>(n);
    std::fill(first_.get(), first_.get() + n, true);

    // From step 0, or from a resumed run's step.
    const int64_t first = first_transitions_ = transitions_;
    const int64_t batches =
        (std::max<int64_t>(0, o_.steps - first) + n - 1) / n;
    target_transitions_ = first + batches * n;
    const Clock::time_point start = Clock::now();
    Clock::time_point last_progress = start, last_log = start;
    int64_t progress_transitions = first, log_transitions = first;
    auto after = [first](int64_t every) {
      return every > 0 ? (first / every + 1) * every : 0;
    };
    int64_t next_log = after(o_.log_every), next_eval = after(o_.eval_every),
            next_checkpoint = after(o_.checkpoint_every);
    double eval_seconds = 0;

    TransitionBatch batch_view;
    batch_view.num_copies = n;
    batch_view.observation.resize(num_agents_);
    batch_view.discrete_action.resize(num_agents_);
    batch_view.continuous_action.resize(num_agents_);
    batch_view.reward.resize(num_agents_);
    batch_view.next_observation.resize(num_agents_);
    batch_view.terminated = terminated_.get();
    batch_view.truncated = truncated_.get();

    for (int64_t batch = 0; batch < batches; ++batch) {
      if (absl::Status s =
              ActAll(env_.get(), spec, n, obs_, &masks_, public_obs_, current_,
                     false, ActingStream::kTrain, first_.get());
          !s.ok()) {
        return s;
      }
      // With --overlap_learning the last step's update runs while the
      // servers step this one.
      absl::Status sent = env_->StartStep();
      if (!sent.ok()) return sent;
      if (absl::Status s = LearnPending(); !s.ok()) return s;
      absl::StatusOr<const proto::TimeStep*> stepped = env_->FinishStep();
      if (!stepped.ok()) return stepped.status();
      const proto::TimeStep& ts = **stepped;
      if (absl::Status s = CheckTimeStep(ts, n); !s.ok()) return s;
      for (int r = 0; r < n; ++r) {
        terminated_[r] = ts.terminated()[r] != 0;
        truncated_[r] = ts.truncated()[r] != 0;
      }
      // Auto-reset copies: `observation` already starts the next episode;
      // the learner must see the ended episode's final observation.
      for (int a = 0; a < num_agents_; ++a) {
        const auto& agent = ts.agents(a);
        const int64_t obs_size = spec.observation_spaces[a].FlatSize();
        next_obs_[a] = ArrayToVector<float>(agent.observation());
        const char* finals = agent.final_observation().data();
        for (size_t k = 0; k < final_rows_.size(); ++k) {
          std::memcpy(next_obs_[a].data() + final_rows_[k] * obs_size,
                      finals + k * obs_size * sizeof(float),
                      obs_size * sizeof(float));
        }
        const bool box = spec.action_spaces[a].is_box();
        batch_view.observation[a] = obs_[a].data();
        batch_view.discrete_action[a] = box ? nullptr : act_discrete_[a].data();
        batch_view.continuous_action[a] =
            box ? act_continuous_[a].data() : nullptr;
        rewards_[a] = ArrayToVector<float>(agent.reward());
        batch_view.reward[a] = rewards_[a].data();
        batch_view.next_observation[a] = next_obs_[a].data();
        for (int r = 0; r < n; ++r) {
          returns_[r * num_agents_ + a] += rewards_[a][r];
        }
      }
      // Whose turn it was: current_ still holds the stepped observation's.
      batch_view.current_agent = current_.empty() ? nullptr : current_.data();
      if (public_size_ > 0) {
        next_public_obs_ = ArrayToVector<float>(ts.public_observation());
        const char* finals = ts.final_public_observation().data();
        for (size_t k = 0; k < final_rows_.size(); ++k) {
          std::memcpy(next_public_obs_.data() + final_rows_[k] * public_size_,
                      finals + k * public_size_ * sizeof(float),
                      public_size_ * sizeof(float));
        }
        batch_view.public_observation = public_obs_.data();
        batch_view.next_public_observation = next_public_obs_.data();
      }
      if (o_.overlap_learning) {
        Keep(batch_view, spec);
      } else if (absl::Status s = LearnFrom(batch_view); !s.ok()) {
        return s;
      }
      for (int r = 0; r < n; ++r) {
        if (!terminated_[r] && !truncated_[r]) continue;
        ++episodes_;
        ++since_log_count_;
        for (int a = 0; a < num_agents_; ++a) {
          double& ret = returns_[r * num_agents_ + a];
          window_[a].push_back(ret);
          if (static_cast<int>(window_[a].size()) > o_.return_window) {
            window_[a].pop_front();
          }
          since_log_sum_[a] += ret;
          ret = 0;
        }
      }
      CopyObservations(ts, &obs_, &masks_, &public_obs_);
      if (absl::Status s = CopyCurrentAgent(ts, n, &current_); !s.ok()) {
        return s;
      }
      for (int r = 0; r < n; ++r) first_[r] = terminated_[r] || truncated_[r];
      transitions_ += n;

      const Clock::time_point now = Clock::now();
      train_seconds_ = Seconds(start, now) - eval_seconds;
      if (o_.log_every > 0 && transitions_ >= next_log) {
        while (next_log <= transitions_) next_log += o_.log_every;
        const double rate = (transitions_ - log_transitions) /
                            std::max(1e-9, Seconds(last_log, now));
        if (absl::Status s = LogTrain(rate); !s.ok()) return s;
        last_log = now;
        log_transitions = transitions_;
      }
      if (o_.progress != nullptr &&
          Seconds(last_progress, now) >= o_.progress_seconds) {
        const double rate =
            (transitions_ - progress_transitions) / Seconds(last_progress, now);
        PrintProgress(rate, (target_transitions_ - transitions_) / rate);
        last_progress = now;
        progress_transitions = transitions_;
      }
      if (o_.eval_every > 0 && transitions_ >= next_eval &&
          batch + 1 < batches) {
        while (next_eval <= transitions_) next_eval += o_.eval_every;
        if (absl::Status s = LearnPending(); !s.ok()) return s;
        const Clock::time_point eval_start = Clock::now();
        absl::StatusOr<std::vector<double>> r = Evaluate();
        if (!r.ok()) return r.status();
        eval_seconds += Seconds(eval_start, Clock::now());
      }
      if (o_.checkpoint_every > 0 && transitions_ >= next_checkpoint &&
          batch + 1 < batches) {
        while (next_checkpoint <= transitions_) {
          next_checkpoint += o_.checkpoint_every;
        }
        // A checkpoint holds every transition stepped so far.
        if (absl::Status s = LearnPending(); !s.ok()) return s;
        if (absl::Status s = SaveStepCheckpoint(); !s.ok()) return s;
      }
    }
    if (absl::Status s = LearnPending(); !s.ok()) return s;
    train_seconds_ = Seconds(start, Clock::now()) - eval_seconds;
    if (absl::Status s = CheckModelsAgree(); !s.ok()) return s;
    if (o_.log_every > 0 && since_log_count_ > 0) {
      if (absl::Status s = LogTrain((transitions_ - first_transitions_) /
                                    std::max(1e-9, train_seconds_));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status LogTrain(double rate) {
    for (int a = 0; a < num_agents_; ++a) {
      Values values;
      if (since_log_count_ > 0) {
        // The mean over the episodes that ended since the last record.
        values.push_back(
            {"episode_return", since_log_sum_[a] / since_log_count_});
      }
      for (auto& v : learner_->Metrics(a)) values.push_back(std::move(v));
      writer_->Log("train", transitions_, episodes_, ids_[a], values);
      since_log_sum_[a] = 0;
    }
    since_log_count_ = 0;
    writer_->Log("train", transitions_, episodes_, "",
                 {{"steps_per_second", rate}});
    return learner_->status();
  }

  std::vector<double> WindowMeans() const {
    std::vector<double> means(num_agents_, std::nan(""));
    for (int a = 0; a < num_agents_; ++a) {
      if (window_[a].empty()) continue;
      double sum = 0;
      for (double r : window_[a]) sum += r;
      means[a] = sum / window_[a].size();
    }
    return means;
  }

  void PrintProgress(double rate, double eta_seconds) {
    const int64_t total = target_transitions_;
    *o_.progress << absl::StrFormat(
                        "[%s] step %d/%d (%.0f%%)  %.0f steps/s  "
                        "return (last %d) %s  ETA %s",
                        algorithm_, transitions_, total,
                        100.0 * transitions_ / std::max<int64_t>(1, total),
                        rate, o_.return_window, ValuesLine(ids_, WindowMeans()),
                        FormatDuration(eta_seconds))
                 << std::endl;
  }

  // Step t of the evaluation rows [0, rows) still playing (not done): one
  // line per row and agent, with the observation it acted on, its action
  // (the last ActAll's), its reward and its latent state.
  void AppendTrace(const EnvSpec& spec, int rows, const std::vector<char>& done,
                   int t, const std::vector<std::vector<float>>& obs,
                   const proto::TimeStep& ts, std::string* trace) const {
    std::vector<absl::Span<const float>> latents(num_agents_);
    for (int a = 0; a < num_agents_; ++a) latents[a] = learner_->LastLatents(a);
    const size_t copies = static_cast<size_t>(eval_env_->num_copies());
    for (int r = 0; r < rows; ++r) {
      if (done[r]) continue;
      for (int a = 0; a < num_agents_; ++a) {
        const int64_t obs_size = spec.observation_spaces[a].FlatSize();
        const int64_t act_size = spec.action_spaces[a].FlatSize();
        JsonObject line;
        line.Add("episode", r).Add("t", t).Add("agent", ids_[a]);
        line.Add("observation",
                 std::vector<double>(obs[a].begin() + r * obs_size,
                                     obs[a].begin() + (r + 1) * obs_size));
        if (spec.action_spaces[a].is_box()) {
          line.Add("action",
                   std::vector<double>(
                       act_continuous_[a].begin() + r * act_size,
                       act_continuous_[a].begin() + (r + 1) * act_size));
        } else {
          line.Add("action", absl::Span<const int64_t>(
                                 act_discrete_[a].data() + r * act_size,
                                 static_cast<size_t>(act_size)));
        }
        line.Add("reward",
                 static_cast<double>(ArrayAt<float>(ts.agents(a).reward(), r)));
        const size_t width = latents[a].size() / copies;
        if (width > 0) {
          line.Add("latent",
                   std::vector<double>(latents[a].begin() + r * width,
                                       latents[a].begin() + (r + 1) * width));
        }
        *trace += line.Build();
        *trace += '\n';
      }
    }
  }

  // Greedy / deterministic policies for eval_episodes episodes on the
  // evaluation handle: each round resets every evaluation copy and counts
  // each copy's first episode. Logs phase "eval" records.
  absl::StatusOr<std::vector<double>> Evaluate(bool final = false) {
    const int copies = eval_env_->num_copies();
    // The final evaluation's first rows of its first round, traced.
    const int trace_rows = final ? std::min(o_.eval_trace_episodes, copies) : 0;
    std::string trace;
    const EnvSpec& spec = eval_env_->spec();
    const int max_steps =
        spec.episode_limit > 0 ? spec.episode_limit : kMaxEvalSteps;
    std::vector<double> sum(num_agents_, 0.0), sum_sq(num_agents_, 0.0);
    std::vector<double> ret(static_cast<size_t>(copies) * num_agents_);
    std::vector<char> done(copies), terminated(copies);
    std::unique_ptr<bool[]> first(new bool[copies]);
    std::vector<std::vector<float>> obs;
    std::vector<std::unique_ptr<bool[]>> masks;
    std::vector<float> public_obs;
    std::vector<int32_t> current;
    int collected = 0, cut = 0, ended_by_termination = 0;
    while (collected < o_.eval_episodes) {
      absl::StatusOr<const proto::TimeStep*> reset = eval_env_->Reset();
      if (!reset.ok()) return reset.status();
      if (absl::Status s = CheckTimeStep(**reset, copies); !s.ok()) return s;
      CopyObservations(**reset, &obs, &masks, &public_obs);
      if (absl::Status s = CopyCurrentAgent(**reset, copies, &current);
          !s.ok()) {
        return s;
      }
      // Eval mode: no training reset happened.
      if (initial_obs_.empty()) {
        KeepInitialObservations(obs, public_obs, current);
      }
      std::fill(ret.begin(), ret.end(), 0.0);
      std::fill(done.begin(), done.end(), 0);
      std::fill(terminated.begin(), terminated.end(), 0);
      std::fill(first.get(), first.get() + copies, true);
      int finished = 0;
      for (int t = 0; t < max_steps && finished < copies; ++t) {
        if (absl::Status s =
                ActAll(eval_env_.get(), spec, copies, obs, &masks, public_obs,
                       current, true, ActingStream::kEval, first.get());
            !s.ok()) {
          return s;
        }
        absl::StatusOr<const proto::TimeStep*> stepped = eval_env_->Step();
        if (!stepped.ok()) return stepped.status();
        const proto::TimeStep& ts = **stepped;
        if (absl::Status s = CheckTimeStep(ts, copies); !s.ok()) return s;
        if (collected == 0 && trace_rows > 0) {
          AppendTrace(spec, trace_rows, done, t, obs, ts, &trace);
        }
        for (int r = 0; r < copies; ++r) {
          first[r] = ts.terminated()[r] != 0 || ts.truncated()[r] != 0;
          if (done[r]) continue;  // auto-reset copies play on, uncounted
          for (int a = 0; a < num_agents_; ++a) {
            ret[r * num_agents_ + a] +=
                ArrayAt<float>(ts.agents(a).reward(), r);
          }
          if (ts.terminated()[r] != 0 || ts.truncated()[r] != 0) {
            done[r] = 1;
            terminated[r] = ts.terminated()[r] != 0;
            ++finished;
          }
        }
        CopyObservations(ts, &obs, &masks, &public_obs);
        if (absl::Status s = CopyCurrentAgent(ts, copies, &current); !s.ok()) {
          return s;
        }
      }
      const int take = std::min(copies, o_.eval_episodes - collected);
      for (int r = 0; r < take; ++r) {
        if (!done[r]) ++cut;
        ended_by_termination += terminated[r];
        for (int a = 0; a < num_agents_; ++a) {
          const double x = ret[r * num_agents_ + a];
          sum[a] += x;
          sum_sq[a] += x * x;
        }
      }
      collected += take;
    }
    if (trace_rows > 0) {
      if (absl::Status s = WriteFileAtomically(
              writer_->directory() + "/eval_trace.jsonl", trace);
          !s.ok()) {
        return s;
      }
    }
    if (cut > 0 && o_.progress != nullptr) {
      *o_.progress << "[" << algorithm_ << "] warning: " << cut
                   << " evaluation episodes did not end within " << max_steps
                   << " steps; their partial returns were counted" << std::endl;
    }
    absl::StatusOr<std::vector<std::vector<double>>> greedy = GreedyActions();
    if (!greedy.ok()) return greedy.status();
    std::vector<double> means(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      means[a] = sum[a] / collected;
      const double var =
          std::max(0.0, sum_sq[a] / collected - means[a] * means[a]);
      Values values = {{"eval_return", means[a]},
                       {"eval_return_std", std::sqrt(var)},
                       {"eval_terminated",
                        static_cast<double>(ended_by_termination) / collected}};
      const std::vector<double>& g = (*greedy)[a];
      for (size_t k = 0; k < g.size() && k < 8; ++k) {
        values.push_back({g.size() == 1 ? std::string("greedy_action")
                                        : absl::StrCat("greedy_action_", k),
                          g[k]});
      }
      writer_->Log("eval", transitions_, episodes_, ids_[a], values);
    }
    if (o_.progress != nullptr) {
      *o_.progress << "[" << algorithm_ << "] eval at step " << transitions_
                   << " (" << collected
                   << " episodes): " << ValuesLine(ids_, means) << std::endl;
    }
    return means;
  }

  absl::Status LearnFrom(const TransitionBatch& batch) {
    learner_->Learn(batch);
    if (absl::Status s = learner_->status(); !s.ok()) return s;
    if (replicas_ != nullptr) {
      if (absl::Status s = replicas_->status(); !s.ok()) return Replicas(s);
    }
    return absl::OkStatus();
  }

  // --overlap_learning: a copy of the step's batch, learned from while the
  // servers step the next one (the loop's buffers are refilled by then).
  void Keep(const TransitionBatch& batch, const EnvSpec& spec) {
    const size_t n = batch.num_copies;
    Pending& p = pending_;
    auto copy = [n](const auto* from, size_t width, auto* to) {
      if (from == nullptr) {
        to->clear();
        return;
      }
      to->assign(from, from + n * width);
    };
    p.observation.resize(num_agents_);
    p.next_observation.resize(num_agents_);
    p.reward.resize(num_agents_);
    p.discrete.resize(num_agents_);
    p.continuous.resize(num_agents_);
    p.batch = batch;
    for (int a = 0; a < num_agents_; ++a) {
      const size_t obs = spec.observation_spaces[a].FlatSize();
      const size_t act = spec.action_spaces[a].FlatSize();
      copy(batch.observation[a], obs, &p.observation[a]);
      copy(batch.next_observation[a], obs, &p.next_observation[a]);
      copy(batch.reward[a], 1, &p.reward[a]);
      copy(batch.discrete_action[a], act, &p.discrete[a]);
      copy(batch.continuous_action[a], act, &p.continuous[a]);
      p.batch.observation[a] = p.observation[a].data();
      p.batch.next_observation[a] = p.next_observation[a].data();
      p.batch.reward[a] = p.reward[a].data();
      if (batch.discrete_action[a] != nullptr) {
        p.batch.discrete_action[a] = p.discrete[a].data();
      }
      if (batch.continuous_action[a] != nullptr) {
        p.batch.continuous_action[a] = p.continuous[a].data();
      }
    }
    p.terminated = std::make_unique<bool[]>(n);
    p.truncated = std::make_unique<bool[]>(n);
    std::copy_n(batch.terminated, n, p.terminated.get());
    std::copy_n(batch.truncated, n, p.truncated.get());
    p.batch.terminated = p.terminated.get();
    p.batch.truncated = p.truncated.get();
    copy(batch.current_agent, 1, &p.current);
    p.batch.current_agent = batch.current_agent ? p.current.data() : nullptr;
    copy(batch.public_observation, public_size_, &p.public_observation);
    copy(batch.next_public_observation, public_size_,
         &p.next_public_observation);
    if (batch.public_observation != nullptr) {
      p.batch.public_observation = p.public_observation.data();
      p.batch.next_public_observation = p.next_public_observation.data();
    }
    p.waiting = true;
  }

  absl::Status LearnPending() {
    if (!pending_.waiting) return absl::OkStatus();
    pending_.waiting = false;
    return LearnFrom(pending_.batch);
  }

  // Data-parallel ranks start from rank 0's model (networks, optimizers):
  // each rank built its learner from its own seed and keeps its own random
  // streams, so their exploration differs while their parameters agree.
  absl::Status ShareModel() {
    if (replicas_ == nullptr) return absl::OkStatus();
    absl::StatusOr<std::string> own = learner_->Save();
    if (!own.ok()) return own.status();
    absl::StatusOr<ModelDigest> digest = DigestModel(*own);
    if (!digest.ok()) return digest.status();
    if (digest->parts == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(algorithm_,
                       "'s learners have no LibTorch networks to share: it "
                       "cannot run data-parallel (WORLD_SIZE=",
                       replicas_->world_size(), ")"));
    }
    std::string shared = *own;
    if (absl::Status s = replicas_->BroadcastBytes(&shared); !s.ok()) {
      return Replicas(s);
    }
    if (replicas_->rank() == 0) return absl::OkStatus();
    absl::StatusOr<std::string> merged = WithModelOf(*own, shared);
    if (!merged.ok()) return merged.status();
    return learner_->Load(*merged);
  }

  // Every rank's model is still rank 0's: a learner that changes its model
  // other than through its optimizers' averaged steps (a table, a manual
  // update) is not data-parallel, and this says so instead of letting the
  // ranks drift apart.
  absl::Status CheckModelsAgree() {
    if (replicas_ == nullptr) return absl::OkStatus();
    if (absl::Status s = replicas_->status(); !s.ok()) return Replicas(s);
    absl::StatusOr<std::string> own = learner_->Save();
    if (!own.ok()) return own.status();
    absl::StatusOr<ModelDigest> digest = DigestModel(*own);
    if (!digest.ok()) return digest.status();
    absl::StatusOr<std::vector<uint64_t>> all =
        replicas_->AllGather(digest->digest);
    if (!all.ok()) return Replicas(all.status());
    for (size_t r = 1; r < all->size(); ++r) {
      if ((*all)[r] != (*all)[0]) {
        return absl::InternalError(absl::StrCat(
            "after step ", transitions_, " the model of rank ", r,
            " differs from rank 0's: ", algorithm_,
            " changes its model other than by averaged optimizer steps and "
            "cannot run data-parallel"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Replicas(const absl::Status& status) const {
    return absl::Status(
        status.code(),
        absl::StrCat("data-parallel rank ", replicas_->rank(), " of ",
                     replicas_->world_size(), ": ", status.message()));
  }

  // checkpoints/step_<N>, then the oldest step checkpoints beyond
  // keep_checkpoints are deleted (a long run would leave thousands).
  absl::Status SaveStepCheckpoint() {
    if (absl::Status s = CheckModelsAgree(); !s.ok()) return s;
    const std::string name = absl::StrCat("step_", transitions_);
    if (absl::Status s = SaveCheckpoint(name); !s.ok()) return s;
    step_checkpoints_.push_back(name);
    while (o_.keep_checkpoints > 0 &&
           static_cast<int64_t>(step_checkpoints_.size()) >
               o_.keep_checkpoints) {
      if (absl::Status s = writer_->RemoveCheckpoint(step_checkpoints_.front());
          !s.ok()) {
        return s;
      }
      step_checkpoints_.pop_front();
    }
    return absl::OkStatus();
  }

  absl::Status SaveCheckpoint(const std::string& name) {
    absl::StatusOr<std::string> bytes = learner_->Save();
    if (!bytes.ok()) return bytes.status();
    return writer_->SaveCheckpoint(
        name, PackCheckpoint(algorithm_, transitions_, episodes_, *bytes));
  }

  const TrainingOptions o_;
  const std::string algorithm_;
  const LearnerFactory& factory_;
  ReplicaGroup* const replicas_;  // null: one process
  struct Pending {
    bool waiting = false;
    TransitionBatch batch;  // viewing the vectors below
    std::vector<std::vector<float>> observation, next_observation, reward,
        continuous;
    std::vector<std::vector<int64_t>> discrete;
    std::unique_ptr<bool[]> terminated, truncated;
    std::vector<int32_t> current;
    std::vector<float> public_observation, next_public_observation;
  } pending_;
  std::vector<std::unique_ptr<EnvClient>> clients_;
  // Declared after the client: handles close before the client goes.
  std::unique_ptr<ShardedEnv> env_, eval_env_;
  std::unique_ptr<RunWriter> writer_;
  // The step checkpoints saved and not yet deleted, oldest first.
  std::deque<std::string> step_checkpoints_;
  std::unique_ptr<JointLearner> learner_;
  int num_agents_ = 0;
  std::vector<std::string> ids_;

  std::vector<std::vector<float>> obs_;          // per agent, rows
  std::vector<std::unique_ptr<bool[]>> masks_;   // per agent or null
  std::vector<std::vector<float>> initial_obs_;  // per agent, copy 0
  // The spec's public observation size (0 without one); the training
  // copies' public observations before and after the last step, and copy
  // 0's first.
  int64_t public_size_ = 0;
  std::vector<float> public_obs_, next_public_obs_, initial_public_obs_;
  std::vector<int32_t> initial_current_;      // copy 0's first (turn-based)
  std::vector<std::vector<float>> rewards_;   // per agent, last step
  std::vector<int32_t> final_rows_;           // of the last TimeStep
  std::vector<std::vector<float>> next_obs_;  // per agent, final obs in
  std::vector<std::vector<int64_t>> act_discrete_;
  std::vector<std::vector<float>> act_continuous_;
  std::unique_ptr<bool[]> terminated_, truncated_;
  // Per training copy: its observation starts an episode; whose turn it is
  // (turn-based specs).
  std::unique_ptr<bool[]> first_;
  std::vector<int32_t> current_;
  std::vector<double> returns_;             // [copy][agent]
  std::vector<std::deque<double>> window_;  // per agent
  std::vector<double> since_log_sum_;
  int64_t since_log_count_ = 0;
  int64_t transitions_ = 0;
  int64_t episodes_ = 0;
  // Where this process's training started (a resumed run's step) and ends.
  int64_t first_transitions_ = 0;
  int64_t target_transitions_ = 0;
  double train_seconds_ = 0;
};

}  // namespace

absl::Status ValidateTrainingOptions(const TrainingOptions& o) {
  if (o.mode != "train" && o.mode != "eval") {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode must be 'train' or 'eval', got '", o.mode, "'"));
  }
  if (o.env.empty()) return absl::InvalidArgumentError("--env is empty");
  if (!o.resume.empty() && (!o.restore.empty() || o.mode != "train")) {
    return absl::InvalidArgumentError(
        "--resume goes on training a run: not with --restore or --mode=eval");
  }
  if (!o.resume.empty() && o.replicas != nullptr &&
      o.replicas->world_size() > 1) {
    return absl::InvalidArgumentError(
        "--resume is for one process: a data-parallel run (WORLD_SIZE > 1) "
        "starts again from a checkpoint with --restore");
  }
  if (o.num_copies < 1) {
    return absl::InvalidArgumentError("--num_copies must be >= 1");
  }
  if (o.steps < 0) return absl::InvalidArgumentError("--steps must be >= 0");
  if (o.eval_episodes < 1) {
    return absl::InvalidArgumentError("--eval_episodes must be >= 1");
  }
  if (o.eval_trace_episodes < 0 || o.eval_trace_episodes > 64 ||
      o.eval_trace_episodes > o.eval_episodes) {
    return absl::InvalidArgumentError(
        "--eval_trace_episodes must be in [0, min(64, --eval_episodes)]");
  }
  if (o.eval_every < 0 || o.log_every < 0 || o.checkpoint_every < 0 ||
      o.keep_checkpoints < 0) {
    return absl::InvalidArgumentError(
        "--eval_every, --log_every, --checkpoint_every and "
        "--keep_checkpoints must be >= 0");
  }
  if (o.return_window < 1) {
    return absl::InvalidArgumentError("--return_window must be >= 1");
  }
  if (!(o.progress_seconds > 0)) {
    return absl::InvalidArgumentError("--progress_seconds must be > 0");
  }
  if (o.timeout_ms < 1) {
    return absl::InvalidArgumentError("--timeout_ms must be >= 1");
  }
  if (o.mode == "eval" && o.restore.empty()) {
    return absl::InvalidArgumentError(
        "--mode=eval needs --restore=<checkpoint file> (e.g. "
        "runs/<run>/checkpoints/final)");
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingResult> RunTraining(const TrainingOptions& options,
                                           const std::string& algorithm,
                                           const LearnerFactory& factory) {
  Runner runner(options, algorithm, factory);
  return runner.Run();
}

std::string FormatResult(const TrainingResult& result) {
  std::string out = absl::StrCat(result.algorithm, ": result\n");
  std::vector<std::string> joint;
  for (size_t i = 0; i < result.agents.size(); ++i) {
    const AgentResult& agent = result.agents[i];
    std::vector<std::string> action;
    for (double x : agent.greedy_action) {
      action.push_back(absl::StrFormat("%g", x));
    }
    const std::string a =
        action.size() == 1 ? action[0]
                           : absl::StrCat("[", absl::StrJoin(action, ","), "]");
    joint.push_back(a);
    const std::string note =
        agent.note.empty() ? "" : absl::StrCat(" (", agent.note, ")");
    absl::StrAppendFormat(&out,
                          "  %-12s%s  final eval return %.4f  greedy "
                          "action %s\n",
                          agent.id, note, agent.eval_return, a);
  }
  absl::StrAppend(&out, "  greedy joint action: (", absl::StrJoin(joint, ", "),
                  ")\n");
  absl::StrAppendFormat(&out,
                        "  trained %d steps, %d episodes in %.2fs (%.0f "
                        "steps/s)\n",
                        result.steps, result.episodes, result.train_seconds,
                        result.steps_per_second);
  absl::StrAppend(&out, "  run directory: ", result.run_directory, "\n");
  return out;
}

}  // namespace marl
