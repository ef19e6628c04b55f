#include "agents/stackelberg/memory_one_solver.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "envs/core/registry.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

MemoryOneGame Game(const std::string& preset, int length = 10,
                   double offset = 0.0) {
  absl::StatusOr<PayoffMatrices> payoffs = FindMatrixGamePreset(preset);
  EXPECT_TRUE(payoffs.ok()) << payoffs.status();
  MemoryOneGame game;
  game.payoffs = *payoffs;
  game.episode_length = length;
  game.reward_offset = offset;
  return game;
}

MemoryOneGame Table(std::vector<double> row, std::vector<double> column,
                    int length) {
  MemoryOneGame game;
  game.payoffs.rows = game.payoffs.cols = 2;
  game.payoffs.row_payoffs = std::move(row);
  game.payoffs.column_payoffs = std::move(column);
  game.episode_length = length;
  return game;
}

MemoryOneStackelberg Solve(const MemoryOneGame& game) {
  absl::StatusOr<MemoryOneStackelberg> solution =
      SolveMemoryOneStackelberg(game);
  EXPECT_TRUE(solution.ok()) << solution.status();
  return *std::move(solution);
}

// One step: the leader commits to an action, the follower best-responds.
// Battle of the sexes (leader prefers 0): committing to 0 earns 3.
TEST(MemoryOneSolverTest, OneShotGamesByHand) {
  const MemoryOneStackelberg battle = Solve(Game("battle_of_the_sexes", 1));
  EXPECT_EQ(battle.value, 3.0);
  EXPECT_EQ(battle.weak_value, 3.0);
  EXPECT_EQ(battle.leader[0], 0);
  EXPECT_EQ(battle.follower[0], 0);
  EXPECT_EQ(battle.follower_return, 2.0);

  // A follower indifferent to everything: the strong value is the
  // leader's best cell, the weak one its best worst case (0 here).
  const MemoryOneStackelberg indifferent =
      Solve(Table({1, 0, 0, 0}, {0, 0, 0, 0}, 1));
  EXPECT_EQ(indifferent.value, 1.0);
  EXPECT_EQ(indifferent.weak_value, 0.0);
  // Every follower policy (2^5) best-responds.
  EXPECT_EQ(indifferent.best_responses, 32);
}

// Twice the prisoner's dilemma (0 cooperate; R3 S0 T5 P1): the follower
// defects on the last step whatever happens, so the leader can only buy
// its cooperation on the first: defect first, then cooperate after the
// follower cooperated and defect after it defected. Cooperating first
// earns the follower 0 + 5, defecting 1 + 1; the leader gets 5 + 0.
// Starting with mutual cooperation gives the leader at most 3 + 1.
TEST(MemoryOneSolverTest, TwoStepPrisonersDilemmaByHand) {
  // Row player's R3 S0 T5 P1, symmetric.
  const MemoryOneStackelberg pd = Solve(Game("prisoners_dilemma", 2));
  EXPECT_EQ(pd.value, 5.0);
  EXPECT_EQ(pd.follower_return, 5.0);
  EXPECT_EQ(pd.leader[0], 1);
  EXPECT_EQ(pd.follower[0], 0);
  // After (D, C) (state 1 + 1 + 2 * 0 = 2) the leader cooperates and the
  // follower defects.
  EXPECT_EQ(pd.leader[2], 0);
  EXPECT_EQ(pd.follower[2], 1);
}

// The value is never below committing to one action for ever (the
// one-shot Stackelberg value each step), and the strong value is never
// below the weak one; the returned pair earns what it claims.
TEST(MemoryOneSolverTest, BoundsAndTheReturnedPairOnTheTwelveGames) {
  const std::string games[] = {
      "pd",      "stag_hunt",  "assurance", "coordination",      "mixedharmony",
      "harmony", "noconflict", "deadlock",  "prisoners_delight", "hero",
      "battle",  "chicken"};
  for (const std::string& name : games) {
    const MemoryOneGame game = Game("stackelberg_" + name, 10, -2.5);
    const MemoryOneStackelberg solution = Solve(game);
    const PayoffMatrices& p = game.payoffs;
    double committed = -1e9;
    for (int a0 = 0; a0 < 2; ++a0) {
      const int reply = p.ColumnPayoff(a0, 0) >= p.ColumnPayoff(a0, 1) ? 0 : 1;
      // Ties aside (the twelve games have none for a fixed leader action).
      ASSERT_NE(p.ColumnPayoff(a0, 0), p.ColumnPayoff(a0, 1)) << name;
      committed = std::max(committed, 10 * (p.RowPayoff(a0, reply) - 2.5));
    }
    EXPECT_GE(solution.value, committed) << name;
    EXPECT_GE(solution.value, solution.weak_value) << name;
    EXPECT_LE(solution.value, 10 * (4 - 2.5)) << name;
    absl::StatusOr<MemoryOneReturns> played =
        PlayMemoryOne(game, solution.leader, solution.follower);
    ASSERT_TRUE(played.ok());
    EXPECT_DOUBLE_EQ(played->leader, solution.value) << name;
    EXPECT_DOUBLE_EQ(played->follower, solution.follower_return) << name;
  }
}

// The solver numbers memory states as the environment does: the returned
// policies, played through iterated_matrix_game, earn the solver's returns.
TEST(MemoryOneSolverTest, MatchesTheEnvironment) {
  const MemoryOneGame game = Game("stackelberg_pd", 10, -2.5);
  const MemoryOneStackelberg solution = Solve(game);
  absl::StatusOr<std::unique_ptr<Env>> env = EnvRegistry::Global().Make(
      "iterated_matrix_game",
      {{"game", std::string("stackelberg_pd")}, {"reward_offset", -2.5}});
  ASSERT_TRUE(env.ok()) << env.status();
  EnvDriver driver(env->get());
  driver.Reset();
  double leader = 0, follower = 0;
  for (int t = 0; t < 10; ++t) {
    const int state = static_cast<int>(driver.observation(0)[0]);
    ASSERT_EQ(driver.observation(1)[0], state);
    driver.StepDiscrete({solution.leader[state], solution.follower[state]});
    leader += driver.reward(0);
    follower += driver.reward(1);
  }
  EXPECT_DOUBLE_EQ(leader, solution.value);
  EXPECT_DOUBLE_EQ(follower, solution.follower_return);
}

// One leader's responses: tit-for-tat in the 10-step prisoner's dilemma
// (0 cooperate): cooperating throughout earns the follower 30, the most
// a stationary memory-one follower can get; its unique best response
// among the followers that matter, so strong and weak agree.
TEST(MemoryOneSolverTest, RespondsToTitForTat) {
  const MemoryOneGame game = Game("prisoners_dilemma");
  // States: 0 start, 1 + a0 + 2 a1: 1 CC, 2 DC, 3 CD, 4 DD.
  const MemoryOnePolicy tit_for_tat = {0, 0, 0, 1, 1};
  absl::StatusOr<MemoryOneResponse> response =
      RespondToMemoryOneLeader(game, tit_for_tat);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->follower_best, 30.0);
  EXPECT_EQ(response->leader_strong, 30.0);
  EXPECT_EQ(response->leader_weak, 30.0);
  const MemoryOnePolicy follower =
      MemoryOneFollower(game, response->strong_follower);
  EXPECT_EQ(follower[0], 0);
  EXPECT_EQ(follower[1], 0);
  // Off the path (states 2-4) anything goes: 2^3 best responses.
  EXPECT_EQ(response->best_responses, 8);
  EXPECT_FALSE(RespondToMemoryOneLeader(game, {0, 0, 0}).ok());

  // A discounting follower: 3 (1 + 0.5 + ... + 0.5^9) for cooperating
  // throughout; the leader's return stays undiscounted.
  MemoryOneGame discounted = game;
  discounted.follower_discount = 0.5;
  absl::StatusOr<MemoryOneReturns> played =
      PlayMemoryOne(discounted, tit_for_tat, follower);
  ASSERT_TRUE(played.ok());
  EXPECT_DOUBLE_EQ(played->follower, 3 * (1 - std::pow(0.5, 10)) / 0.5);
  EXPECT_EQ(played->leader, 30.0);
  discounted.follower_discount = 1.5;
  EXPECT_FALSE(PlayMemoryOne(discounted, tit_for_tat, follower).ok());
}

// A follower with a clock, against brute force: every follower policy of
// (step, state) played out, for every leader, on three games and a short
// horizon (2^15 follower policies).
TEST(MemoryOneSolverTest, ClockResponsesMatchEveryTimedFollower) {
  for (const std::string& name :
       {"stackelberg_pd", "stackelberg_battle", "stackelberg_chicken"}) {
    MemoryOneGame game = Game(name, 3, -2.5);
    game.follower_clock = true;
    game.follower_discount = 0.9;
    const int steps = game.episode_length;
    std::vector<int> table(static_cast<size_t>(steps * 5));
    for (int l = 0; l < 32; ++l) {
      const MemoryOnePolicy leader = MemoryOneLeader(game, l);
      ASSERT_EQ(leader[4], (l >> 4) & 1);
      absl::StatusOr<MemoryOneResponse> response =
          RespondToMemoryOneLeader(game, leader);
      ASSERT_TRUE(response.ok()) << response.status();
      double best = -1e9, strong = -1e9, weak = 1e9;
      for (int f = 0; f < (1 << (steps * 5)); ++f) {
        for (int i = 0; i < steps * 5; ++i) table[i] = (f >> i) & 1;
        absl::StatusOr<MemoryOneReturns> r = PlayMemoryOne(
            game, leader, [&](int t, int64_t s) { return table[t * 5 + s]; });
        ASSERT_TRUE(r.ok());
        if (r->follower > best + 1e-9) {
          best = r->follower;
          strong = weak = r->leader;
        } else if (r->follower > best - 1e-9) {
          strong = std::max(strong, r->leader);
          weak = std::min(weak, r->leader);
        }
      }
      EXPECT_NEAR(response->follower_best, best, 1e-9) << name << " " << l;
      EXPECT_NEAR(response->leader_strong, strong, 1e-9) << name << " " << l;
      EXPECT_NEAR(response->leader_weak, weak, 1e-9) << name << " " << l;
      // The strong play is one of them.
      absl::StatusOr<MemoryOneReturns> played = PlayMemoryOne(
          game, leader,
          [&](int t, int64_t) { return response->follower_play[t]; });
      ASSERT_TRUE(played.ok());
      EXPECT_NEAR(played->follower, best, 1e-9);
      EXPECT_NEAR(played->leader, strong, 1e-9);
    }
  }
}

// The clock changes the answer: in the 10-step prisoner's dilemma a
// follower that sees the last step defects there whatever the leader does,
// so the leader's best falls from 6 to 4 (cooperation for nine steps, then
// the sucker's payoff); an indifferent follower's every play is optimal.
TEST(MemoryOneSolverTest, AClockFollowerDefectsAtTheEnd) {
  MemoryOneGame game = Game("stackelberg_pd", 10, -2.5);
  game.follower_discount = 0.9;
  EXPECT_EQ(Solve(game).value, 6.0);
  game.follower_clock = true;
  const MemoryOneStackelberg solution = Solve(game);
  EXPECT_DOUBLE_EQ(solution.value, 4.0);
  ASSERT_EQ(solution.follower_play.size(), 10u);
  EXPECT_EQ(solution.follower_play[9], 1);
  EXPECT_TRUE(solution.follower.empty());

  MemoryOneGame indifferent = Table({1, 2, 3, 4}, {0, 0, 0, 0}, 6);
  indifferent.follower_clock = true;
  const MemoryOneStackelberg any = Solve(indifferent);
  EXPECT_EQ(any.best_responses, 64);  // 2^6 plays
  EXPECT_EQ(any.value, 6 * 4.0);
  EXPECT_EQ(any.weak_value, 6 * 3.0);  // leader 1 against column 0
}

TEST(MemoryOneSolverTest, RefusesBadGamesAndPolicies) {
  MemoryOneGame game = Game("stackelberg_pd");
  game.episode_length = 0;
  EXPECT_EQ(SolveMemoryOneStackelberg(game).status().code(),
            absl::StatusCode::kInvalidArgument);
  // 3x3: 3^10 leaders x 3^10 followers.
  EXPECT_EQ(SolveMemoryOneStackelberg(Game("climbing")).status().code(),
            absl::StatusCode::kResourceExhausted);
  game = Game("stackelberg_pd");
  EXPECT_FALSE(PlayMemoryOne(game, {0, 0, 0, 0}, {0, 0, 0, 0, 0}).ok());
  EXPECT_FALSE(PlayMemoryOne(game, {0, 0, 0, 0, 2}, {0, 0, 0, 0, 0}).ok());
  EXPECT_FALSE(PlayMemoryOne(game, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 2}).ok());
  // A rule's actions are checked as they come.
  EXPECT_FALSE(PlayMemoryOne(game, {0, 0, 0, 0, 0}, [](int t, int64_t) {
                 return t == 3 ? -1 : 0;
               }).ok());
  // With a clock the solver's work is linear in the steps.
  MemoryOneGame climbing = Game("climbing");
  climbing.follower_clock = true;
  EXPECT_TRUE(SolveMemoryOneStackelberg(climbing).ok());
}

}  // namespace
}  // namespace marl
