#include "learners/replay_buffer.h"

#include <map>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using ::testing::ElementsAre;

ReplayBuffer MakeBuffer(int64_t capacity) {
  auto buffer = ReplayBuffer::Create(capacity, {{"obs", 2}, {"reward", 1}});
  EXPECT_TRUE(buffer.ok()) << buffer.status();
  return *std::move(buffer);
}

TEST(ReplayBufferTest, RejectsBadShapes) {
  EXPECT_FALSE(ReplayBuffer::Create(0, {{"obs", 1}}).ok());
  EXPECT_FALSE(ReplayBuffer::Create(4, {}).ok());
  EXPECT_FALSE(ReplayBuffer::Create(4, {{"obs", 0}}).ok());
  EXPECT_FALSE(ReplayBuffer::Create(4, {{"obs", 1}, {"obs", 2}}).ok());
}

TEST(ReplayBufferTest, AddChecksWidths) {
  ReplayBuffer buffer = MakeBuffer(4);
  std::vector<float> obs = {1, 2}, reward = {3}, bad = {1, 2, 3};
  EXPECT_TRUE(buffer.Add({obs, reward}).ok());
  EXPECT_FALSE(buffer.Add({bad, reward}).ok());
  EXPECT_FALSE(buffer.Add({obs}).ok());
  EXPECT_EQ(buffer.size(), 1);
  EXPECT_EQ(buffer.FieldIndex("reward"), 1);
  EXPECT_EQ(buffer.FieldIndex("nope"), -1);
}

TEST(ReplayBufferTest, RingOverwritesOldest) {
  ReplayBuffer buffer = MakeBuffer(3);
  for (int i = 0; i < 5; ++i) {
    std::vector<float> obs = {float(i), float(10 * i)}, reward = {float(-i)};
    ASSERT_TRUE(buffer.Add({obs, reward}).ok());
  }
  EXPECT_EQ(buffer.size(), 3);
  EXPECT_EQ(buffer.total_added(), 5);
  // Slots 0 and 1 were overwritten by transitions 3 and 4.
  std::vector<float> rewards;
  for (int64_t i = 0; i < buffer.size(); ++i)
    rewards.push_back(*buffer.row(1, i));
  EXPECT_THAT(rewards, ElementsAre(-3, -4, -2));
  EXPECT_THAT(std::vector<float>(buffer.row(0, 1), buffer.row(0, 1) + 2),
              ElementsAre(4, 40));
}

TEST(ReplayBufferTest, PushAndMutableRow) {
  ReplayBuffer buffer = MakeBuffer(2);
  int64_t slot = buffer.Push();
  buffer.mutable_row(0, slot)[0] = 7;
  buffer.mutable_row(0, slot)[1] = 8;
  buffer.mutable_row(1, slot)[0] = 9;
  std::vector<float> out(3);
  std::vector<int64_t> indices = {0};
  buffer.Gather(0, indices, out.data());
  buffer.Gather(1, indices, out.data() + 2);
  EXPECT_THAT(out, ElementsAre(7, 8, 9));
}

TEST(ReplayBufferTest, SampleIsUniformAndKeepsRowsTogether) {
  ReplayBuffer buffer = MakeBuffer(4);
  for (int i = 0; i < 4; ++i) {
    std::vector<float> obs = {float(i), float(i) + 0.5f}, reward = {float(i)};
    ASSERT_TRUE(buffer.Add({obs, reward}).ok());
  }
  std::mt19937_64 rng(1);
  ReplayBuffer::Batch batch;
  std::map<int, int> counts;
  for (int k = 0; k < 200; ++k) {
    ASSERT_TRUE(buffer.Sample(20, rng, &batch).ok());
    ASSERT_EQ(batch.fields[0].size(), 40u);
    for (int r = 0; r < 20; ++r) {
      // The obs and reward of a sampled row belong to the same transition.
      EXPECT_EQ(batch.fields[0][2 * r], batch.fields[1][r]);
      EXPECT_EQ(batch.fields[0][2 * r + 1], batch.fields[1][r] + 0.5f);
      ++counts[static_cast<int>(batch.fields[1][r])];
    }
  }
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [value, count] : counts) {
    EXPECT_NEAR(count, 1000, 150) << "value " << value;
  }
}

TEST(ReplayBufferTest, SampleDeterministicGivenSeed) {
  ReplayBuffer buffer = MakeBuffer(8);
  for (int i = 0; i < 8; ++i) {
    std::vector<float> obs = {float(i), 0}, reward = {0};
    ASSERT_TRUE(buffer.Add({obs, reward}).ok());
  }
  std::mt19937_64 a(5), b(5);
  std::vector<int64_t> ia, ib;
  buffer.SampleIndices(16, a, &ia);
  buffer.SampleIndices(16, b, &ib);
  EXPECT_EQ(ia, ib);
}

TEST(ReplayBufferTest, EmptySampleFailsAndClearEmpties) {
  ReplayBuffer buffer = MakeBuffer(2);
  std::mt19937_64 rng(0);
  ReplayBuffer::Batch batch;
  EXPECT_EQ(buffer.Sample(1, rng, &batch).code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<float> obs = {1, 2}, reward = {3};
  ASSERT_TRUE(buffer.Add({obs, reward}).ok());
  buffer.Clear();
  EXPECT_TRUE(buffer.empty());
}

}  // namespace
}  // namespace marl
