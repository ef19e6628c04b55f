#include "agents/stackelberg/memory_one_solver.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marl {
namespace {

// The policy numbered `index` (base `actions`, state 0 least significant).
void Decode(int64_t index, int actions, MemoryOnePolicy* policy) {
  for (int& a : *policy) {
    a = static_cast<int>(index % actions);
    index /= actions;
  }
}

// Returns along the path, without checks (the solver's inner loop);
// `Follower` maps (step, state) to an action; `play` gets the follower's
// actions when given.
template <typename Follower>
MemoryOneReturns Play(const MemoryOneGame& game, const MemoryOnePolicy& leader,
                      const Follower& follower,
                      std::vector<int>* play = nullptr) {
  const PayoffMatrices& p = game.payoffs;
  MemoryOneReturns out;
  int64_t state = 0;
  double weight = 1.0;  // follower_discount^t
  if (play != nullptr) play->clear();
  for (int t = 0; t < game.episode_length; ++t) {
    const int a0 = leader[state];
    const int a1 = follower(t, state);
    if (play != nullptr) play->push_back(a1);
    out.leader += game.reward_scale * p.RowPayoff(a0, a1) + game.reward_offset;
    out.follower += weight * (game.reward_scale * p.ColumnPayoff(a0, a1) +
                              game.reward_offset);
    weight *= game.follower_discount;
    state = 1 + a0 + p.rows * a1;
  }
  return out;
}
MemoryOneReturns Play(const MemoryOneGame& game, const MemoryOnePolicy& leader,
                      const MemoryOnePolicy& follower,
                      std::vector<int>* play = nullptr) {
  return Play(
      game, leader, [&follower](int, int64_t s) { return follower[s]; }, play);
}

// The game's checks, and its policy counts (as doubles: they overflow
// integers long before the limits).
absl::Status CheckGame(const MemoryOneGame& game) {
  const PayoffMatrices& p = game.payoffs;
  if (game.episode_length < 1 || !std::isfinite(game.reward_scale) ||
      !std::isfinite(game.reward_offset) ||
      !(game.follower_discount >= 0 && game.follower_discount <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a memory-one game needs episode_length >= 1, finite rewards and a "
        "follower discount in [0, 1], got episode_length ",
        game.episode_length, ", reward_scale ", game.reward_scale,
        ", reward_offset ", game.reward_offset, ", follower_discount ",
        game.follower_discount));
  }
  if (p.rows < 1 || p.cols < 1 ||
      static_cast<int64_t>(p.row_payoffs.size()) != p.rows * p.cols ||
      static_cast<int64_t>(p.column_payoffs.size()) != p.rows * p.cols) {
    return absl::InvalidArgumentError("malformed payoff matrices");
  }
  return absl::OkStatus();
}
double States(const MemoryOneGame& game) {
  return 1.0 + static_cast<double>(game.payoffs.rows) * game.payoffs.cols;
}

// Follower returns are sums of the same finitely many terms; equal ones
// can still differ in the last bits when summed in another order, so best
// responses are those within a hair of the best.
double Tolerance(const MemoryOneGame& game) {
  return 1e-9 * game.episode_length *
         (std::abs(game.reward_scale) + std::abs(game.reward_offset) + 1.0);
}

// The response to `leader` over all `num_followers` follower policies,
// without checks.
MemoryOneResponse Respond(const MemoryOneGame& game,
                          const MemoryOnePolicy& leader, int64_t num_followers,
                          std::vector<MemoryOneReturns>* returns) {
  const double tolerance = Tolerance(game);
  MemoryOnePolicy follower(leader.size());
  returns->resize(static_cast<size_t>(num_followers));
  double top = -std::numeric_limits<double>::infinity();
  for (int64_t f = 0; f < num_followers; ++f) {
    Decode(f, static_cast<int>(game.payoffs.cols), &follower);
    (*returns)[f] = Play(game, leader, follower);
    top = std::max(top, (*returns)[f].follower);
  }
  MemoryOneResponse out;
  out.follower_best = top;
  out.leader_strong = -std::numeric_limits<double>::infinity();
  out.leader_weak = std::numeric_limits<double>::infinity();
  for (int64_t f = 0; f < num_followers; ++f) {
    const MemoryOneReturns& r = (*returns)[f];
    if (r.follower < top - tolerance) continue;
    ++out.best_responses;
    if (r.leader > out.leader_strong) {
      out.leader_strong = r.leader;
      out.strong_follower = f;
    }
    out.leader_weak = std::min(out.leader_weak, r.leader);
  }
  Play(game, leader, MemoryOneFollower(game, out.strong_follower),
       &out.follower_play);
  return out;
}

// The response of a follower with a clock, by backward induction over
// (step, state) without checks: its value V, and among its best actions
// at each (step, state) the leader's best (strong) and worst (weak)
// continuation; a follower policy is a best response exactly when it
// picks best actions wherever its play goes, so these are the strong and
// weak values over all best responses.
MemoryOneResponse RespondWithClock(const MemoryOneGame& game,
                                   const MemoryOnePolicy& leader) {
  const PayoffMatrices& p = game.payoffs;
  const int64_t states = static_cast<int64_t>(leader.size());
  const int steps = game.episode_length;
  const double tolerance = Tolerance(game);
  // Values at step t + 1 (0 after the last step).
  std::vector<double> value(states, 0.0), strong(states, 0.0),
      weak(states, 0.0), plays(states, 1.0);
  std::vector<double> next_value, next_strong, next_weak, next_plays;
  std::vector<int> strong_action(static_cast<size_t>(steps * states));
  std::vector<double> q(static_cast<size_t>(p.cols));
  for (int t = steps - 1; t >= 0; --t) {
    next_value.swap(value);
    next_strong.swap(strong);
    next_weak.swap(weak);
    next_plays.swap(plays);
    value.assign(states, 0.0);
    strong.assign(states, 0.0);
    weak.assign(states, 0.0);
    plays.assign(states, 0.0);
    for (int64_t s = 0; s < states; ++s) {
      const int a0 = leader[s];
      double top = -std::numeric_limits<double>::infinity();
      for (int a1 = 0; a1 < p.cols; ++a1) {
        q[a1] = game.reward_scale * p.ColumnPayoff(a0, a1) +
                game.reward_offset +
                game.follower_discount * next_value[1 + a0 + p.rows * a1];
        top = std::max(top, q[a1]);
      }
      value[s] = top;
      strong[s] = -std::numeric_limits<double>::infinity();
      weak[s] = std::numeric_limits<double>::infinity();
      for (int a1 = 0; a1 < p.cols; ++a1) {
        if (q[a1] < top - tolerance) continue;
        const int64_t next = 1 + a0 + p.rows * a1;
        const double leader_return =
            game.reward_scale * p.RowPayoff(a0, a1) + game.reward_offset;
        if (leader_return + next_strong[next] > strong[s]) {
          strong[s] = leader_return + next_strong[next];
          strong_action[t * states + s] = a1;
        }
        weak[s] = std::min(weak[s], leader_return + next_weak[next]);
        plays[s] += next_plays[next];
      }
    }
  }
  MemoryOneResponse out;
  out.follower_best = value[0];
  out.leader_strong = strong[0];
  out.leader_weak = weak[0];
  out.best_responses = static_cast<int64_t>(std::min(
      plays[0], static_cast<double>(std::numeric_limits<int64_t>::max() / 2)));
  Play(
      game, leader,
      [&](int t, int64_t s) { return strong_action[t * states + s]; },
      &out.follower_play);
  return out;
}

// The policies' sizes and actions (the follower's when given).
absl::Status CheckPolicies(const MemoryOneGame& game,
                           const MemoryOnePolicy& leader,
                           const MemoryOnePolicy* follower) {
  if (absl::Status s = CheckGame(game); !s.ok()) return s;
  const PayoffMatrices& p = game.payoffs;
  const int64_t states = 1 + p.rows * p.cols;
  if (static_cast<int64_t>(leader.size()) != states ||
      (follower != nullptr &&
       static_cast<int64_t>(follower->size()) != states)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory-one policies need one action per state (", states, "), got ",
        leader.size(), follower != nullptr ? " and " : "",
        follower != nullptr ? absl::StrCat(follower->size()) : ""));
  }
  for (int64_t s = 0; s < states; ++s) {
    if (leader[s] < 0 || leader[s] >= p.rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory state ", s, ": leader action ", leader[s],
                       " out of range [0, ", p.rows, ")"));
    }
    if (follower != nullptr &&
        ((*follower)[s] < 0 || (*follower)[s] >= p.cols)) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory state ", s, ": follower action ", (*follower)[s],
                       " out of range [0, ", p.cols, ")"));
    }
  }
  return absl::OkStatus();
}

// The follower steps one leader's response takes (as a double: the
// enumeration's count overflows integers long before the limit).
double ResponseWork(const MemoryOneGame& game) {
  const double steps = game.episode_length;
  const double cols = static_cast<double>(game.payoffs.cols);
  if (game.follower_clock) return steps * States(game) * cols;
  return std::pow(cols, States(game)) * steps;
}

// The response of the game's follower class, without checks.
MemoryOneResponse Response(const MemoryOneGame& game,
                           const MemoryOnePolicy& leader,
                           std::vector<MemoryOneReturns>* returns) {
  if (game.follower_clock) return RespondWithClock(game, leader);
  return Respond(game, leader,
                 static_cast<int64_t>(std::pow(
                     static_cast<double>(game.payoffs.cols), States(game))),
                 returns);
}

}  // namespace

absl::StatusOr<MemoryOneReturns> PlayMemoryOne(
    const MemoryOneGame& game, const MemoryOnePolicy& leader,
    const MemoryOneFollowerRule& follower) {
  if (absl::Status s = CheckPolicies(game, leader, nullptr); !s.ok()) return s;
  absl::Status bad;
  const int cols = static_cast<int>(game.payoffs.cols);
  const MemoryOneReturns out = Play(game, leader, [&](int t, int64_t state) {
    const int a1 = follower(t, state);
    if (a1 >= 0 && a1 < cols) return a1;
    if (bad.ok()) {
      bad = absl::InvalidArgumentError(absl::StrCat(
          "step ", t, ", memory state ", state, ": follower action ", a1,
          " out of range [0, ", cols, ")"));
    }
    return 0;
  });
  if (!bad.ok()) return bad;
  return out;
}

absl::StatusOr<MemoryOneReturns> PlayMemoryOne(
    const MemoryOneGame& game, const MemoryOnePolicy& leader,
    const MemoryOnePolicy& follower) {
  if (absl::Status s = CheckPolicies(game, leader, &follower); !s.ok()) {
    return s;
  }
  return Play(game, leader, follower);
}

MemoryOnePolicy MemoryOneFollower(const MemoryOneGame& game, int64_t index) {
  MemoryOnePolicy follower(static_cast<size_t>(States(game)));
  Decode(index, static_cast<int>(game.payoffs.cols), &follower);
  return follower;
}

MemoryOnePolicy MemoryOneLeader(const MemoryOneGame& game, int64_t index) {
  MemoryOnePolicy leader(static_cast<size_t>(States(game)));
  Decode(index, static_cast<int>(game.payoffs.rows), &leader);
  return leader;
}

absl::StatusOr<MemoryOneResponse> RespondToMemoryOneLeader(
    const MemoryOneGame& game, const MemoryOnePolicy& leader) {
  if (absl::Status s = CheckPolicies(game, leader, nullptr); !s.ok()) return s;
  if (!(ResponseWork(game) <= kMaxMemoryOneWork)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "answering a leader takes ", ResponseWork(game),
        " follower steps; the solver does at most ", kMaxMemoryOneWork));
  }
  std::vector<MemoryOneReturns> returns;
  return Response(game, leader, &returns);
}

absl::StatusOr<MemoryOneStackelberg> SolveMemoryOneStackelberg(
    const MemoryOneGame& game) {
  if (absl::Status s = CheckGame(game); !s.ok()) return s;
  const PayoffMatrices& p = game.payoffs;
  const double states = States(game);
  const double leaders = std::pow(static_cast<double>(p.rows), states);
  const double work = leaders * ResponseWork(game);
  if (!(work <= kMaxMemoryOneWork)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "answering ", leaders, " memory-one leaders takes ", work,
        " follower steps; the solver does at most ", kMaxMemoryOneWork));
  }
  const int64_t num_leaders = static_cast<int64_t>(leaders);
  MemoryOnePolicy leader(static_cast<size_t>(states));
  MemoryOneStackelberg best;
  best.value = best.weak_value = -std::numeric_limits<double>::infinity();
  std::vector<MemoryOneReturns> returns;
  for (int64_t l = 0; l < num_leaders; ++l) {
    Decode(l, static_cast<int>(p.rows), &leader);
    MemoryOneResponse response = Response(game, leader, &returns);
    best.weak_value = std::max(best.weak_value, response.leader_weak);
    if (response.leader_strong > best.value) {
      best.value = response.leader_strong;
      best.leader = leader;
      best.follower = response.strong_follower >= 0
                          ? MemoryOneFollower(game, response.strong_follower)
                          : MemoryOnePolicy();
      best.follower_play = std::move(response.follower_play);
      best.follower_return = response.follower_best;
      best.best_responses = response.best_responses;
    }
  }
  return best;
}

std::string MemoryOneString(const MemoryOnePolicy& policy) {
  return absl::StrJoin(policy, " ");
}

}  // namespace marl
