#include "learners/soft_q_learner.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

SoftQOptions TestOptions() {
  SoftQOptions options;
  options.soft_q_lr = 0.5;
  options.gamma = 0.9;
  options.soft_q_alpha = 1.0;
  options.soft_q_alpha_decay = 0.5;
  options.soft_q_alpha_min = 0.1;
  return options;
}

SoftQLearner MakeLearner(int64_t num_obs, int64_t num_actions,
                         const SoftQOptions& options = TestOptions(),
                         uint64_t seed = 7) {
  auto learner = SoftQLearner::Create(num_obs, num_actions, options, seed);
  EXPECT_TRUE(learner.ok()) << learner.status();
  return *std::move(learner);
}

TEST(SoftQLearnerTest, RejectsBadArguments) {
  EXPECT_FALSE(SoftQLearner::Create(0, 2, SoftQOptions(), 0).ok());
  EXPECT_FALSE(SoftQLearner::Create(1, 0, SoftQOptions(), 0).ok());
  SoftQOptions options;
  options.soft_q_alpha = 0;
  EXPECT_FALSE(SoftQLearner::Create(1, 2, options, 0).ok());
  options = SoftQOptions();
  options.soft_q_alpha_decay = 1.5;
  EXPECT_FALSE(SoftQLearner::Create(1, 2, options, 0).ok());
  options = SoftQOptions();
  options.soft_q_lr = 0;
  EXPECT_FALSE(SoftQLearner::Create(1, 2, options, 0).ok());
  options = SoftQOptions();
  options.gamma = -0.1;
  EXPECT_FALSE(SoftQLearner::Create(1, 2, options, 0).ok());
}

TEST(SoftQLearnerTest, TemperatureScheduleDecaysToFloor) {
  SoftQOptions options = TestOptions();  // 1.0 * 0.5^t, floor 0.1
  EXPECT_DOUBLE_EQ(SoftQLearner::ScheduledTemperature(options, 0), 1.0);
  EXPECT_DOUBLE_EQ(SoftQLearner::ScheduledTemperature(options, 1), 0.5);
  EXPECT_DOUBLE_EQ(SoftQLearner::ScheduledTemperature(options, 3), 0.125);
  EXPECT_DOUBLE_EQ(SoftQLearner::ScheduledTemperature(options, 4), 0.1);
  EXPECT_DOUBLE_EQ(SoftQLearner::ScheduledTemperature(options, 1000), 0.1);
  options.soft_q_alpha_decay = 1.0;  // constant temperature
  EXPECT_DOUBLE_EQ(SoftQLearner::ScheduledTemperature(options, 1000), 1.0);
}

TEST(SoftQLearnerTest, PolicyIsBoltzmannOverQ) {
  SoftQLearner learner = MakeLearner(2, 2);
  learner.set_q(1, 0, 1.0);
  learner.set_q(1, 1, 2.0);
  std::vector<double> probs;
  learner.Probabilities(1, &probs);  // alpha = 1: [1, e] / (1 + e)
  EXPECT_THAT(probs, ElementsAre(DoubleNear(0.2689414213699951, 1e-12),
                                 DoubleNear(0.7310585786300049, 1e-12)));
  learner.ProbabilitiesAt(1, 0.5, &probs);  // [1, e^2] / (1 + e^2)
  EXPECT_THAT(probs, ElementsAre(DoubleNear(0.11920292202211757, 1e-12),
                                 DoubleNear(0.8807970779778824, 1e-12)));
  // Uniform where Q is flat.
  learner.Probabilities(0, &probs);
  EXPECT_THAT(probs, ElementsAre(0.5, 0.5));
  // A mask removes illegal actions.
  bool mask[2] = {true, false};
  learner.Probabilities(1, &probs, mask);
  EXPECT_THAT(probs, ElementsAre(1.0, 0.0));
  EXPECT_EQ(learner.Greedy(1), 1);
  EXPECT_EQ(learner.Greedy(1, mask), 0);
  EXPECT_EQ(learner.Greedy(0), 0);  // ties go to the lowest index
  // Very small temperatures stay finite (max subtracted before exp).
  learner.ProbabilitiesAt(1, 1e-6, &probs);
  EXPECT_THAT(probs, ElementsAre(0.0, 1.0));
}

TEST(SoftQLearnerTest, SoftValueIsTemperatureLogSumExp) {
  SoftQLearner learner = MakeLearner(2, 2);
  learner.set_q(1, 0, 1.0);
  learner.set_q(1, 1, 2.0);
  EXPECT_NEAR(learner.SoftValue(1), 2.3132616875182226, 1e-12);  // log(e+e^2)
  EXPECT_NEAR(learner.SoftValue(0), std::log(2.0), 1e-12);
}

TEST(SoftQLearnerTest, UpdatesMatchHandComputation) {
  SoftQLearner learner = MakeLearner(2, 2);
  learner.set_q(1, 0, 1.0);
  learner.set_q(1, 1, 2.0);

  // alpha = 1: target = 1 + 0.9 * log(e + e^2) = 3.0819355187664006.
  double td = learner.Update(/*obs=*/0, /*action=*/1, /*reward=*/1.0,
                             /*next_obs=*/1, /*terminated=*/false);
  EXPECT_NEAR(td, 3.0819355187664006, 1e-12);
  EXPECT_NEAR(learner.q(0, 1), 1.5409677593832003, 1e-12);
  EXPECT_EQ(learner.schedule_step(), 1);
  EXPECT_DOUBLE_EQ(learner.temperature(), 0.5);

  // Terminated: no bootstrap. Q(0,0) = 0 + 0.5 * (2 - 0) = 1.
  td = learner.Update(0, 0, 2.0, 1, /*terminated=*/true);
  EXPECT_NEAR(td, 2.0, 1e-12);
  EXPECT_NEAR(learner.q(0, 0), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(learner.temperature(), 0.25);

  // alpha = 0.25: V(0) = 0.25 * log(exp(1/0.25) + exp(1.54096.../0.25))
  // = 1.5681543537986593; target = 0.9 * V(0); Q(1,0) = 1 + 0.5 * (t - 1).
  td = learner.Update(1, 0, 0.0, 0, false);
  EXPECT_NEAR(td, 0.41133891841879344, 1e-12);
  EXPECT_NEAR(learner.q(1, 0), 1.2056694592093966, 1e-12);
  // Untouched entries keep their values.
  EXPECT_DOUBLE_EQ(learner.q(1, 1), 2.0);

  // A given discount (a turn two steps back: gamma^2 = 0.81) at alpha =
  // 0.125: V(1) = 0.125 * log(exp(1.20566.../0.125) + exp(2/0.125))
  // = 2.000217142971697; target = 0.5 + 0.81 * V(1); Q(0,0) = 1 + 0.5 *
  // (target - 1).
  td = learner.UpdateDiscounted(0, 0, 0.5, 1, 0.81);
  EXPECT_NEAR(td, 0.5 + 0.81 * 2.000217142971697 - 1.0, 1e-12);
  EXPECT_NEAR(learner.q(0, 0), 1.0 + 0.5 * td, 1e-12);
  // Discount 0 ignores the next observation entirely.
  td = learner.UpdateDiscounted(1, 1, 3.0, 0, 0.0);
  EXPECT_NEAR(td, 1.0, 1e-12);
}

TEST(SoftQLearnerTest, SamplingFollowsPolicyAndIsSeeded) {
  SoftQOptions options = TestOptions();
  options.soft_q_alpha_decay = 1.0;
  SoftQLearner a = MakeLearner(1, 3, options, 3);
  SoftQLearner b = MakeLearner(1, 3, options, 3);
  for (SoftQLearner* l : {&a, &b}) {
    l->set_q(0, 0, 0.0);
    l->set_q(0, 1, std::log(2.0));
    l->set_q(0, 2, std::log(5.0));  // pi = [1, 2, 5] / 8
  }
  std::vector<int> counts(3);
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    int64_t x = a.Sample(0);
    ASSERT_EQ(x, b.Sample(0));
    ++counts[x];
  }
  EXPECT_NEAR(counts[0] / double(n), 1.0 / 8, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 2.0 / 8, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 5.0 / 8, 0.01);
  bool mask[3] = {true, true, false};
  for (int i = 0; i < 100; ++i) EXPECT_NE(a.Sample(0, mask), 2);
}

TEST(SoftQLearnerTest, LearnsBestArmOfBandit) {
  SoftQOptions options;
  options.soft_q_alpha = 1.0;
  options.soft_q_alpha_decay = 0.99;
  options.soft_q_alpha_min = 0.01;
  SoftQLearner learner = MakeLearner(1, 3, options, 1);
  const double rewards[3] = {1.0, 3.0, 2.0};
  for (int i = 0; i < 2000; ++i) {
    int64_t a = learner.Sample(0);
    learner.Update(0, a, rewards[a], 0, true);
  }
  EXPECT_EQ(learner.Greedy(0), 1);
  std::vector<double> probs;
  learner.Probabilities(0, &probs);
  EXPECT_GT(probs[1], 0.99);
  EXPECT_NEAR(learner.q(0, 1), 3.0, 1e-3);
}

TEST(SoftQLearnerTest, SerializeRoundTrip) {
  SoftQLearner a = MakeLearner(2, 3);
  for (int i = 0; i < 20; ++i) {
    int64_t obs = i % 2;
    a.Update(obs, a.Sample(obs), 0.1 * i, 1 - obs, i % 3 == 0);
  }
  SoftQLearner b = MakeLearner(2, 3, TestOptions(), /*seed=*/99);
  ASSERT_TRUE(b.Restore(a.Serialize()).ok());
  EXPECT_EQ(b.schedule_step(), a.schedule_step());
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t x = 0; x < 3; ++x) EXPECT_EQ(b.q(s, x), a.q(s, x));
  }
  // The random engine continues identically.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Sample(0), b.Sample(0));

  SoftQLearner wrong_shape = MakeLearner(3, 3);
  EXPECT_EQ(wrong_shape.Restore(a.Serialize()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(b.Restore("garbage").ok());
  std::string truncated = a.Serialize();
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(b.Restore(truncated).ok());
}

}  // namespace
}  // namespace marl
