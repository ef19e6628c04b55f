// Round trips between the core types and protocol messages, through real
// protobuf bytes.
#include "common/protocol_convert.h"

#include "gtest/gtest.h"

namespace marl {
namespace {

namespace pb = ::marl::env::v1;

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
