#ifndef MARL_ENVS_CARDS_TINY_HANABI_OPTIMUM_H_
#define MARL_ENVS_CARDS_TINY_HANABI_OPTIMUM_H_

// Exact optima of tiny Hanabi games (tiny_hanabi_game.h), for reports and
// tests: what a learner on `tiny_hanabi` can reach at best.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "envs/cards/tiny_hanabi_game.h"

namespace marl {

struct TinyHanabiSolution {
  // The optimal expected common payoff over all joint policies (cards
  // uniform and independent).
  double value = 0;
  // An optimal deterministic joint policy: player_0's action per card, and
  // player_1's best response at [card1 * num_actions + a0] (action 0 where
  // player_0 never plays a0). Of several optimal policy0, the first in
  // lexicographic order (card 0's action most significant).
  std::vector<int> policy0;
  std::vector<int> policy1;
  // The best value when player_0's action ignores its card (no signal
  // reaches player_1; it still best-responds to its own card).
  double no_communication_value = 0;
  // The centralised-information bound: both actions chosen knowing both
  // cards (the mean over deals of the deal's best payoff).
  double full_information_value = 0;
};

// The most player_0 policies (num_actions^num_cards) SolveTinyHanabi
// enumerates, and the most work (policies * num_cards * min(num_cards,
// num_actions) * num_actions payoff additions).
inline constexpr double kMaxTinyHanabiPolicies = 1e7;
inline constexpr double kMaxTinyHanabiWork = 2e9;

// Enumerates player_0's deterministic policies (card -> action); player_1
// best-responds in each information set (its card, player_0's action). A
// deterministic optimum exists (common payoff), so this is the optimum.
// RESOURCE_EXHAUSTED past kMaxTinyHanabiPolicies or kMaxTinyHanabiWork.
absl::StatusOr<TinyHanabiSolution> SolveTinyHanabi(
    const TinyHanabiPayoffs& payoffs);

// The expected payoff of a deterministic joint policy laid out as in
// TinyHanabiSolution; INVALID_ARGUMENT for a policy of the wrong size or
// with an action out of range.
absl::StatusOr<double> TinyHanabiPolicyValue(const TinyHanabiPayoffs& payoffs,
                                             absl::Span<const int> policy0,
                                             absl::Span<const int> policy1);

}  // namespace marl

#endif  // MARL_ENVS_CARDS_TINY_HANABI_OPTIMUM_H_
