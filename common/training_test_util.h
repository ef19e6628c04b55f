#ifndef MARL_COMMON_TRAINING_TEST_UTIL_H_
#define MARL_COMMON_TRAINING_TEST_UTIL_H_

// What the agents' learning tests share: a short training run's options
// and a LearnerFactory seeded as the binaries seed their learners.

#include <cstdint>
#include <string>

#include "common/training_loop.h"
#include "gtest/gtest.h"

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

// A factory calling `create(spec, options, DeriveSeed(seed, 1))`, e.g.
// FactoryOf(CreatePr2AcLearner, options).
template <typename Create, typename Options>
LearnerFactory FactoryOf(Create create, const Options& options) {
  return [create, options](const EnvSpec& spec, uint64_t seed) {
    return create(spec, options, DeriveSeed(seed, 1));
  };
}

}  // namespace marl

#endif  // MARL_COMMON_TRAINING_TEST_UTIL_H_
