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

// Returns along the path, without checks (the solver's inner loop).
MemoryOneReturns Play(const MemoryOneGame& game, const MemoryOnePolicy& leader,
                      const MemoryOnePolicy& follower) {
  const PayoffMatrices& p = game.payoffs;
  MemoryOneReturns out;
  int64_t state = 0;
  double weight = 1.0;  // follower_discount^t
  for (int t = 0; t < game.episode_length; ++t) {
    const int a0 = leader[state];
    const int a1 = follower[state];
    out.leader += game.reward_scale * p.RowPayoff(a0, a1) + game.reward_offset;
    out.follower += weight * (game.reward_scale * p.ColumnPayoff(a0, a1) +
                              game.reward_offset);
    weight *= game.follower_discount;
    state = 1 + a0 + p.rows * a1;
  }
  return out;
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

// The response to `leader` over all `num_followers` follower policies,
// without checks. Follower returns are sums of the same finitely many
// terms; equal ones can still differ in the last bits when summed in
// another order, so best responses are those within a hair of the best.
MemoryOneResponse Respond(const MemoryOneGame& game,
                          const MemoryOnePolicy& leader, int64_t num_followers,
                          std::vector<MemoryOneReturns>* returns) {
  const double tolerance =
      1e-9 * game.episode_length *
      (std::abs(game.reward_scale) + std::abs(game.reward_offset) + 1.0);
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
  return out;
}

}  // namespace

absl::StatusOr<MemoryOneReturns> PlayMemoryOne(
    const MemoryOneGame& game, const MemoryOnePolicy& leader,
    const MemoryOnePolicy& follower) {
  if (absl::Status s = CheckGame(game); !s.ok()) return s;
  const PayoffMatrices& p = game.payoffs;
  const int64_t states = 1 + p.rows * p.cols;
  if (static_cast<int64_t>(leader.size()) != states ||
      static_cast<int64_t>(follower.size()) != states) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory-one policies need one action per state (", states,
                     "), got ", leader.size(), " and ", follower.size()));
  }
  for (int64_t s = 0; s < states; ++s) {
    if (leader[s] < 0 || leader[s] >= p.rows || follower[s] < 0 ||
        follower[s] >= p.cols) {
      return absl::InvalidArgumentError(absl::StrCat(
          "memory state ", s, ": actions ", leader[s], " and ", follower[s],
          " out of range [0, ", p.rows, ") x [0, ", p.cols, ")"));
    }
  }
  return Play(game, leader, follower);
}

MemoryOnePolicy MemoryOneFollower(const MemoryOneGame& game, int64_t index) {
  MemoryOnePolicy follower(static_cast<size_t>(States(game)));
  Decode(index, static_cast<int>(game.payoffs.cols), &follower);
  return follower;
}

absl::StatusOr<MemoryOneResponse> RespondToMemoryOneLeader(
    const MemoryOneGame& game, const MemoryOnePolicy& leader) {
  if (absl::Status s = CheckGame(game); !s.ok()) return s;
  const double followers =
      std::pow(static_cast<double>(game.payoffs.cols), States(game));
  if (!(followers * game.episode_length <= kMaxMemoryOneWork)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        followers, " follower memory-one policies over ", game.episode_length,
        " steps are more than the ", kMaxMemoryOneWork, " steps enumerated"));
  }
  MemoryOnePolicy follower(leader.size(), 0);
  if (absl::StatusOr<MemoryOneReturns> checked =
          PlayMemoryOne(game, leader, follower);
      !checked.ok()) {
    return checked.status();
  }
  std::vector<MemoryOneReturns> returns;
  return Respond(game, leader, static_cast<int64_t>(followers), &returns);
}

absl::StatusOr<MemoryOneStackelberg> SolveMemoryOneStackelberg(
    const MemoryOneGame& game) {
  if (absl::Status s = CheckGame(game); !s.ok()) return s;
  const PayoffMatrices& p = game.payoffs;
  const double states = States(game);
  const double leaders = std::pow(static_cast<double>(p.rows), states);
  const double followers = std::pow(static_cast<double>(p.cols), states);
  const double work = leaders * followers * game.episode_length;
  if (!(work <= kMaxMemoryOneWork)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "enumerating ", leaders, " leader x ", followers,
        " follower memory-one policies over ", game.episode_length,
        " steps is ", work, " steps of play; the solver does at most ",
        kMaxMemoryOneWork));
  }
  const int64_t num_leaders = static_cast<int64_t>(leaders);
  const int64_t num_followers = static_cast<int64_t>(followers);
  MemoryOnePolicy leader(static_cast<size_t>(states));
  MemoryOneStackelberg best;
  best.value = best.weak_value = -std::numeric_limits<double>::infinity();
  std::vector<MemoryOneReturns> returns;
  for (int64_t l = 0; l < num_leaders; ++l) {
    Decode(l, static_cast<int>(p.rows), &leader);
    const MemoryOneResponse response =
        Respond(game, leader, num_followers, &returns);
    best.weak_value = std::max(best.weak_value, response.leader_weak);
    if (response.leader_strong > best.value) {
      best.value = response.leader_strong;
      best.leader = leader;
      best.follower = MemoryOneFollower(game, response.strong_follower);
      best.follower_return = returns[response.strong_follower].follower;
      best.best_responses = response.best_responses;
    }
  }
  return best;
}

std::string MemoryOneString(const MemoryOnePolicy& policy) {
  return absl::StrJoin(policy, " ");
}

}  // namespace marl
