// Prints the exact memory-one Stackelberg values of iterated matrix games
// (memory_one_solver.h) as a markdown table: by default the twelve games
// of the Stackelberg paper at its settings (10 steps, offset -2.5).
//
//   bazel run //agents/stackelberg:memory_one_values
//   bazel run //agents/stackelberg:memory_one_values --
//   --games=prisoners_dilemma --episode_length=2 --reward_offset=0
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "agents/stackelberg/memory_one_solver.h"

ABSL_FLAG(std::string, games,
          "stackelberg_pd,stackelberg_stag_hunt,stackelberg_assurance,"
          "stackelberg_coordination,stackelberg_mixedharmony,"
          "stackelberg_harmony,stackelberg_noconflict,stackelberg_deadlock,"
          "stackelberg_prisoners_delight,stackelberg_hero,stackelberg_battle,"
          "stackelberg_chicken",
          "Comma-separated matrix game presets (envs/matrix/payoffs.cc).");
ABSL_FLAG(int, episode_length, 10, "Steps per episode.");
ABSL_FLAG(double, reward_offset, -2.5,
          "Added to every step's reward (the Stackelberg code's -2.5).");
ABSL_FLAG(double, reward_scale, 1.0, "Multiplies every payoff.");
ABSL_FLAG(double, follower_discount, 1.0,
          "What the follower maximises: sum_t discount^t r_t (the Stackelberg "
          "agent's followers: its --follower_gamma, 0.9 by default).");

ABSL_FLAG(bool, follower_clock, false,
          "The follower observes the play step (the environment's "
          "follower_clock): best responses over policies of the step and "
          "the memory state, by backward induction.");

ABSL_FLAG(std::string, leader, "",
          "A leader to answer instead of solving: its action per memory state "
          "(start, then 1 + a_leader + n * a_follower), e.g. \"1 0 0 1 1\"; "
          "prints how best-responding followers play against it.");

namespace {

// The game `name` at the flags' settings.
absl::StatusOr<marl::MemoryOneGame> GameOf(const std::string& name) {
  absl::StatusOr<marl::PayoffMatrices> payoffs =
      marl::FindMatrixGamePreset(name);
  if (!payoffs.ok()) return payoffs.status();
  marl::MemoryOneGame game;
  game.payoffs = *payoffs;
  game.episode_length = absl::GetFlag(FLAGS_episode_length);
  game.reward_offset = absl::GetFlag(FLAGS_reward_offset);
  game.reward_scale = absl::GetFlag(FLAGS_reward_scale);
  game.follower_discount = absl::GetFlag(FLAGS_follower_discount);
  game.follower_clock = absl::GetFlag(FLAGS_follower_clock);
  return game;
}

// --leader as a policy (checked against the game by the solver).
absl::StatusOr<marl::MemoryOnePolicy> LeaderOf(const std::string& text) {
  marl::MemoryOnePolicy leader;
  for (absl::string_view word :
       absl::StrSplit(text, absl::ByAnyChar(" ,"), absl::SkipEmpty())) {
    int action;
    if (!absl::SimpleAtoi(word, &action)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", word, "\" is not an action"));
    }
    leader.push_back(action);
  }
  return leader;
}

int Fail(const std::string& name, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", name.c_str(),
               std::string(status.message()).c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Exact Stackelberg values of iterated matrix games for deterministic "
      "memory-one leaders and best-responding followers (memory-one, or "
      "with --follower_clock policies of the step and memory state); with "
      "--leader, how best-responding followers answer that leader.");
  absl::ParseCommandLine(argc, argv);
  const std::string leader_text = absl::GetFlag(FLAGS_leader);
  absl::StatusOr<marl::MemoryOnePolicy> leader = LeaderOf(leader_text);
  if (!leader.ok()) return Fail("--leader", leader.status());
  if (leader_text.empty()) {
    std::printf(
        "| game | value (ties for the leader) | weak value (ties against) | "
        "leader | follower's play | follower return | best responses |\n"
        "|---|---|---|---|---|---|---|\n");
  } else {
    std::printf(
        "| game | leader | its return (ties for it) | (ties against) | "
        "follower's play | follower return | best responses |\n"
        "|---|---|---|---|---|---|---|\n");
  }
  const std::vector<std::string> names =
      absl::StrSplit(absl::GetFlag(FLAGS_games), ',', absl::SkipEmpty());
  for (const std::string& name : names) {
    absl::StatusOr<marl::MemoryOneGame> game = GameOf(name);
    if (!game.ok()) return Fail(name, game.status());
    if (!leader_text.empty()) {
      absl::StatusOr<marl::MemoryOneResponse> response =
          marl::RespondToMemoryOneLeader(*game, *leader);
      if (!response.ok()) return Fail(name, response.status());
      std::printf("| %s | %s | %g | %g | %s | %g | %lld |\n", name.c_str(),
                  marl::MemoryOneString(*leader).c_str(),
                  response->leader_strong, response->leader_weak,
                  marl::MemoryOneString(response->follower_play).c_str(),
                  response->follower_best,
                  static_cast<long long>(response->best_responses));
      continue;
    }
    absl::StatusOr<marl::MemoryOneStackelberg> solution =
        marl::SolveMemoryOneStackelberg(*game);
    if (!solution.ok()) return Fail(name, solution.status());
    std::printf("| %s | %g | %g | %s | %s | %g | %lld |\n", name.c_str(),
                solution->value, solution->weak_value,
                marl::MemoryOneString(solution->leader).c_str(),
                marl::MemoryOneString(solution->follower_play).c_str(),
                solution->follower_return,
                static_cast<long long>(solution->best_responses));
  }
  return 0;
}
