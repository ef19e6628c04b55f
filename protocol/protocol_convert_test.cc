// Round trips between the core types and protocol messages, through real
// protobuf bytes.
#include "protocol/protocol_convert.h"

#include "gtest/gtest.h"

namespace marl {
namespace {

namespace pb = ::marl::env::v3;

template <typename Message>
Message ThroughBytes(const Message& message) {
  Message parsed;
  EXPECT_TRUE(parsed.ParseFromString(message.SerializeAsString()));
  return parsed;
}

TEST(ProtocolConvertTest, SpacesRoundTrip) {
  for (const Space& space :
       {Space::Discrete(7), Space::Box({2, 3}, {-1.f}, {2.5f}),
        Space::MultiDiscrete({2, 4, 3})}) {
    pb::Space message;
    ToProto(space, &message);
    auto back = FromProto(ThroughBytes(message));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, space) << space.DebugString();
  }
}

TEST(ProtocolConvertTest, MalformedSpacesAreErrors) {
  pb::Space empty;
  EXPECT_FALSE(FromProto(empty).ok());
  pb::Space box;
  box.mutable_box()->add_shape(3);
  box.mutable_box()->add_low(0);
  box.mutable_box()->add_low(0);  // 2 bounds for 3 elements
  box.mutable_box()->add_high(1);
  EXPECT_FALSE(FromProto(box).ok());
}

TEST(ProtocolConvertTest, SettingValuesRoundTrip) {
  const std::vector<SettingValue> values = {
      SettingValue(int64_t{-3}), SettingValue(0.25), SettingValue(true),
      SettingValue(std::string("climbing")),
      SettingValue(DoubleArray{{2, 2}, {0, 3, 1, 2}})};
  for (const SettingValue& value : values) {
    pb::Value message;
    ToProto(value, &message);
    auto back = FromProto(ThroughBytes(message));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, value) << SettingValueToString(value);
  }
}

TEST(ProtocolConvertTest, ArrayWhoseShapeDisagreesIsAnError) {
  pb::Value message;
  message.mutable_array_value()->add_shape(2);
  message.mutable_array_value()->add_shape(2);
  message.mutable_array_value()->add_values(1);
  EXPECT_FALSE(FromProto(message).ok());
}

// The shapes of issue 9: their element counts wrap past 2^63 to 0 and to 4.
TEST(ProtocolConvertTest, ArrayShapesThatOverflowAreErrors) {
  const int64_t big = int64_t{1} << 32;
  const struct {
    std::vector<int64_t> shape;
    int values;
  } cases[] = {{{big, big}, 0},
               {{(int64_t{1} << 62) + 1, 4}, 4},
               {{big, big, big, big}, 0},
               {{-1, -4}, 4},
               {{2, 2}, 5}};
  for (const auto& c : cases) {
    pb::Value message;
    for (int64_t dim : c.shape) message.mutable_array_value()->add_shape(dim);
    for (int k = 0; k < c.values; ++k) {
      message.mutable_array_value()->add_values(k);
    }
    const auto value = FromProto(ThroughBytes(message));
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument)
        << message.ShortDebugString();
  }
}

TEST(ProtocolConvertTest, ArraysOfTooManyDimensionsAreErrors) {
  pb::Value message;
  for (int k = 0; k < kMaxArrayRank + 1; ++k) {
    message.mutable_array_value()->add_shape(1);
  }
  message.mutable_array_value()->add_values(1);
  EXPECT_EQ(FromProto(message).status().code(),
            absl::StatusCode::kInvalidArgument);
  message.mutable_array_value()->mutable_shape()->RemoveLast();
  const auto value = FromProto(ThroughBytes(message));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(std::get<DoubleArray>(*value).shape.size(), kMaxArrayRank);
}

// A spec parsed by a client comes from the wire too.
TEST(ProtocolConvertTest, SpacesFromTheWireAreValidated) {
  const int64_t big = int64_t{1} << 32;
  std::vector<pb::Space> bad;
  {
    // Would claim 2^64 floats (and a broadcast of its one bound).
    pb::Space space;
    space.mutable_box()->add_shape(big);
    space.mutable_box()->add_shape(big);
    space.mutable_box()->add_low(0);
    space.mutable_box()->add_high(1);
    bad.push_back(space);
  }
  {
    // Wraps to 4 elements, and has 4 bounds.
    pb::Space space;
    space.mutable_box()->add_shape((int64_t{1} << 62) + 1);
    space.mutable_box()->add_shape(4);
    for (int k = 0; k < 4; ++k) {
      space.mutable_box()->add_low(0);
      space.mutable_box()->add_high(1);
    }
    bad.push_back(space);
  }
  {
    // One bound for two elements: the wire carries every bound.
    pb::Space space;
    space.mutable_box()->add_shape(2);
    space.mutable_box()->add_low(0);
    space.mutable_box()->add_high(1);
    bad.push_back(space);
  }
  {
    pb::Space space;
    space.mutable_box()->add_shape(1);
    space.mutable_box()->add_low(2);
    space.mutable_box()->add_high(1);
    bad.push_back(space);
  }
  {
    pb::Space space;
    space.mutable_discrete()->set_n(0);
    bad.push_back(space);
  }
  {
    pb::Space space;
    space.mutable_multi_discrete()->add_nvec(2);
    space.mutable_multi_discrete()->add_nvec(-1);
    bad.push_back(space);
  }
  for (const pb::Space& space : bad) {
    EXPECT_EQ(FromProto(ThroughBytes(space)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << space.ShortDebugString();
  }
  // And inside a spec.
  pb::EnvSpec spec;
  pb::AgentSpec* agent = spec.add_agents();
  agent->set_id("a");
  agent->mutable_observation_space()->mutable_discrete()->set_n(1);
  *agent->mutable_action_space() = bad[0];
  EXPECT_EQ(FromProto(ThroughBytes(spec)).status().code(),
            absl::StatusCode::kInvalidArgument);
  agent->mutable_action_space()->mutable_discrete()->set_n(2);
  EXPECT_TRUE(FromProto(ThroughBytes(spec)).ok());
  spec.set_episode_limit(-1);
  EXPECT_EQ(FromProto(ThroughBytes(spec)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProtocolConvertTest, SpecRoundTrip) {
  EnvSpec spec;
  spec.agent_ids = {"leader", "follower"};
  spec.observation_spaces = {Space::Discrete(5), Space::Box({4}, {0.f}, {1.f})};
  spec.action_spaces = {Space::Discrete(2), Space::Box({1}, {-1.f}, {1.f})};
  spec.has_public_observation = true;
  spec.public_observation_space = Space::Box({3}, {0.f}, {1.f});
  spec.has_state = true;
  spec.state_space = Space::Box({6}, {-5.f}, {5.f});
  spec.has_action_masks = true;
  spec.sequential = true;
  spec.episode_limit = 10;
  spec.info_keys = {"target"};
  pb::EnvSpec message;
  ToProto(spec, &message);
  auto back = FromProto(ThroughBytes(message));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->agent_ids, spec.agent_ids);
  EXPECT_EQ(back->observation_spaces, spec.observation_spaces);
  EXPECT_EQ(back->action_spaces, spec.action_spaces);
  EXPECT_EQ(back->public_observation_space, spec.public_observation_space);
  EXPECT_EQ(back->state_space, spec.state_space);
  EXPECT_TRUE(back->has_action_masks && back->sequential);
  EXPECT_EQ(back->episode_limit, 10);
  EXPECT_EQ(back->info_keys, spec.info_keys);
}

TEST(ProtocolConvertTest, MessageChannelRoundTripsAndIsChecked) {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  spec.observation_spaces = {Space::Box({5}, {0.f}, {1.f}),
                             Space::Box({3}, {0.f}, {1.f})};
  spec.action_spaces = {Space::MultiDiscrete({6, 3}),
                        Space::MultiDiscrete({2, 2, 3})};
  spec.message_size = 3;
  pb::EnvSpec message;
  ToProto(spec, &message);
  absl::StatusOr<EnvSpec> back = FromProto(ThroughBytes(message));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->message_size, 3);

  // A server whose spec breaks the channel's shape is refused.
  pb::EnvSpec wrong_action = message;
  wrong_action.mutable_agents(1)
      ->mutable_action_space()
      ->mutable_multi_discrete()
      ->set_nvec(2, 4);
  EXPECT_FALSE(FromProto(wrong_action).ok());
  pb::EnvSpec too_small = message;
  too_small.set_message_size(6);
  EXPECT_FALSE(FromProto(too_small).ok());
  pb::EnvSpec alone = message;
  alone.mutable_agents()->RemoveLast();
  EXPECT_FALSE(FromProto(alone).ok());
  pb::EnvSpec negative = message;
  negative.set_message_size(-3);
  EXPECT_FALSE(FromProto(negative).ok());
}

TEST(ProtocolConvertTest, SettingsGivenTwiceAreAnError) {
  pb::MakeRequest make;
  for (int i = 0; i < 2; ++i) {
    pb::Setting* setting = make.add_settings();
    setting->set_name("p");
    setting->mutable_value()->set_double_value(0.7);
  }
  EXPECT_FALSE(SettingsFromProto(make.settings()).ok());
  make.mutable_settings()->RemoveLast();
  auto settings = SettingsFromProto(make.settings());
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(std::get<double>(settings->at("p")), 0.7);
}

}  // namespace
}  // namespace marl
