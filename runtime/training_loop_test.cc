// The shared loop with a scripted learner through an embedded server.
#include "runtime/training_loop.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"
#include "runtime/replica_group.h"
#include "runtime/run_writer.h"

namespace marl {
namespace {

// Plays a fixed joint action; counts what it was shown.
class FixedLearner : public JointLearner {
 public:
  FixedLearner(int action, int fail_after,
               std::string config = "{\"fixed\": true}",
               bool refuse_checkpoints = false)
      : action_(action),
        fail_after_(fail_after),
        config_(std::move(config)),
        refuse_checkpoints_(refuse_checkpoints) {}
  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override {
    for (auto& agent : *discrete) {
      ASSERT_EQ(static_cast<int>(agent.size()), num_copies);
      for (auto& a : agent) a = action_;
    }
  }
  void Learn(const TransitionBatch& batch) override {
    transitions_ += batch.num_copies;
    for (int r = 0; r < batch.num_copies; ++r) {
      EXPECT_EQ(batch.discrete_action[0][r], action_);
      EXPECT_TRUE(batch.terminated[r]);  // one-shot matrix game
    }
  }
  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    return {{"seen", double(transitions_)}};
  }
  absl::StatusOr<std::string> Save() const override {
    return absl::StrCat(transitions_);
  }
  absl::Status Load(const std::string& bytes) override {
    if (refuse_checkpoints_) return absl::InvalidArgumentError("size mismatch");
    if (!absl::SimpleAtoi(bytes, &transitions_)) {
      return absl::InvalidArgumentError("not a FixedLearner checkpoint");
    }
    return absl::OkStatus();
  }
  absl::Status status() const override {
    if (fail_after_ > 0 && transitions_ >= fail_after_) {
      return absl::InternalError("scripted failure");
    }
    return absl::OkStatus();
  }
  std::string ConfigJson() const override { return config_; }

 private:
  int action_;
  int fail_after_;
  std::string config_;
  bool refuse_checkpoints_;
  int64_t transitions_ = 0;
};

// Records the acting context of every Act call (stream, first flags).
class ContextLearner : public FixedLearner {
 public:
  struct Call {
    ActingStream stream;
    std::vector<bool> first;
  };
  explicit ContextLearner(std::vector<Call>* calls)
      : FixedLearner(0, 0), calls_(calls) {}
  void SetActingContext(ActingStream stream, const bool* first) override {
    stream_ = stream;
    first_ = first;
  }
  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override {
    calls_->push_back(
        {stream_, std::vector<bool>(first_, first_ + num_copies)});
    FixedLearner::Act(observation, num_copies, deterministic, discrete,
                      continuous);
  }
  void Learn(const TransitionBatch& batch) override {}

 private:
  std::vector<Call>* calls_;
  ActingStream stream_ = ActingStream::kProbe;
  const bool* first_ = nullptr;
};

// Records whose turn each learned step was.
class TurnLearner : public FixedLearner {
 public:
  explicit TurnLearner(std::vector<std::vector<int32_t>>* turns)
      : FixedLearner(0, 0), turns_(turns) {}
  bool TakesTurns() const override { return true; }
  void Learn(const TransitionBatch& batch) override {
    ASSERT_NE(batch.current_agent, nullptr);
    turns_->emplace_back(batch.current_agent,
                         batch.current_agent + batch.num_copies);
  }

 private:
  std::vector<std::vector<int32_t>>* turns_;
};

// Records the public observations and turns it is given.
class PublicLearner : public FixedLearner {
 public:
  struct Record {
    std::vector<float> acted_public;
    std::vector<int32_t> acted_turn;
    std::vector<std::pair<float, float>> learned;
  };
  explicit PublicLearner(Record* record)
      : FixedLearner(0, 0), record_(record) {}
  bool TakesTurns() const override { return true; }
  void SetPublicObservation(const float* public_observation) override {
    public_ = public_observation;
  }
  void SetCurrentAgents(const int32_t* current_agent) override {
    current_ = current_agent;
  }
  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override {
    record_->acted_public.push_back(public_[0]);
    record_->acted_turn.push_back(current_[0]);
    FixedLearner::Act(observation, num_copies, deterministic, discrete,
                      continuous);
  }
  void Learn(const TransitionBatch& batch) override {
    record_->learned.push_back(
        {batch.public_observation[0], batch.next_public_observation[0]});
  }

 private:
  Record* record_;
  const float* public_ = nullptr;
  const int32_t* current_ = nullptr;
};

TrainingOptions Options(const std::string& name) {
  TrainingOptions o;
  o.env = "matrix_game";
  o.env_settings = {{"game", "thesis_coop"}};
  o.num_copies = 4;
  o.steps = 40;
  o.eval_episodes = 8;
  o.log_every = 20;
  o.runs_root = ::testing::TempDir() + "/loop_runs";
  o.run_name = name;
  return o;
}

LearnerFactory Fixed(int action, int fail_after = 0) {
  return [=](const EnvSpec& spec,
             uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    return std::make_unique<FixedLearner>(action, fail_after);
  };
}

// Every Act call says its stream and where episodes start: all copies at a
// reset, then the copies whose last step ended an episode (here every 10th
// step of the iterated game, all copies together).
TEST(TrainingLoopTest, ActTellsTheStreamAndWhereEpisodesStart) {
  std::vector<ContextLearner::Call> calls;
  TrainingOptions o = Options("contexts");
  o.env = "iterated_matrix_game";
  o.env_settings = {{"episode_length", "10"}};
  o.steps = 4 * 25;     // 25 batched steps: episodes end at 10 and 20
  o.eval_episodes = 4;  // one batch of 4 evaluation copies
  absl::StatusOr<TrainingResult> r = RunTraining(
      o, "context_algo",
      [&](const EnvSpec&,
          uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
        return std::make_unique<ContextLearner>(&calls);
      });
  ASSERT_TRUE(r.ok()) << r.status();
  int train = 0, eval = 0, probe = 0;
  for (const ContextLearner::Call& call : calls) {
    switch (call.stream) {
      case ActingStream::kTrain:
        EXPECT_EQ(call.first, std::vector<bool>(4, train % 10 == 0))
            << "training step " << train;
        ++train;
        break;
      case ActingStream::kEval:
        EXPECT_EQ(call.first, std::vector<bool>(4, eval % 10 == 0))
            << "evaluation step " << eval;
        ++eval;
        break;
      case ActingStream::kProbe:
        EXPECT_EQ(call.first, std::vector<bool>{true});
        ++probe;
        break;
    }
  }
  EXPECT_EQ(train, 25);
  EXPECT_EQ(eval, 10);  // one episode of 10 steps per copy
  EXPECT_GE(probe, 1);
}

// A turn-based game's steps reach the learner with whose turn they were.
TEST(TrainingLoopTest, LearnSaysWhoseTurnEachStepWas) {
  std::vector<std::vector<int32_t>> turns;
  TrainingOptions o = Options("turns");
  o.env = "test_turns_game";
  o.env_settings.clear();
  o.steps = 4 * 10;
  absl::StatusOr<TrainingResult> r = RunTraining(
      o, "turn_algo",
      [&](const EnvSpec&,
          uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
        return std::make_unique<TurnLearner>(&turns);
      });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(turns.size(), 10u);
  for (size_t t = 0; t < turns.size(); ++t) {
    // Episodes of 4 steps: turns 0, 1, 0, 1, then a new episode.
    EXPECT_EQ(turns[t], std::vector<int32_t>(4, t % 2)) << "step " << t;
  }
  // A learner that does not take turns is refused such a game.
  o.run_name = "turns_refused";
  absl::Status refused = RunTraining(o, "fixed_algo", Fixed(0)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnimplemented) << refused;
}

// Learners get the public observation and whose turn it is at every Act
// (training, evaluation and probe), and the public observations before
// and after every learned step: the ended episode's last one where a copy
// was auto-reset.
TEST(TrainingLoopTest, PassesPublicObservationsAndTurns) {
  TrainingOptions o = Options("public");
  o.env = "test_turns_game";
  o.env_settings = {};
  o.steps = 40;
  PublicLearner::Record seen;
  absl::StatusOr<TrainingResult> r = RunTraining(
      o, "public_algo",
      [&](const EnvSpec&,
          uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
        return std::make_unique<PublicLearner>(&seen);
      });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(seen.learned.size(), 10u);
  for (size_t t = 0; t < seen.learned.size(); ++t) {
    EXPECT_EQ(seen.learned[t].first, t % 4) << "step " << t;
    EXPECT_EQ(seen.learned[t].second, t % 4 + 1) << "step " << t;
    EXPECT_EQ(seen.acted_public[t], t % 4) << "step " << t;
    EXPECT_EQ(seen.acted_turn[t], static_cast<int32_t>(t % 2));
  }
  // Evaluation episodes start at step 0 with player a's turn too.
  ASSERT_GT(seen.acted_public.size(), 11u);
  EXPECT_EQ(seen.acted_public[10], 0);
  EXPECT_EQ(seen.acted_turn[10], 0);
  EXPECT_EQ(seen.acted_public[11], 1);
  EXPECT_EQ(seen.acted_turn[11], 1);
}

TEST(TrainingLoopTest, TrainsEvaluatesAndLogs) {
  absl::StatusOr<TrainingResult> r =
      RunTraining(Options("fixed"), "fixed_algo", Fixed(2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 40);
  EXPECT_EQ(r->episodes, 40);
  ASSERT_EQ(r->agents.size(), 2u);
  for (const AgentResult& a : r->agents) {
    EXPECT_DOUBLE_EQ(a.eval_return, 10.0);  // thesis_coop (2,2)
    EXPECT_EQ(a.greedy_action, std::vector<double>{2});
  }
  const std::string text = FormatResult(*r);
  EXPECT_NE(text.find("greedy joint action: (2, 2)"), std::string::npos)
      << text;
  absl::StatusOr<std::string> config =
      ReadFile(r->run_directory + "/config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_NE(config->find("\"fixed\": true"), std::string::npos);
  EXPECT_NE(config->find("fixed_algo"), std::string::npos);
  absl::StatusOr<std::string> metrics =
      ReadFile(r->run_directory + "/metrics.jsonl");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("\"seen\""), std::string::npos);
  // Every episode of the one-shot game ends by termination.
  EXPECT_NE(metrics->find("\"eval_terminated\": 1"), std::string::npos);

  // A checkpoint of this algorithm restores; another algorithm refuses it.
  TrainingOptions eval = Options("fixed_eval");
  eval.mode = "eval";
  eval.restore = r->run_directory + "/checkpoints/final";
  EXPECT_TRUE(RunTraining(eval, "fixed_algo", Fixed(2)).ok());
  eval.run_name = "other_eval";
  absl::Status s = RunTraining(eval, "other_algo", Fixed(2)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;

  // A flipped byte, a lost tail or an added one: refused as DATA_LOSS,
  // never restored.
  absl::StatusOr<std::string> saved = ReadFile(eval.restore);
  ASSERT_TRUE(saved.ok()) << saved.status();
  const std::string dir = r->run_directory + "/checkpoints/";
  std::string flipped = *saved;
  flipped.back() ^= 0x01;
  const std::pair<std::string, std::string> bad[] = {
      {"flipped", flipped},
      {"cut", saved->substr(0, saved->size() - 1)},
      {"padded", *saved + "0"},
      {"no_header", saved->substr(0, saved->find("crc32="))}};
  int case_number = 0;
  for (const auto& [name, bytes] : bad) {
    ASSERT_TRUE(WriteFileAtomically(dir + name, bytes).ok());
    TrainingOptions corrupt = Options(absl::StrCat("corrupt_", ++case_number));
    corrupt.mode = "eval";
    corrupt.restore = dir + name;
    s = RunTraining(corrupt, "fixed_algo", Fixed(2)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << name << ": " << s;
  }
  // A checkpoint of an earlier version (each learner's own layout) is
  // refused, saying which version this build reads.
  std::string v3 = *saved;
  v3.replace(0, v3.find('\n'), "marl-checkpoint-v3");
  ASSERT_TRUE(WriteFileAtomically(dir + "v3", v3).ok());
  TrainingOptions old = Options("v3_eval");
  old.mode = "eval";
  old.restore = dir + "v3";
  s = RunTraining(old, "fixed_algo", Fixed(2)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("marl-checkpoint-v4"), std::string::npos) << s;
}

// The final evaluation's first episodes, step by step: thesis_coop is one
// step long, so 3 traced episodes are 3 lines per agent, each with the
// fixed action 2 and its reward 10; the fixed learner has no latent state.
TEST(TrainingLoopTest, TracesTheFinalEvaluation) {
  TrainingOptions o = Options("traced");
  o.eval_trace_episodes = 3;
  absl::StatusOr<TrainingResult> r = RunTraining(o, "fixed_algo", Fixed(2));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<std::string> trace =
      ReadFile(r->run_directory + "/eval_trace.jsonl");
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(std::count(trace->begin(), trace->end(), '\n'), 6);
  EXPECT_NE(trace->find("\"episode\": 2, \"t\": 0, \"agent\""),
            std::string::npos)
      << *trace;
  EXPECT_NE(trace->find("\"action\": [2], \"reward\": 10"), std::string::npos)
      << *trace;
  EXPECT_EQ(trace->find("latent"), std::string::npos);
  // Without the option, no trace; an out-of-range count is refused.
  absl::StatusOr<TrainingResult> plain =
      RunTraining(Options("untraced"), "fixed_algo", Fixed(2));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(ReadFile(plain->run_directory + "/eval_trace.jsonl").ok());
  o.run_name = "too_many";
  o.eval_trace_episodes = 65;
  EXPECT_EQ(RunTraining(o, "fixed_algo", Fixed(2)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TrainingLoopTest, KeepsTheNewestStepCheckpoints) {
  TrainingOptions o = Options("pruned");
  o.steps = 80;
  o.checkpoint_every = 8;  // step_8 ... step_72, then final
  o.keep_checkpoints = 3;
  absl::StatusOr<TrainingResult> r = RunTraining(o, "fixed_algo", Fixed(1));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(r->run_directory + "/checkpoints")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"final", "step_56", "step_64",
                                             "step_72"}));

  o.run_name = "all_kept";
  o.keep_checkpoints = 0;
  r = RunTraining(o, "fixed_algo", Fixed(1));
  ASSERT_TRUE(r.ok()) << r.status();
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(r->run_directory + "/checkpoints")) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 10);  // 9 step checkpoints and final

  o.run_name = "negative";
  o.keep_checkpoints = -1;
  EXPECT_EQ(RunTraining(o, "fixed_algo", Fixed(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The train records of one agent in a run's metrics.jsonl: (step, seen).
std::vector<std::pair<int64_t, double>> TrainRecords(const std::string& run,
                                                     double* last_time) {
  absl::StatusOr<std::string> text = ReadFile(run + "/metrics.jsonl");
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<std::pair<int64_t, double>> out;
  *last_time = -1;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty()) continue;
    absl::StatusOr<double> time = NumberMember(line, "time");
    EXPECT_TRUE(time.ok() && *time >= *last_time) << line;
    *last_time = time.ok() ? *time : *last_time;
    absl::StatusOr<double> seen = NumberMember(line, "seen");
    if (!seen.ok() || line.find("\"player_0\"") == absl::string_view::npos) {
      continue;
    }
    out.emplace_back(static_cast<int64_t>(*NumberMember(line, "step")), *seen);
  }
  return out;
}

// A run that stopped goes on from its latest checkpoint: the step count,
// the learner's state and the metrics continue; records written after that
// checkpoint are replaced, not repeated; old step checkpoints are pruned
// with the new ones.
TEST(TrainingLoopTest, ResumeGoesOnFromTheLatestCheckpoint) {
  TrainingOptions o = Options("resumed");
  o.steps = 40;
  o.log_every = 8;
  o.checkpoint_every = 8;  // step_8 ... step_32, then final
  o.keep_checkpoints = 2;
  absl::StatusOr<TrainingResult> first = RunTraining(o, "fixed_algo", Fixed(1));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string run = first->run_directory;
  // As if the process had died after step_32: records up to 40 remain.
  std::filesystem::remove(run + "/checkpoints/final");

  TrainingOptions resume = Options("ignored");
  resume.log_every = 8;
  resume.checkpoint_every = 8;
  resume.keep_checkpoints = 2;
  resume.steps = 64;
  resume.resume = run;
  absl::StatusOr<TrainingResult> second =
      RunTraining(resume, "fixed_algo", Fixed(1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->run_directory, run);
  EXPECT_EQ(second->steps, 64);
  EXPECT_EQ(second->episodes, 64);  // every step ends an episode

  double last_time = 0;
  std::vector<std::pair<int64_t, double>> records =
      TrainRecords(run, &last_time);
  std::vector<std::pair<int64_t, double>> expected;
  for (int64_t step = 8; step <= 64; step += 8) {
    expected.emplace_back(step, double(step));  // the learner's count goes on
  }
  EXPECT_EQ(records, expected);
  EXPECT_GT(last_time, 0);

  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(run + "/checkpoints")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"final", "step_48", "step_56"}));

  // A finished run goes on too (a longer --steps), from checkpoints/final.
  resume.steps = 72;
  second = RunTraining(resume, "fixed_algo", Fixed(1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->steps, 72);
  EXPECT_EQ(TrainRecords(run, &last_time).back(),
            (std::pair<int64_t, double>{72, 72.0}));

  // Clear errors: nothing to resume from, a checkpoint as well, eval mode.
  TrainingOptions bad = resume;
  bad.resume = ::testing::TempDir() + "/no_such_run";
  EXPECT_EQ(RunTraining(bad, "fixed_algo", Fixed(1)).status().code(),
            absl::StatusCode::kNotFound);
  bad = resume;
  bad.restore = run + "/checkpoints/final";
  EXPECT_EQ(RunTraining(bad, "fixed_algo", Fixed(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = resume;
  bad.mode = "eval";
  EXPECT_EQ(RunTraining(bad, "fixed_algo", Fixed(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Another algorithm's run is refused before anything is written.
  EXPECT_EQ(RunTraining(resume, "other_algo", Fixed(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Restoring a checkpoint names the learner settings its run had otherwise:
// a note when it loads, part of the error when it does not fit.
TEST(TrainingLoopTest, RestoreNamesChangedSettings) {
  auto learner = [](std::string config, bool refuse) -> LearnerFactory {
    return [=](const EnvSpec&,
               uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      return std::make_unique<FixedLearner>(2, 0, config, refuse);
    };
  };
  absl::StatusOr<TrainingResult> trained =
      RunTraining(Options("settings"), "fixed_algo",
                  learner("{\"width\": 8, \"lr\": 0.1}", false));
  ASSERT_TRUE(trained.ok()) << trained.status();
  TrainingOptions eval = Options("settings_eval");
  eval.mode = "eval";
  eval.restore = trained->run_directory + "/checkpoints/final";
  std::ostringstream progress;
  eval.progress = &progress;
  ASSERT_TRUE(RunTraining(eval, "fixed_algo",
                          learner("{\"width\": 16, \"lr\": 0.1}", false))
                  .ok());
  EXPECT_NE(progress.str().find("other learner settings: width 8 -> 16"),
            std::string::npos)
      << progress.str();
  EXPECT_EQ(progress.str().find("lr"), std::string::npos) << progress.str();
  eval.run_name = "settings_refused";
  absl::Status refused =
      RunTraining(eval, "fixed_algo",
                  learner("{\"width\": 16, \"lr\": 0.1}", true))
          .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("size mismatch (the checkpoint's run had "
                                   "other learner settings: width 8 -> 16)"),
            std::string::npos)
      << refused;
}

// A model of one number that Learn leaves alone or, `drifting`, changes by
// itself (as a table would), with a random engine of its own.
class ModelLearner : public FixedLearner {
 public:
  ModelLearner(double weight, bool drifting, bool with_model = true)
      : FixedLearner(0, 0),
        weight_(weight),
        drifting_(drifting),
        with_model_(with_model) {}
  ~ModelLearner() override {
    if (on_destroy) on_destroy(*this);
  }
  void Learn(const TransitionBatch& batch) override {
    FixedLearner::Learn(batch);
    if (drifting_) weight_ += 1;
  }
  absl::StatusOr<std::string> Save() const override {
    LearnerStateWriter writer("model", {});
    if (with_model_) writer.Model("module/w", absl::StrCat(weight_));
    return writer.Engine("rng", rng_).Finish();
  }
  absl::Status Load(const std::string& bytes) override {
    absl::StatusOr<LearnerStateReader> reader =
        LearnerStateReader::Open(bytes, "model", {});
    if (!reader.ok()) return reader.status();
    std::string weight;
    if (with_model_) {
      if (absl::Status s = reader->Bytes("module/w", &weight); !s.ok()) {
        return s;
      }
      if (!absl::SimpleAtod(weight, &weight_)) {
        return absl::DataLossError("weight");
      }
    }
    return reader->Engine("rng", &rng_);
  }
  double weight() const { return weight_; }
  std::mt19937_64 rng_{7};
  std::function<void(const ModelLearner&)> on_destroy;

 private:
  double weight_;
  bool drifting_;
  bool with_model_;
};

// Rank 1 of 2, whose rank 0 holds `rank0_state` and runs as "rank0run".
class FakeRankOne : public ReplicaGroup {
 public:
  explicit FakeRankOne(std::string rank0_state)
      : rank0_state_(std::move(rank0_state)) {}
  int rank() const override { return 1; }
  int world_size() const override { return 2; }
  absl::Status BroadcastBytes(std::string* bytes) override {
    // The loop's broadcasts, in order: the model, then the run's name.
    *bytes = broadcasts_++ == 0 ? rank0_state_ : "rank0run";
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<uint64_t>> AllGather(uint64_t value) override {
    ++gathers_;
    absl::StatusOr<ModelDigest> rank0 = DigestModel(rank0_state_);
    if (!rank0.ok()) return rank0.status();
    return std::vector<uint64_t>{rank0->digest, value};
  }
  absl::Status status() const override { return absl::OkStatus(); }
  int gathers_ = 0;

 private:
  std::string rank0_state_;
  int broadcasts_ = 0;
};

TEST(TrainingLoopTest, ARankStartsFromRankZerosModelAndKeepsItsStreams) {
  const ModelLearner rank0(2.5, false);
  FakeRankOne group(rank0.Save().value());
  TrainingOptions o = Options("ignored");
  o.replicas = &group;
  o.checkpoint_every = 20;
  double weight = 0;
  std::mt19937_64 own_rng;
  bool own_stream = false;
  LearnerFactory factory =
      [&](const EnvSpec&,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    auto made = std::make_unique<ModelLearner>(-1.0, false);
    made->rng_.seed(seed);
    own_rng = made->rng_;
    made->on_destroy = [&](const ModelLearner& learner) {
      weight = learner.weight();
      own_stream = learner.rng_ == own_rng && learner.rng_ != rank0.rng_;
    };
    return std::unique_ptr<JointLearner>(std::move(made));
  };
  absl::StatusOr<TrainingResult> result = RunTraining(o, "model", factory);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(std::filesystem::path(result->run_directory).filename(),
            "rank0run_rank1");
  // Checked after sharing, at the step-20 checkpoint and at the end.
  EXPECT_EQ(group.gathers_, 3);
  EXPECT_EQ(weight, 2.5);   // rank 0's model
  EXPECT_TRUE(own_stream);  // its own random stream
}

TEST(TrainingLoopTest, ARankWhoseModelDriftsEndsTheRun) {
  FakeRankOne group(ModelLearner(2.5, false).Save().value());
  TrainingOptions o = Options("drifting");
  o.runs_root += "/drifting";  // rank 1's run is named by rank 0's
  o.replicas = &group;
  LearnerFactory factory =
      [](const EnvSpec&,
         uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    return std::unique_ptr<JointLearner>(new ModelLearner(0, true));
  };
  const absl::Status s = RunTraining(o, "model", factory).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("differs from rank 0's"), std::string::npos) << s;

  FakeRankOne plain(ModelLearner(0, false, false).Save().value());
  o.replicas = &plain;
  o.run_name = "no_model";
  factory = [](const EnvSpec&,
               uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    return std::unique_ptr<JointLearner>(new ModelLearner(0, false, false));
  };
  const absl::Status refused = RunTraining(o, "model", factory).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("cannot run data-parallel"),
            std::string::npos)
      << refused;
}

TEST(TrainingLoopTest, LearnerErrorsStopTheRun) {
  absl::Status s =
      RunTraining(Options("failing"), "fixed_algo", Fixed(0, 8)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("scripted failure"), std::string::npos);
}

TEST(TrainingLoopTest, FactoryErrorsComeBack) {
  LearnerFactory bad =
      [](const EnvSpec&,
         uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    return absl::InvalidArgumentError("no such spaces");
  };
  EXPECT_EQ(RunTraining(Options("bad"), "x", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  TrainingOptions o = Options("bad_copies");
  o.num_copies = 0;
  EXPECT_EQ(RunTraining(o, "x", Fixed(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
