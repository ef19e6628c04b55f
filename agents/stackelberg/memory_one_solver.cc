#include "agents/stackelberg/memory_one_solver.h"

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
  for (int t = 0; t < game.episode_length; ++t) {
    const int a0 = leader[state];
    const int a1 = follower[state];
    out.leader += game.reward_scale * p.RowPayoff(a0, a1) + game.reward_offset;
    out.follower +=
        game.reward_scale * p.ColumnPayoff(a0, a1) + game.reward_offset;
    state = 1 + a0 + p.rows * a1;
  }
  return out;
}

}  // namespace

absl::StatusOr<MemoryOneReturns> PlayMemoryOne(
    const MemoryOneGame& game, const MemoryOnePolicy& leader,
    const MemoryOnePolicy& follower) {
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

absl::StatusOr<MemoryOneStackelberg> SolveMemoryOneStackelberg(
    const MemoryOneGame& game) {
  const PayoffMatrices& p = game.payoffs;
  if (game.episode_length < 1 || !std::isfinite(game.reward_scale) ||
      !std::isfinite(game.reward_offset)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a memory-one game needs episode_length >= 1 and finite rewards, got "
        "episode_length ",
        game.episode_length, ", reward_scale ", game.reward_scale,
        ", reward_offset ", game.reward_offset));
  }
  if (p.rows < 1 || p.cols < 1 ||
      static_cast<int64_t>(p.row_payoffs.size()) != p.rows * p.cols ||
      static_cast<int64_t>(p.column_payoffs.size()) != p.rows * p.cols) {
    return absl::InvalidArgumentError("malformed payoff matrices");
  }
  // In doubles: the counts overflow integers long before the limit.
  const double states = 1.0 + static_cast<double>(p.rows) * p.cols;
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
  MemoryOnePolicy follower(static_cast<size_t>(states));
  MemoryOneStackelberg best;
  best.value = best.weak_value = -std::numeric_limits<double>::infinity();
  // Follower returns are sums of the same finitely many terms; equal ones
  // can still differ in the last bits when summed in another order, so
  // best responses are those within a hair of the best.
  const double tolerance =
      1e-9 * game.episode_length *
      (std::abs(game.reward_scale) + std::abs(game.reward_offset) + 1.0);
  std::vector<MemoryOneReturns> returns(static_cast<size_t>(num_followers));
  for (int64_t l = 0; l < num_leaders; ++l) {
    Decode(l, static_cast<int>(p.rows), &leader);
    double top = -std::numeric_limits<double>::infinity();
    for (int64_t f = 0; f < num_followers; ++f) {
      Decode(f, static_cast<int>(p.cols), &follower);
      returns[f] = Play(game, leader, follower);
      top = std::max(top, returns[f].follower);
    }
    double strong = -std::numeric_limits<double>::infinity();
    double weak = std::numeric_limits<double>::infinity();
    int64_t strong_follower = 0, count = 0;
    for (int64_t f = 0; f < num_followers; ++f) {
      if (returns[f].follower < top - tolerance) continue;
      ++count;
      if (returns[f].leader > strong) {
        strong = returns[f].leader;
        strong_follower = f;
      }
      weak = std::min(weak, returns[f].leader);
    }
    best.weak_value = std::max(best.weak_value, weak);
    if (strong > best.value) {
      best.value = strong;
      best.leader = leader;
      Decode(strong_follower, static_cast<int>(p.cols), &follower);
      best.follower = follower;
      best.follower_return = returns[strong_follower].follower;
      best.best_responses = count;
    }
  }
  return best;
}

std::string MemoryOneString(const MemoryOnePolicy& policy) {
  return absl::StrJoin(policy, " ");
}

}  // namespace marl
