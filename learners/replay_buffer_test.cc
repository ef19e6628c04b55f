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

namespace marl {
namespace {

// A buffer restored from its bytes holds the same rows and counters and
// samples the same minibatches; bytes of other buffers, or damaged ones,
// are refused.
TEST(ReplayBufferTest, SerializeRestoresEverything) {
  ReplayBuffer a = MakeBuffer(4);
  for (int i = 0; i < 6; ++i) {  // wraps: 6 added, 4 kept
    const float obs[2] = {float(i), float(-i)};
    const float reward[1] = {0.5f * i};
    ASSERT_TRUE(
        a.Add({absl::MakeConstSpan(obs), absl::MakeConstSpan(reward)}).ok());
  }
  const std::string bytes = a.Serialize();
  ReplayBuffer b = MakeBuffer(4);
  ASSERT_TRUE(b.Restore(bytes).ok());
  EXPECT_EQ(b.size(), 4);
  EXPECT_EQ(b.total_added(), 6);
  EXPECT_EQ(b.Serialize(), bytes);
  std::mt19937_64 ra(3), rb(3);
  ReplayBuffer::Batch sa, sb;
  ASSERT_TRUE(a.Sample(16, ra, &sa).ok());
  ASSERT_TRUE(b.Sample(16, rb, &sb).ok());
  EXPECT_EQ(sa.fields, sb.fields);
  // The next push lands in the same slot.
  EXPECT_EQ(a.Push(), b.Push());

  ReplayBuffer bigger = MakeBuffer(8);
  EXPECT_EQ(bigger.Restore(bytes).code(), absl::StatusCode::kInvalidArgument);
  auto other = ReplayBuffer::Create(4, {{"obs", 3}, {"reward", 1}});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->Restore(bytes).code(), absl::StatusCode::kInvalidArgument);
  ReplayBuffer c = MakeBuffer(4);
  for (const std::string& bad :
       {std::string("junk"), bytes.substr(0, bytes.size() - 1), bytes + "x",
        std::string("marl-replay-v1 4 9 0 9 2\nobs 2\nreward 1\n")}) {
    EXPECT_EQ(c.Restore(bad).code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(c.size(), 0);  // a refused restore changes nothing
}

}  // namespace
}  // namespace marl
