#ifndef MARL_ENVS_MATRIX_ITERATED_MATRIX_GAME_H_
#define MARL_ENVS_MATRIX_ITERATED_MATRIX_GAME_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"
#include "envs/matrix/payoffs.h"

namespace marl {

// `iterated_matrix_game`: a two-player matrix game (player_0 = row = leader,
// player_1 = column = follower) repeated for `episode_length` steps, as in
// the Stackelberg paper. Each step both agents get
// reward_scale * payoff + reward_offset.
//
// The env never terminates: spec.episode_limit = the query steps +
// episode_length, so the batch runner ends every episode by truncation
// after exactly that many steps: the length is a time limit, not part of
// the game's state (the observation does not carry the time).
//
// Observations (n = player_0's action count, m = player_1's):
//   memory "full":  both agents see Discrete(1 + n*m): 0 on the first step,
//                   else 1 + a0 + n * a1 of the previous step (for 2x2 games
//                   the paper's 1 + a_leader + 2 * a_follower, 5 states).
//   memory "small": each agent sees 1 + the other agent's previous action, 0
//                   on the first step: player_0 Discrete(1 + m), player_1
//                   Discrete(1 + n) (Discrete(3) for 2x2 games).
//
// Roles: `roles` "players" names the agents player_0 and player_1;
// "stackelberg" names them leader and follower (same order), so a
// Stackelberg learner can check whom it trains as what.
//
// Queries (the Stackelberg paper's query oracle, through the protocol):
// with `query_states` = [s_1, ..., s_Q] (values of the leader's
// observation, distinct), every episode opens with Q query steps. In query
// step k the leader observes s_k exactly as it would in play, and its
// action is its answer for s_k; the follower's action is ignored, both
// rewards are 0, and info "query" is 1 (0 on play steps). The follower
// then observes Box[F + Q*n] (F = its own observation count): the one-hot
// of its observation as above (all 0 during the query steps), then per
// query state the one-hot of the leader's answer (all 0 until given). The
// leader's observation and every play step are as without queries. A
// follower, in this process or another, thus sees the leader's policy only
// through its answers.
//
// Clock: with `follower_clock` the follower also observes the play step t
// (0 .. episode_length - 1) as a one-hot after its memory one-hot (all 0
// during query steps): Box[F + episode_length + Q*n], a Box even without
// queries. A follower that sees the step can best-respond exactly to a
// memory-one leader over the finite horizon (its decision problem is then
// a Markov decision process); the leader's observation has no clock.
//
// Settings: game (default "stackelberg_pd"), payoffs_row, payoffs_column
// (see payoffs.h), episode_length (int, default 10), memory (string, "full"),
// reward_offset (double, default 0; the Stackelberg code used -2.5),
// reward_scale (double, default 1), roles ("players"), query_states (empty),
// follower_clock (false);
// every reward stays within kMaxAbsReward = 1e30: |reward_scale| *
// max|payoff| + |reward_offset| <= 1e30.
class IteratedMatrixGameEnv : public Env {
 public:
  static constexpr char kName[] = "iterated_matrix_game";
  enum class Memory { kFull, kSmall };

  struct Config {
    PayoffMatrices payoffs;
    int episode_length = 10;
    Memory memory = Memory::kFull;
    double reward_scale = 1.0;
    double reward_offset = 0.0;
    bool stackelberg_roles = false;
    std::vector<int64_t> query_states;
    bool follower_clock = false;
  };

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate: the object, its payoff copies, the
  // query states and answers, and the spec.
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  explicit IteratedMatrixGameEnv(Config config);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

 private:
  // The observations of the step to come: the memory observations of both
  // agents (`leader_obs`, `follower_obs`) in play, the queried state during
  // the query steps.
  void Observe(int64_t leader_obs, int64_t follower_obs,
               const Output& out) const;

  Config config_;
  int64_t num_queries_ = 0;
  int64_t follower_states_ = 0;  // the follower's memory observations
  int64_t clock_steps_ = 0;      // episode_length with a clock, else 0
  bool follower_box_ = false;    // queries or a clock
  EnvSpec spec_;
  // This copy's episode: the query steps taken, the play steps taken, and
  // the answers given (-1 for none yet).
  int64_t queries_done_ = 0;
  int64_t play_steps_ = 0;
  std::vector<int64_t> answers_;
};

}  // namespace marl

#endif  // MARL_ENVS_MATRIX_ITERATED_MATRIX_GAME_H_
