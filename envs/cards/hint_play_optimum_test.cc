#include "envs/cards/hint_play_optimum.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "envs/cards/hint_play_game.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using Belief = HintPlaySolver::Belief;

HintPlayConfig Config(int ranks, int hints, int turns, double misplay = -1) {
  absl::StatusOr<HintPlayConfig> config =
      HintPlayConfig::Create(ranks, hints, turns, misplay);
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

HintPlaySolver Solve(const HintPlayConfig& config) {
  absl::StatusOr<HintPlaySolver> solver = HintPlaySolver::Create(config);
  EXPECT_TRUE(solver.ok()) << solver.status();
  return *std::move(solver);
}

TEST(HintPlayOptimumTest, TheDefaultGame) {
  const HintPlaySolver solver = Solve(HintPlayConfig());
  // Exact fractions (the same dynamic programme in rational arithmetic).
  EXPECT_NEAR(solver.value(), 4588.0 / 2187.0, 1e-12);
  // A blind play fits one time in three and costs 1 otherwise: never worth
  // it, so without communication nothing is scored.
  EXPECT_EQ(solver.no_communication_value(), 0.0);
}

// Two ranks, no hints, two turns. player_0 sees player_1's card: on a 0 it
// discards (telling player_1 to play: 1); on a 1 it plays blind, which
// fits half the time (1, and player_1's 1 then fits too: 2) or fails (-1,
// and player_1 knows to hold its 1): (1 + (2 - 1) / 2) / 2 = 0.75.
TEST(HintPlayOptimumTest, AGameSolvedByHand) {
  const HintPlaySolver solver = Solve(Config(2, 0, 2));
  EXPECT_DOUBLE_EQ(solver.value(), 0.75);
  const Belief start = solver.Start();
  EXPECT_EQ(solver.Prescription(start),
            (std::vector<int>{HintPlayGame::kDiscard, HintPlayGame::kPlay}));
  // One rank: the first play fills the pile.
  EXPECT_DOUBLE_EQ(Solve(Config(1, 0, 5)).value(), 1.0);
  EXPECT_DOUBLE_EQ(Solve(Config(1, 0, 5)).no_communication_value(), 1.0);
  // One turn: only a blind play, worth (1 - 2) / 3 < 0.
  EXPECT_EQ(Solve(Config(3, 4, 1)).value(), 0.0);
}

// Knowing one's own card: in the game solved by hand above, player_0
// plays a 0 (then player_1 plays a 1: 2, or holds a 0: 1) and discards a 1
// (then player_1 plays a 0: 1, or holds a 1: 0): (1 + 2 + 1 + 0) / 4 = 1.
// The bound is never below the decentralised optimum.
TEST(HintPlayOptimumTest, TheFullInformationBound) {
  EXPECT_DOUBLE_EQ(Solve(Config(2, 0, 2)).full_information_value(), 1.0);
  EXPECT_DOUBLE_EQ(Solve(Config(1, 0, 5)).full_information_value(), 1.0);
  for (int hints = 0; hints < 3; ++hints) {
    for (int turns = 1; turns <= 8; ++turns) {
      const HintPlaySolver solver = Solve(Config(3, hints, turns));
      EXPECT_GE(solver.full_information_value(), solver.value() - 1e-12)
          << hints << " " << turns;
    }
  }
  // With its own card known a player never misplays, but a hint still
  // serves: as a pass that keeps a card for later.
  EXPECT_GT(Solve(HintPlayConfig()).full_information_value(),
            Solve(Config(3, 0, 8)).full_information_value());
}

TEST(HintPlayOptimumTest, MoreHintsAndTurnsHelp) {
  // Exact values of num_hints 0..3 at 3 ranks and 8 turns.
  const double by_hints[] = {5140.0 / 6561, 1474.0 / 729, 4588.0 / 2187,
                             4594.0 / 2187};
  for (int hints = 0; hints < 4; ++hints) {
    EXPECT_NEAR(Solve(Config(3, hints, 8)).value(), by_hints[hints], 1e-12)
        << hints;
  }
  EXPECT_NEAR(Solve(Config(3, 2, 6)).value(), 125.0 / 81, 1e-12);
  // Free misplays make blind plays worth something.
  const HintPlaySolver free = Solve(Config(3, 2, 8, 0.0));
  EXPECT_NEAR(free.value(), 15883.0 / 6561, 1e-12);
  EXPECT_NEAR(free.no_communication_value(), 1675.0 / 729, 1e-12);
}

// The solver's own policy, played by the rules over every deal: the
// acting player looks up the prescription of the public belief (tracked
// from the actions, as the solver defines it) at its partner's card. The
// exact expected return must be the solver's value, and the true cards
// must always lie in the belief.
class PolicyEvaluation {
 public:
  PolicyEvaluation(const HintPlaySolver& solver, const HintPlayConfig& config)
      : solver_(solver), all_((1u << config.num_ranks) - 1) {}

  double Expected(const HintPlayGame& game, const Belief& belief) {
    const int player = game.current_player();
    if (player == HintPlayGame::kOver) return 0.0;
    if (player == HintPlayGame::kChance) {
      const int ranks = game.config().num_ranks;
      double sum = 0;
      for (int rank = 0; rank < ranks; ++rank) {
        HintPlayGame next = game;
        EXPECT_TRUE(next.DealCard(rank).ok());
        sum += Expected(next, belief);
      }
      return sum / ranks;
    }
    const int partner = 1 - player;
    for (int p : {0, 1}) {
      EXPECT_TRUE((belief.possible[p] >> game.card(p)) & 1);
    }
    const std::vector<int> prescription = solver_.Prescription(belief);
    const int action = prescription[game.card(partner)];
    HintPlayGame next = game;
    absl::StatusOr<double> reward = next.Act(player, action);
    EXPECT_TRUE(reward.ok()) << reward.status();
    Belief after = belief;
    after.turn += 1;
    after.pile = next.pile();
    after.possible[partner] = 0;
    for (size_t rank = 0; rank < prescription.size(); ++rank) {
      if (prescription[rank] == action) after.possible[partner] |= 1u << rank;
    }
    if (action == HintPlayGame::kPlay || action == HintPlayGame::kDiscard) {
      after.possible[player] = all_;
    }
    return *reward + Expected(next, after);
  }

 private:
  const HintPlaySolver& solver_;
  const uint32_t all_;
};

TEST(HintPlayOptimumTest, ThePrescriptionsScoreTheValue) {
  for (const HintPlayConfig& config :
       {HintPlayConfig(), Config(2, 0, 5), Config(3, 0, 8), Config(4, 1, 6),
        Config(3, 2, 7, 0.0)}) {
    const HintPlaySolver solver = Solve(config);
    PolicyEvaluation evaluation(solver, config);
    EXPECT_NEAR(evaluation.Expected(HintPlayGame(config), solver.Start()),
                solver.value(), 1e-12)
        << config.num_ranks << " " << config.num_hints << " "
        << config.num_turns;
  }
}

// The best deterministic joint policy of a small game by exhaustive search:
// a policy maps each player's whole observation history (its partner's card
// and the pile after every step, and every action) to an action; stochastic
// policies mix these and do no better. The chance outcomes are the first
// two cards and a deck of num_turns - 1 cards drawn in order, all equally
// likely (the card drawn on the last turn is never seen before the end:
// it is always 0). The search plays the outcomes in turn; at an
// observation history no action is chosen for yet it tries every action,
// so it visits each joint policy (restricted to the histories that occur)
// once.
class ExhaustiveSearch {
 public:
  explicit ExhaustiveSearch(const HintPlayConfig& config)
      : config_(config),
        base_(std::max(config.num_ranks + 1, config.num_actions())) {
    const int cards = 1 + config.num_turns;
    int64_t outcomes = 1;
    for (int k = 0; k < cards; ++k) outcomes *= config.num_ranks;
    for (int64_t o = 0; o < outcomes; ++o) {
      std::vector<int> deck;
      for (int64_t rest = o, k = 0; k < cards; ++k, rest /= config.num_ranks) {
        deck.push_back(static_cast<int>(rest % config.num_ranks));
      }
      outcomes_.push_back(deck);
    }
    // A history is a number in base base_ behind a leading 1: 2 values per
    // step (num_turns + 1 of them) and the actions, then the player.
    double largest = 2.0;
    for (int k = 0; k < 3 * config.num_turns + 2; ++k) largest *= base_;
    EXPECT_LT(largest, 1e18) << "too large for the search";
  }

  double Best() {
    Explore(0, Start(0), 0.0);
    return best_ / outcomes_.size();
  }
  int64_t policies() const { return policies_; }

 private:
  struct Play {
    explicit Play(const HintPlayConfig& config) : game(config) {}
    HintPlayGame game;
    size_t dealt = 0;  // cards of the outcome dealt so far
    std::array<uint64_t, 2> history = {1, 1};  // each player's observations
    double score = 0;
  };

  Play Start(size_t outcome) {
    Play play(config_);
    Observe(outcome, play);
    return play;
  }

  // Starts `outcome` in `play` (keeping its memory: no allocation).
  void Restart(size_t outcome, Play& play) {
    play.game.Restart();
    play.dealt = 0;
    play.history = {1, 1};
    play.score = 0;
    Observe(outcome, play);
  }

  // Deals the cards the game waits for; both players observe.
  void Observe(size_t outcome, Play& play) {
    while (play.game.current_player() == HintPlayGame::kChance) {
      const std::vector<int>& deck = outcomes_[outcome];
      const int card = play.dealt < deck.size() ? deck[play.dealt] : 0;
      ++play.dealt;
      EXPECT_TRUE(play.game.DealCard(card).ok());
    }
    for (int p : {0, 1}) {
      play.history[p] =
          (play.history[p] * base_ + play.game.card(1 - p)) * base_ +
          play.game.pile();
    }
  }

  void Explore(size_t outcome, Play play, double total) {
    while (true) {
      const int player = play.game.current_player();
      if (player == HintPlayGame::kOver) {
        total += play.score;
        if (++outcome == outcomes_.size()) {
          ++policies_;
          best_ = std::max(best_, total);
          return;
        }
        Restart(outcome, play);
        continue;
      }
      const uint64_t key = play.history[player] * 2 + player;
      auto chosen = policy_.find(key);
      if (chosen == policy_.end()) {
        for (int action = 0; action < config_.num_actions(); ++action) {
          policy_[key] = action;
          Explore(outcome, play, total);
        }
        policy_.erase(key);
        return;
      }
      const int action = chosen->second;
      play.score += *play.game.Act(player, action);
      for (uint64_t& history : play.history) history = history * base_ + action;
      Observe(outcome, play);
    }
  }

  const HintPlayConfig config_;
  const int base_;
  std::vector<std::vector<int>> outcomes_;
  std::unordered_map<uint64_t, int> policy_;
  double best_ = -1e300;
  int64_t policies_ = 0;
};

TEST(HintPlayOptimumTest, NoJointPolicyBeatsTheValue) {
  for (const HintPlayConfig& config :
       {Config(2, 0, 2), Config(2, 1, 2), Config(3, 0, 2), Config(2, 0, 3),
        Config(2, 0, 3, 0.0)}) {
    ExhaustiveSearch search(config);
    const double best = search.Best();
    EXPECT_NEAR(best, Solve(config).value(), 1e-12)
        << config.num_ranks << " " << config.num_hints << " "
        << config.num_turns << " after " << search.policies() << " policies";
  }
}

TEST(HintPlayOptimumTest, RefusesWhatItCannotSolve) {
  const absl::Status refused =
      HintPlaySolver::Create(Config(12, 2, 8)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find("num_ranks=12, num_hints=2, num_turns=8"),
            std::string::npos);
  EXPECT_EQ(HintPlaySolver::Create(Config(1, 0, 1 << 20)).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(HintPlaySolver::Create(Config(1 << 20, 0, 1)).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace marl
