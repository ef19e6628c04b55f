#ifndef MARL_ENVS_MATRIX_MATRIX_GAME_H_
#define MARL_ENVS_MATRIX_MATRIX_GAME_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"
#include "envs/matrix/payoffs.h"

namespace marl {

// `matrix_game`: a one-shot two-player simultaneous matrix game. Agents
// player_0 (rows, Discrete(n)) and player_1 (columns, Discrete(m)) act once;
// each gets reward_scale * its payoff and the episode terminates. The
// observation is a constant Discrete(1) 0: there is nothing to observe.
//
// Settings: game (default "prisoners_dilemma"), payoffs_row,
// payoffs_column (see payoffs.h), reward_scale (double, default 1; every
// reward reward_scale * payoff must stay within kMaxAbsReward = 1e30).
class MatrixGameEnv : public Env {
 public:
  static constexpr char kName[] = "matrix_game";

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate: the object and its payoff copies.
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  MatrixGameEnv(const PayoffMatrices& payoffs, double reward_scale);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;
  // Every row at once, without a visit to each copy: a step is two loads
  // from the reward table, a reset nothing.
  void StepRows(const BatchRows& rows) override;
  void ResetRows(const BatchRows& rows) override;

 private:
  int64_t cols_;
  // The rewards of every joint action, computed once: for (a0, a1) at
  // 2 * (a0 * cols_ + a1), player_0's then player_1's, each the float of
  // reward_scale * payoff (a step is then two adjacent loads).
  std::vector<float> rewards_;
  EnvSpec spec_;
};

}  // namespace marl

#endif  // MARL_ENVS_MATRIX_MATRIX_GAME_H_
