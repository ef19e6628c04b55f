#ifndef MARL_LEARNERS_DEEP_JOINT_PARAMS_H_
#define MARL_LEARNERS_DEEP_JOINT_PARAMS_H_

#include <cstdint>

#include "runtime/params.h"

// The hyperparameters every deep joint-action learner (MADDPG, PR2-AC,
// ROMMEO-AC, probabilistic Balancing-Q) shares: its networks' hidden layers,
// the critic, replay and the update schedule. One list (runtime/params.h);
// the flags are defined in deep_joint_flags.cc. Torch-free.
#define MARL_DEEP_JOINT_PARAMS(P)                                          \
  P(LayerSizes, hidden, LayerSizes("100,100"), AnyValue(),                 \
    "Hidden ReLU layer sizes of every network (critics, actors, opponent " \
    "models), comma-separated.")                                           \
  P(double, critic_lr, 1e-2, Positive(),                                   \
    "Critic (joint Q) Adam learning rate.")                                \
  P(double, gamma, 0.95, InRange(0, 1), "Discount factor.")                \
  P(double, tau, 0.01, (InRange(1e-9, 1)),                                 \
    "Polyak rate of the target networks.")                                 \
  P(int64_t, batch_size, 512, AtLeast(1), "Minibatch size.")               \
  P(int64_t, buffer_size, 100000, (InRange(1, 1e9)),                       \
    "Replay capacity in joint transitions.")                               \
  P(int64_t, warmup, 512, NonNegative(),                                   \
    "Transitions (over all copies) acted uniformly at random first.")      \
  P(double, update_ratio, 0.125, (InRange(0, 1e6)),                        \
    "Gradient updates per transition observed (0.125 with 8 copies = one " \
    "update per batched step); fractions accumulate.")

namespace marl {

struct DeepJointParams {
  MARL_PARAMS(MARL_DEEP_JOINT_PARAMS)
};

// Copies the flags of MARL_DEEP_JOINT_PARAMS (deep_joint_flags.cc) in.
void ReadParamFlags(DeepJointParams* params);

}  // namespace marl

#endif  // MARL_LEARNERS_DEEP_JOINT_PARAMS_H_
