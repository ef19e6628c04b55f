#include "envs/cards/hint_play_game.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

constexpr int kPlay = HintPlayGame::kPlay;
constexpr int kDiscard = HintPlayGame::kDiscard;
constexpr int kHint0 = HintPlayGame::kFirstHint;

void ExpectError(const absl::Status& status, absl::StatusCode code,
                 const std::string& message) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(status.message(), message);
}

HintPlayConfig Config(int ranks, int hints, int turns, double misplay = -1) {
  absl::StatusOr<HintPlayConfig> config =
      HintPlayConfig::Create(ranks, hints, turns, misplay);
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// A game with the first two cards dealt.
HintPlayGame Dealt(const HintPlayConfig& config, int card0, int card1) {
  HintPlayGame game(config);
  EXPECT_TRUE(game.DealCard(card0).ok());
  EXPECT_TRUE(game.DealCard(card1).ok());
  return game;
}

double Act(HintPlayGame& game, int player, int action) {
  absl::StatusOr<double> reward = game.Act(player, action);
  EXPECT_TRUE(reward.ok()) << reward.status();
  return reward.ok() ? *reward : std::nan("");
}

TEST(HintPlayConfigTest, BadValuesGetClearErrors) {
  const HintPlayConfig config = Config(3, 2, 8);
  EXPECT_EQ(config.num_actions(), 4);
  ExpectError(HintPlayConfig::Create(0, 2, 8, -1).status(),
              absl::StatusCode::kInvalidArgument,
              "num_ranks must be in [1, 1048576], got 0");
  ExpectError(HintPlayConfig::Create(3, -1, 8, -1).status(),
              absl::StatusCode::kInvalidArgument,
              "num_hints must be in [0, 1048576], got -1");
  ExpectError(HintPlayConfig::Create(3, 2, 0, -1).status(),
              absl::StatusCode::kInvalidArgument,
              "num_turns must be in [1, 1048576], got 0");
  EXPECT_EQ(HintPlayConfig::Create(int64_t{1} << 21, 2, 8, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const double misplay : {std::nan(""), 2e6, -2e6}) {
    const absl::Status s = HintPlayConfig::Create(3, 2, 8, misplay).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << misplay;
    EXPECT_NE(s.message().find("misplay_reward must be in [-1e+06, 1e+06]"),
              std::string::npos)
        << s;
  }
  EXPECT_TRUE(HintPlayConfig::Create(1, 0, 1, 0).ok());
}

TEST(HintPlayGameTest, CardsAreDealtBeforeAnyTurn) {
  HintPlayGame game(Config(3, 2, 8));
  EXPECT_EQ(game.current_player(), HintPlayGame::kChance);
  EXPECT_EQ(game.card(0), -1);
  ExpectError(game.Act(0, kPlay).status(),
              absl::StatusCode::kFailedPrecondition,
              "player_0 acted before a card was dealt (DealCard)");
  ExpectError(game.DealCard(3), absl::StatusCode::kInvalidArgument,
              "rank 3 is out of range: ranks are 0..2");
  ASSERT_TRUE(game.DealCard(2).ok());  // player_0's
  EXPECT_EQ(game.current_player(), HintPlayGame::kChance);
  ASSERT_TRUE(game.DealCard(0).ok());  // player_1's
  EXPECT_EQ(game.card(0), 2);
  EXPECT_EQ(game.card(1), 0);
  EXPECT_EQ(game.current_player(), 0);
  EXPECT_EQ(game.turn(), 0);
  EXPECT_EQ(game.pile(), 0);
  ExpectError(game.DealCard(1), absl::StatusCode::kFailedPrecondition,
              "no card to deal: both players hold one");
}

TEST(HintPlayGameTest, PlaysMisplaysDiscardsAndHints) {
  HintPlayGame game = Dealt(Config(3, 2, 8, -0.5), 0, 2);
  // player_0's 0 fits the empty pile; its hand is refilled before the next
  // turn.
  EXPECT_EQ(Act(game, 0, kPlay), 1.0);
  EXPECT_EQ(game.pile(), 1);
  EXPECT_EQ(game.card(0), -1);
  EXPECT_EQ(game.current_player(), HintPlayGame::kChance);
  ExpectError(game.Act(1, kPlay).status(),
              absl::StatusCode::kFailedPrecondition,
              "player_1 acted before a card was dealt (DealCard)");
  ASSERT_TRUE(game.DealCard(1).ok());
  EXPECT_EQ(game.card(0), 1);
  EXPECT_EQ(game.current_player(), 1);
  // player_1's 2 does not fit a pile of height 1: lost, replaced.
  EXPECT_EQ(Act(game, 1, kPlay), -0.5);
  EXPECT_EQ(game.pile(), 1);
  EXPECT_EQ(game.card(1), -1);
  ASSERT_TRUE(game.DealCard(2).ok());
  // A hint changes nothing but the turn.
  EXPECT_EQ(Act(game, 0, kHint0 + 1), 0.0);
  EXPECT_EQ(game.card(0), 1);
  EXPECT_EQ(game.current_player(), 1);
  // A discard only replaces the card.
  EXPECT_EQ(Act(game, 1, kDiscard), 0.0);
  EXPECT_EQ(game.card(1), -1);
  EXPECT_EQ(game.pile(), 1);
  ASSERT_TRUE(game.DealCard(1).ok());
  EXPECT_EQ(Act(game, 0, kPlay), 1.0);  // player_0's 1 fits
  EXPECT_EQ(game.pile(), 2);
  EXPECT_EQ(game.turn(), 5);
  EXPECT_EQ(game.actions(),
            (std::vector<int>{kPlay, kPlay, kHint0 + 1, kDiscard, kPlay}));
}

TEST(HintPlayGameTest, ActionsOutOfTurnOrRangeGetClearErrors) {
  HintPlayGame game = Dealt(Config(3, 2, 8), 1, 1);
  ExpectError(game.Act(1, kPlay).status(), absl::StatusCode::kInvalidArgument,
              "player_1 acted out of turn: it is player_0's turn");
  ExpectError(game.Act(0, 4).status(), absl::StatusCode::kInvalidArgument,
              "player_0's action 4 is out of range: actions are 0..3");
  ExpectError(game.Act(0, -1).status(), absl::StatusCode::kInvalidArgument,
              "player_0's action -1 is out of range: actions are 0..3");
  ExpectError(game.Act(-1, kPlay).status(), absl::StatusCode::kInvalidArgument,
              "player -1 does not exist: the players are 0 and 1");
  EXPECT_EQ(game.turn(), 0);  // nothing happened
  EXPECT_EQ(Act(game, 0, kHint0), 0.0);
  ExpectError(game.Act(0, kHint0).status(), absl::StatusCode::kInvalidArgument,
              "player_0 acted out of turn: it is player_1's turn");
}

TEST(HintPlayGameTest, TheGameEndsAfterItsTurns) {
  HintPlayGame game = Dealt(Config(3, 1, 3), 2, 2);
  EXPECT_EQ(Act(game, 0, kHint0), 0.0);
  EXPECT_EQ(Act(game, 1, kHint0), 0.0);
  EXPECT_EQ(game.current_player(), 0);
  // The last turn's discarded card is replaced too; then the game is over.
  EXPECT_EQ(Act(game, 0, kDiscard), 0.0);
  EXPECT_EQ(game.current_player(), HintPlayGame::kChance);
  ASSERT_TRUE(game.DealCard(0).ok());
  EXPECT_EQ(game.current_player(), HintPlayGame::kOver);
  ExpectError(game.Act(1, kHint0).status(), absl::StatusCode::kInvalidArgument,
              "player_1 acted after the end of the game");
  game.Restart();
  EXPECT_EQ(game.current_player(), HintPlayGame::kChance);
  EXPECT_EQ(game.turn(), 0);
  EXPECT_TRUE(game.actions().empty());
}

TEST(HintPlayGameTest, TheGameEndsWithAFullPile) {
  HintPlayGame game = Dealt(Config(2, 0, 10), 0, 1);
  EXPECT_EQ(Act(game, 0, kPlay), 1.0);
  ASSERT_TRUE(game.DealCard(0).ok());
  EXPECT_EQ(Act(game, 1, kPlay), 1.0);
  ASSERT_TRUE(game.DealCard(0).ok());
  EXPECT_EQ(game.pile(), 2);
  EXPECT_EQ(game.current_player(), HintPlayGame::kOver);
}

TEST(HintPlayGameTest, DealFromFillsTheEmptyHandsFromTheStream) {
  const HintPlayConfig config = Config(3, 2, 8);
  HintPlayGame game(config), twin(config);
  std::mt19937_64 rng(3), same(3);
  int seen[3] = {};
  for (int round = 0; round < 100; ++round) {
    game.Restart();
    twin.Restart();
    game.DealFrom(rng);
    twin.DealFrom(same);
    ASSERT_EQ(game.current_player(), 0);
    EXPECT_EQ(game.card(0), twin.card(0));
    EXPECT_EQ(game.card(1), twin.card(1));
    ++seen[game.card(0)];
    // Only the player who played draws.
    const int kept = game.card(1);
    game.Apply(kPlay);
    game.DealFrom(rng);
    twin.Apply(kPlay);
    twin.DealFrom(same);
    EXPECT_EQ(game.card(1), kept);
    EXPECT_EQ(game.card(0), twin.card(0));
    ASSERT_EQ(game.current_player(), 1);
  }
  for (const int count : seen) EXPECT_GT(count, 0);
}

}  // namespace
}  // namespace marl
