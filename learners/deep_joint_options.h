#ifndef MARL_LEARNERS_DEEP_JOINT_OPTIONS_H_
#define MARL_LEARNERS_DEEP_JOINT_OPTIONS_H_

#include <cstdint>

namespace marl {
namespace deep {

// Replay and update-schedule settings shared by MADDPG, PR2-AC and
// ROMMEO-AC (torch-free, for the binaries' flag code).
struct DeepJointOptions {
  int64_t batch_size = 512;
  int64_t buffer_capacity = 100000;
  // Transitions (over all copies) acted uniformly at random first.
  int64_t warmup = 512;
  // Gradient updates per transition observed; fractions accumulate.
  double update_ratio = 0.125;
  double gamma = 0.95;
};

}  // namespace deep
}  // namespace marl

#endif  // MARL_LEARNERS_DEEP_JOINT_OPTIONS_H_
