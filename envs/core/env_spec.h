#ifndef MARL_ENVS_CORE_ENV_SPEC_H_
#define MARL_ENVS_CORE_ENV_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "envs/core/space.h"

namespace marl {

// The largest reward magnitude an environment may produce. Settings are
// validated so that every reachable reward stays within it (a float32
// reward, and returns summed over very long runs, stay finite); the batch
// runner refuses a step whose rewards leave it.
inline constexpr double kMaxAbsReward = 1e30;

// What an environment copy looks like from outside; mirrors the protocol's
// EnvSpec (protocol/proto/env_protocol.proto) minus the per-handle fields.
struct EnvSpec {
  std::vector<std::string> agent_ids;
  std::vector<Space> observation_spaces;  // one per agent
  std::vector<Space> action_spaces;       // one per agent
  bool has_public_observation = false;
  Space public_observation_space;
  bool has_state = false;  // global state for centralised critics
  Space state_space;
  // Masks are written for agents whose action space is Discrete.
  bool has_action_masks = false;
  bool sequential = false;  // turn-based: Output::set_current_agent
  int episode_limit = 0;    // steps before truncation; 0 = none
  std::vector<std::string> info_keys;
  // The message channel's size K (envs/core/message_channel.h); 0 = none.
  int64_t message_size = 0;

  int num_agents() const { return static_cast<int>(agent_ids.size()); }
};

}  // namespace marl

#endif  // MARL_ENVS_CORE_ENV_SPEC_H_
