#include "agents/soft_option_comm/soft_option_comm_learner.h"

#include <memory>
#include <string>
#include <vector>

#include "envs/core/env_batch.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

// A corridor with a meeting room at each end; agents start on the three
// cells between. Both never meeting scores -1.2; meeting at once, 1.8 to
// 2.0 by the start cells.
TrainingOptions Corridor(uint64_t seed, int64_t steps, const std::string& name,
                         const std::string& informed) {
  TrainingOptions t = ShortTrainingRun("taxi_meeting", seed, steps, name);
  t.env_settings = {{"map", "#######/#R...B#/#######"},
                    {"max_steps", "12"},
                    {"informed", informed},
                    {"message_size", "2"}};
  t.log_every = 2000;
  return t;
}

SoftOptionCommOptions Small() {
  SoftOptionCommOptions o;
  o.num_options = 2;
  o.base.hidden.sizes = {32, 32};
  o.base.batch_size = 64;
  o.base.critic_lr = 1e-3;
  o.base.update_ratio = 0.5;
  o.policy_lr = 1e-3;
  return o;
}

LearnerFactory Factory(const SoftOptionCommOptions& o) {
  return FactoryOf(CreateSoftOptionCommLearner, o);
}

EnvSpec MeetingSpec(int64_t message_size) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> batch = EnvBatch::Create(
      "taxi_meeting", {{"message_size", message_size}}, 1, 1, true);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return (*batch)->spec();
}

TEST(SoftOptionCommLearnerTest, LearnsToMeetWhenBothKnowTheRoom) {
  // With the thesis's partner models, and with models fitted to the
  // partner.
  for (bool fitted : {false, true}) {
    SoftOptionCommOptions o = Small();
    o.fitted_partner = fitted;
    absl::StatusOr<TrainingResult> r = RunTraining(
        Corridor(1, 6000, fitted ? "corridor_fitted" : "corridor_both", "both"),
        SoftOptionCommAlgorithmName(o), Factory(o));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(r->agents[0].eval_return, 1.0) << "fitted " << fitted;
    EXPECT_EQ(r->agents[0].eval_return, r->agents[1].eval_return);
  }
}

// The message each agent sends is the option it acts with: it changes
// only where the option terminates (warm-up: the prior's 5% a step, and
// then to a new option only half the time with m = 2).
TEST(SoftOptionCommLearnerTest, SendsItsOptionAsTheMessage) {
  const EnvSpec spec = MeetingSpec(2);
  absl::StatusOr<std::unique_ptr<JointLearner>> learner =
      CreateSoftOptionCommLearner(spec, Small(), 5);
  ASSERT_TRUE(learner.ok()) << learner.status();
  constexpr int kCopies = 400;
  std::vector<std::vector<float>> obs(2);
  std::vector<const float*> obs_ptr;
  for (int a = 0; a < 2; ++a) {
    obs[a].assign(kCopies * spec.observation_spaces[a].FlatSize(), 0.0f);
    obs_ptr.push_back(obs[a].data());
  }
  std::vector<std::vector<int64_t>> discrete(2,
                                             std::vector<int64_t>(2 * kCopies));
  std::vector<std::vector<float>> continuous(2);
  std::unique_ptr<bool[]> first(new bool[kCopies]);
  std::vector<std::vector<int64_t>> previous;
  int changed = 0, kept = 0;
  for (int step = 0; step < 10; ++step) {
    std::fill_n(first.get(), kCopies, step == 0);
    (*learner)->SetActingContext(ActingStream::kTrain, first.get());
    (*learner)->Act(obs_ptr, kCopies, false, &discrete, &continuous);
    ASSERT_TRUE((*learner)->status().ok()) << (*learner)->status();
    for (int a = 0; a < 2; ++a) {
      for (int c = 0; c < kCopies; ++c) {
        ASSERT_GE(discrete[a][2 * c], 0);
        ASSERT_LT(discrete[a][2 * c], 5);
        const int64_t message = discrete[a][2 * c + 1];
        ASSERT_TRUE(message == 0 || message == 1);
        if (step > 0) (message == previous[a][2 * c + 1] ? kept : changed)++;
      }
    }
    previous = discrete;
  }
  // Expected: 2.5% of 7200 steps change.
  EXPECT_GT(changed, 60);
  EXPECT_LT(changed, 340);
  EXPECT_GT(kept, 6800);
}

TEST(SoftOptionCommLearnerTest, CheckpointRoundTrip) {
  ExpectCheckpointRoundTrip(Corridor(3, 800, "corridor_checkpoint", "a"),
                            "soft_option_comm", Factory(Small()));
}

TEST(SoftOptionCommLearnerTest, RefusesWhatItCannotPlay) {
  SoftOptionCommOptions o = Small();
  // No message channel: the error says which setting to give.
  absl::StatusOr<std::unique_ptr<JointLearner>> none =
      CreateSoftOptionCommLearner(MeetingSpec(0), o, 1);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("message_size=2"), std::string::npos)
      << none.status();
  // Messages that cannot carry the options.
  o.num_options = 4;
  absl::StatusOr<std::unique_ptr<JointLearner>> mismatch =
      CreateSoftOptionCommLearner(MeetingSpec(3), o, 1);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("message_size is 3"),
            std::string::npos)
      << mismatch.status();
  o.num_options = 3;
  EXPECT_TRUE(CreateSoftOptionCommLearner(MeetingSpec(3), o, 1).ok());
  // The options must see something of the observation.
  o.task_features = 1 << 20;
  EXPECT_EQ(CreateSoftOptionCommLearner(MeetingSpec(3), o, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  // One agent.
  EnvSpec one;
  one.agent_ids = {"a"};
  one.observation_spaces = {Space::Box({3}, {0.f}, {1.f})};
  one.action_spaces = {Space::Discrete(2)};
  EXPECT_EQ(CreateSoftOptionCommLearner(one, Small(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
