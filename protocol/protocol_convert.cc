#include "protocol/protocol_convert.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/checked_size.h"
#include "envs/core/message_channel.h"

namespace marl {

namespace pb = ::marl::env::v3;

void ToProto(const Space& space, pb::Space* out) {
  out->Clear();
  switch (space.kind) {
    case Space::Kind::kDiscrete:
      out->mutable_discrete()->set_n(space.n);
      break;
    case Space::Kind::kBox: {
      pb::Box* box = out->mutable_box();
      box->mutable_shape()->Add(space.shape.begin(), space.shape.end());
      box->mutable_low()->Add(space.low.begin(), space.low.end());
      box->mutable_high()->Add(space.high.begin(), space.high.end());
      break;
    }
    case Space::Kind::kMultiDiscrete:
      out->mutable_multi_discrete()->mutable_nvec()->Add(space.nvec.begin(),
                                                         space.nvec.end());
      break;
  }
}

absl::StatusOr<Space> FromProto(const pb::Space& space) {
  // The space comes from the wire: it is built as sent (no broadcasting of
  // bounds over a shape that may claim 2^64 elements) and then validated,
  // so its FlatSize() is representable and matches its bounds.
  Space result;
  switch (space.kind_case()) {
    case pb::Space::kDiscrete:
      result = Space::Discrete(space.discrete().n());
      break;
    case pb::Space::kBox: {
      const pb::Box& box = space.box();
      result.kind = Space::Kind::kBox;
      result.shape.assign(box.shape().begin(), box.shape().end());
      result.low.assign(box.low().begin(), box.low().end());
      result.high.assign(box.high().begin(), box.high().end());
      break;
    }
    case pb::Space::kMultiDiscrete:
      result = Space::MultiDiscrete({space.multi_discrete().nvec().begin(),
                                     space.multi_discrete().nvec().end()});
      break;
    default:
      return absl::InvalidArgumentError("space has no kind");
  }
  if (absl::Status s = result.Validate(); !s.ok()) return s;
  return result;
}

void ToProto(const SettingValue& value, pb::Value* out) {
  if (auto* v = std::get_if<int64_t>(&value)) {
    out->set_int_value(*v);
  } else if (auto* v = std::get_if<double>(&value)) {
    out->set_double_value(*v);
  } else if (auto* v = std::get_if<bool>(&value)) {
    out->set_bool_value(*v);
  } else if (auto* v = std::get_if<std::string>(&value)) {
    out->set_string_value(*v);
  } else {
    const auto& array = std::get<DoubleArray>(value);
    pb::DoubleArray* out_array = out->mutable_array_value();
    out_array->mutable_shape()->Add(array.shape.begin(), array.shape.end());
    out_array->mutable_values()->Add(array.values.begin(), array.values.end());
  }
}

absl::StatusOr<SettingValue> FromProto(const pb::Value& value) {
  switch (value.kind_case()) {
    case pb::Value::kIntValue:
      return SettingValue(value.int_value());
    case pb::Value::kDoubleValue:
      return SettingValue(value.double_value());
    case pb::Value::kBoolValue:
      return SettingValue(value.bool_value());
    case pb::Value::kStringValue:
      return SettingValue(value.string_value());
    case pb::Value::kArrayValue: {
      const pb::DoubleArray& wire = value.array_value();
      if (wire.shape_size() > kMaxArrayRank) {
        return absl::InvalidArgumentError(
            absl::StrCat("array has ", wire.shape_size(),
                         " dimensions; at most ", kMaxArrayRank, " allowed"));
      }
      // Checked before anything is copied: a shape whose product passes
      // the number of values (or wraps past 2^63) is refused, never used.
      const absl::StatusOr<int64_t> count = CheckedElementCount(
          absl::MakeConstSpan(wire.shape().data(), wire.shape_size()), "array",
          /*limit=*/wire.values_size());
      if (!count.ok() || *count != wire.values_size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "array of shape [", absl::StrJoin(wire.shape(), ","), "] holds ",
            wire.values_size(), " values",
            count.ok() ? absl::StrCat(" for ", *count, " elements")
                       : absl::StrCat(": ", count.status().message())));
      }
      DoubleArray array;
      array.shape.assign(wire.shape().begin(), wire.shape().end());
      array.values.assign(wire.values().begin(), wire.values().end());
      return SettingValue(std::move(array));
    }
    default:
      return absl::InvalidArgumentError("setting value has no kind");
  }
}

void ToProto(const EnvSpec& spec, pb::EnvSpec* out) {
  out->clear_agents();
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    pb::AgentSpec* agent_spec = out->add_agents();
    agent_spec->set_id(spec.agent_ids[agent]);
    ToProto(spec.observation_spaces[agent],
            agent_spec->mutable_observation_space());
    ToProto(spec.action_spaces[agent], agent_spec->mutable_action_space());
  }
  out->set_has_public_observation(spec.has_public_observation);
  if (spec.has_public_observation) {
    ToProto(spec.public_observation_space,
            out->mutable_public_observation_space());
  }
  out->set_has_state(spec.has_state);
  if (spec.has_state) ToProto(spec.state_space, out->mutable_state_space());
  out->set_has_action_masks(spec.has_action_masks);
  out->set_turn_order(spec.sequential ? pb::SEQUENTIAL : pb::SIMULTANEOUS);
  out->set_episode_limit(spec.episode_limit);
  out->mutable_info_keys()->Clear();
  for (const std::string& key : spec.info_keys) out->add_info_keys(key);
  out->set_message_size(static_cast<int32_t>(spec.message_size));
}

namespace {

// A spec's message channel as the protocol defines it: K in range, every
// action ending with a K-valued component, every observation a flat Box
// with room for the partners' one-hots.
absl::Status CheckMessageChannel(const EnvSpec& spec, int64_t message_size) {
  if (message_size < 0 || message_size > kMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message_size ", message_size, " outside [0, ", kMaxMessageSize, "]"));
  }
  if (message_size > 0 && spec.num_agents() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("message_size ", message_size, " for ", spec.num_agents(),
                     " agent(s): a channel needs two"));
  }
  const int64_t partners = spec.num_agents() - 1;
  for (int a = 0; a < spec.num_agents(); ++a) {
    const Space& action = spec.action_spaces[a];
    const Space& observation = spec.observation_spaces[a];
    if (!action.is_multi_discrete() || action.nvec.back() != message_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("message_size ", message_size, " but agent '",
                       spec.agent_ids[a], "' acts in ", action.DebugString(),
                       " (its last component must be the message)"));
    }
    if (!observation.is_box() || observation.shape.size() != 1 ||
        observation.shape[0] < partners * message_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message_size ", message_size, " but agent '", spec.agent_ids[a],
          "' observes ", observation.DebugString(),
          " (a flat Box ending with its partners' messages)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EnvSpec> FromProto(const pb::EnvSpec& spec) {
  EnvSpec result;
  for (const pb::AgentSpec& agent : spec.agents()) {
    result.agent_ids.push_back(agent.id());
    absl::StatusOr<Space> observation = FromProto(agent.observation_space());
    if (!observation.ok()) return observation.status();
    absl::StatusOr<Space> action = FromProto(agent.action_space());
    if (!action.ok()) return action.status();
    result.observation_spaces.push_back(*std::move(observation));
    result.action_spaces.push_back(*std::move(action));
  }
  result.has_public_observation = spec.has_public_observation();
  if (result.has_public_observation) {
    absl::StatusOr<Space> space = FromProto(spec.public_observation_space());
    if (!space.ok()) return space.status();
    result.public_observation_space = *std::move(space);
  }
  result.has_state = spec.has_state();
  if (result.has_state) {
    absl::StatusOr<Space> space = FromProto(spec.state_space());
    if (!space.ok()) return space.status();
    result.state_space = *std::move(space);
  }
  result.has_action_masks = spec.has_action_masks();
  result.sequential = spec.turn_order() == pb::SEQUENTIAL;
  if (spec.episode_limit() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("negative episode_limit ", spec.episode_limit()));
  }
  result.episode_limit = spec.episode_limit();
  result.info_keys.assign(spec.info_keys().begin(), spec.info_keys().end());
  if (spec.message_size() != 0) {
    if (absl::Status s = CheckMessageChannel(result, spec.message_size());
        !s.ok()) {
      return s;
    }
    result.message_size = spec.message_size();
  }
  return result;
}

absl::StatusOr<std::map<std::string, SettingValue>> SettingsFromProto(
    const google::protobuf::RepeatedPtrField<pb::Setting>& settings) {
  std::map<std::string, SettingValue> result;
  for (const pb::Setting& setting : settings) {
    absl::StatusOr<SettingValue> value = FromProto(setting.value());
    if (!value.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "setting '", setting.name(), "': ", value.status().message()));
    }
    if (!result.emplace(setting.name(), *std::move(value)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting '", setting.name(), "' given twice"));
    }
  }
  return result;
}

}  // namespace marl
