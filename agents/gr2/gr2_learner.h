#ifndef MARL_AGENTS_GR2_GR2_LEARNER_H_
#define MARL_AGENTS_GR2_GR2_LEARNER_H_

// GR2-L and GR2-M (Wen et al. 2019, "Modelling Bounded Rationality in
// Multi-Agent Interactions by Generalized Recursive Reasoning") for games
// whose agents all have the same Box action space. Torch-free header:
// LibTorch is only in gr2_learner.cc.
//
// Per agent i (all agents' networks are evaluated together, see
// gr2_networks.h):
//   - level-0 policy pi0^i(a|s): tanh-Gaussian, trained soft-actor-critic
//     style against Q^i with the opponents' replayed actions (or, with
//     --level0_fit_sampled, fitted to softmax(Qbar^i(s, .) / alpha) at
//     uniform candidates, Qbar^i(s, a) regressing Q^i at the replayed a^-i);
//   - best response mu^i(s, a^-i) -> a^i: deterministic actor conditioned on
//     the opponents' lower-level action, trained to maximise Q^i;
//   - opponent model rho^-i(s, a^i) -> a^-i: deterministic, the opponents'
//     best response to i's lower-level action (regressed, centralised
//     training, on the mean of the other agents' own mu^j);
//   - joint critic Q^i(s, a^i, a^-i) with a target copy.
// a^-i is the MEAN of the other agents' actions (d numbers, not (n-1) d):
// the beauty contest's payoff depends on the others only through their
// mean, and the mean keeps the critic's input size independent of n.
//
// Level k (RollOutLevels in gr2_math.h): a^i_k = mu^i(s, a^-i_{k-1}),
// a^-i_{k-1} = rho^-i(s, a^i_{k-2}), ..., from a^i_0 ~ pi0^i and, for odd k,
// the opponents' level 0, which agent i models as another draw of its own
// pi0^i (symmetric agents). The auxiliary loss max(0, Q(a^i_{k-2},
// a^-i_{k-1}) - Q(a^i_k, a^-i_{k-1})) makes level k weakly dominate k-2.
// GR2-M mixes levels 0..k with Poisson(lambda) weights normalised over
// those levels: training samples a level per action, evaluation plays the
// weighted mean of the levels' actions.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

// GR2's hyperparameters (runtime/params.h), for Box and Discrete actions.
#define MARL_GR2_PARAMS(P)                                                    \
  P(::marl::Gr2Options::Mode, variant, ::marl::Gr2Options::Mode::kLevel,      \
    AnyValue(),                                                               \
    "'level' (GR2-L: play level --level) or 'mixture' (GR2-M: "               \
    "Poisson(--poisson_mean) mixture of levels 0..--level).")                 \
  P(int32_t, level, 1, (InRange(0, 16)),                                      \
    "Recursion depth k: the level played (GR2-L) or the highest level mixed " \
    "(GR2-M, >= 1).")                                                         \
  P(double, poisson_mean, 1.5, Positive(),                                    \
    "GR2-M: mean lambda of the Poisson level weights, normalised over "       \
    "levels 0..k.")                                                           \
  P(LayerSizes, hidden, LayerSizes("10,10"), AnyValue(),                      \
    "Hidden ReLU layer sizes of every network, comma-separated (the paper: "  \
    "10,10 for matrix games and the beauty contest).")                        \
  P(double, lr, 1e-3, Positive(),                                             \
    "Adam learning rate of every network (the paper: 1e-4; raised so short "  \
    "runs converge).")                                                        \
  P(int64_t, batch_size, 64, AtLeast(1), "Minibatch size.")                   \
  P(int64_t, buffer_size, 100000, (InRange(1, 1e9)),                          \
    "Replay capacity (transitions).")                                         \
  P(int64_t, warmup, 1000, NonNegative(),                                     \
    "Transitions acted uniformly at random before learning starts.")          \
  P(double, update_ratio, 0.125, (InRange(1e-9, 1e6)),                        \
    "Gradient updates per transition observed (fractions accumulate; 0.125 "  \
    "with 8 copies = 1 update per batched step).")                            \
  P(double, gamma, 0.95, InRange(0, 1), "Discount factor.")                   \
  P(double, tau, 0.01, (InRange(1e-9, 1)),                                    \
    "Polyak rate of the target critic.")                                      \
  P(double, alpha, 0.01, NonNegative(),                                       \
    "Entropy temperature of the level-0 policy (normalised actions).")        \
  P(double, aux_weight, 1.0, NonNegative(),                                   \
    "Weight of the auxiliary loss max(0, Q(level k-2) - Q(level k)).")        \
  P(double, explore_noise, 0.1, NonNegative(),                                \
    "Box actions: std of the Gaussian exploration noise added to training "   \
    "actions, in the action space normalised to (-1, 1).")                    \
  P(double, explore_epsilon, 0.05, InRange(0, 1),                             \
    "Discrete actions: probability of a uniformly random training action.")   \
  P(double, reward_scale, 1.0, Positive(),                                    \
    "Rewards are multiplied by this before learning (e.g. 0.02 for the "      \
    "beauty contest's rewards of up to -100).")                               \
  P(bool, level0_fit_sampled, false, AnyValue(),                              \
    "Box actions: train the level-0 policy by weighted maximum likelihood "   \
    "towards its closed form pi0* ∝ exp(Qbar(s, a) / alpha) known at "      \
    "--level0_candidates own actions drawn uniformly, Qbar(s, a) a network "  \
    "regressing Q(s, a, a^-i) at the replayed a^-i (as the Discrete GR2's "   \
    "level 0 is): non-local, it moves to the best basin it has seen, "        \
    "instead of along the reparameterised gradient (the paper's).")           \
  P(int32_t, level0_candidates, 32, (InRange(2, 4096)),                       \
    "--level0_fit_sampled: own candidate actions per state.")

namespace marl {

struct Gr2Options {
  enum class Mode { kLevel, kMixture };
  MARL_PARAMS(MARL_GR2_PARAMS)
};

inline constexpr EnumName<Gr2Options::Mode> kGr2ModeNames[] = {
    {Gr2Options::Mode::kLevel, "level"},
    {Gr2Options::Mode::kMixture, "mixture"}};
inline bool AbslParseFlag(absl::string_view text, Gr2Options::Mode* out,
                          std::string* error) {
  return ParseEnum(text, kGr2ModeNames, out, error);
}
inline std::string AbslUnparseFlag(Gr2Options::Mode mode) {
  return UnparseEnum(mode, kGr2ModeNames);
}

// INVALID_ARGUMENT naming the bad option (levels, sizes, rates, the
// Poisson mean of the mixture), OK otherwise. Both action kinds use it.
absl::Status ValidateGr2Options(const Gr2Options& options);

// What both GR2 learners (Box and Discrete) check and take from the options:
// INVALID_ARGUMENT unless the spec has >= 2 agents and the options are
// valid; else the deep base's parameters from GR2's options, and GR2-M's
// normalised Poisson weights of levels 0..k in *level_weights (empty for
// GR2-L).
absl::StatusOr<DeepJointParams> Gr2BaseParams(
    const EnvSpec& spec, const Gr2Options& options,
    std::vector<double>* level_weights);

// "gr2_l<k>" (level mode) or "gr2_m<k>" (mixture of levels 0..k): the
// algorithm name of runs and checkpoints.
std::string Gr2AlgorithmName(const Gr2Options& options);

// GR2 for games whose agents all have the same Box action space, on the
// shared deep joint-learner base (learners/deep_joint_base.h). INVALID_ARGUMENT
// unless there are >= 2 such agents with equal observation sizes and the
// options are sane. Discrete games: CreateGr2Learner (gr2_discrete_learner.h)
// picks the Discrete learner. Metrics per agent: the losses of the last
// update and level_<j>_action, the deterministic level-j action (env units,
// first action element) at the last observation acted on.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateGr2BoxLearner(
    const EnvSpec& spec, const Gr2Options& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_GR2_GR2_LEARNER_H_
