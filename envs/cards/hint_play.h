#ifndef MARL_ENVS_CARDS_HINT_PLAY_H_
#define MARL_ENVS_CARDS_HINT_PLAY_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/cards/hint_play_game.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// `hint_play`: a partially observable cooperative card game with Hanabi's
// inverted information (thesis ch. 5; rules in hint_play_game.h): player_0
// and player_1 each hold a card of rank < num_ranks that only the partner
// sees, take turns (player_0 first) for num_turns turns, and each turn play
// their card onto a pile built in rank order (1 to both when it fits,
// misplay_reward when not), discard it, or give one of num_hints hint
// symbols of no fixed meaning. Played and discarded cards are replaced from
// an endless deck (uniform ranks from the copy's own stream: at a reset
// player_0's card, then player_1's; after a play or discard the actor's).
// The episode terminates after num_turns turns or once the pile holds
// every rank. Both agents get the same reward every step.
//
// Actions, Discrete(num_hints + 2) per agent: 0 play, 1 discard, 2 + h hint
// h. Turn-based (spec.sequential): current_agent alternates 0, 1, ...;
// only the acting agent's action counts. No action masks.
//
// Observations, written at every reset and step (T = num_turns, R =
// num_ranks, A = num_hints + 2):
//   - per agent, its private observation only: Discrete(R), the rank of its
//     partner's card (its own is hidden from it);
//   - public observation, Box[2 + (R + 1) + T * A] in [0, 1]:
//       [0, 2)          the one-hot of whose turn it is (0 once it ended),
//       [2, R + 3)      the one-hot of the pile's height (0 ... R),
//       then T blocks of A: block t the one-hot of the action taken at turn
//                       t (zeros for turns not taken yet);
//   - state, Box[2 R + the public size] in [0, 1]: the one-hot of
//     player_0's card, the one-hot of player_1's card, then the public
//     observation.
//
// The default (3 ranks, 2 hints, 8 turns, misplay -1) has the exact optimum
// 4588/2187 = 2.0979 (hint_play_optimum.h); without communication the best
// is 0 (a blind play fits with probability 1/3 and costs 1 when it fails);
// with every card known to both (the centralised-information bound) 2.478.
class HintPlayEnv : public Env {
 public:
  static constexpr char kName[] = "hint_play";

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate: the object, the game's action list
  // and the spec's spaces (public observation and state grow with
  // num_turns * num_hints).
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  explicit HintPlayEnv(const HintPlayConfig& config);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

  const HintPlayGame& game() const { return game_; }
  // For tests: the game in progress, e.g. to deal chosen cards after a
  // Reset (Restart, then DealCard twice; the observations Reset wrote show
  // the cards it drew, the next step's the new ones).
  HintPlayGame* game_for_testing() { return &game_; }

 private:
  void WriteObservations(const Output& out) const;

  HintPlayGame game_;
  EnvSpec spec_;
};

}  // namespace marl

#endif  // MARL_ENVS_CARDS_HINT_PLAY_H_
