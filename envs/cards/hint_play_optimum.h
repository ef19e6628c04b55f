#ifndef MARL_ENVS_CARDS_HINT_PLAY_OPTIMUM_H_
#define MARL_ENVS_CARDS_HINT_PLAY_OPTIMUM_H_

// The exact optimum of hint_play (hint_play_game.h) by dynamic programming
// over public beliefs, for reports and tests.
//
// Why it is exact (the common-information approach of Nayyar, Mahajan and
// Teneketzis, 2013, which the public-belief agents of thesis ch. 5 build
// on): at its turn a player knows the public history (actions, pile) and
// the cards its partner has held. Every card but the partner's current one
// has left play (played or discarded) and is independent of everything to
// come, so an optimal policy may ignore it: the player's private
// information is its partner's card. A coordinator who sees only the
// public history and hands the acting player a prescription (an action per
// rank of the partner's card) can therefore do whatever the players can,
// and its problem is an MDP over public beliefs. Its optimal policy may be
// taken deterministic; under deterministic prescriptions the belief stays
// uniform over a set of ranks per card, since each action reveals a set of
// ranks of the partner's card and a new card is uniform over all ranks:
//
//   Belief = (turn, pile, possible ranks of player_0's card, of player_1's)
//
// and the value of a belief is the best, over prescriptions, of the
// expected reward plus the value of the next belief. The tests check the
// value both ways: a policy built from the prescriptions scores it when
// played by the rules, and an exhaustive search over every deterministic
// joint policy on small games (history-dependent, each player's whole
// observation history) finds nothing better.

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/cards/hint_play_game.h"

namespace marl {

class HintPlaySolver {
 public:
  // The largest problem solved: beliefs * prescriptions per belief (about
  // num_turns * (num_ranks + 1) * 4^num_ranks * (num_hints + 2)^num_ranks),
  // and stored values.
  static constexpr double kMaxWork = 1e8;
  static constexpr double kMaxBeliefs = 1 << 22;

  // What both players know before a turn: bit r of possible[p] is set when
  // player p's card may have rank r.
  struct Belief {
    int turn = 0;
    int pile = 0;
    std::array<uint32_t, 2> possible = {0, 0};
  };

  // Solves the game (every belief, backwards from the last turn).
  // RESOURCE_EXHAUSTED past kMaxWork or kMaxBeliefs.
  static absl::StatusOr<HintPlaySolver> Create(const HintPlayConfig& config);

  // The start: turn 0, an empty pile, every rank possible for both cards.
  Belief Start() const;
  // The optimal expected return of the game from the start.
  double value() const { return Value(Start()); }
  // The best expected return when no action depends on the acting player's
  // private card (no information passes between the players).
  double no_communication_value() const;
  // The centralised-information bound: the best expected return when each
  // player also knows its own card (and every new card as it is drawn).
  double full_information_value() const { return full_information_value_; }

  // The optimal expected return from `belief`, and an optimal prescription
  // there: entry r is the acting player's action when its partner's card
  // has rank r (-1 for ranks not possible). Beliefs must be valid: turn in
  // [0, num_turns], pile in [0, num_ranks], each possible set a non-empty
  // subset of the ranks.
  double Value(const Belief& belief) const;
  std::vector<int> Prescription(const Belief& belief) const;

 private:
  explicit HintPlaySolver(const HintPlayConfig& config);

  // Index of a belief in the value tables.
  int64_t Index(int turn, int pile, uint32_t possible0,
                uint32_t possible1) const;
  // Expected reward plus next value when the player to act at `belief`
  // takes `action` and thereby reveals that its partner's card lies in
  // `revealed` (a subset of the partner's possible ranks), from `values`.
  double ActionValue(const std::vector<double>& values, const Belief& belief,
                     int action, uint32_t revealed) const;
  // The best prescription's value at `belief` from `values` (the next
  // turn's entries filled); its actions in `*prescription` when not null.
  double Best(const std::vector<double>& values, const Belief& belief,
              std::vector<int>* prescription) const;
  double BestBlind(const std::vector<double>& values,
                   const Belief& belief) const;

  HintPlayConfig config_;
  uint32_t all_ranks_;
  std::vector<double> values_;        // with prescriptions
  std::vector<double> blind_values_;  // with constant actions
  double full_information_value_ = 0;
};

}  // namespace marl

#endif  // MARL_ENVS_CARDS_HINT_PLAY_OPTIMUM_H_
