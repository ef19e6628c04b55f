#ifndef MARL_RUNTIME_TRAINING_TEST_UTIL_H_
#define MARL_RUNTIME_TRAINING_TEST_UTIL_H_

// What the agents' learning tests share: a short training run's options,
// the checkpoint round-trip check, and a learner the test keeps after the
// loop.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "runtime/joint_learner.h"
#include "runtime/training_loop.h"

namespace marl {

// `steps` transitions of `env` over 8 batched copies, 8 greedy evaluation
// episodes at the end, runs under the test's temporary directory.
inline TrainingOptions ShortTrainingRun(const std::string& env, uint64_t seed,
                                        int64_t steps,
                                        const std::string& run_name) {
  TrainingOptions t;
  t.env = env;
  t.num_copies = 8;
  t.seed = seed;
  t.steps = steps;
  t.eval_episodes = 8;
  t.log_every = 400;
  t.runs_root = ::testing::TempDir() + "/runs";
  t.run_name = run_name;
  return t;
}

// Trains with `t`, then restores the final checkpoint in eval mode: the
// restored learner must act exactly as the trained one (greedy actions and
// evaluation returns of every agent).
inline void ExpectCheckpointRoundTrip(TrainingOptions t,
                                      const std::string& algorithm,
                                      const LearnerFactory& factory) {
  absl::StatusOr<TrainingResult> result = RunTraining(t, algorithm, factory);
  ASSERT_TRUE(result.ok()) << result.status();
  TrainingOptions e = t;
  e.mode = "eval";
  e.restore = result->run_directory + "/checkpoints/final";
  e.run_name = t.run_name + "_eval";
  absl::StatusOr<TrainingResult> restored = RunTraining(e, algorithm, factory);
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_EQ(restored->agents.size(), result->agents.size());
  for (size_t i = 0; i < result->agents.size(); ++i) {
    ASSERT_EQ(restored->agents[i].greedy_action.size(),
              result->agents[i].greedy_action.size());
    for (size_t d = 0; d < result->agents[i].greedy_action.size(); ++d) {
      EXPECT_DOUBLE_EQ(restored->agents[i].greedy_action[d],
                       result->agents[i].greedy_action[d])
          << "agent " << i;
    }
    EXPECT_DOUBLE_EQ(restored->agents[i].eval_return,
                     result->agents[i].eval_return)
        << "agent " << i;
  }
}

// Forwards everything to a learner the test keeps after the loop (which
// owns and destroys what the factory returns).
class SharedLearner : public JointLearner {
 public:
  explicit SharedLearner(std::shared_ptr<JointLearner> l) : l_(std::move(l)) {}
  void Act(const std::vector<const float*>& o, int n, bool d,
           std::vector<std::vector<int64_t>>* a,
           std::vector<std::vector<float>>* c) override {
    l_->Act(o, n, d, a, c);
  }
  void Learn(const TransitionBatch& b) override { l_->Learn(b); }
  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    return l_->Metrics(agent);
  }
  absl::StatusOr<std::string> Save() const override { return l_->Save(); }
  absl::Status Load(const std::string& b) override { return l_->Load(b); }
  void SetActionMasks(const std::vector<const bool*>& m) override {
    l_->SetActionMasks(m);
  }
  void SetPublicObservation(const float* p) override {
    l_->SetPublicObservation(p);
  }
  void SetCurrentAgents(const int32_t* c) override { l_->SetCurrentAgents(c); }
  void SetActingContext(ActingStream s, const bool* first) override {
    l_->SetActingContext(s, first);
  }
  absl::Span<const float> LastLatents(int agent) const override {
    return l_->LastLatents(agent);
  }
  absl::Status status() const override { return l_->status(); }
  bool TakesTurns() const override { return l_->TakesTurns(); }
  std::string AgentNote(int agent) const override {
    return l_->AgentNote(agent);
  }
  std::string ConfigJson() const override { return l_->ConfigJson(); }

 private:
  std::shared_ptr<JointLearner> l_;
};

}  // namespace marl

#endif  // MARL_RUNTIME_TRAINING_TEST_UTIL_H_
