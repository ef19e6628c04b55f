#ifndef MARL_ENVS_CARDS_TINY_HANABI_GAME_H_
#define MARL_ENVS_CARDS_TINY_HANABI_GAME_H_

// The rules of tiny Hanabi, the Bayesian Action Decoder paper's two-step
// game and its family (also OpenSpiel's tiny_hanabi), without the Env
// interface: the payoff table, and one play of the game.

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace marl {

// The common payoff of a tiny Hanabi game: two players each hold one of
// num_cards private cards and take one of num_actions actions; both get
// payoff(card0, card1, action0, action1), stored flat, row-major, indexed
// [card0][card1][action0][action1].
class TinyHanabiPayoffs {
 public:
  // Cards and actions are ints.
  static constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();

  // The table's length num_cards^2 * num_actions^2. INVALID_ARGUMENT naming
  // num_cards or num_actions when outside [1, kMaxCount]; RESOURCE_EXHAUSTED
  // when no memory could hold the table (its bytes pass 2^63).
  static absl::StatusOr<int64_t> TableSize(int64_t num_cards,
                                           int64_t num_actions);
  // TableSize's checks, then INVALID_ARGUMENT for `values` of another
  // length (the message names the length the counts need) or with an entry
  // that is not finite. Messages name the env's settings num_cards,
  // num_actions and payoff.
  static absl::Status Check(int64_t num_cards, int64_t num_actions,
                            absl::Span<const double> values);
  static absl::StatusOr<TinyHanabiPayoffs> Create(int64_t num_cards,
                                                  int64_t num_actions,
                                                  std::vector<double> values);
  // The BAD two-step game: 2 cards, 3 actions, optimum 10.
  static const std::vector<double>& BadValues();
  static TinyHanabiPayoffs Bad();

  int num_cards() const { return num_cards_; }
  int num_actions() const { return num_actions_; }
  const std::vector<double>& values() const { return values_; }
  double operator()(int card0, int card1, int action0, int action1) const {
    return values_[((static_cast<int64_t>(card0) * num_cards_ + card1) *
                        num_actions_ +
                    action0) *
                       num_actions_ +
                   action1];
  }

 private:
  TinyHanabiPayoffs(int num_cards, int num_actions, std::vector<double> values)
      : num_cards_(num_cards),
        num_actions_(num_actions),
        values_(std::move(values)) {}

  int num_cards_;
  int num_actions_;
  std::vector<double> values_;
};

// One play: cards are dealt, player 0 acts, then player 1, then the play is
// over and both players get payoff(card0, card1, action0, action1).
class TinyHanabiGame {
 public:
  static constexpr int kNumPlayers = 2;
  // current_player() once both players acted.
  static constexpr int kOver = -1;

  // A game dealt cards (0, 0); Deal or DealFrom start a real play.
  explicit TinyHanabiGame(TinyHanabiPayoffs payoffs);

  // Starts a play with these cards; INVALID_ARGUMENT for a card outside
  // [0, num_cards).
  absl::Status Deal(int card0, int card1);
  // Starts a play with cards drawn uniformly and independently from `rng`
  // (player 0's card first).
  void DealFrom(std::mt19937_64& rng);

  // `player` takes `action`. INVALID_ARGUMENT, naming the player as the
  // env's agent ids do ("player_1 acted out of turn: it is player_0's
  // turn"), for an unknown player, an action after the end, an action out of
  // turn or an action outside [0, num_actions).
  absl::Status Act(int player, int64_t action);
  // Act for current_player() without the checks, for callers that made
  // them (the env: the batch runner checked the action's range, and the env
  // only acts for the current player).
  void Apply(int64_t action);

  // 0, 1, or kOver.
  int current_player() const { return turn_ < kNumPlayers ? turn_ : kOver; }
  int card(int player) const { return cards_[player]; }
  // The player's action, -1 before it acted.
  int action(int player) const { return actions_[player]; }
  // What both players get: the payoff once the play is over, 0 before.
  double payoff() const;
  const TinyHanabiPayoffs& payoffs() const { return payoffs_; }

 private:
  TinyHanabiPayoffs payoffs_;
  std::array<int, kNumPlayers> cards_ = {0, 0};
  std::array<int, kNumPlayers> actions_ = {-1, -1};
  int turn_ = 0;  // the number of actions taken
};

}  // namespace marl

#endif  // MARL_ENVS_CARDS_TINY_HANABI_GAME_H_
