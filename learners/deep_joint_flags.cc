#include "learners/deep_joint_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "runtime/training_flags.h"

ABSL_FLAG(std::string, hidden, "100,100",
          "Hidden ReLU layer sizes of every network (critics, actors, "
          "opponent models), comma-separated.");
ABSL_FLAG(double, critic_lr, 1e-2, "Critic (joint Q) Adam learning rate.");
ABSL_FLAG(double, gamma, 0.95, "Discount factor.");
ABSL_FLAG(double, tau, 0.01, "Polyak rate of the target networks.");
ABSL_FLAG(int64_t, batch_size, 512, "Minibatch size.");
ABSL_FLAG(int64_t, buffer_size, 100000,
          "Replay capacity in joint transitions.");
ABSL_FLAG(int64_t, warmup, 512,
          "Transitions (over all copies) acted uniformly at random first.");
ABSL_FLAG(double, update_ratio, 0.125,
          "Gradient updates per transition observed (0.125 with 8 copies = "
          "one update per batched step).");

namespace marl {

absl::StatusOr<DeepJointFlags> DeepJointFlagsFromFlags() {
  DeepJointFlags flags;
  absl::StatusOr<std::vector<int64_t>> hidden =
      ParseLayerSizes(absl::GetFlag(FLAGS_hidden), "hidden");
  if (!hidden.ok()) return hidden.status();
  flags.hidden = *std::move(hidden);
  flags.critic_lr = absl::GetFlag(FLAGS_critic_lr);
  flags.tau = absl::GetFlag(FLAGS_tau);
  flags.base.gamma = absl::GetFlag(FLAGS_gamma);
  flags.base.batch_size = absl::GetFlag(FLAGS_batch_size);
  flags.base.buffer_capacity = absl::GetFlag(FLAGS_buffer_size);
  flags.base.warmup = absl::GetFlag(FLAGS_warmup);
  flags.base.update_ratio = absl::GetFlag(FLAGS_update_ratio);
  return flags;
}

}  // namespace marl
