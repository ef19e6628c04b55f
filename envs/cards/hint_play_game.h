#ifndef MARL_ENVS_CARDS_HINT_PLAY_GAME_H_
#define MARL_ENVS_CARDS_HINT_PLAY_GAME_H_

// The rules of hint_play, a small cooperative card game with Hanabi's
// inverted information, without the Env interface (the env is hint_play.h,
// the exact optimum hint_play_optimum.h).
//
// Two players each hold one card, a rank in {0, ..., num_ranks - 1}, that
// they cannot see but their partner can. Cards come from an endless deck:
// every card is dealt uniformly and independently. One pile is built in
// rank order, like one Hanabi firework: a card plays successfully when its
// rank equals the pile's height (the number of cards played so far).
//
// The players take turns, player 0 first, for num_turns turns in all. On
// its turn a player takes one of num_hints + 2 actions:
//   kPlay (0): plays its card. If it fits, the pile grows by one and both
//     players get 1; otherwise it is lost and both get misplay_reward.
//   kDiscard (1): drops its card (nothing happens otherwise).
//   kFirstHint + h (2 + h): gives hint symbol h, h < num_hints. Hints have
//     no fixed meaning; they only reach the partner, as every action does.
// A played or discarded card is replaced at once by a new one from the
// deck. The game ends after num_turns turns or when the pile holds every
// rank (score num_ranks, the most there is).
//
// Everyone sees the actions and the pile; only the partner sees a card.
// To play safely a player must learn its card from its partner's actions,
// and as the pile grows and cards are replaced what it must learn changes:
// beliefs over hidden cards matter over several turns.

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {

struct HintPlayConfig {
  // The most ranks, hints or turns: beyond them the env's spaces would not
  // fit any memory.
  static constexpr int64_t kMaxCount = int64_t{1} << 20;
  // The largest |misplay_reward|.
  static constexpr double kMaxAbsMisplayReward = 1e6;

  // INVALID_ARGUMENT naming the setting (as the env names it) outside its
  // range: num_ranks and num_turns in [1, kMaxCount], num_hints in
  // [0, kMaxCount], misplay_reward in [-kMaxAbsMisplayReward,
  // kMaxAbsMisplayReward].
  static absl::StatusOr<HintPlayConfig> Create(int64_t num_ranks,
                                               int64_t num_hints,
                                               int64_t num_turns,
                                               double misplay_reward);

  int num_actions() const { return num_hints + 2; }

  int num_ranks = 3;
  int num_hints = 2;
  int num_turns = 8;
  double misplay_reward = -1.0;
};

class HintPlayGame {
 public:
  static constexpr int kNumPlayers = 2;
  static constexpr int kPlay = 0;
  static constexpr int kDiscard = 1;
  static constexpr int kFirstHint = 2;
  // current_player() values besides the players: a card is to be dealt (a
  // chance node), the game is over.
  static constexpr int kChance = -2;
  static constexpr int kOver = -1;

  // A config from HintPlayConfig::Create. The game starts as Restart
  // leaves it.
  explicit HintPlayGame(const HintPlayConfig& config);

  // A new game: no turn taken, an empty pile, both hands empty (two cards
  // to deal, player 0's first).
  void Restart();
  // Deals `rank` to the first player (0 before 1) whose hand is empty.
  // FAILED_PRECONDITION when no card is waited for; INVALID_ARGUMENT for a
  // rank outside [0, num_ranks).
  absl::Status DealCard(int rank);
  // Deals every card waited for, uniformly from `rng`.
  void DealFrom(std::mt19937_64& rng);

  // `player` takes `action`; returns what both players get. INVALID_ARGUMENT
  // naming the player as the env's agent ids do ("player_1 acted out of
  // turn: it is player_0's turn") for an unknown player, an action after the
  // end, out of turn or outside [0, num_actions); FAILED_PRECONDITION while
  // a card is to be dealt.
  absl::StatusOr<double> Act(int player, int action);
  // Act for current_player() without the checks, for callers that made
  // them (the env: the batch runner checked the action's range, and the env
  // acts only for the current player).
  double Apply(int action);

  // kChance while a hand is empty (also right after the last turn), else
  // kOver once the game ended, else the player whose turn it is.
  int current_player() const;
  // The player's card, -1 while its hand is empty.
  int card(int player) const { return cards_[player]; }
  int pile() const { return pile_; }
  int turn() const { return static_cast<int>(actions_.size()); }
  // Every action taken, in turn order.
  const std::vector<int>& actions() const { return actions_; }
  const HintPlayConfig& config() const { return config_; }

 private:
  HintPlayConfig config_;
  std::array<int, kNumPlayers> cards_ = {-1, -1};
  int pile_ = 0;
  std::vector<int> actions_;  // holds num_turns: reserved once
};

}  // namespace marl

#endif  // MARL_ENVS_CARDS_HINT_PLAY_GAME_H_
