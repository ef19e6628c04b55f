#include "envs/cards/tiny_hanabi_optimum.h"

#include <random>
#include <vector>

#include "absl/status/status.h"
#include "envs/cards/tiny_hanabi_game.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

TinyHanabiPayoffs Table(int cards, int actions, std::vector<double> values) {
  absl::StatusOr<TinyHanabiPayoffs> payoffs =
      TinyHanabiPayoffs::Create(cards, actions, std::move(values));
  EXPECT_TRUE(payoffs.ok()) << payoffs.status();
  return *std::move(payoffs);
}

double PolicyValue(const TinyHanabiPayoffs& payoffs,
                   const std::vector<int>& policy0,
                   const std::vector<int>& policy1) {
  absl::StatusOr<double> value =
      TinyHanabiPolicyValue(payoffs, policy0, policy1);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : 0.0;
}

// The next policy in lexicographic order; false after the last.
bool Next(std::vector<int>& policy, int actions) {
  for (int k = static_cast<int>(policy.size()) - 1; k >= 0; --k) {
    if (++policy[k] < actions) return true;
    policy[k] = 0;
  }
  return false;
}

TEST(TinyHanabiOptimumTest, TheBadGameIsWorthTen) {
  const TinyHanabiPayoffs bad = TinyHanabiPayoffs::Bad();
  absl::StatusOr<TinyHanabiSolution> solution = SolveTinyHanabi(bad);
  ASSERT_TRUE(solution.ok()) << solution.status();
  EXPECT_EQ(solution->value, 10.0);
  // player_0 signals its card: card 0 -> action 2, card 1 -> action 0 (the
  // only optimal policy0); player_1 reads it.
  EXPECT_EQ(solution->policy0, (std::vector<int>{2, 0}));
  //                       card1 = 0: a0 = 0, 1, 2; card1 = 1: a0 = 0, 1, 2
  EXPECT_EQ(solution->policy1, (std::vector<int>{2, 0, 0, 0, 0, 2}));
  EXPECT_EQ(PolicyValue(bad, solution->policy0, solution->policy1), 10.0);
  // Without a signal the middle action's 8 is the best.
  EXPECT_EQ(solution->no_communication_value, 8.0);
  // Knowing both cards reaches each deal's best cell: here 10 every time.
  EXPECT_EQ(solution->full_information_value, 10.0);
}

TEST(TinyHanabiOptimumTest, AlwaysTheMiddleScoresEight) {
  const TinyHanabiPayoffs bad = TinyHanabiPayoffs::Bad();
  EXPECT_EQ(PolicyValue(bad, {1, 1}, std::vector<int>(6, 1)), 8.0);
  // player_1 best-responding to always-middle gains nothing.
  EXPECT_EQ(PolicyValue(bad, {1, 1}, {0, 1, 0, 0, 1, 0}), 8.0);
  // The signal read the wrong way round scores nothing.
  EXPECT_EQ(PolicyValue(bad, {2, 0}, {0, 0, 2, 2, 0, 0}), 0.0);
}

// Guess my card: player_1 earns 1 for naming card0 (a1 == card0), and
// player_0 pays 0.5 for action 1. Signalling (a0 = card0) costs 0.5 half
// the time: 1 - 0.25 = 0.75; without it player_1 guesses: 0.5.
TEST(TinyHanabiOptimumTest, ASignalThatCosts) {
  std::vector<double> values;
  for (int c0 = 0; c0 < 2; ++c0) {
    for (int c1 = 0; c1 < 2; ++c1) {
      for (int a0 = 0; a0 < 2; ++a0) {
        for (int a1 = 0; a1 < 2; ++a1) {
          values.push_back((a1 == c0 ? 1.0 : 0.0) - (a0 == 1 ? 0.5 : 0.0));
        }
      }
    }
  }
  const TinyHanabiPayoffs guess = Table(2, 2, values);
  absl::StatusOr<TinyHanabiSolution> solution = SolveTinyHanabi(guess);
  ASSERT_TRUE(solution.ok()) << solution.status();
  EXPECT_DOUBLE_EQ(solution->value, 0.75);
  EXPECT_EQ(solution->policy0, (std::vector<int>{0, 1}));
  EXPECT_EQ(solution->policy1, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(solution->no_communication_value, 0.5);
  // Knowing card0, player_1 names it and player_0 never pays: 1.
  EXPECT_DOUBLE_EQ(solution->full_information_value, 1.0);
}

TEST(TinyHanabiOptimumTest, OneCardIsTheBestEntry) {
  absl::StatusOr<TinyHanabiSolution> solution =
      SolveTinyHanabi(Table(1, 3, {1, -2, 3, 7, 0, -1, 2, 2, 6}));
  ASSERT_TRUE(solution.ok());
  EXPECT_EQ(solution->value, 7.0);
  EXPECT_EQ(solution->no_communication_value, 7.0);
  EXPECT_EQ(solution->policy0, (std::vector<int>{1}));
}

// Against every deterministic joint policy of random small tables.
TEST(TinyHanabiOptimumTest, NoJointPolicyBeatsTheSolution) {
  std::mt19937_64 rng(11);
  for (int cards = 1; cards <= 3; ++cards) {
    for (int actions = 1; actions <= 3; ++actions) {
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<double> values(cards * cards * actions * actions);
        for (double& v : values) v = static_cast<double>(rng() % 11) - 5;
        const TinyHanabiPayoffs payoffs = Table(cards, actions, values);
        absl::StatusOr<TinyHanabiSolution> solution = SolveTinyHanabi(payoffs);
        ASSERT_TRUE(solution.ok());
        double best = -1e9, best_blind = -1e9;
        std::vector<int> policy0(cards, 0);
        do {
          bool blind = true;
          for (int a : policy0) blind = blind && a == policy0[0];
          std::vector<int> policy1(cards * actions, 0);
          do {
            const double value = PolicyValue(payoffs, policy0, policy1);
            best = std::max(best, value);
            if (blind) best_blind = std::max(best_blind, value);
          } while (Next(policy1, actions));
        } while (Next(policy0, actions));
        EXPECT_NEAR(solution->value, best, 1e-12) << cards << actions;
        EXPECT_NEAR(solution->no_communication_value, best_blind, 1e-12);
        EXPECT_GE(solution->full_information_value, best - 1e-12);
        EXPECT_NEAR(PolicyValue(payoffs, solution->policy0, solution->policy1),
                    best, 1e-12);
      }
    }
  }
}

TEST(TinyHanabiOptimumTest, RefusesWhatItCannotEnumerate) {
  // 2^24 policies for player_0.
  const TinyHanabiPayoffs big = Table(24, 2, std::vector<double>(2304, 1.0));
  const absl::Status refused = SolveTinyHanabi(big).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find("1.67772e+07 player_0 policies"),
            std::string::npos)
      << refused;
  // 5^10 = 9.8e6 policies, but 2.4e9 steps of work.
  EXPECT_EQ(SolveTinyHanabi(Table(10, 5, std::vector<double>(2500, 0.0)))
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(TinyHanabiOptimumTest, PolicyValueChecksThePolicies) {
  const TinyHanabiPayoffs bad = TinyHanabiPayoffs::Bad();
  EXPECT_EQ(
      TinyHanabiPolicyValue(bad, {0}, std::vector<int>(6, 0)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TinyHanabiPolicyValue(bad, {0, 0}, std::vector<int>(5, 0))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TinyHanabiPolicyValue(bad, {0, 3}, std::vector<int>(6, 0))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
