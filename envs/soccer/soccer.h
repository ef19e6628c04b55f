#ifndef MARL_ENVS_SOCCER_SOCCER_H_
#define MARL_ENVS_SOCCER_SOCCER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// `soccer`: Littman's two-player grid soccer (Littman 1994, "Markov games as
// a framework for multi-agent reinforcement learning"), the zero-sum
// stochastic game of minimax-Q and friend-or-foe Q.
//
// Board: `rows` x `cols` squares (default 4 x 5), row 0 is north, column 0
// is west. player_0 is Littman's A and scores in the WEST goal (left),
// player_1 is B and scores in the EAST goal (right). Each goal is the
// outside of its edge column over the goal rows: the rows within 1 of the
// centre line, |row - (rows-1)/2| <= 1 (the middle two rows of 4; the
// middle three of an odd count).
//
// Start (Littman's figure 1, as the reference minimax-Q implementations
// read it): A at (row (rows-1)/2, col cols-1-(cols-2)/2), B at the point
// reflection of that square, (rows-1-row, cols-1-col): on 4 x 5, A at
// (1, 3) and B at (2, 1). The ball goes to A or B with probability 1/2.
// The start is symmetric under the 180-degree rotation that swaps the roles.
//
// Each step both choose one of kNumActions actions (kNorth, kSouth, kEast,
// kWest, kStand); the two moves are executed one after the other in a
// random order (1/2 each, from the copy's seeded stream). A move:
//   * into the other player's square does not take place and the ball goes
//     to the other (stationary) player;
//   * off the board stays put, except
//   * with the ball into a goal mouth: into the player's scoring goal
//     scores for it; into its own goal scores for the opponent if
//     `own_goals` (default true, as in Greenwald & Hall's soccer), else it
//     stays put like a wall. A player without the ball never enters a goal.
// A goal gives +1 to the scorer and -1 to the other and terminates the
// episode; the second move of that step is not executed. The terminal
// observation shows the carrier on the square it shot from.
// Consequences: if both move into the same empty square the first gets it
// and the second is blocked (ball to the first); if they try to swap
// squares both are blocked and the ball ends with the first mover.
//
// Draws: after a step that scored no goal the episode ends as a draw with
// probability `draw_probability` (default 0): terminated, rewards 0, info
// "draw" = 1. This is Littman's "discount as termination" device: with
// probability p of ending after each transition, undiscounted returns equal
// (1-p)-discounted ones. A draw is a real termination (no value follows),
// not a truncation. Separately, `max_steps` (default 100; 0 = none) is the
// spec's episode_limit: the batch runner truncates there.
//
// Observations (`observation`):
//   "state_index" (default): Discrete(StateCount(rows, cols)), the full
//     state as StateIndex() below;
//   "features": Box([5], 0, 1): (A row, A col, B row, B col) normalised by
//     (rows-1, cols-1) (0 on a one-long axis), then 1 if A holds the ball.
// `perspective`:
//   "absolute" (default): both players see the same value, and actions
//     mean the same compass directions for both.
//   "egocentric": player_1 sees and acts on the board rotated by 180
//     degrees, with the roles swapped: its observation is that of
//     Mirror(state), in which it is "A" (attacking the west goal), and its
//     kNorth/kSouth and kEast/kWest are exchanged. The game then looks the
//     same to both players (a shared policy can play either side).
//     player_0's view is the absolute one.
//
// No action masks (every action is always legal). Info key "draw".
class SoccerEnv : public Env {
 public:
  static constexpr char kName[] = "soccer";
  enum Action : int64_t {
    kNorth = 0,
    kSouth = 1,
    kEast = 2,
    kWest = 3,
    kStand = 4,
    kNumActions = 5
  };
  enum class Observation { kStateIndex, kFeatures };
  enum class Perspective { kAbsolute, kEgocentric };
  static constexpr int kNumFeatures = 5;

  // A full state. ball_holder: 0 = A (player_0), 1 = B (player_1).
  struct State {
    int a_row = 0, a_col = 0, b_row = 0, b_col = 0;
    int ball_holder = 0;
    bool operator==(const State& o) const {
      return a_row == o.a_row && a_col == o.a_col && b_row == o.b_row &&
             b_col == o.b_col && ball_holder == o.ball_holder;
    }
  };

  // The number of valid states (players on distinct squares):
  // 2 * n * (n - 1) with n = rows * cols; 760 on 4 x 5.
  static int64_t StateCount(int rows, int cols);
  // A bijection from valid states onto [0, StateCount):
  //   index = (ball_holder * n + a) * (n - 1) + (b < a ? b : b - 1)
  // with a = a_row * cols + a_col and b likewise (B's square skips A's).
  static int64_t StateIndex(int rows, int cols, const State& state);
  // The inverse of StateIndex (index must lie in [0, StateCount)).
  static State StateFromIndex(int rows, int cols, int64_t index);
  // The 180-degree rotation with the roles swapped: B becomes A.
  // Mirror(Mirror(s)) == s.
  static State Mirror(int rows, int cols, const State& state);
  // Whether both players are on the board on distinct squares and the
  // holder is 0 or 1.
  static bool IsValid(int rows, int cols, const State& state);
  static State StartState(int rows, int cols, int ball_holder);

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate (a fixed few kilobytes: the board is
  // not stored).
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  SoccerEnv(int rows, int cols, double draw_probability, int max_steps,
            bool own_goals, Observation observation, Perspective perspective);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

  // For tests: the current state, and setting it between steps (it must be
  // IsValid; the next Step starts from it).
  const State& state() const { return state_; }
  void SetStateForTesting(const State& state) { state_ = state; }
  // Which player moved first in the last Step (0 = A, 1 = B).
  int last_first_mover() const { return last_first_mover_; }

 private:
  // INVALID_ARGUMENT naming the setting out of range; the parsed kinds.
  static absl::Status CheckSettings(const Settings& settings,
                                    Observation* observation,
                                    Perspective* perspective);
  static Space ObservationSpace(Observation observation, int rows, int cols);

  // One player's move under the rules above; returns the scoring player
  // (0 or 1) if the move scored, else -1.
  int Move(int player, int64_t action);
  void WriteObservations(const Output& out) const;
  void WriteFeatures(const State& state, float* out) const;

  int rows_, cols_;
  double draw_probability_;
  bool own_goals_;
  Observation observation_;
  Perspective perspective_;
  int goal_row_low_, goal_row_high_;  // inclusive range of goal-mouth rows
  EnvSpec spec_;
  State state_;
  int last_first_mover_ = 0;
};

}  // namespace marl

#endif  // MARL_ENVS_SOCCER_SOCCER_H_
