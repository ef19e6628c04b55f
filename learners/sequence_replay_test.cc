#include "learners/sequence_replay.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using ::testing::ElementsAre;

// Every step stores "obs" = (absolute time, copy) and "episode" = the
// copy's episode number, so a gathered row says where it came from.
SequenceReplay MakeReplay(int64_t capacity, int64_t copies) {
  auto replay =
      SequenceReplay::Create(capacity, copies, {{"obs", 2}, {"episode", 1}});
  EXPECT_TRUE(replay.ok()) << replay.status();
  return *std::move(replay);
}

// What was appended, to check samples against.
struct History {
  std::vector<std::vector<bool>> starts;  // [time][copy]
  std::vector<std::vector<int>> episode;  // [time][copy]
  int64_t total() const { return static_cast<int64_t>(starts.size()); }
};

// Appends `steps` steps; copy c's episodes take lengths[c][0], [1], ...
// cycling.
void Fill(int64_t steps, const std::vector<std::vector<int>>& lengths,
          SequenceReplay* replay, History* history) {
  const size_t copies = lengths.size();
  std::vector<int> left(copies, 0), episode(copies, -1), next(copies, 0);
  for (int64_t s = 0; s < steps; ++s) {
    const float time = static_cast<float>(history->total());
    std::vector<float> obs, episodes;
    bool starts[8] = {};
    for (size_t c = 0; c < copies; ++c) {
      if (left[c] == 0) {
        starts[c] = true;
        ++episode[c];
        left[c] = lengths[c][next[c]];
        next[c] = (next[c] + 1) % static_cast<int>(lengths[c].size());
      }
      --left[c];
      obs.insert(obs.end(), {time, static_cast<float>(c)});
      episodes.push_back(static_cast<float>(episode[c]));
    }
    ASSERT_TRUE(
        replay->Append({obs, episodes}, absl::MakeConstSpan(starts, copies))
            .ok());
    history->starts.emplace_back(starts, starts + copies);
    history->episode.push_back(episode);
  }
}

// Whether (time, copy) can end a window: stored, and its episode's start
// stored too.
bool Sampleable(const History& h, int64_t capacity, int64_t t, int64_t c) {
  const int64_t oldest = std::max<int64_t>(0, h.total() - capacity);
  if (t < oldest || t >= h.total()) return false;
  for (int64_t s = t; s >= 0; --s) {
    if (h.starts[s][c]) return s >= oldest;
  }
  return false;
}

int64_t CountSampleable(const History& h, int64_t capacity, int64_t copies) {
  int64_t n = 0;
  for (int64_t t = 0; t < h.total(); ++t) {
    for (int64_t c = 0; c < copies; ++c) n += Sampleable(h, capacity, t, c);
  }
  return n;
}

// Checks every window of `s` against the history and returns their end
// steps as (time, copy).
std::vector<std::pair<int64_t, int64_t>> CheckSequences(
    const SequenceReplay& replay, const History& h,
    const SequenceReplay::Sequences& s, int64_t max_length) {
  const int64_t T = s.length;
  EXPECT_EQ(s.rows.size(), static_cast<size_t>(s.batch * T));
  EXPECT_EQ(*std::max_element(s.lengths.begin(), s.lengths.end()), T);
  std::vector<std::pair<int64_t, int64_t>> ends;
  std::vector<float> obs(2 * T), episode(T);
  for (int64_t b = 0; b < s.batch; ++b) {
    const auto rows = absl::MakeConstSpan(s.rows).subspan(b * T, T);
    replay.Gather(0, rows, obs.data());
    replay.Gather(1, rows, episode.data());
    const int64_t c = s.copy[b], length = s.lengths[b];
    const int64_t first = static_cast<int64_t>(obs[0]);
    const int64_t window = length - s.burn_in[b];
    EXPECT_GE(s.burn_in[b], 0);
    EXPECT_EQ(window, std::min(length, max_length));
    // The burn-in starts at the episode's start.
    EXPECT_TRUE(h.starts[first][c]) << "window " << b;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i = b * T + t;
      if (t >= length) {  // padding
        EXPECT_EQ(s.rows[i], -1);
        EXPECT_EQ(s.valid[i], 0.0f);
        EXPECT_EQ(s.trained[i], 0.0f);
        EXPECT_THAT(std::vector<float>(&obs[2 * t], &obs[2 * t + 2]),
                    ElementsAre(0, 0));
        continue;
      }
      // One copy, consecutive steps, one episode (no start inside).
      EXPECT_EQ(obs[2 * t], static_cast<float>(first + t)) << "window " << b;
      EXPECT_EQ(obs[2 * t + 1], static_cast<float>(c));
      EXPECT_EQ(episode[t], episode[0]);
      if (t > 0) {
        EXPECT_FALSE(h.starts[first + t][c]);
      }
      EXPECT_EQ(s.valid[i], 1.0f);
      EXPECT_EQ(s.trained[i], t >= s.burn_in[b] ? 1.0f : 0.0f);
    }
    const int64_t end = first + length - 1;
    EXPECT_TRUE(Sampleable(h, replay.capacity(), end, c))
        << "time " << end << " copy " << c;
    // The successor in the episode, where one is stored.
    const bool has_next = end + 1 < h.total() && !h.starts[end + 1][c];
    if (has_next) {
      float next[2];
      replay.Gather(0, {s.next_row[b]}, next);
      EXPECT_THAT(next, ElementsAre(end + 1, c));
    } else {
      EXPECT_EQ(s.next_row[b], -1);
    }
    ends.emplace_back(end, c);
  }
  return ends;
}

TEST(SequenceReplayTest, HandWorkedSingleCopy) {
  SequenceReplay replay = MakeReplay(8, 1);
  History h;
  Fill(5, {{3, 4}}, &replay, &h);  // episode 0: steps 0-2, episode 1: 3-4
  EXPECT_EQ(replay.sampleable(), 5);
  std::mt19937_64 rng(1);
  SequenceReplay::Sequences s;
  std::map<int64_t, int64_t> next_of_end;
  for (int k = 0; k < 50; ++k) {
    ASSERT_TRUE(replay.Sample(1, 2, rng, &s).ok());
    CheckSequences(replay, h, s, 2);
    next_of_end[s.rows[s.lengths[0] - 1]] = s.next_row[0];
    if (s.rows[s.lengths[0] - 1] == 2) {
      // The end of episode 0: burn in on step 0, train on steps 1 and 2.
      EXPECT_THAT(s.rows, ElementsAre(0, 1, 2));
      EXPECT_THAT(s.trained, ElementsAre(0, 1, 1));
      EXPECT_EQ(s.burn_in[0], 1);
    }
  }
  // Step 2 ended its episode and step 4 is the newest of a running one:
  // neither has a successor; the learner's fields tell them apart.
  EXPECT_THAT(next_of_end,
              ElementsAre(std::pair<const int64_t, int64_t>(0, 1),
                          std::pair<const int64_t, int64_t>(1, 2),
                          std::pair<const int64_t, int64_t>(2, -1),
                          std::pair<const int64_t, int64_t>(3, 4),
                          std::pair<const int64_t, int64_t>(4, -1)));
}

// Three copies with episodes of different lengths, interleaved in the
// ring: windows stay in one episode of one copy.
TEST(SequenceReplayTest, InterleavedCopiesKeepToOneEpisode) {
  SequenceReplay replay = MakeReplay(40, 3);
  History h;
  Fill(30, {{3, 5, 1}, {7, 2}, {1}}, &replay, &h);
  EXPECT_EQ(replay.sampleable(), 90);
  std::mt19937_64 rng(2);
  SequenceReplay::Sequences s;
  bool burnt_in = false, padded = false;
  for (int k = 0; k < 200; ++k) {
    ASSERT_TRUE(replay.Sample(16, 4, rng, &s).ok());
    CheckSequences(replay, h, s, 4);
    for (int64_t b = 0; b < s.batch; ++b) {
      burnt_in |= s.burn_in[b] > 0;
      padded |= s.lengths[b] < s.length;
    }
  }
  EXPECT_TRUE(burnt_in);
  EXPECT_TRUE(padded);
}

// A small ring overwritten many times: an episode whose start is gone is
// never returned, and the count of sampleable steps follows the ring.
TEST(SequenceReplayTest, EpisodesWithoutTheirStartAreNeverSampled) {
  const int64_t capacity = 10;
  SequenceReplay replay = MakeReplay(capacity, 2);
  History h;
  std::mt19937_64 rng(3);
  SequenceReplay::Sequences s;
  for (int step = 0; step < 60; ++step) {
    Fill(1, {{6}, {4, 9, 13}}, &replay, &h);
    ASSERT_EQ(replay.sampleable(), CountSampleable(h, capacity, 2))
        << "after " << h.total() << " steps";
    if (replay.sampleable() == 0) continue;
    ASSERT_TRUE(replay.Sample(8, 3, rng, &s).ok());
    CheckSequences(replay, h, s, 3);
  }
}

// Over many samples from a wrapped ring, every sampleable step ends a
// window about equally often and the others never do.
TEST(SequenceReplayTest, EndStepsAreUniformOverSampleableSteps) {
  const int64_t capacity = 12;
  SequenceReplay replay = MakeReplay(capacity, 2);
  History h;
  // Copy 0 keeps 12 sampleable steps, copy 1 only 4 (its first episode
  // lost its start): drawing copies uniformly would be visibly off.
  Fill(17, {{5, 2}, {13}}, &replay, &h);
  const int64_t n = replay.sampleable();
  ASSERT_EQ(n, CountSampleable(h, capacity, 2));
  ASSERT_EQ(n, 16);
  std::mt19937_64 rng(4);
  SequenceReplay::Sequences s;
  std::map<std::pair<int64_t, int64_t>, int> counts;
  const int draws = 1000 * static_cast<int>(n);
  for (int k = 0; k < draws / 100; ++k) {
    ASSERT_TRUE(replay.Sample(100, 3, rng, &s).ok());
    for (const auto& end : CheckSequences(replay, h, s, 3)) ++counts[end];
  }
  EXPECT_EQ(static_cast<int64_t>(counts.size()), n);
  for (const auto& [end, count] : counts) {
    EXPECT_NEAR(count, 1000, 150)
        << "time " << end.first << " copy " << end.second;
  }
}

TEST(SequenceReplayTest, StepsBeforeACopysFirstStartAreNotSampled) {
  SequenceReplay replay = MakeReplay(4, 2);
  const std::vector<float> obs(4, 0), episode(2, 0);
  const bool none[2] = {false, false}, second[2] = {false, true};
  ASSERT_TRUE(replay.Append({obs, episode}, none).ok());
  std::mt19937_64 rng(5);
  SequenceReplay::Sequences s;
  EXPECT_EQ(replay.Sample(1, 1, rng, &s).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(replay.Append({obs, episode}, second).ok());
  ASSERT_TRUE(replay.Append({obs, episode}, none).ok());
  EXPECT_EQ(replay.sampleable(), 2);
  ASSERT_TRUE(replay.Sample(8, 5, rng, &s).ok());
  for (int64_t b = 0; b < 8; ++b) {
    EXPECT_EQ(s.copy[b], 1);
    EXPECT_EQ(s.rows[b * s.length], 1 * 2 + 1);  // step 1 of copy 1
  }
}

TEST(SequenceReplayTest, RefusesBadArguments) {
  EXPECT_FALSE(SequenceReplay::Create(0, 1, {{"x", 1}}).ok());
  EXPECT_FALSE(SequenceReplay::Create(1, 0, {{"x", 1}}).ok());
  EXPECT_FALSE(SequenceReplay::Create(1, 1, {}).ok());
  EXPECT_FALSE(SequenceReplay::Create(1, 1, {{"x", 0}}).ok());
  EXPECT_FALSE(SequenceReplay::Create(1, 1, {{"x", 1}, {"x", 2}}).ok());
  // 2^20 x 2^8 x 16 floats: past the bound, refused before allocating.
  EXPECT_EQ(
      SequenceReplay::Create(1 << 20, 1 << 8, {{"x", 16}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      SequenceReplay::Create(int64_t{1} << 62, int64_t{1} << 62, {{"x", 1}})
          .ok());
  EXPECT_FALSE(SequenceReplay::Create(2, 2, {{"x", int64_t{1} << 62}}).ok());

  SequenceReplay replay = MakeReplay(4, 2);
  const std::vector<float> obs(4, 0), episode(2, 0), short_obs(3, 0);
  const bool starts[2] = {true, true};
  EXPECT_EQ(replay.Append({obs}, starts).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replay.Append({short_obs, episode}, starts).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      replay.Append({obs, episode}, absl::MakeConstSpan(starts, 1)).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replay.size(), 0);

  std::mt19937_64 rng(6);
  SequenceReplay::Sequences s;
  EXPECT_EQ(replay.Sample(1, 1, rng, &s).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(replay.Append({obs, episode}, starts).ok());
  EXPECT_EQ(replay.Sample(0, 1, rng, &s).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replay.Sample(1, 0, rng, &s).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replay.Sample(SequenceReplay::kMaxBatch + 1, 1, rng, &s).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.batch, 0);  // a refused sample writes nothing
}

TEST(SequenceReplayTest, SamplesAreDeterministicGivenTheEngine) {
  SequenceReplay replay = MakeReplay(20, 2);
  History h;
  Fill(25, {{4, 3}, {6}}, &replay, &h);
  std::mt19937_64 a(7), b(7);
  SequenceReplay::Sequences sa, sb;
  ASSERT_TRUE(replay.Sample(32, 3, a, &sa).ok());
  ASSERT_TRUE(replay.Sample(32, 3, b, &sb).ok());
  EXPECT_EQ(sa.rows, sb.rows);
  EXPECT_EQ(sa.trained, sb.trained);
  EXPECT_EQ(sa.next_row, sb.next_row);
}

void ExpectSameSamples(const SequenceReplay& a, const SequenceReplay& b,
                       uint64_t seed) {
  std::mt19937_64 ra(seed), rb(seed);
  SequenceReplay::Sequences sa, sb;
  ASSERT_TRUE(a.Sample(32, 4, ra, &sa).ok());
  ASSERT_TRUE(b.Sample(32, 4, rb, &sb).ok());
  EXPECT_EQ(sa.rows, sb.rows);
  EXPECT_EQ(sa.valid, sb.valid);
  EXPECT_EQ(sa.trained, sb.trained);
  EXPECT_EQ(sa.copy, sb.copy);
  EXPECT_EQ(sa.burn_in, sb.burn_in);
  EXPECT_EQ(sa.lengths, sb.lengths);
  EXPECT_EQ(sa.next_row, sb.next_row);
  std::vector<float> fa(sa.rows.size() * 2), fb(sb.rows.size() * 2);
  a.Gather(0, sa.rows, fa.data());
  b.Gather(0, sb.rows, fb.data());
  EXPECT_EQ(fa, fb);
}

// A restored replay holds the same steps, samples the same windows, and goes
// on identically as steps are appended; other replays' bytes, or damaged
// ones, are refused.
TEST(SequenceReplayTest, SerializeRestoresEverything) {
  SequenceReplay a = MakeReplay(10, 2);
  History ha;
  Fill(23, {{6}, {4, 9}}, &a, &ha);  // wrapped
  const std::string bytes = a.Serialize();
  SequenceReplay b = MakeReplay(10, 2);
  ASSERT_TRUE(b.Restore(bytes).ok());
  EXPECT_EQ(b.size(), 10);
  EXPECT_EQ(b.total_appended(), 23);
  EXPECT_EQ(b.sampleable(), a.sampleable());
  EXPECT_EQ(b.Serialize(), bytes);
  ExpectSameSamples(a, b, 8);
  History hb = ha;
  Fill(7, {{3}, {2}}, &a, &ha);
  Fill(7, {{3}, {2}}, &b, &hb);
  EXPECT_EQ(b.sampleable(), a.sampleable());
  ExpectSameSamples(a, b, 9);

  SequenceReplay bigger = MakeReplay(12, 2);
  EXPECT_EQ(bigger.Restore(bytes).code(), absl::StatusCode::kInvalidArgument);
  SequenceReplay more_copies = MakeReplay(10, 3);
  EXPECT_EQ(more_copies.Restore(bytes).code(),
            absl::StatusCode::kInvalidArgument);
  auto other = SequenceReplay::Create(10, 2, {{"obs", 3}, {"episode", 1}});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->Restore(bytes).code(), absl::StatusCode::kInvalidArgument);

  SequenceReplay c = MakeReplay(10, 2);
  std::string bad_start = bytes;
  bad_start[bytes.find("episode 1\n") + 10] = 2;  // a start flag of 2
  for (const std::string& bad :
       {std::string("junk"), bytes.substr(0, bytes.size() - 1), bytes + "x",
        bad_start,
        std::string("marl-sequence-replay-v1 10 2 -1 2\nobs 2\nepisode 1\n")}) {
    EXPECT_EQ(c.Restore(bad).code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(c.size(), 0);  // a refused restore changes nothing
  EXPECT_EQ(c.sampleable(), 0);
}

}  // namespace
}  // namespace marl
