#ifndef MARL_ENVS_CORE_MESSAGE_CHANNEL_H_
#define MARL_ENVS_CORE_MESSAGE_CHANNEL_H_

// The protocol's message channel (docs/PROTOCOL.md, "Message channel"):
// any environment with two or more agents, made with the reserved setting
// message_size = K > 0, gets one more action component per agent, a
// message in [0, K), and every agent's next observation carries each
// partner's message as a one-hot (all zeros at an episode's first step).
// The registry puts it around the environment's copies; the environment
// never sees the messages. Delayed communication (thesis §4.2) sends the
// option this way, through any server.

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/env_spec.h"
#include "envs/core/settings.h"

namespace marl {

inline constexpr char kMessageSizeSetting[] = "message_size";
inline constexpr int64_t kMaxMessageSize = 1 << 10;
// The most observation floats the channel may add to one copy (messages and
// the one-hots of Discrete and MultiDiscrete observations, over all agents).
inline constexpr int64_t kMaxMessageChannelFloats = 1 << 20;

// The declaration the registry adds to every environment's settings.
SettingDecl MessageSizeDecl();

// The spec of an environment with `spec` behind a channel of `message_size`
// (>= 1) messages: actions Discrete(n) -> MultiDiscrete[n, K] and
// MultiDiscrete[...] -> [..., K]; observations a flat Box of the agent's
// own observation (Box values as they are; Discrete and MultiDiscrete as
// one-hots per component) then one K-float one-hot per partner, in agent
// order. INVALID_ARGUMENT saying why for a spec that cannot host it (one
// agent, Box actions, action masks) or a message_size out of range;
// RESOURCE_EXHAUSTED past kMaxMessageChannelFloats.
absl::StatusOr<EnvSpec> MessageChannelSpec(const EnvSpec& spec,
                                           int64_t message_size);

// `inner` behind the channel; errors as MessageChannelSpec.
absl::StatusOr<std::unique_ptr<Env>> AddMessageChannel(
    std::unique_ptr<Env> inner, int64_t message_size);

// Where, in `agent`'s observation under a channel (spec.message_size > 0),
// the one-hot of `partner`'s last message starts.
int64_t MessageOffset(const EnvSpec& spec, int agent, int partner);

}  // namespace marl

#endif  // MARL_ENVS_CORE_MESSAGE_CHANNEL_H_
