#include "learners/ppo_learner.h"

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

PpoOptions Fast() {
  PpoOptions o;
  o.ppo_hidden = LayerSizes("32");
  o.ppo_lr = 1e-2;
  o.ppo_rollout = 16;
  o.ppo_minibatch = 64;
  o.ppo_entropy = 0.0;
  o.gamma = 0.9;
  return o;
}

constexpr int kCopies = 8;

// One-step episodes from a constant observation: a bandit.
struct Bandit {
  std::vector<float> obs = std::vector<float>(kCopies, 1.0f);
  std::vector<bool> flags = std::vector<bool>(kCopies, false);
  std::unique_ptr<bool[]> terminated{new bool[kCopies]};
  std::unique_ptr<bool[]> truncated{new bool[kCopies]};
  Bandit() {
    for (int c = 0; c < kCopies; ++c) {
      terminated[c] = true;
      truncated[c] = false;
    }
  }
};

// Plays `steps` batched steps of a 3-armed bandit paying 0, 1, 0.2.
void PlayDiscrete(PpoLearner* learner, int steps) {
  Bandit b;
  const float payoff[3] = {0.0f, 1.0f, 0.2f};
  std::vector<int64_t> actions(kCopies);
  std::vector<float> rewards(kCopies);
  for (int t = 0; t < steps; ++t) {
    learner->Act(b.obs.data(), kCopies, false, actions.data(), nullptr);
    for (int c = 0; c < kCopies; ++c) rewards[c] = payoff[actions[c]];
    ASSERT_TRUE(learner
                    ->Observe(kCopies, b.obs.data(), actions.data(), nullptr,
                              rewards.data(), b.obs.data(), b.terminated.get(),
                              b.truncated.get())
                    .ok());
  }
}

TEST(PpoLearnerTest, LearnsTheBestArmOfABandit) {
  absl::StatusOr<std::unique_ptr<PpoLearner>> learner =
      PpoLearner::Create(1, 3, {}, {}, Fast(), 7);
  ASSERT_TRUE(learner.ok()) << learner.status();
  PlayDiscrete(learner->get(), 16 * 30);
  EXPECT_EQ((*learner)->updates(), 30);
  const float obs = 1.0f;
  int64_t greedy = -1;
  (*learner)->Act(&obs, 1, true, &greedy, nullptr);
  EXPECT_EQ(greedy, 1);
  std::vector<int64_t> sampled(64);
  std::vector<float> many(64, 1.0f);
  (*learner)->Act(many.data(), 64, false, sampled.data(), nullptr);
  int best = 0;
  for (int64_t a : sampled) best += a == 1;
  EXPECT_GT(best, 56);  // most samples, not only the greedy action
  const PpoLosses losses = (*learner)->TakeLosses();
  EXPECT_GT(losses.steps, 0);
  EXPECT_TRUE(std::isfinite(losses.policy_loss));
  EXPECT_GE(losses.clip_fraction, 0.0);
  EXPECT_EQ((*learner)->TakeLosses().steps, 0);  // taken
}

TEST(PpoLearnerTest, LearnsABoxActionTowardsTheBestPoint) {
  absl::StatusOr<std::unique_ptr<PpoLearner>> learner =
      PpoLearner::Create(1, 0, {-2.0f}, {2.0f}, Fast(), 3);
  ASSERT_TRUE(learner.ok()) << learner.status();
  Bandit b;
  std::vector<float> actions(kCopies), rewards(kCopies);
  for (int t = 0; t < 16 * 60; ++t) {
    (*learner)->Act(b.obs.data(), kCopies, false, nullptr, actions.data());
    for (int c = 0; c < kCopies; ++c) {
      ASSERT_GE(actions[c], -2.0f);
      ASSERT_LE(actions[c], 2.0f);
      rewards[c] = -(actions[c] - 1.0f) * (actions[c] - 1.0f);
    }
    ASSERT_TRUE((*learner)
                    ->Observe(kCopies, b.obs.data(), nullptr, actions.data(),
                              rewards.data(), b.obs.data(), b.terminated.get(),
                              b.truncated.get())
                    .ok());
  }
  const float obs = 1.0f;
  float greedy = 0;
  (*learner)->Act(&obs, 1, true, nullptr, &greedy);
  EXPECT_NEAR(greedy, 1.0f, 0.25f);
}

TEST(PpoLearnerTest, ACheckpointGoesOnExactlyMidRollout) {
  absl::StatusOr<std::unique_ptr<PpoLearner>> a =
      PpoLearner::Create(1, 3, {}, {}, Fast(), 11);
  ASSERT_TRUE(a.ok());
  PlayDiscrete(a->get(), 16 * 2 + 5);  // two updates and 5 steps stored
  absl::StatusOr<std::string> saved = (*a)->Save();
  ASSERT_TRUE(saved.ok()) << saved.status();
  absl::StatusOr<std::unique_ptr<PpoLearner>> b =
      PpoLearner::Create(1, 3, {}, {}, Fast(), 99);  // other seed
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->Load(*saved).ok());
  EXPECT_EQ((*b)->updates(), 2);
  // Same samples, and the same update once the rollout fills.
  PlayDiscrete(a->get(), 11);
  PlayDiscrete(b->get(), 11);
  EXPECT_EQ((*b)->updates(), 3);
  std::vector<float> obs(32, 1.0f);
  std::vector<int64_t> from_a(32), from_b(32);
  (*a)->Act(obs.data(), 32, false, from_a.data(), nullptr);
  (*b)->Act(obs.data(), 32, false, from_b.data(), nullptr);
  EXPECT_EQ(from_a, from_b);
  // And on through another whole update (the optimizer's moments and the
  // shuffling engine came along too).
  (*a)->TakeLosses();
  (*b)->TakeLosses();
  PlayDiscrete(a->get(), 16);
  PlayDiscrete(b->get(), 16);
  EXPECT_EQ((*a)->TakeLosses().policy_loss, (*b)->TakeLosses().policy_loss);
  (*a)->Act(obs.data(), 32, false, from_a.data(), nullptr);
  (*b)->Act(obs.data(), 32, false, from_b.data(), nullptr);
  EXPECT_EQ(from_a, from_b);
}

TEST(PpoLearnerTest, RefusesBadSettingsAndMismatches) {
  PpoOptions bad = Fast();
  bad.ppo_clip = 0;
  EXPECT_EQ(PpoLearner::Create(1, 3, {}, {}, bad, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PpoLearner::Create(1, 0, {-1.0f}, {INFINITY}, Fast(), 1).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PpoLearner::Create(1, 3, {0.0f}, {1.0f}, Fast(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::unique_ptr<PpoLearner>> learner =
      PpoLearner::Create(1, 3, {}, {}, Fast(), 1);
  ASSERT_TRUE(learner.ok());
  PlayDiscrete(learner->get(), 1);
  Bandit b;
  std::vector<int64_t> actions(kCopies, 0);
  std::vector<float> rewards(kCopies, 0.0f);
  EXPECT_EQ((*learner)
                ->Observe(kCopies - 1, b.obs.data(), actions.data(), nullptr,
                          rewards.data(), b.obs.data(), b.terminated.get(),
                          b.truncated.get())
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<PpoLearner>> wider =
      PpoLearner::Create(1, 4, {}, {}, Fast(), 1);
  ASSERT_TRUE(wider.ok());
  EXPECT_EQ((*wider)->Load((*learner)->Save().value()).code(),
            absl::StatusCode::kInvalidArgument);
}

// Two-step episodes: a cue (one of two) is shown, then hidden; the second
// action earns 1 if it names the cue. A feed-forward policy sees the same
// second observation either way (half the cues at best); a recurrent one
// remembers.
double PlayMemory(PpoLearner* learner, int steps, bool learn, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> cue(kCopies);
  std::vector<float> obs(kCopies * 3), next(kCopies * 3), rewards(kCopies);
  std::unique_ptr<bool[]> first(new bool[kCopies]), done(new bool[kCopies]),
      cut(new bool[kCopies]);
  std::vector<int64_t> actions(kCopies);
  int t = 0, right = 0, asked = 0;
  auto show = [&](int phase, std::vector<float>* out) {
    for (int c = 0; c < kCopies; ++c) {
      float* row = out->data() + 3 * c;
      row[0] = phase == 0 && cue[c] == 0;
      row[1] = phase == 0 && cue[c] == 1;
      row[2] = phase == 1;
    }
  };
  for (int step = 0; step < steps; ++step, t = 1 - t) {
    if (t == 0) {
      for (int c = 0; c < kCopies; ++c) cue[c] = static_cast<int>(rng() % 2);
    }
    show(t, &obs);
    for (int c = 0; c < kCopies; ++c) {
      first[c] = t == 0;
      done[c] = t == 1;
      cut[c] = false;
    }
    learner->Act(obs.data(), kCopies, !learn, actions.data(), nullptr,
                 learn ? ActingStream::kTrain : ActingStream::kEval,
                 first.get());
    for (int c = 0; c < kCopies; ++c) {
      rewards[c] = t == 1 && actions[c] == cue[c] ? 1.0f : 0.0f;
      if (t == 1) {
        ++asked;
        right += actions[c] == cue[c];
      }
    }
    show(1, &next);  // after the cue: the blank; after the answer: final
    if (learn) {
      EXPECT_TRUE(learner
                      ->Observe(kCopies, obs.data(), actions.data(), nullptr,
                                rewards.data(), next.data(), done.get(),
                                cut.get())
                      .ok());
    }
  }
  return asked > 0 ? static_cast<double>(right) / asked : 0.0;
}

TEST(PpoLearnerTest, ARecurrentPolicyRemembersWhatAFeedForwardOneCannot) {
  PpoOptions o = Fast();
  o.ppo_hidden = LayerSizes("16");
  o.ppo_rollout = 16;
  o.ppo_bptt = 4;
  o.gamma = 1.0;
  PpoOptions feed_forward = o;
  o.ppo_recurrent = 16;
  absl::StatusOr<std::unique_ptr<PpoLearner>> recurrent =
      PpoLearner::Create(3, 2, {}, {}, o, 5);
  absl::StatusOr<std::unique_ptr<PpoLearner>> plain =
      PpoLearner::Create(3, 2, {}, {}, feed_forward, 5);
  ASSERT_TRUE(recurrent.ok()) << recurrent.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  PlayMemory(recurrent->get(), 16 * 80, true, 1);
  PlayMemory(plain->get(), 16 * 80, true, 1);
  const double remembered = PlayMemory(recurrent->get(), 64, false, 2);
  const double guessed = PlayMemory(plain->get(), 64, false, 2);
  EXPECT_GE(remembered, 0.95);
  EXPECT_LE(guessed, 0.7);  // the same answer whatever the cue
  // Its checkpoint goes on where it stopped (states and the rollout).
  absl::StatusOr<std::string> saved = (*recurrent)->Save();
  ASSERT_TRUE(saved.ok());
  absl::StatusOr<std::unique_ptr<PpoLearner>> restored =
      PpoLearner::Create(3, 2, {}, {}, o, 77);
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE((*restored)->Load(*saved).ok());
  EXPECT_EQ(PlayMemory(restored->get(), 64, false, 3),
            PlayMemory(recurrent->get(), 64, false, 3));
  // A feed-forward learner refuses it.
  EXPECT_EQ((*plain)->Load(*saved).code(), absl::StatusCode::kInvalidArgument);
  PpoOptions bad = o;
  bad.ppo_bptt = 5;  // does not divide 16
  EXPECT_EQ(PpoLearner::Create(3, 2, {}, {}, bad, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The best arm (1) is illegal in half the copies: those never play it and
// learn the best legal one (2); the others still learn 1.
TEST(PpoLearnerTest, MaskedActionsAreNeverPlayed) {
  absl::StatusOr<std::unique_ptr<PpoLearner>> learner =
      PpoLearner::Create(2, 3, {}, {}, Fast(), 9);
  ASSERT_TRUE(learner.ok());
  const float payoff[3] = {0.0f, 1.0f, 0.5f};
  // Observation: (1, 0) where arm 1 is legal, (0, 1) where it is not.
  std::vector<float> obs(2 * kCopies);
  bool mask[3 * kCopies];
  for (int c = 0; c < kCopies; ++c) {
    const bool masked = c % 2 == 1;
    obs[2 * c] = masked ? 0.0f : 1.0f;
    obs[2 * c + 1] = masked ? 1.0f : 0.0f;
    for (int a = 0; a < 3; ++a) mask[3 * c + a] = !(masked && a == 1);
  }
  Bandit b;
  std::vector<int64_t> actions(kCopies);
  std::vector<float> rewards(kCopies);
  for (int t = 0; t < 16 * 40; ++t) {
    (*learner)->Act(obs.data(), kCopies, false, actions.data(), nullptr,
                    ActingStream::kTrain, nullptr, mask);
    for (int c = 0; c < kCopies; ++c) {
      ASSERT_TRUE(mask[3 * c + actions[c]])
          << "copy " << c << " played " << actions[c];
      rewards[c] = payoff[actions[c]];
    }
    ASSERT_TRUE((*learner)
                    ->Observe(kCopies, obs.data(), actions.data(), nullptr,
                              rewards.data(), obs.data(), b.terminated.get(),
                              b.truncated.get())
                    .ok());
  }
  (*learner)->Act(obs.data(), kCopies, true, actions.data(), nullptr,
                  ActingStream::kEval, nullptr, mask);
  for (int c = 0; c < kCopies; ++c) {
    EXPECT_EQ(actions[c], c % 2 == 1 ? 2 : 1) << "copy " << c;
  }
}

// Where it was not the agent's turn its action had no effect: whatever it
// played there, the policy learns the same.
TEST(PpoLearnerTest, OthersTurnsDoNotTeachThePolicy) {
  PpoOptions o = Fast();
  absl::StatusOr<std::unique_ptr<PpoLearner>> a =
      PpoLearner::Create(1, 3, {}, {}, o, 21);
  absl::StatusOr<std::unique_ptr<PpoLearner>> b =
      PpoLearner::Create(1, 3, {}, {}, o, 21);
  ASSERT_TRUE(a.ok() && b.ok());
  Bandit bandit;
  bool acting[kCopies];
  for (int c = 0; c < kCopies; ++c) acting[c] = c % 2 == 0;
  std::vector<int64_t> actions(kCopies), other(kCopies);
  std::vector<float> rewards(kCopies);
  for (int t = 0; t < 16 * 3; ++t) {
    (*a)->Act(bandit.obs.data(), kCopies, false, actions.data(), nullptr,
              ActingStream::kTrain);
    (*b)->Act(bandit.obs.data(), kCopies, false, other.data(), nullptr,
              ActingStream::kTrain);
    ASSERT_EQ(actions, other);  // the same so far
    for (int c = 0; c < kCopies; ++c) {
      rewards[c] = acting[c] && actions[c] == 1 ? 1.0f : 0.0f;
      // b claims other actions where they had no effect.
      if (!acting[c]) other[c] = (actions[c] + 1) % 3;
    }
    for (auto [learner, played] :
         {std::pair{a->get(), &actions}, std::pair{b->get(), &other}}) {
      ASSERT_TRUE(learner
                      ->Observe(kCopies, bandit.obs.data(), played->data(),
                                nullptr, rewards.data(), bandit.obs.data(),
                                bandit.terminated.get(), bandit.truncated.get(),
                                acting)
                      .ok());
    }
  }
  EXPECT_EQ((*a)->updates(), 3);
  EXPECT_EQ((*a)->TakeLosses().policy_loss, (*b)->TakeLosses().policy_loss);
}

}  // namespace
}  // namespace marl
