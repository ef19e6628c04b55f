#ifndef MARL_AGENTS_STACKELBERG_STACKELBERG_LEARNER_H_
#define MARL_AGENTS_STACKELBERG_STACKELBERG_LEARNER_H_

// Stackelberg learning (the Stackelberg paper; EXPERIMENTS.md §7): a leader
// trained by PPO against followers that best-respond, the followers behind
// an oracle that reaches the leader only through queries. Torch-free
// header; README.md has the details.
//
// The environment names its agents `leader` and `follower`
// (iterated_matrix_game with roles=stackelberg). Two oracles:
//   - contextual (the paper's meta-RL followers): the environment opens
//     every episode with query steps (query_states = every leader
//     observation, in order), in which the leader answers by acting as it
//     would in each state, and the follower observes the answers (and,
//     with the environment's follower_clock, the play step). The follower
//     (an optimistic Q table over its distinct observations, or PPO,
//     learners/ppo_learner.h) is first pre-trained against random
//     deterministic leaders (drawn per copy and episode) until it
//     best-responds to every deterministic memory-one leader (checked
//     exactly, below) or pretrain_episodes have passed; then it is frozen
//     (greedy) and the leader trains. The leader learns from the query
//     steps as from any other step: an answer is an action whose return is
//     the episode's, so the policy gradient reaches the leader through the
//     follower's reaction to its answers.
//   - inner_outer (the baseline): no queries; the follower (tabular soft
//     Q-learning, learners/soft_q_learner.h, over its Discrete observation
//     or the distinct rows of its Box one with a clock) plays follower_episodes
//     episodes against the current leader (which does not learn from them),
//     then the leader plays one episode per copy against the greedy
//     follower and learns from it; repeated.
// Both learners see only the environment's observations: the follower
// never holds the leader, only its answers or its actions in play.
//
// Exact measures (iterated matrix games with full memory): the learner
// records each joint action's rewards and next observation from play (the
// stage game, consistent or not used) and, once every joint action has been
// seen, evaluates with agents/stackelberg/memory_one_solver.h: the
// follower's greedy responses against every deterministic memory-one
// leader (the contextual pre-training's stopping test), the greedy leader's
// value against best-responding followers (ties for and against it), and
// the game's Stackelberg value.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

#define MARL_STACKELBERG_PARAMS(P)                                            \
  P(std::string, oracle, "contextual", AnyValue(),                            \
    "How followers best-respond: \"contextual\" (pre-trained followers that " \
    "observe the leader's answers to queries; the environment needs "         \
    "query_states) or \"inner_outer\" (a follower retrained against every "   \
    "leader policy; no queries).")                                            \
  P(double, gamma, 1.0, (InRange(0, 1)),                                      \
    "The leader's discount (the experiments count undiscounted returns).")    \
  P(double, follower_gamma, 0.9, (InRange(0, 1)),                             \
    "The follower's discount: what it best-responds for (and what the "       \
    "exact measures assume of it).")                                          \
  P(double, leader_lr, 0.008, Positive(),                                     \
    "leader: PPO's Adam learning rate (the reference code's 0.008).")         \
  P(LayerSizes, leader_hidden, LayerSizes(""), AnyValue(),                    \
    "leader: hidden layers; empty = a linear policy and value over the "      \
    "one-hot observation (the reference code's linear model).")               \
  P(int64_t, leader_rollout_episodes, 12, (InRange(1, 1e6)),                  \
    "leader: episodes per copy per PPO update (12 x 8 copies ~ the "          \
    "reference's 1000-step batch).")                                          \
  P(int64_t, leader_epochs, 4, (InRange(1, 1000)),                            \
    "leader: PPO passes over each rollout.")                                  \
  P(double, leader_entropy, 0.0, NonNegative(),                               \
    "leader: weight of PPO's entropy bonus.")                                 \
  P(std::string, follower, "table", AnyValue(),                               \
    "contextual: the follower's learner, \"table\" (Q-learning over each "    \
    "distinct observation, optimistic: exact for small games) or \"ppo\" "    \
    "(a network over its observation and the answers, the paper's).")         \
  P(int64_t, follower_table_rows, 4096, (InRange(1, 1 << 24)),                \
    "contextual table follower: the most distinct observations it holds.")    \
  P(double, follower_lr, 0.02, Positive(),                                    \
    "contextual follower: PPO's Adam learning rate (the reference's "         \
    "policy gradient: 0.02).")                                                \
  P(LayerSizes, follower_hidden, LayerSizes("64"), AnyValue(),                \
    "contextual follower: hidden layers of its policy and value.")            \
  P(int64_t, follower_rollout_episodes, 2, (InRange(1, 1e6)),                 \
    "contextual follower: episodes per copy per PPO update.")                 \
  P(double, follower_entropy, 0.3, NonNegative(),                             \
    "contextual follower: weight of PPO's entropy bonus (exploration finds "  \
    "best responses that need several steps of cooperation).")                \
  P(int64_t, pretrain_episodes, 40000, (InRange(0, 1e9)),                     \
    "contextual: the most pre-training episodes (over all copies) before "    \
    "the follower is frozen.")                                                \
  P(int64_t, check_every, 800, (InRange(1, 1e9)),                             \
    "contextual: pre-training episodes between best-response checks.")        \
  P(int64_t, follower_episodes, 80, (InRange(1, 1e9)),                        \
    "inner_outer: follower episodes (over all copies) against each leader "   \
    "policy (the reference's 80).")                                           \
  P(double, follower_q_lr, 1.0, (InRange(1e-12, 1)),                          \
    "table followers: the learning rate (1: exact for a deterministic "       \
    "game and leader; the reference's inner-outer follower used 0.01).")      \
  P(double, follower_q_alpha, 0.01, Positive(),                               \
    "table followers: the (constant) soft-max temperature while it learns "   \
    "(small: it explores by optimism, --follower_q_initial).")                \
  P(double, follower_q_initial, 20.0, (InRange(-1e6, 1e6)),                   \
    "table followers: every Q value's start; above any discounted return "    \
    "(at most 15 in the twelve games at offset -2.5) it is optimism that "    \
    "makes the follower try every action in every state it reaches.")         \
  P(bool, follower_reset, false, AnyValue(),                                  \
    "inner_outer: start the follower's table afresh for every leader "        \
    "policy (false: it goes on from the last one).")

namespace marl {

struct StackelbergOptions {
  MARL_PARAMS(MARL_STACKELBERG_PARAMS)
};

// "stackelberg_contextual" or "stackelberg_inner_outer".
std::string StackelbergAlgorithmName(const StackelbergOptions& options);

// INVALID_ARGUMENT, saying what to make instead, for a spec it cannot
// learn: agents not named leader and follower, non-Discrete actions or
// leader observations, a contextual oracle without queries of every leader
// observation, an inner_outer one with queries; and for an unknown oracle.
absl::StatusOr<std::unique_ptr<JointLearner>> CreateStackelbergLearner(
    const EnvSpec& spec, const StackelbergOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_STACKELBERG_STACKELBERG_LEARNER_H_
