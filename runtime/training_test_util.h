#ifndef MARL_RUNTIME_TRAINING_TEST_UTIL_H_
#define MARL_RUNTIME_TRAINING_TEST_UTIL_H_

// What the agents' learning tests share: a short training run's options
// and the checkpoint round-trip check.

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
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

}  // namespace marl

#endif  // MARL_RUNTIME_TRAINING_TEST_UTIL_H_
