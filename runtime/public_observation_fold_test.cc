#include "runtime/public_observation_fold.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Agent 0 sees a Discrete(3) card, agent 1 a Box of 2; the public
// observation is a Box of 2.
EnvSpec CardSpec() {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  spec.observation_spaces = {Space::Discrete(3),
                             Space::Box({2}, {-1.0f}, {1.0f})};
  spec.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
  spec.has_public_observation = true;
  spec.public_observation_space = Space::Box({2}, {0.0f}, {5.0f});
  return spec;
}

// Records the observations it is given.
class Recorder : public JointLearner {
 public:
  void Act(const std::vector<const float*>& observation, int num_copies, bool,
           std::vector<std::vector<int64_t>>*,
           std::vector<std::vector<float>>*) override {
    acted = Copy(observation, num_copies);
  }
  void Learn(const TransitionBatch& batch) override {
    learned = Copy(batch.observation, batch.num_copies);
    learned_next = Copy(batch.next_observation, batch.num_copies);
  }
  absl::StatusOr<std::string> Save() const override { return "x"; }
  absl::Status Load(const std::string&) override { return absl::OkStatus(); }

  std::vector<std::vector<float>> acted, learned, learned_next;

 private:
  std::vector<std::vector<float>> Copy(const std::vector<const float*>& obs,
                                       int copies) {
    // Both folded agents see 5 and 4 floats per copy.
    return {std::vector<float>(obs[0], obs[0] + 5 * copies),
            std::vector<float>(obs[1], obs[1] + 4 * copies)};
  }
};

TEST(PublicObservationFoldTest, SpecAppendsThePublicObservation) {
  absl::StatusOr<EnvSpec> folded = SpecObservingPublic(CardSpec());
  ASSERT_TRUE(folded.ok()) << folded.status();
  const Space& a = folded->observation_spaces[0];
  ASSERT_TRUE(a.is_box());
  EXPECT_THAT(a.low, ElementsAre(0, 0, 0, 0, 0));
  EXPECT_THAT(a.high, ElementsAre(1, 1, 1, 5, 5));
  const Space& b = folded->observation_spaces[1];
  EXPECT_THAT(b.low, ElementsAre(-1, -1, 0, 0));
  EXPECT_THAT(b.high, ElementsAre(1, 1, 5, 5));
  EXPECT_TRUE(folded->has_public_observation);
}

TEST(PublicObservationFoldTest, RefusesEnvironmentsWithoutOne) {
  EnvSpec spec = CardSpec();
  spec.has_public_observation = false;
  EXPECT_THAT(std::string(SpecObservingPublic(spec).status().message()),
              HasSubstr("no public observation"));
}

TEST(PublicObservationFoldTest, FeedsFoldedObservations) {
  Recorder* recorder = nullptr;
  EnvSpec built_on;
  LearnerFactory factory = ObservePublic(
      [&](const EnvSpec& spec,
          uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
        built_on = spec;
        auto r = std::make_unique<Recorder>();
        recorder = r.get();
        return std::unique_ptr<JointLearner>(std::move(r));
      });
  absl::StatusOr<std::unique_ptr<JointLearner>> learner =
      factory(CardSpec(), 1);
  ASSERT_TRUE(learner.ok()) << learner.status();
  EXPECT_EQ(built_on.observation_spaces[0].FlatSize(), 5);

  // Two copies: cards 2 and 0; public rows (1, 2) and (3, 4).
  const std::vector<float> cards = {2, 0}, boxes = {0.5f, -0.5f, 0.25f, 1};
  const std::vector<float> pub = {1, 2, 3, 4}, next_pub = {5, 5, 0, 0};
  (*learner)->SetPublicObservation(pub.data());
  std::vector<std::vector<int64_t>> discrete(2, std::vector<int64_t>(2));
  std::vector<std::vector<float>> continuous(2);
  (*learner)->Act({cards.data(), boxes.data()}, 2, false, &discrete,
                  &continuous);
  ASSERT_TRUE((*learner)->status().ok());
  EXPECT_THAT(recorder->acted[0], ElementsAre(0, 0, 1, 1, 2, 1, 0, 0, 3, 4));
  EXPECT_THAT(recorder->acted[1],
              ElementsAre(0.5f, -0.5f, 1, 2, 0.25f, 1, 3, 4));

  TransitionBatch batch;
  batch.num_copies = 2;
  batch.observation = {cards.data(), boxes.data()};
  batch.next_observation = {cards.data(), boxes.data()};
  batch.public_observation = pub.data();
  batch.next_public_observation = next_pub.data();
  (*learner)->Learn(batch);
  ASSERT_TRUE((*learner)->status().ok());
  EXPECT_THAT(recorder->learned_next[0],
              ElementsAre(0, 0, 1, 5, 5, 1, 0, 0, 0, 0));

  // A card outside Discrete(3) is an error, not a silent one-hot.
  const std::vector<float> bad = {7, 0};
  (*learner)->Act({bad.data(), boxes.data()}, 2, false, &discrete, &continuous);
  EXPECT_EQ((*learner)->status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace marl
