#ifndef MARL_RUNTIME_JOINT_LEARNER_H_
#define MARL_RUNTIME_JOINT_LEARNER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "envs/core/env_spec.h"

namespace marl {

// One batched step of every copy, seen by a learner. Arrays are the
// protocol's copy-major layout (row c = copy c), one pointer per agent in
// spec order. For a copy whose episode ended and was auto-reset, the
// next observation is the ended episode's final observation, not the new
// episode's first.
struct TransitionBatch {
  int num_copies = 0;
  std::vector<const float*> observation;        // [copies, obs size]
  std::vector<const int64_t*> discrete_action;  // [copies, size] or null
  std::vector<const float*> continuous_action;  // [copies, size] or null
  std::vector<const float*> reward;             // [copies]
  std::vector<const float*> next_observation;   // [copies, obs size]
  const bool* terminated = nullptr;             // [copies]: no bootstrap
  const bool* truncated = nullptr;              // [copies]: bootstrap
  // Turn-based (SEQUENTIAL) specs: [copies], the agent whose turn it was
  // (the others' actions had no effect); null when every agent acts.
  const int32_t* current_agent = nullptr;
  // Specs with a public observation (shared by every agent; the per-agent
  // observations are then the private ones): [copies, public size] before
  // and after the step (the final one for an auto-reset copy); null
  // otherwise.
  const float* public_observation = nullptr;
  const float* next_public_observation = nullptr;
};

// Which copies an Act call is about: the training copies, the evaluation
// copies (their own handle), or a one-off probe (the greedy action at the
// first observation) that keeps no state.
enum class ActingStream { kTrain, kEval, kProbe };

// An algorithm's learners for all agents of one environment: what the
// shared training loop (runtime/training_loop.h) drives. Implementations
// own their randomness (seeded at construction) so runs repeat.
class JointLearner {
 public:
  virtual ~JointLearner() = default;

  // Chooses every agent's action for every copy. `observation[agent]` is
  // [copies, obs size]; write into `discrete[agent]` (Discrete /
  // MultiDiscrete agents) or `continuous[agent]` (Box agents), both already
  // sized num_copies x action size. `deterministic` = evaluation (greedy /
  // mean action).
  virtual void Act(const std::vector<const float*>& observation, int num_copies,
                   bool deterministic,
                   std::vector<std::vector<int64_t>>* discrete,
                   std::vector<std::vector<float>>* continuous) = 0;

  // Learns from one batched step (stores it, updates, or both).
  virtual void Learn(const TransitionBatch& batch) = 0;

  // Scalars for the agent's train records (losses, temperatures, policy
  // probabilities ...), read every log period.
  virtual std::vector<std::pair<std::string, double>> Metrics(int agent) const {
    return {};
  }

  // The whole learner state, for checkpoints; Load restores it (an error
  // if it belongs to another environment or algorithm).
  virtual absl::StatusOr<std::string> Save() const = 0;
  virtual absl::Status Load(const std::string& bytes) = 0;

  // Optional extras (defaults do nothing), added for the shared loop:

  // Legal-action masks for the next Act call: per agent [copies, n] bools
  // (true = legal) or null when the environment sends none. Valid until
  // that Act returns.
  virtual void SetActionMasks(const std::vector<const bool*>& masks) {}

  // The public observation of the next Act call's copies, [copies, public
  // size], or null when the spec has none. Valid until that Act returns.
  virtual void SetPublicObservation(const float* public_observation) {}

  // Turn-based (SEQUENTIAL) specs: whose turn it is in each of the next Act
  // call's copies, [copies]; null when every agent acts. Valid until that
  // Act returns.
  virtual void SetCurrentAgents(const int32_t* current_agent) {}

  // The stream of the next Act call and, per copy, whether its observation
  // starts an episode (true at every reset, and for a copy whose last step
  // ended its episode and was auto-reset); valid until that Act returns.
  // What learners with state between Act calls (recurrent ones) need;
  // others ignore it.
  virtual void SetActingContext(ActingStream stream, const bool* first) {}

  // The per-step latent state (an option) that the last Act chose for
  // `agent`, [copies, width] row-major, valid until the next Act; empty
  // for learners without one. Read for evaluation traces
  // (TrainingOptions::eval_trace_episodes).
  virtual absl::Span<const float> LastLatents(int agent) const { return {}; }

  // The first error the learner hit inside Act or Learn (an observation
  // outside its table, ...); the loop checks it after each call and stops
  // the run with it. Act and Learn stay void so learners need no plumbing.
  virtual absl::Status status() const { return absl::OkStatus(); }

  // Whether Learn(batch of step t) may come after Act(step t + 1), as with
  // --overlap_learning (the update runs while the servers step): true for
  // learners whose Learn reads nothing the last Act left (replay learners
  // without per-step latent state).
  virtual bool LearnsOneStepLate() const { return false; }

  // Whether the learner plays turn-based (SEQUENTIAL) environments: it
  // learns from its agents' own turns (TransitionBatch::current_agent). The
  // loop refuses such environments to learners that do not.
  virtual bool TakesTurns() const { return false; }

  // A few words on what agent `agent` runs (its learner kind, a fixed
  // policy), printed after its id in the run's summary; empty = nothing.
  virtual std::string AgentNote(int agent) const { return ""; }

  // A JSON object describing the learner (kinds, hyperparameters) for the
  // run's config.json under "learner"; empty = none.
  virtual std::string ConfigJson() const { return ""; }

  // Whether Save() also holds the replay (--checkpoint_replay), so that a
  // resumed run goes on with the experience it had. Learners without a
  // replay ignore it; Load restores a replay whenever the bytes hold one.
  void set_checkpoint_replay(bool on) { checkpoint_replay_ = on; }
  bool checkpoint_replay() const { return checkpoint_replay_; }

 private:
  bool checkpoint_replay_ = false;
};

}  // namespace marl

#endif  // MARL_RUNTIME_JOINT_LEARNER_H_
