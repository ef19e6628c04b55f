#ifndef MARL_RUNTIME_TRAINING_LOOP_H_
#define MARL_RUNTIME_TRAINING_LOOP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "runtime/joint_learner.h"
#include "runtime/replica_group.h"
#include "runtime/seeds.h"  // DeriveSeed, for learner factories

namespace marl {

// Everything the shared training loop needs besides the algorithm; each
// agent binary fills it from the flags of runtime/training_flags.h, tests
// fill it directly.
struct TrainingOptions {
  // Environment server endpoints, the copies split over them in contiguous
  // blocks (client/sharded_env.h); none = a server embedded in this process
  // (server/embedded_server.h): one command runs anything.
  std::vector<std::string> endpoints;
  // With several servers, a lost one's copies move to the others instead
  // of ending the run.
  bool tolerate_server_loss = false;
  // Learn from each step while the servers step the next one (the actions
  // of step t + 1 come from the learner before its update on step t): for
  // learners that allow it (JointLearner::LearnsOneStepLate). The results
  // differ from a run without it, and are as repeatable.
  bool overlap_learning = false;
  // The data-parallel group this process is a rank of (RunAgentMain makes
  // it from the launcher's WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT);
  // null or of size 1: one process. Each rank trains on copies of its own
  // (seeded from the run seed and its rank) and logs its own run (rank
  // r > 0 as "<rank 0's run name>_rank<r>"); the learners start from rank
  // 0's model and average their gradients at every optimizer step, and the
  // loop checks at every checkpoint and at the end that the models agree.
  ReplicaGroup* replicas = nullptr;
  int timeout_ms = 30000;
  // CURVE key files (ClientOptions in client/env_client.h); empty = off.
  std::string curve_server_key_file;
  std::string curve_client_key_file;
  std::string env = "matrix_game";
  std::map<std::string, std::string> env_settings;  // name -> text
  int num_copies = 8;
  uint64_t seed = 0;
  std::string mode = "train";  // "train" or "eval"
  // Total environment transitions over all copies (each batched step of
  // num_copies copies counts num_copies); training runs
  // ceil(steps / num_copies) batched steps.
  int64_t steps = 20000;
  // Evaluation (greedy / deterministic policies on a separate handle):
  // every eval_every transitions (0 = only at the end), eval_episodes
  // episodes each time.
  int64_t eval_every = 0;
  int eval_episodes = 100;
  // The final evaluation's first eval_trace_episodes episodes (at most 64)
  // are written step by step to eval_trace.jsonl (docs/RUN_FORMAT.md).
  int eval_trace_episodes = 0;
  // Train metrics records every log_every transitions; episode returns on
  // screen are averaged over the last return_window finished episodes.
  int64_t log_every = 1000;
  int return_window = 100;
  // Progress on `progress` every progress_seconds (null = silent).
  double progress_seconds = 5.0;
  std::ostream* progress = nullptr;
  std::string runs_root = "runs";
  std::string run_name;  // empty = generated
  // A checkpoint every checkpoint_every transitions (0 = only the final
  // one), named "step_<N>"; the last is "final".
  int64_t checkpoint_every = 0;
  // The newest this many step_<N> checkpoints are kept, older ones deleted
  // (0 = all kept); "final" is always kept.
  int64_t keep_checkpoints = 5;
  // Checkpoints also hold the learners' replay buffers, so that a resumed
  // run goes on with the experience it had (larger files).
  bool checkpoint_replay = false;
  // A checkpoint file to start from (required by mode "eval").
  std::string restore;
  // A run directory to go on with (mode "train"): its latest checkpoint is
  // restored with the loop's counters, training continues from that step to
  // `steps` in the same directory, and metrics.jsonl keeps its records up to
  // that step and appends the new ones. The environment copies start fresh
  // episodes (seeded from the run seed and the step). Not with `restore`.
  std::string resume;
};

// Builds the algorithm's learners once the environment's spec is known.
// `seed` is the run seed: derive independent streams with DeriveSeed
// (streams 0 and 1000003 are the training and evaluation environments).
using LearnerFactory =
    std::function<absl::StatusOr<std::unique_ptr<JointLearner>>(
        const EnvSpec& spec, uint64_t seed)>;

struct AgentResult {
  std::string id;
  std::string note;        // the learner's AgentNote, e.g. its kind
  double eval_return = 0;  // mean over the final evaluation
  // The deterministic action at the first observation of an episode (for a
  // matrix game, the agent's part of the greedy joint action).
  std::vector<double> greedy_action;
};

struct TrainingResult {
  std::string algorithm;
  std::vector<AgentResult> agents;
  int64_t steps = 0;     // transitions trained on
  int64_t episodes = 0;  // training episodes finished
  double train_seconds = 0;
  double steps_per_second = 0;  // training transitions per wall second
  std::string run_directory;
};

// Connects (or embeds a server), makes a training and an evaluation
// environment, builds the learners with `factory`, trains (mode "train")
// or only evaluates a restored checkpoint (mode "eval"), logging the run
// under runs_root in the shared run format (config with the env spec,
// train/eval records, checkpoints, summary.json). Errors (bad options,
// unknown environment, spaces the algorithm rejects, a server failure, a
// learner's status()) come back as statuses.
absl::StatusOr<TrainingResult> RunTraining(const TrainingOptions& options,
                                           const std::string& algorithm,
                                           const LearnerFactory& factory);

// The end-of-run summary for the screen.
std::string FormatResult(const TrainingResult& result);

// The factory of an algorithm whose learners are built by
// `create(spec, options, learner_seed)`: the learner draws from stream 1 of
// the run seed, as every agent binary does. E.g.
// FactoryOf(CreatePr2AcLearner, options).
template <typename Create, typename Options>
LearnerFactory FactoryOf(Create create, const Options& options) {
  return [create, options](const EnvSpec& spec, uint64_t seed) {
    return create(spec, options, DeriveSeed(seed, 1));
  };
}

// INVALID_ARGUMENT for options the loop cannot run with (flag names in
// the messages).
absl::Status ValidateTrainingOptions(const TrainingOptions& options);

}  // namespace marl

#endif  // MARL_RUNTIME_TRAINING_LOOP_H_
