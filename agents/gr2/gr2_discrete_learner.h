#ifndef MARL_AGENTS_GR2_GR2_DISCRETE_LEARNER_H_
#define MARL_AGENTS_GR2_GR2_DISCRETE_LEARNER_H_

// GR2-L and GR2-M for games whose agents all have the same Discrete(k)
// action space (matrix games), on the shared deep joint-learner base
// (learners/deep_joint_base.h: replay of one-hot joint actions, uniform
// warm-up, update schedule, checkpoints). Torch-free header.
//
// Per agent i, all on one-hots:
//   - critic Q^i(s, a^i, a^-i) (nn::QNetwork) with a Polyak target, where
//     a^-i is the mean of the other agents' one-hots (exactly the
//     opponent's one-hot with 2 agents; the others' action frequencies
//     with more, like the Box path's mean action);
//   - level-0 policy pi0^i(a|s) = softmax(Qbar^i(s, a) / alpha): the soft
//     best response to Q^i with the opponents' replayed actions, i.e. the
//     minimiser of sum_a pi0(a) (alpha log pi0(a) - E_replay Q^i(s, a, .)),
//     with Qbar^i a network regressed on Q^i(s, a, a^-i_replay) for every
//     own a (it cannot stall in a saturated softmax as descending the loss
//     directly does);
//   - best response mu^i(s, a^-i) = argmax_a Q^i(s, a, a^-i): exact
//     enumeration, no network. Deterministic, as the GR2 paper does for
//     discrete actions;
//   - opponent model rho^-i(a^-i|s, a^i): categorical, trained
//     (centralised) by cross-entropy to the opponents' greedy responses
//     argmax_b Q^j(s, b, a^i) for every a^i; its greedy action is used in
//     the roll-out;
//   - level-0 opponent model rho0^-i(a^-i|s): categorical, trained by
//     cross-entropy to the opponents' level-0 policies pi0^j (centralised;
//     the games need not be symmetric, e.g. the PR2 matrix game).
// Acting uses only agent i's own networks.
//
// Level k: RollOutDiscreteLevels (gr2_networks.h) from a^i_0 ~ pi0^i and
// a^-i_0 ~ rho0^-i (sampled in training, greedy in evaluation). The
// dominance condition Q(a^i_k, a^-i_{k-1}) >= Q(a^i_{k-2}, a^-i_{k-1})
// holds by construction (a^i_k maximises Q against a^-i_{k-1}), so the
// hinge has nothing to train; it is reported as the metric loss_aux (0).
// GR2-M: training samples a level per action from the Poisson weights;
// evaluation plays the mixture's mode, the weighted vote of the levels'
// greedy actions (MixtureVote).

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "agents/gr2/gr2_learner.h"
#include "envs/core/env_spec.h"
#include "runtime/joint_learner.h"

namespace marl {

// INVALID_ARGUMENT unless there are >= 2 agents with one and the same
// Discrete action space and the options are valid.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateGr2DiscreteLearner(
    const EnvSpec& spec, const Gr2Options& options, uint64_t seed);

// Box games -> CreateGr2BoxLearner, Discrete games -> the learner above;
// INVALID_ARGUMENT for mixed or other action kinds.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateGr2Learner(
    const EnvSpec& spec, const Gr2Options& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_GR2_GR2_DISCRETE_LEARNER_H_
