#include "envs/cards/tiny_hanabi_game.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

void ExpectError(const absl::Status& status, absl::StatusCode code,
                 const std::string& message) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(status.message(), message);
}

TEST(TinyHanabiPayoffsTest, TheBadTable) {
  const TinyHanabiPayoffs bad = TinyHanabiPayoffs::Bad();
  ASSERT_EQ(bad.num_cards(), 2);
  ASSERT_EQ(bad.num_actions(), 3);
  // Rows a0, columns a1, per (card0, card1), as EXPERIMENTS.md §3 prints
  // them.
  const double table[2][2][3][3] = {
      {{{10, 0, 0}, {4, 8, 4}, {10, 0, 0}},
       {{0, 0, 10}, {4, 8, 4}, {0, 0, 10}}},
      {{{0, 0, 10}, {4, 8, 4}, {0, 0, 0}}, {{10, 0, 0}, {4, 8, 4}, {10, 0, 0}}},
  };
  for (int c0 = 0; c0 < 2; ++c0) {
    for (int c1 = 0; c1 < 2; ++c1) {
      for (int a0 = 0; a0 < 3; ++a0) {
        for (int a1 = 0; a1 < 3; ++a1) {
          EXPECT_EQ(bad(c0, c1, a0, a1), table[c0][c1][a0][a1])
              << c0 << c1 << a0 << a1;
        }
      }
    }
  }
  EXPECT_EQ(bad.values(), TinyHanabiPayoffs::BadValues());
}

TEST(TinyHanabiPayoffsTest, BadTablesGetClearErrors) {
  const std::vector<double> bad = TinyHanabiPayoffs::BadValues();
  ExpectError(TinyHanabiPayoffs::Check(
                  2, 3, std::vector<double>(bad.begin(), bad.end() - 1)),
              absl::StatusCode::kInvalidArgument,
              "payoff has 35 values; num_cards=2 and num_actions=3 need "
              "2*2*3*3 = 36, indexed [card0][card1][a0][a1]");
  // A card count that does not match the table.
  ExpectError(TinyHanabiPayoffs::Check(3, 3, bad),
              absl::StatusCode::kInvalidArgument,
              "payoff has 36 values; num_cards=3 and num_actions=3 need "
              "3*3*3*3 = 81, indexed [card0][card1][a0][a1]");
  ExpectError(TinyHanabiPayoffs::Check(0, 3, {}),
              absl::StatusCode::kInvalidArgument,
              "num_cards must be in [1, 2147483647], got 0");
  ExpectError(TinyHanabiPayoffs::Check(2, -1, bad),
              absl::StatusCode::kInvalidArgument,
              "num_actions must be in [1, 2147483647], got -1");
  ExpectError(TinyHanabiPayoffs::Check(int64_t{1} << 31, 3, bad),
              absl::StatusCode::kInvalidArgument,
              "num_cards must be in [1, 2147483647], got 2147483648");
  std::vector<double> nan = bad;
  nan[7] = std::nan("");
  ExpectError(TinyHanabiPayoffs::Check(2, 3, nan),
              absl::StatusCode::kInvalidArgument,
              "payoff entry 7 is not finite: nan");
  // Counts whose table no memory holds: refused before the length.
  const absl::Status huge = TinyHanabiPayoffs::Check(2147483647, 3, bad);
  EXPECT_EQ(huge.code(), absl::StatusCode::kResourceExhausted) << huge;
  EXPECT_NE(huge.message().find("num_cards=2147483647 and num_actions=3"),
            std::string::npos);
  EXPECT_EQ(
      TinyHanabiPayoffs::TableSize(2147483647, 2147483647).status().code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*TinyHanabiPayoffs::TableSize(1000, 30), 900000000);
  EXPECT_FALSE(TinyHanabiPayoffs::Create(2, 2, bad).ok());
  EXPECT_TRUE(TinyHanabiPayoffs::Create(2, 3, bad).ok());
}

TEST(TinyHanabiGameTest, PlayerZeroThenPlayerOneThenOver) {
  TinyHanabiGame game(TinyHanabiPayoffs::Bad());
  ASSERT_TRUE(game.Deal(1, 0).ok());
  EXPECT_EQ(game.card(0), 1);
  EXPECT_EQ(game.card(1), 0);
  EXPECT_EQ(game.current_player(), 0);
  EXPECT_EQ(game.action(0), -1);
  EXPECT_EQ(game.payoff(), 0.0);
  ASSERT_TRUE(game.Act(0, 0).ok());
  EXPECT_EQ(game.current_player(), 1);
  EXPECT_EQ(game.action(0), 0);
  EXPECT_EQ(game.action(1), -1);
  EXPECT_EQ(game.payoff(), 0.0);  // not over yet
  ASSERT_TRUE(game.Act(1, 2).ok());
  EXPECT_EQ(game.current_player(), TinyHanabiGame::kOver);
  EXPECT_EQ(game.action(1), 2);
  EXPECT_EQ(game.payoff(), 10.0);  // (1, 0): row 0 is [0, 0, 10]
  // A new deal starts over.
  ASSERT_TRUE(game.Deal(0, 0).ok());
  EXPECT_EQ(game.current_player(), 0);
  EXPECT_EQ(game.action(0), -1);
  EXPECT_EQ(game.payoff(), 0.0);
}

TEST(TinyHanabiGameTest, AnOutOfTurnActionGetsAClearError) {
  TinyHanabiGame game(TinyHanabiPayoffs::Bad());
  ASSERT_TRUE(game.Deal(0, 1).ok());
  ExpectError(game.Act(1, 0), absl::StatusCode::kInvalidArgument,
              "player_1 acted out of turn: it is player_0's turn");
  ExpectError(game.Act(0, 3), absl::StatusCode::kInvalidArgument,
              "player_0's action 3 is out of range: actions are 0..2");
  ExpectError(game.Act(0, -1), absl::StatusCode::kInvalidArgument,
              "player_0's action -1 is out of range: actions are 0..2");
  ExpectError(game.Act(2, 0), absl::StatusCode::kInvalidArgument,
              "player 2 does not exist: the players are 0 and 1");
  // The refused actions changed nothing.
  EXPECT_EQ(game.current_player(), 0);
  EXPECT_EQ(game.action(0), -1);
  ASSERT_TRUE(game.Act(0, 1).ok());
  ExpectError(game.Act(0, 1), absl::StatusCode::kInvalidArgument,
              "player_0 acted out of turn: it is player_1's turn");
  ASSERT_TRUE(game.Act(1, 1).ok());
  ExpectError(game.Act(0, 1), absl::StatusCode::kInvalidArgument,
              "player_0 acted after the end: both players have acted");
  ExpectError(game.Act(1, 1), absl::StatusCode::kInvalidArgument,
              "player_1 acted after the end: both players have acted");
  EXPECT_EQ(game.payoff(), 8.0);
}

TEST(TinyHanabiGameTest, DealChecksTheCards) {
  TinyHanabiGame game(TinyHanabiPayoffs::Bad());
  ExpectError(game.Deal(2, 0), absl::StatusCode::kInvalidArgument,
              "card 2 is out of range: cards are 0..1");
  ExpectError(game.Deal(0, -1), absl::StatusCode::kInvalidArgument,
              "card -1 is out of range: cards are 0..1");
}

TEST(TinyHanabiGameTest, DealFromDrawsEveryPairFromTheStream) {
  absl::StatusOr<TinyHanabiPayoffs> payoffs =
      TinyHanabiPayoffs::Create(3, 1, std::vector<double>(9, 0.0));
  ASSERT_TRUE(payoffs.ok());
  TinyHanabiGame game(*payoffs);
  std::mt19937_64 rng(5), same(5);
  TinyHanabiGame twin(*payoffs);
  int seen[3][3] = {};
  for (int deal = 0; deal < 200; ++deal) {
    game.DealFrom(rng);
    twin.DealFrom(same);
    EXPECT_EQ(game.card(0), twin.card(0));
    EXPECT_EQ(game.card(1), twin.card(1));
    EXPECT_EQ(game.current_player(), 0);
    ++seen[game.card(0)][game.card(1)];
  }
  for (int c0 = 0; c0 < 3; ++c0) {
    for (int c1 = 0; c1 < 3; ++c1) EXPECT_GT(seen[c0][c1], 0) << c0 << c1;
  }
}

}  // namespace
}  // namespace marl
