#include "agents/public_belief/public_belief_learner.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

// Two agents with Discrete(2) private cards and a public observation of
// 2 floats, simultaneous moves.
EnvSpec CardSpec() {
  EnvSpec spec;
  spec.agent_ids = {"p0", "p1"};
  spec.observation_spaces = {Space::Discrete(2), Space::Discrete(2)};
  spec.action_spaces = {Space::Discrete(3), Space::Discrete(3)};
  spec.has_public_observation = true;
  spec.public_observation_space = Space::Box({2}, {0.0f}, {1.0f});
  return spec;
}

PublicBeliefOptions SmallOptions() {
  PublicBeliefOptions o;
  o.particles = 6;
  o.hidden = LayerSizes("16");
  o.batch_size = 4;
  o.warmup = 0;
  return o;
}

TEST(PublicBeliefLearnerTest, RefusesWhatItCannotLearn) {
  EnvSpec no_public = CardSpec();
  no_public.has_public_observation = false;
  absl::StatusOr<std::unique_ptr<JointLearner>> l =
      CreatePublicBeliefLearner(no_public, SmallOptions(), 1);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(l.status().message().find("public observation"), std::string::npos);

  EnvSpec box_private = CardSpec();
  box_private.observation_spaces[1] = Space::Box({3}, {0.0f}, {1.0f});
  l = CreatePublicBeliefLearner(box_private, SmallOptions(), 1);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(l.status().message().find("Discrete"), std::string::npos);
  // Without the public agent, any private observation will do.
  PublicBeliefOptions none = SmallOptions();
  none.particles = 0;
  EXPECT_TRUE(CreatePublicBeliefLearner(box_private, none, 1).ok());

  EnvSpec box_actions = CardSpec();
  box_actions.action_spaces[0] = Space::Box({1}, {-1.0f}, {1.0f});
  EXPECT_FALSE(CreatePublicBeliefLearner(box_actions, SmallOptions(), 1).ok());
}

// The message one learner sends at an episode's first step, for the given
// private cards.
std::vector<float> FirstMessage(const std::vector<float>& cards) {
  absl::StatusOr<std::unique_ptr<JointLearner>> l =
      CreatePublicBeliefLearner(CardSpec(), SmallOptions(), 7);
  EXPECT_TRUE(l.ok()) << l.status();
  const std::vector<float> pub = {1, 0, 1, 0};
  const bool first[2] = {true, true};
  (*l)->SetPublicObservation(pub.data());
  (*l)->SetActingContext(ActingStream::kEval, first);
  std::vector<std::vector<int64_t>> discrete(2, std::vector<int64_t>(2));
  std::vector<std::vector<float>> continuous(2);
  (*l)->Act({cards.data(), cards.data() + 2}, 2, true, &discrete, &continuous);
  EXPECT_TRUE((*l)->status().ok()) << (*l)->status();
  absl::Span<const float> m0 = (*l)->LastLatents(0);
  absl::Span<const float> m1 = (*l)->LastLatents(1);
  EXPECT_EQ(std::vector<float>(m0.begin(), m0.end()),
            std::vector<float>(m1.begin(), m1.end()));
  return std::vector<float>(m0.begin(), m0.end());
}

// One public agent serves everyone: its message is a function of public
// information only, whatever the private cards (agents' rows: copy 0 and
// copy 1 of each agent).
TEST(PublicBeliefLearnerTest, MessageIgnoresPrivateObservations) {
  const std::vector<float> a = FirstMessage({0, 0, 0, 0});
  const std::vector<float> b = FirstMessage({1, 0, 1, 1});
  ASSERT_EQ(a.size(), 8u);  // 2 copies x 4 symbols
  EXPECT_EQ(a, b);
  float sum = 0;
  for (int i = 0; i < 4; ++i) sum += a[i];
  EXPECT_NEAR(sum, 1.0f, 1e-5f);  // a distribution over the symbols
}

// Through the loop on a turn-based game with a public observation: it
// trains (updates run, losses stay finite) and a checkpoint restores it.
TEST(PublicBeliefLearnerTest, TrainsOnTurnsAndRoundTrips) {
  PublicBeliefOptions o = SmallOptions();
  TrainingOptions t = ShortTrainingRun("test_turns_game", 3, 400, "pb_turns");
  ExpectCheckpointRoundTrip(t, PublicBeliefAlgorithmName(o),
                            FactoryOf(CreatePublicBeliefLearner, o));
}

TEST(PublicBeliefLearnerTest, TrainsOnTinyHanabiAndRoundTrips) {
  PublicBeliefOptions o = SmallOptions();
  TrainingOptions t = ShortTrainingRun("tiny_hanabi", 3, 400, "pb_roundtrip");
  ExpectCheckpointRoundTrip(t, PublicBeliefAlgorithmName(o),
                            FactoryOf(CreatePublicBeliefLearner, o));
}

// Seeds of the learning test. A seed's greedy return is bimodal (8, or
// about 9 once the agents signal), and which mode a borderline seed reaches
// depends on the realisation of the updates' random draws: sorting the
// sampled windows, with the same arithmetic, turns seed 3 from 9.00 to 8.
// Three seeds made the verdict hang on one such seed; five do less so.
constexpr uint64_t kBadSeeds = 5;

// The mean greedy return over seeds 1-kBadSeeds of `o` on the BAD game
// after 20,000 transitions.
double MeanBadReturn(const PublicBeliefOptions& o, const std::string& name) {
  double sum = 0;
  for (uint64_t seed = 1; seed <= kBadSeeds; ++seed) {
    TrainingOptions t = ShortTrainingRun("tiny_hanabi", seed, 20000,
                                         name + std::to_string(seed));
    t.eval_episodes = 200;
    t.log_every = 5000;
    absl::StatusOr<TrainingResult> r =
        RunTraining(t, PublicBeliefAlgorithmName(o),
                    FactoryOf(CreatePublicBeliefLearner, o));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return 0;
    sum += r->agents[0].eval_return;
  }
  return sum / kBadSeeds;
}

// On the BAD game the public belief turns player_0's action into evidence
// about its card, and the agents leave the no-communication value 8 (always
// the middle action) sooner: at the same budget the agent beats the same
// learner without a public agent. Measured: 8.57 (8, 8.87, 8, 9.03, 8.96)
// against 8.00 (8, 8, 8, 8, 8).
TEST(PublicBeliefLearnerTest, BeatsTheNoBeliefBaselineOnTheBadGame) {
  PublicBeliefOptions belief;
  belief.particles = 4;
  belief.hidden = LayerSizes("32,32");
  PublicBeliefOptions none = belief;
  none.particles = 0;
  const double with_belief = MeanBadReturn(belief, "bad_belief");
  const double without = MeanBadReturn(none, "bad_none");
  EXPECT_GT(with_belief, without + 0.3)
      << "with belief " << with_belief << ", without " << without;
}

}  // namespace
}  // namespace marl
