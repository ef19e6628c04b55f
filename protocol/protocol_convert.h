#ifndef MARL_PROTOCOL_PROTOCOL_CONVERT_H_
#define MARL_PROTOCOL_PROTOCOL_CONVERT_H_

// Conversions between the environment core's types (envs/core) and the
// protocol's messages, shared by the server and the client.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "envs/core/settings.h"
#include "protocol/proto/env_protocol.pb.h"

namespace marl {

// Messages come from the wire: FromProto checks every size with
// overflow-safe arithmetic before copying and answers INVALID_ARGUMENT for
// anything malformed.

void ToProto(const Space& space, env::v3::Space* out);
// A space as sent (every Box bound given, none broadcast) that passes
// Space::Validate.
absl::StatusOr<Space> FromProto(const env::v3::Space& space);

void ToProto(const SettingValue& value, env::v3::Value* out);
// An array needs at most kMaxArrayRank dimensions and exactly as many
// values as its shape has elements (a shape whose product wraps past 2^63
// is refused).
absl::StatusOr<SettingValue> FromProto(const env::v3::Value& value);

// Fills the spec's per-environment fields (agents, spaces, flags, limit,
// info keys); the per-handle ones (name, settings, copies, auto-reset) are
// the caller's.
void ToProto(const EnvSpec& spec, env::v3::EnvSpec* out);
absl::StatusOr<EnvSpec> FromProto(const env::v3::EnvSpec& spec);

// Settings in a MakeRequest, by name; INVALID_ARGUMENT for an unset value
// or a name given twice.
absl::StatusOr<std::map<std::string, SettingValue>> SettingsFromProto(
    const google::protobuf::RepeatedPtrField<env::v3::Setting>& settings);

}  // namespace marl

#endif  // MARL_PROTOCOL_PROTOCOL_CONVERT_H_
