#include "agents/independent/trainer.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agents/independent/independent_learner.h"
#include "runtime/training_loop.h"

namespace marl {

constexpr char kAlgorithm[] = "independent";

absl::StatusOr<IndependentResult> RunIndependent(
    const IndependentOptions& options) {
  // Option errors before anything connects, as flags errors should be.
  if (absl::Status s = ValidateTrainingOptions(options); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckLearnerName(options.learner); !s.ok()) return s;
  std::vector<std::string> kinds;
  LearnerFactory factory =
      [&](const EnvSpec& spec,
          uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    absl::StatusOr<std::unique_ptr<IndependentLearner>> learner =
        IndependentLearner::Create(spec, seed, options.learner, options.soft_q,
                                   options.sac, options.ppo);
    if (!learner.ok()) return learner.status();
    kinds = (*learner)->kinds();
    return std::unique_ptr<JointLearner>(*std::move(learner));
  };
  absl::StatusOr<TrainingResult> trained =
      RunTraining(options, kAlgorithm, factory);
  if (!trained.ok()) return trained.status();
  IndependentResult result;
  for (size_t a = 0; a < trained->agents.size(); ++a) {
    IndependentAgentResult agent;
    agent.id = trained->agents[a].id;
    agent.learner = a < kinds.size() ? kinds[a] : "";
    agent.eval_return = trained->agents[a].eval_return;
    agent.greedy_action = trained->agents[a].greedy_action;
    result.agents.push_back(std::move(agent));
  }
  result.steps = trained->steps;
  result.episodes = trained->episodes;
  result.train_seconds = trained->train_seconds;
  result.steps_per_second = trained->steps_per_second;
  result.run_directory = trained->run_directory;
  return result;
}

std::string FormatIndependentResult(const IndependentResult& result) {
  TrainingResult t;
  t.algorithm = "Independent learners";
  std::vector<std::string> notes;
  for (const IndependentAgentResult& agent : result.agents) {
    t.agents.push_back({agent.id, agent.eval_return, agent.greedy_action});
    notes.push_back(agent.learner);
  }
  t.steps = result.steps;
  t.episodes = result.episodes;
  t.train_seconds = result.train_seconds;
  t.steps_per_second = result.steps_per_second;
  t.run_directory = result.run_directory;
  return FormatResult(t, notes);
}

}  // namespace marl
