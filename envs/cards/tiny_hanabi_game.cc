#include "envs/cards/tiny_hanabi_game.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "envs/core/checked_size.h"
#include "envs/core/random_draws.h"

namespace marl {
namespace {

absl::Status CheckCount(const char* setting, int64_t count) {
  if (count >= 1 && count <= TinyHanabiPayoffs::kMaxCount) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(setting, " must be in [1, ",
                                                 TinyHanabiPayoffs::kMaxCount,
                                                 "], got ", count));
}

}  // namespace

absl::StatusOr<int64_t> TinyHanabiPayoffs::TableSize(int64_t num_cards,
                                                     int64_t num_actions) {
  if (absl::Status s = CheckCount("num_cards", num_cards); !s.ok()) return s;
  if (absl::Status s = CheckCount("num_actions", num_actions); !s.ok()) {
    return s;
  }
  // At most this many doubles fit in the bytes an int64 counts.
  constexpr int64_t kMaxEntries =
      std::numeric_limits<int64_t>::max() / sizeof(double);
  int64_t cards2, actions2, size;
  if (!CheckedMul(num_cards, num_cards, &cards2) ||
      !CheckedMul(num_actions, num_actions, &actions2) ||
      !CheckedMul(cards2, actions2, &size) || size > kMaxEntries) {
    return absl::ResourceExhaustedError(
        absl::StrCat("num_cards=", num_cards, " and num_actions=", num_actions,
                     " need a payoff table of num_cards^2 * num_actions^2 > ",
                     kMaxEntries, " values: more than any memory holds"));
  }
  return size;
}

absl::Status TinyHanabiPayoffs::Check(int64_t num_cards, int64_t num_actions,
                                      absl::Span<const double> values) {
  absl::StatusOr<int64_t> size = TableSize(num_cards, num_actions);
  if (!size.ok()) return size.status();
  if (static_cast<int64_t>(values.size()) != *size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payoff has ", values.size(), " values; num_cards=", num_cards,
        " and num_actions=", num_actions, " need ", num_cards, "*", num_cards,
        "*", num_actions, "*", num_actions, " = ", *size,
        ", indexed [card0][card1][a0][a1]"));
  }
  for (size_t k = 0; k < values.size(); ++k) {
    if (!std::isfinite(values[k])) {
      return absl::InvalidArgumentError(
          absl::StrCat("payoff entry ", k, " is not finite: ", values[k]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TinyHanabiPayoffs> TinyHanabiPayoffs::Create(
    int64_t num_cards, int64_t num_actions, std::vector<double> values) {
  if (absl::Status s = Check(num_cards, num_actions, values); !s.ok()) {
    return s;
  }
  return TinyHanabiPayoffs(static_cast<int>(num_cards),
                           static_cast<int>(num_actions), std::move(values));
}

const std::vector<double>& TinyHanabiPayoffs::BadValues() {
  // ../shared/spec/EXPERIMENTS.md §3: rows a0, columns a1, per (card0, card1).
  static const std::vector<double>* const values = new std::vector<double>{
      10, 0, 0,  4, 8, 4, 10, 0, 0,   // (0, 0)
      0,  0, 10, 4, 8, 4, 0,  0, 10,  // (0, 1)
      0,  0, 10, 4, 8, 4, 0,  0, 0,   // (1, 0)
      10, 0, 0,  4, 8, 4, 10, 0, 0,   // (1, 1)
  };
  return *values;
}

TinyHanabiPayoffs TinyHanabiPayoffs::Bad() {
  return TinyHanabiPayoffs(2, 3, BadValues());
}

TinyHanabiGame::TinyHanabiGame(TinyHanabiPayoffs payoffs)
    : payoffs_(std::move(payoffs)) {}

absl::Status TinyHanabiGame::Deal(int card0, int card1) {
  for (const int card : {card0, card1}) {
    if (card < 0 || card >= payoffs_.num_cards()) {
      return absl::InvalidArgumentError(
          absl::StrCat("card ", card, " is out of range: cards are 0..",
                       payoffs_.num_cards() - 1));
    }
  }
  cards_ = {card0, card1};
  actions_ = {-1, -1};
  turn_ = 0;
  return absl::OkStatus();
}

void TinyHanabiGame::DealFrom(std::mt19937_64& rng) {
  const uint64_t n = static_cast<uint64_t>(payoffs_.num_cards());
  for (int& card : cards_) card = static_cast<int>(UniformIndex(rng, n));
  actions_ = {-1, -1};
  turn_ = 0;
}

absl::Status TinyHanabiGame::Act(int player, int64_t action) {
  if (player < 0 || player >= kNumPlayers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "player ", player, " does not exist: the players are 0 and 1"));
  }
  if (current_player() == kOver) {
    return absl::InvalidArgumentError(absl::StrCat(
        "player_", player, " acted after the end: both players have acted"));
  }
  if (player != current_player()) {
    return absl::InvalidArgumentError(
        absl::StrCat("player_", player, " acted out of turn: it is player_",
                     current_player(), "'s turn"));
  }
  if (action < 0 || action >= payoffs_.num_actions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "player_", player, "'s action ", action,
        " is out of range: actions are 0..", payoffs_.num_actions() - 1));
  }
  Apply(action);
  return absl::OkStatus();
}

void TinyHanabiGame::Apply(int64_t action) {
  actions_[turn_] = static_cast<int>(action);
  ++turn_;
}

double TinyHanabiGame::payoff() const {
  if (current_player() != kOver) return 0.0;
  return payoffs_(cards_[0], cards_[1], actions_[0], actions_[1]);
}

}  // namespace marl
