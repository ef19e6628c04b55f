#ifndef MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_PARAMS_H_
#define MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_PARAMS_H_

// The settings both soft-option agents have (runtime/params.h form):
// agents/soft_option (one agent) and agents/soft_option_comm (two agents
// sending their options as messages) add their own after these.

#include "runtime/params.h"

#define MARL_SOFT_OPTION_SHARED_PARAMS(P)                                     \
  P(int32_t, num_options, 4, (InRange(1, 64)),                                \
    "m: the options each master policy chooses among (soft_option_comm: "     \
    "also the message size; make the environment with message_size=m).")      \
  P(double, beta, 10.0, (InRange(1e-6, 1e6)),                                 \
    "beta: rewards enter the Bellman target as beta * r (eq. 4.8, 4.21); "    \
    "1/beta is the policies' entropy temperature.")                           \
  P(double, termination_prior, 0.05, (InRange(1e-6, 1 - 1e-6)),               \
    "P(b = 1): the termination prior's chance of ending an option at a step " \
    "(the authors' p(continue) = 0.95).")                                     \
  P(bool, soft_master_value, true, AnyValue(),                                \
    "true: a master's value is the soft maximum over options with its "       \
    "entropy (eq. 4.9; losses 4.23, 4.30, 4.33); false: the plain "           \
    "expectation over the master's options of eq. 4.10, the earlier work's "  \
    "value.")                                                                 \
  P(double, policy_lr, 3e-4, Positive(),                                      \
    "Adam learning rate of the policies (and partner models).")               \
  P(bool, every_option, false, AnyValue(),                                    \
    "true: every option's value and policy heads are trained at every "       \
    "replayed state (exact sums over the options); false (the thesis's "      \
    "expectations over (s, z) ~ D): only at the option (and action) the "     \
    "transition was acted with, so an option learns where its master chose "  \
    "it.")                                                                    \
  P(int32_t, task_features, 0, (InRange(0, 1 << 20)),                         \
    "The last N floats of the environment's own observation (taxi's task "    \
    "one-hot with observe_task=true, taxi_meeting's room block; before any "  \
    "messages) reach only the master policies and the value networks: the "   \
    "options' low-level and termination policies do not see them, so an "     \
    "option serves every task and a master must choose options per task.")

#endif  // MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_PARAMS_H_
