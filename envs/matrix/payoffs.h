#ifndef MARL_ENVS_MATRIX_PAYOFFS_H_
#define MARL_ENVS_MATRIX_PAYOFFS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/settings.h"

namespace marl {

// The payoffs of a two-player simultaneous game. Agent 0 (player_0, the row
// player; the leader in the Stackelberg games) has `rows` actions, agent 1
// (player_1, the column player; the follower) has `cols`. Both matrices are
// row-major: R[a0][a1] is at a0 * cols + a1.
struct PayoffMatrices {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> row_payoffs;     // what player_0 gets
  std::vector<double> column_payoffs;  // what player_1 gets

  double RowPayoff(int64_t a0, int64_t a1) const {
    return row_payoffs[a0 * cols + a1];
  }
  double ColumnPayoff(int64_t a0, int64_t a1) const {
    return column_payoffs[a0 * cols + a1];
  }
};

// A named game. The full table, with action meanings and sources, is in
// payoffs.cc.
struct MatrixGamePreset {
  std::string name;
  std::string description;  // one line: what the actions mean, the source
  PayoffMatrices payoffs;
};

// Every preset, sorted by name.
const std::vector<MatrixGamePreset>& MatrixGamePresets();

// INVALID_ARGUMENT, listing the known names, for an unknown one.
absl::StatusOr<PayoffMatrices> FindMatrixGamePreset(const std::string& name);

// Builds payoffs from two run-time matrices. Both must be 2-D with equal
// shapes n x m (n, m >= 1) and finite entries; anything else is
// INVALID_ARGUMENT naming the problem.
absl::StatusOr<PayoffMatrices> PayoffsFromArrays(const DoubleArray& row,
                                                 const DoubleArray& column);

// The settings every matrix-game environment shares: `game` (a preset name,
// defaulting to `default_game`), and `payoffs_row` / `payoffs_column` (empty
// by default; when given, both together, they override the preset).
std::vector<SettingDecl> PayoffSettingDecls(const std::string& default_game);

// Reads the settings declared by PayoffSettingDecls: the two arrays when
// either is non-empty (then both must be given), else the named preset.
absl::StatusOr<PayoffMatrices> PayoffsFromSettings(const Settings& settings);

// What the payoff settings describe, checked as PayoffsFromSettings checks
// them but without copying anything (memory estimates run before a copy is
// built).
struct PayoffSummary {
  int64_t rows = 0;
  int64_t cols = 0;
  double max_abs_payoff = 0;  // over both matrices
};
absl::StatusOr<PayoffSummary> SummarizePayoffSettings(const Settings& settings);

// INVALID_ARGUMENT, naming the setting, its value and its allowed range,
// unless every reward reward_scale * payoff + reward_offset stays within
// kMaxAbsReward (envs/core/env_spec.h) once rounded to float:
// |reward_scale| * max|payoff| + |reward_offset| <= 1e30. Non-finite
// settings are refused too.
absl::Status CheckRewardSettings(const PayoffSummary& payoffs,
                                 double reward_scale, double reward_offset);

// How a copy holds its payoffs: as PayoffMatrices (two double matrices),
// or as one table of float reward pairs (matrix_game: rows x cols x 2).
enum class PayoffStorage { kDoubleMatrices, kFloatRewardPairs };

// Bytes of a matrix-game copy beyond its own object: its payoffs, held as
// `storage` says, and its two-agent spec (envs/core/memory_estimate.h).
absl::StatusOr<int64_t> PayoffCopyBytes(
    const PayoffSummary& payoffs,
    PayoffStorage storage = PayoffStorage::kDoubleMatrices);

}  // namespace marl

#endif  // MARL_ENVS_MATRIX_PAYOFFS_H_
