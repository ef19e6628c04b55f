#ifndef MARL_AGENTS_INDEPENDENT_INDEPENDENT_LEARNER_H_
#define MARL_AGENTS_INDEPENDENT_INDEPENDENT_LEARNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agents/independent/sac_learner.h"
#include "envs/core/env_spec.h"
#include "learners/ppo_learner.h"
#include "learners/soft_q_learner.h"
#include "runtime/joint_learner.h"
#include "runtime/training_loop.h"

namespace marl {

class AgentsLearner;  // a SAC group's, or one agent's soft-Q or PPO learner
                      // (the .cc)

// OK for the names --learner takes: "auto", "soft_q", "sac", "ppo".
absl::Status CheckLearnerName(const std::string& learner);

// Which learner every agent runs, and their settings.
struct IndependentOptions {
  // "auto" (soft_q for Discrete actions, sac for Box), "soft_q", "sac" or
  // "ppo" (either kind of action).
  std::string learner = "auto";
  SoftQOptions soft_q;
  SacOptions sac;
  PpoOptions ppo;
};

// Independent learners as one JointLearner for the shared training loop:
// every agent learns alone (tabular soft Q-learning for Discrete
// observations and actions, SAC for Box actions), treating the others as
// part of the environment. SAC agents of one observation and action size
// are trained together, their networks stacked (SacLearner).
class IndependentLearner : public JointLearner {
 public:
  // Agent a's seed is DeriveSeed(run_seed, 1 + a). INVALID_ARGUMENT /
  // UNIMPLEMENTED for spaces the chosen learner cannot handle.
  static absl::StatusOr<std::unique_ptr<IndependentLearner>> Create(
      const EnvSpec& spec, uint64_t run_seed,
      const IndependentOptions& options);
  ~IndependentLearner() override;

  // The learner kind per agent, "soft_q", "sac" or "ppo".
  const std::vector<std::string>& kinds() const { return kinds_; }

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override;
  void Learn(const TransitionBatch& batch) override;
  std::vector<std::pair<std::string, double>> Metrics(int agent) const override;
  absl::StatusOr<std::string> Save() const override;
  absl::Status Load(const std::string& bytes) override;
  void SetActionMasks(const std::vector<const bool*>& masks) override {
    masks_ = masks;
  }
  void SetActingContext(ActingStream stream, const bool* first) override;
  absl::Status status() const override { return status_; }
  std::string ConfigJson() const override { return config_json_; }
  // The agent's learner kind.
  std::string AgentNote(int agent) const override { return kinds_[agent]; }
  // Turn-based games when every agent runs PPO or soft_q (which learn only
  // from their own turns).
  bool TakesTurns() const override;

 private:
  IndependentLearner() = default;
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  std::string StateKey(const AgentsLearner& learner) const;

  EnvSpec spec_;
  std::vector<std::string> kinds_;
  // Every agent's learner: SAC agents of one observation and action size
  // share one (stacked), the others have one each.
  std::vector<std::unique_ptr<AgentsLearner>> learners_;
  std::vector<size_t> unit_of_agent_;  // agent -> index in learners_
  std::vector<const bool*> masks_;
  // Each agent's first observation seen (copy 0 of the first Act): the
  // state the per-log policy metrics describe.
  std::vector<std::vector<float>> first_obs_;
  absl::Status status_;
  std::string config_json_;
};

}  // namespace marl

namespace marl {
// The loop's factory of independent learners (seeded from the run seed).
LearnerFactory IndependentFactory(const IndependentOptions& options);
}  // namespace marl

#endif  // MARL_AGENTS_INDEPENDENT_INDEPENDENT_LEARNER_H_
