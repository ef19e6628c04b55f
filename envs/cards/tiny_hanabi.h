#ifndef MARL_ENVS_CARDS_TINY_HANABI_H_
#define MARL_ENVS_CARDS_TINY_HANABI_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/cards/tiny_hanabi_game.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// `tiny_hanabi`: the Bayesian Action Decoder paper's two-step cooperative
// card game and its family (thesis ch. 5; rules in tiny_hanabi_game.h).
// Each episode deals player_0 and player_1 one private card each, uniformly
// and independently from {0, ..., num_cards - 1} (the copy's own stream,
// player_0's card first). player_0 acts (Discrete(num_actions)), then
// player_1, who has seen player_0's action; the episode terminates after
// player_1's action, where both agents get payoff[card0][card1][a0][a1]
// (0 at player_0's step). Turn-based (spec.sequential): current_agent is 0,
// then 1; only the acting agent's action counts. No action masks.
//
// Observations, written at every reset and step:
//   - per agent, its private observation only: Discrete(num_cards), its own
//     card;
//   - public observation, Box[2 + num_actions] in [0, 1]: the one-hot of
//     whose turn it is ([0] player_0, [1] player_1; both 0 once the episode
//     ended), then at [2 + a0] the one-hot of player_0's action once taken
//     (zeros before);
//   - state (for centralised critics), Box[2 * num_cards + 2 + num_actions]
//     in [0, 1]: the one-hot of card0, the one-hot of card1, then the public
//     observation.
//
// Settings: num_cards (2), num_actions (3), payoff (the BAD table): the
// num_cards^2 * num_actions^2 payoffs, flat ([10,0,0,4,8,4,...]) or of
// shape [num_cards, num_cards, num_actions, num_actions], indexed
// [card0][card1][a0][a1], finite and within kMaxAbsReward = 1e30 as float
// rewards. The default is the BAD game, whose optimum is 10 (always the
// middle action scores 8); tiny_hanabi_optimum.h solves any member.
class TinyHanabiEnv : public Env {
 public:
  static constexpr char kName[] = "tiny_hanabi";

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate: the object, its payoff table and its
  // spec's spaces.
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  explicit TinyHanabiEnv(TinyHanabiPayoffs payoffs);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

  const TinyHanabiGame& game() const { return game_; }
  // For tests: the play in progress, e.g. to Deal chosen cards after a
  // Reset (the observations that Reset wrote show the cards it drew; the
  // next step's show the new ones).
  TinyHanabiGame* game_for_testing() { return &game_; }

 private:
  void WriteObservations(const Output& out) const;

  TinyHanabiGame game_;
  EnvSpec spec_;
};

}  // namespace marl

#endif  // MARL_ENVS_CARDS_TINY_HANABI_H_
