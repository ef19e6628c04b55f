#include "envs/core/message_channel.h"

#include <memory>
#include <vector>

#include "envs/core/env_batch.h"
#include "envs/core/registry.h"
#include "envs/testing/env_checks.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

LocalBatch MakeBatch(const std::string& name,
                     const std::map<std::string, SettingValue>& settings,
                     int copies, uint64_t seed) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> batch =
      EnvBatch::Create(name, settings, copies, seed, /*auto_reset=*/true);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return LocalBatch(*std::move(batch));
}

TEST(MessageChannelTest, EveryEnvironmentAcceptsTheSetting) {
  for (const EnvRegistration* registration : EnvRegistry::Global().List()) {
    const std::vector<SettingDecl> accepted = AcceptedSettings(*registration);
    ASSERT_FALSE(accepted.empty());
    EXPECT_EQ(accepted.back().name, kMessageSizeSetting);
    EXPECT_EQ(accepted.size(), registration->settings.size() + 1);
  }
}

TEST(MessageChannelTest, SpecAddsTheMessageToActionsAndObservations) {
  LocalBatch batch = MakeBatch(
      "soccer", {{"message_size", int64_t{3}}, {"observation", "features"}}, 1,
      1);
  const EnvSpec& spec = batch.spec();
  EXPECT_EQ(spec.message_size, 3);
  for (int a = 0; a < 2; ++a) {
    // soccer with features: Box[kNumFeatures] observations, 5 actions.
    ASSERT_TRUE(spec.action_spaces[a].is_multi_discrete());
    EXPECT_EQ(spec.action_spaces[a].nvec, (std::vector<int64_t>{5, 3}));
    ASSERT_TRUE(spec.observation_spaces[a].is_box());
    const int64_t size = spec.observation_spaces[a].FlatSize();
    EXPECT_EQ(MessageOffset(spec, a, 1 - a), size - 3);
    EXPECT_EQ(spec.observation_spaces[a].high[size - 1], 1.0f);
  }
}

TEST(MessageChannelTest, MessagesArriveOneStepLaterAsOneHots) {
  const std::map<std::string, SettingValue> game = {{"game", "climbing"}};
  std::map<std::string, SettingValue> with_channel = game;
  with_channel["message_size"] = int64_t{4};
  LocalBatch plain = MakeBatch("matrix_game", game, 2, 7);
  LocalBatch channel = MakeBatch("matrix_game", with_channel, 2, 7);
  const EnvSpec& spec = channel.spec();
  // Discrete(1) observations become a one-hot of 1 float, then 4 floats of
  // the partner's message.
  ASSERT_EQ(spec.observation_spaces[0].FlatSize(), 5);
  ASSERT_TRUE(plain.ResetAll().ok());
  ASSERT_TRUE(channel.ResetAll().ok());
  for (int a = 0; a < 2; ++a) {
    EXPECT_EQ(channel.observation(a),
              (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0}))
        << "no message before the first step";
  }
  // Copy 0: actions (2, 1) saying (3, 0); copy 1: actions (0, 0) saying
  // (1, 2).
  ASSERT_TRUE(plain.StepAll({{2, 0}, {1, 0}}, {{}, {}}).ok());
  ASSERT_TRUE(channel.StepAll({{2, 3, 0, 1}, {1, 0, 0, 2}}, {{}, {}}).ok());
  for (int a = 0; a < 2; ++a) {
    EXPECT_EQ(channel.reward(a), plain.reward(a)) << "agent " << a;
  }
  // The matrix game ends every step: the messages sit in the final
  // observations; the next episode's first observation has none.
  ASSERT_EQ(channel.final_rows(), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(channel.final_observation(0),
            (std::vector<float>{1, 1, 0, 0, 0, 1, 0, 0, 1, 0}));
  EXPECT_EQ(channel.final_observation(1),
            (std::vector<float>{1, 0, 0, 0, 1, 1, 0, 1, 0, 0}));
  EXPECT_EQ(channel.observation(0),
            (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0}));
}

TEST(MessageChannelTest, WrappedEnvironmentPlaysAsItself) {
  // A stochastic game plays the same episodes with and without the
  // channel (the copies' streams reach the wrapped environment), and its
  // own observation is the prefix of the channel's.
  LocalBatch plain = MakeBatch("soccer", {{"observation", "features"}}, 3, 11);
  LocalBatch channel = MakeBatch(
      "soccer", {{"observation", "features"}, {"message_size", int64_t{2}}}, 3,
      11);
  ASSERT_TRUE(plain.ResetAll().ok());
  ASSERT_TRUE(channel.ResetAll().ok());
  const int64_t own = plain.spec().observation_spaces[0].FlatSize();
  const int64_t wide = channel.spec().observation_spaces[0].FlatSize();
  std::mt19937_64 rng(5);
  for (int step = 0; step < 200; ++step) {
    std::vector<std::vector<int64_t>> actions(2), with_messages(2);
    for (int a = 0; a < 2; ++a) {
      for (int c = 0; c < 3; ++c) {
        const int64_t action = static_cast<int64_t>(rng() % 5);
        actions[a].push_back(action);
        with_messages[a].push_back(action);
        with_messages[a].push_back(static_cast<int64_t>(rng() % 2));
      }
    }
    ASSERT_TRUE(plain.StepAll(actions, {{}, {}}).ok());
    ASSERT_TRUE(channel.StepAll(with_messages, {{}, {}}).ok());
    for (int a = 0; a < 2; ++a) {
      ASSERT_EQ(channel.reward(a), plain.reward(a)) << "step " << step;
      for (int c = 0; c < 3; ++c) {
        const float* mine = plain.observation(a).data() + c * own;
        const float* theirs = channel.observation(a).data() + c * wide;
        ASSERT_TRUE(std::equal(mine, mine + own, theirs)) << "step " << step;
        if (channel.terminated(c)) continue;  // a fresh episode: no message
        // The partner's message of this step, one-hot.
        const int64_t said = with_messages[1 - a][2 * c + 1];
        EXPECT_EQ(theirs[own + said], 1.0f);
        EXPECT_EQ(theirs[own + 1 - said], 0.0f);
      }
    }
  }
}

TEST(MessageChannelTest, PassesTheGenericChecks) {
  EnvCheckOptions options;
  options.settings = {{"message_size", int64_t{3}}};
  options.stochastic = true;
  absl::Status status = RunEnvChecks("soccer", options);
  EXPECT_TRUE(status.ok()) << status;
  options.settings = {{"message_size", int64_t{2}}, {"game", "climbing"}};
  options.stochastic = false;
  status = RunEnvChecks("matrix_game", options);
  EXPECT_TRUE(status.ok()) << status;
}

TEST(MessageChannelTest, RefusesWhatCannotCarryMessages) {
  struct Case {
    std::string env;
    std::map<std::string, SettingValue> settings;
    absl::StatusCode code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"taxi",
       {{"message_size", int64_t{4}}},
       absl::StatusCode::kInvalidArgument,
       "at least two agents"},
      {"max_of_two_quadratics",
       {{"message_size", int64_t{4}}},
       absl::StatusCode::kInvalidArgument,
       "Discrete or MultiDiscrete"},
      {"matrix_game",
       {{"message_size", int64_t{-1}}},
       absl::StatusCode::kInvalidArgument,
       "must be in [0, 1024]"},
      {"matrix_game",
       {{"message_size", int64_t{1025}}},
       absl::StatusCode::kInvalidArgument,
       "must be in [0, 1024]"},
      {"beauty_contest",
       {{"message_size", int64_t{1024}}, {"num_agents", int64_t{100}}},
       absl::StatusCode::kResourceExhausted,
       "observation floats"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<EnvBatch>> batch =
        EnvBatch::Create(c.env, c.settings, 1, 0, true);
    ASSERT_FALSE(batch.ok()) << c.env;
    EXPECT_EQ(batch.status().code(), c.code) << batch.status();
    EXPECT_NE(batch.status().message().find(c.says), std::string::npos)
        << batch.status();
    EXPECT_NE(batch.status().message().find(c.env), std::string::npos)
        << batch.status();
  }
}

}  // namespace
}  // namespace marl
