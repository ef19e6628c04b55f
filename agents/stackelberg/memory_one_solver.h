#ifndef MARL_AGENTS_STACKELBERG_MEMORY_ONE_SOLVER_H_
#define MARL_AGENTS_STACKELBERG_MEMORY_ONE_SOLVER_H_

// The exact Stackelberg value of an iterated matrix game
// (envs/matrix/iterated_matrix_game.h, memory "full") for deterministic
// memory-one policies: what a learned leader is measured against.
//
// A memory-one policy picks an action for each of the 1 + n*m memory
// states (the first step, then the previous joint action: state
// 1 + a0 + n * a1, as the environment numbers them). Both policies are
// deterministic, so an episode is one path of episode_length steps, and a
// return is the sum of its rewards (reward_scale * payoff + reward_offset,
// undiscounted, as the experiments of EXPERIMENTS.md §7 count them).
//
// The solver enumerates every leader policy; against each, the follower's
// best responses are the follower policies with the highest follower
// return, of one of two classes:
//   - without a clock (follower_clock false): deterministic memory-one
//     policies, enumerated (the follower's observation carries no time, so
//     no learned follower can do better);
//   - with a clock (the environment's follower_clock: the follower also
//     observes the play step): policies of the play step and the memory
//     state, by backward induction. Against a memory-one leader these are
//     best responses among all follower policies (the pair is the
//     follower's whole decision state), and a learner can find them: its
//     problem is then a finite Markov decision process.
// Ties among
// best responses matter (in the prisoner's dilemma many follower policies
// earn the same), so both conventions are reported: the strong Stackelberg
// value breaks them in the leader's favour (the usual definition, and what
// `value` is), the weak one against the leader. Of several optimal leaders
// the lowest-numbered is returned.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/matrix/payoffs.h"

namespace marl {

struct MemoryOneGame {
  PayoffMatrices payoffs;
  int episode_length = 10;
  double reward_scale = 1.0;
  double reward_offset = 0.0;
  // What the follower maximises: sum_t follower_discount^t r_t (1: its
  // plain return, what the experiments count; a learning follower with a
  // discount best-responds to that). The leader's return is undiscounted.
  double follower_discount = 1.0;
  // The follower observes the play step (see above).
  bool follower_clock = false;
};

// A follower that may look at the clock: its action at play step `step`
// (0-based) in memory state `state`.
using MemoryOneFollowerRule = std::function<int(int step, int64_t state)>;

// A deterministic memory-one policy: action[s] for each memory state s.
using MemoryOnePolicy = std::vector<int>;

struct MemoryOneStackelberg {
  // The leader's return with followers breaking ties in its favour (strong)
  // and against it (weak), at the best leader of each convention.
  double value = 0;
  double weak_value = 0;
  // A strong-optimal leader, its best-responding follower (the tie-break
  // in the leader's favour; the lowest-numbered of equals; empty with a
  // clock), the follower's actions along their play (with or without a
  // clock), and the follower's return.
  MemoryOnePolicy leader;
  MemoryOnePolicy follower;
  std::vector<int> follower_play;
  double follower_return = 0;
  // How many follower policies best-respond to `leader` (with a clock: how
  // many distinct plays of the follower's).
  int64_t best_responses = 0;
};

// How best-responding followers answer one leader policy.
struct MemoryOneResponse {
  double follower_best = 0;        // the follower's best return
  double leader_strong = 0;        // the leader's return, ties for it
  double leader_weak = 0;          // ties against it
  int64_t best_responses = 0;      // as in MemoryOneStackelberg
  int64_t strong_follower = -1;    // the follower policy's number (base m;
                                   // -1 with a clock)
  std::vector<int> follower_play;  // the strong follower's actions in play
};

// The largest enumeration: leader policies * follower policies *
// episode_length steps (with a clock: leader policies * episode_length *
// memory states * follower actions).
inline constexpr double kMaxMemoryOneWork = 2e8;

// INVALID_ARGUMENT for an episode_length < 1 or non-finite scale/offset;
// RESOURCE_EXHAUSTED past kMaxMemoryOneWork (2x2 games need 32 * 32 * 10).
absl::StatusOr<MemoryOneStackelberg> SolveMemoryOneStackelberg(
    const MemoryOneGame& game);

// Every follower policy against `leader` (checked as PlayMemoryOne checks
// it); RESOURCE_EXHAUSTED past kMaxMemoryOneWork follower steps.
absl::StatusOr<MemoryOneResponse> RespondToMemoryOneLeader(
    const MemoryOneGame& game, const MemoryOnePolicy& leader);

// The follower policy numbered `index` (base m, state 0 least
// significant), as RespondToMemoryOneLeader numbers them; the leader policy
// numbered `index` (base n), as SolveMemoryOneStackelberg enumerates them.
MemoryOnePolicy MemoryOneFollower(const MemoryOneGame& game, int64_t index);
MemoryOnePolicy MemoryOneLeader(const MemoryOneGame& game, int64_t index);

// Both players' returns when `leader` meets `follower` (sizes 1 + n*m,
// actions in range; INVALID_ARGUMENT otherwise); the follower's discounted
// by follower_discount.
struct MemoryOneReturns {
  double leader = 0;
  double follower = 0;
};
absl::StatusOr<MemoryOneReturns> PlayMemoryOne(const MemoryOneGame& game,
                                               const MemoryOnePolicy& leader,
                                               const MemoryOnePolicy& follower);
// The same against a follower rule (its actions checked as they come).
absl::StatusOr<MemoryOneReturns> PlayMemoryOne(
    const MemoryOneGame& game, const MemoryOnePolicy& leader,
    const MemoryOneFollowerRule& follower);

// The actions per memory state, space-separated ("0 1 1 0 1").
std::string MemoryOneString(const MemoryOnePolicy& policy);

}  // namespace marl

#endif  // MARL_AGENTS_STACKELBERG_MEMORY_ONE_SOLVER_H_
