#include "learners/rollout_buffer.h"

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(RolloutBufferTest, StoresStepsInTimeOrderPerCopy) {
  auto buffer = RolloutBuffer::Create(3, 2, {{"obs", 2}, {"reward", 1}});
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  for (int t = 0; t < 3; ++t) {
    const std::vector<float> obs = {float(t), 0, float(t), 1};  // 2 copies
    const std::vector<float> reward = {float(10 * t), float(10 * t + 1)};
    ASSERT_TRUE(buffer->Append({obs, reward}).ok());
  }
  EXPECT_TRUE(buffer->full());
  EXPECT_EQ(buffer->row(0, 2, 1)[0], 2.0f);
  EXPECT_EQ(buffer->row(0, 2, 1)[1], 1.0f);
  EXPECT_EQ(buffer->row(1, 1, 1)[0], 11.0f);
  EXPECT_EQ(buffer->column(1).size(), 6u);
  const std::vector<float> one = {0, 0, 0, 0}, two = {0, 0};
  EXPECT_EQ(buffer->Append({one, two}).code(),
            absl::StatusCode::kFailedPrecondition);
  buffer->Clear();
  EXPECT_EQ(buffer->Append({two, two}).code(),
            absl::StatusCode::kInvalidArgument);  // obs is 2 x 2 wide
  EXPECT_EQ(buffer->size(), 0);
}

TEST(RolloutBufferTest, RefusesBadShapes) {
  EXPECT_FALSE(RolloutBuffer::Create(0, 1, {{"x", 1}}).ok());
  EXPECT_FALSE(RolloutBuffer::Create(1, 1, {}).ok());
  EXPECT_FALSE(RolloutBuffer::Create(1, 1, {{"x", 1}, {"x", 2}}).ok());
  // 2^20 x 2^10 x 4 floats: past the bound, refused before allocating.
  EXPECT_FALSE(RolloutBuffer::Create(1 << 20, 1 << 10, {{"x", 4}}).ok());
  EXPECT_FALSE(
      RolloutBuffer::Create(int64_t{1} << 62, int64_t{1} << 62, {{"x", 1}})
          .ok());
}

TEST(RolloutBufferTest, ShuffledRowsAndWindowsCoverEveryStepOnce) {
  auto buffer = RolloutBuffer::Create(5, 3, {{"x", 1}});
  ASSERT_TRUE(buffer.ok());
  for (int t = 0; t < 5; ++t) {
    ASSERT_TRUE(buffer->Append({std::vector<float>(3, float(t))}).ok());
  }
  std::mt19937_64 a(7), b(7);
  const std::vector<int64_t> rows = buffer->ShuffledRows(a);
  EXPECT_EQ(rows, buffer->ShuffledRows(b));  // owned, seeded randomness
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), 15u);
  const auto windows = buffer->Windows(2);
  ASSERT_EQ(windows.size(), 9u);  // per copy: [0,2) [2,4) [4,5)
  EXPECT_EQ(windows[2].copy, 0);
  EXPECT_EQ(windows[2].start, 4);
  EXPECT_EQ(windows[2].length, 1);
  EXPECT_EQ(windows[3].copy, 1);
}

// GAE by hand on one copy: r = (1, 2, 3), V = (0.5, 1, 1.5), next values
// (1, 1.5, 4), gamma 0.9, lambda 0.8.
TEST(GeneralisedAdvantagesTest, MatchesTheRecursionByHand) {
  const std::vector<float> r = {1, 2, 3}, v = {0.5, 1, 1.5}, nv = {1, 1.5, 4};
  const bool no[3] = {false, false, false};
  std::vector<float> adv(3), ret(3);
  ASSERT_TRUE(GeneralisedAdvantages(3, 1, r, v, nv, no, no, 0.9, 0.8,
                                    absl::MakeSpan(adv), absl::MakeSpan(ret))
                  .ok());
  const double d2 = 3 + 0.9 * 4 - 1.5, d1 = 2 + 0.9 * 1.5 - 1,
               d0 = 1 + 0.9 * 1 - 0.5;
  const double a2 = d2, a1 = d1 + 0.72 * a2, a0 = d0 + 0.72 * a1;
  EXPECT_NEAR(adv[2], a2, 1e-5);
  EXPECT_NEAR(adv[1], a1, 1e-5);
  EXPECT_NEAR(adv[0], a0, 1e-5);
  EXPECT_NEAR(ret[0], a0 + 0.5, 1e-5);

  // Terminated at step 1: no bootstrap there, and the trace stops.
  const bool term[3] = {false, true, false};
  ASSERT_TRUE(GeneralisedAdvantages(3, 1, r, v, nv, term, term, 0.9, 0.8,
                                    absl::MakeSpan(adv), absl::MakeSpan(ret))
                  .ok());
  EXPECT_NEAR(adv[1], 2 - 1.0, 1e-5);
  EXPECT_NEAR(adv[0], d0 + 0.72 * (2 - 1.0), 1e-5);
  // Truncated at step 1: bootstraps from the final observation's value,
  // but the trace still stops.
  const bool ended[3] = {false, true, false};
  ASSERT_TRUE(GeneralisedAdvantages(3, 1, r, v, nv, no, ended, 0.9, 0.8,
                                    absl::MakeSpan(adv), absl::MakeSpan(ret))
                  .ok());
  EXPECT_NEAR(adv[1], d1, 1e-5);
  EXPECT_NEAR(adv[0], d0 + 0.72 * d1, 1e-5);
}

// lambda = 1 over two copies: A + V is the discounted return from each step,
// bootstrapped from the last next value.
TEST(GeneralisedAdvantagesTest, LambdaOneGivesDiscountedReturns) {
  const int64_t steps = 4, copies = 2;
  std::vector<float> r(8), v(8), nv(8);
  for (int i = 0; i < 8; ++i) {
    r[i] = float(i % 3);
    v[i] = 0.25f * i;
  }
  for (int t = 0; t < steps; ++t) {
    for (int c = 0; c < copies; ++c) {
      nv[t * copies + c] = t + 1 < steps ? v[(t + 1) * copies + c] : 2.0f;
    }
  }
  const bool none[8] = {};
  std::vector<float> adv(8), ret(8);
  ASSERT_TRUE(GeneralisedAdvantages(steps, copies, r, v, nv, none, none, 0.5,
                                    1.0, absl::MakeSpan(adv),
                                    absl::MakeSpan(ret))
                  .ok());
  for (int c = 0; c < copies; ++c) {
    double g = 2.0;  // bootstrap
    for (int t = steps - 1; t >= 0; --t) {
      g = r[t * copies + c] + 0.5 * g;
      EXPECT_NEAR(ret[t * copies + c], g, 1e-5) << t << " " << c;
    }
  }
  std::vector<float> short_out(7);
  EXPECT_EQ(
      GeneralisedAdvantages(steps, copies, r, v, nv, none, none, 0.5, 1,
                            absl::MakeSpan(short_out), absl::MakeSpan(ret))
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
