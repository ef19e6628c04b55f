#ifndef MARL_LEARNERS_OFF_POLICY_STATE_H_
#define MARL_LEARNERS_OFF_POLICY_STATE_H_

// What a deep off-policy learner (the deep joint-action base, GR2, SAC)
// goes on from, saved and restored in one place: its LibTorch parts, the
// replay-sampling engine, the update count, the update schedule and, when
// asked, the replay. A LibTorch header: include it from .cc files.

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "learners/replay_buffer.h"
#include "learners/torch_state.h"
#include "learners/update_schedule.h"

namespace marl {

struct OffPolicyState {
  std::string learner;         // the state's name (algorithm)
  std::vector<int64_t> shape;  // the sizes and variants it fits
  std::string shape_meaning;   // for messages: "observation and action sizes"
  TorchParts torch;
  std::mt19937_64* rng = nullptr;
  // Further engines of the learner, by name (saved as "engine/<name>").
  std::vector<std::pair<std::string, std::mt19937_64*>> engines;
  int64_t* updates = nullptr;
  UpdateSchedule* schedule = nullptr;
  ReplayBuffer* replay = nullptr;
};

// The learner state (runtime/learner_state.h), the replay included only
// `with_replay`.
absl::StatusOr<std::string> SaveOffPolicyState(const OffPolicyState& state,
                                               bool with_replay);

// Restores everything `bytes` holds into `state`'s pointees (the replay
// when it was saved). Errors name the learner; a failed load leaves the
// learner to be discarded.
absl::Status LoadOffPolicyState(const std::string& bytes,
                                const OffPolicyState& state);

}  // namespace marl

#endif  // MARL_LEARNERS_OFF_POLICY_STATE_H_
