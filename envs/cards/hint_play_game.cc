#include "envs/cards/hint_play_game.h"

#include "absl/strings/str_cat.h"
#include "envs/core/random_draws.h"
#include "envs/core/settings.h"

namespace marl {

absl::StatusOr<HintPlayConfig> HintPlayConfig::Create(int64_t num_ranks,
                                                      int64_t num_hints,
                                                      int64_t num_turns,
                                                      double misplay_reward) {
  if (absl::Status s = CheckIntInRange("num_ranks", num_ranks, 1, kMaxCount);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckIntInRange("num_hints", num_hints, 0, kMaxCount);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckIntInRange("num_turns", num_turns, 1, kMaxCount);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckDoubleInRange("misplay_reward", misplay_reward,
                             -kMaxAbsMisplayReward, kMaxAbsMisplayReward);
      !s.ok()) {
    return s;
  }
  HintPlayConfig config;
  config.num_ranks = static_cast<int>(num_ranks);
  config.num_hints = static_cast<int>(num_hints);
  config.num_turns = static_cast<int>(num_turns);
  config.misplay_reward = misplay_reward;
  return config;
}

HintPlayGame::HintPlayGame(const HintPlayConfig& config) : config_(config) {
  actions_.reserve(config_.num_turns);
}

void HintPlayGame::Restart() {
  cards_ = {-1, -1};
  pile_ = 0;
  actions_.clear();
}

absl::Status HintPlayGame::DealCard(int rank) {
  if (current_player() != kChance) {
    return absl::FailedPreconditionError(
        "no card to deal: both players hold one");
  }
  if (rank < 0 || rank >= config_.num_ranks) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", rank, " is out of range: ranks are 0..",
                     config_.num_ranks - 1));
  }
  cards_[cards_[0] < 0 ? 0 : 1] = rank;
  return absl::OkStatus();
}

void HintPlayGame::DealFrom(std::mt19937_64& rng) {
  for (int& card : cards_) {
    if (card < 0) {
      card = static_cast<int>(UniformIndex(rng, config_.num_ranks));
    }
  }
}

absl::StatusOr<double> HintPlayGame::Act(int player, int action) {
  if (player < 0 || player >= kNumPlayers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "player ", player, " does not exist: the players are 0 and 1"));
  }
  const int current = current_player();
  if (current == kChance) {
    return absl::FailedPreconditionError(absl::StrCat(
        "player_", player, " acted before a card was dealt (DealCard)"));
  }
  if (current == kOver) {
    return absl::InvalidArgumentError(
        absl::StrCat("player_", player, " acted after the end of the game"));
  }
  if (player != current) {
    return absl::InvalidArgumentError(
        absl::StrCat("player_", player, " acted out of turn: it is player_",
                     current, "'s turn"));
  }
  if (action < 0 || action >= config_.num_actions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "player_", player, "'s action ", action,
        " is out of range: actions are 0..", config_.num_actions() - 1));
  }
  return Apply(action);
}

double HintPlayGame::Apply(int action) {
  int& card = cards_[turn() % kNumPlayers];
  actions_.push_back(action);
  if (action == kDiscard) card = -1;
  if (action != kPlay) return 0.0;
  const bool fits = card == pile_;
  card = -1;
  if (!fits) return config_.misplay_reward;
  ++pile_;
  return 1.0;
}

int HintPlayGame::current_player() const {
  if (cards_[0] < 0 || cards_[1] < 0) return kChance;
  if (turn() == config_.num_turns || pile_ == config_.num_ranks) return kOver;
  return turn() % kNumPlayers;
}

}  // namespace marl
