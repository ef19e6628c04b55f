#ifndef MARL_LEARNERS_DEEP_JOINT_FLAGS_H_
#define MARL_LEARNERS_DEEP_JOINT_FLAGS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/deep_joint_options.h"

namespace marl {

// The flags every deep joint-action agent (MADDPG, PR2-AC, ROMMEO-AC)
// shares, defined once: --hidden, --critic_lr, --gamma, --tau,
// --batch_size, --buffer_size, --warmup, --update_ratio.
struct DeepJointFlags {
  std::vector<int64_t> hidden;
  double critic_lr = 1e-2;
  double tau = 0.01;
  deep::DeepJointOptions base;  // gamma, batch, replay, warm-up, updates
};

// Reads those flags; INVALID_ARGUMENT for a bad --hidden.
absl::StatusOr<DeepJointFlags> DeepJointFlagsFromFlags();

}  // namespace marl

#endif  // MARL_LEARNERS_DEEP_JOINT_FLAGS_H_
