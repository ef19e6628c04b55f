#ifndef MARL_AGENTS_INDEPENDENT_TRAINER_H_
#define MARL_AGENTS_INDEPENDENT_TRAINER_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/independent/sac_learner.h"
#include "agents/independent/soft_q_learner.h"
#include "learners/ppo_learner.h"
#include "runtime/training_loop.h"

namespace marl {

// Everything a run of independent learners needs: the shared loop's
// options (runtime/training_loop.h) plus the learners'. main.cc fills it
// from flags, tests fill it directly.
struct IndependentOptions : TrainingOptions {
  std::string learner = "auto";  // "auto", "soft_q", "sac" or "ppo"
  SoftQOptions soft_q;
  SacOptions sac;
  PpoOptions ppo;
};

struct IndependentAgentResult {
  std::string id;
  std::string learner;     // "soft_q", "sac" or "ppo"
  double eval_return = 0;  // mean over the final evaluation
  // The deterministic action at the first observation of an episode (for a
  // matrix game, the agent's part of the greedy joint action).
  std::vector<double> greedy_action;
};

struct IndependentResult {
  std::vector<IndependentAgentResult> agents;
  int64_t steps = 0;     // transitions trained on
  int64_t episodes = 0;  // training episodes finished
  double train_seconds = 0;
  double steps_per_second = 0;  // training transitions per wall second
  std::string run_directory;
};

// The shared training loop (runtime/training_loop.h, algorithm name
// "independent") driving an IndependentLearner: connects (or embeds a
// server), makes the environment, builds one learner per agent, trains
// (mode "train") or only evaluates a restored checkpoint (mode "eval"),
// logging to a run directory. Errors (bad options, unknown environment,
// unsupported spaces, a server failure) come back as statuses.
absl::StatusOr<IndependentResult> RunIndependent(
    const IndependentOptions& options);

// The end-of-run summary for the screen.
std::string FormatIndependentResult(const IndependentResult& result);

// The loop's part of the options.
TrainingOptions ToTrainingOptions(const IndependentOptions& options);

}  // namespace marl

#endif  // MARL_AGENTS_INDEPENDENT_TRAINER_H_
