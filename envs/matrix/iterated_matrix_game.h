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
// The env never terminates: spec.episode_limit = episode_length, so the
// batch runner ends every episode by truncation after exactly that many
// steps: the length is a time limit, not part of the game's state (the
// observation does not carry the time).
//
// Observations (n = player_0's action count, m = player_1's):
//   memory "full":  both agents see Discrete(1 + n*m): 0 on the first step,
//                   else 1 + a0 + n * a1 of the previous step (for 2x2 games
//                   the paper's 1 + a_leader + 2 * a_follower, 5 states).
//   memory "small": each agent sees 1 + the other agent's previous action, 0
//                   on the first step: player_0 Discrete(1 + m), player_1
//                   Discrete(1 + n) (Discrete(3) for 2x2 games).
//
// Settings: game (default "stackelberg_pd"), payoffs_row, payoffs_column
// (see payoffs.h), episode_length (int, default 10), memory (string, "full"),
// reward_offset (double, default 0; the Stackelberg code used -2.5),
// reward_scale (double, default 1); every reward stays within
// kMaxAbsReward = 1e30: |reward_scale| * max|payoff| + |reward_offset| <= 1e30.
class IteratedMatrixGameEnv : public Env {
 public:
  static constexpr char kName[] = "iterated_matrix_game";
  enum class Memory { kFull, kSmall };

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate: the object and its payoff copies.
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  IteratedMatrixGameEnv(PayoffMatrices payoffs, int episode_length,
                        Memory memory, double reward_scale,
                        double reward_offset);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

 private:
  PayoffMatrices payoffs_;
  Memory memory_;
  double reward_scale_;
  double reward_offset_;
  EnvSpec spec_;
};

}  // namespace marl

#endif  // MARL_ENVS_MATRIX_ITERATED_MATRIX_GAME_H_
