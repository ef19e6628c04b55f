#include "envs/matrix/payoffs.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/checked_size.h"
#include "envs/core/env_spec.h"
#include "envs/core/memory_estimate.h"

namespace marl {
namespace {

// clang-format off
// The preset table. R[row action of player_0][column action of player_1].
// Sources: ../shared/spec/EXPERIMENTS.md §1, and textbook payoffs chosen
// here for the "standard 2x2" games it leaves open.
//
// 3x3 games:
//   thesis_coop      both get [[2,3,3],[1,4,0],[1,0,10]]      (thesis eq. 3.1)
//   thesis_zero_sum  player_0 [[2,3,3],[1,4,0],[1,0,10]], player_1 the negation
//   climbing         both get [[11,-30,0],[-30,7,6],[0,0,5]]  (ROMMEO; the
//                    paper prints (5,3) for the last cell, the code uses 5)
//
// 2x2 games:       player_0          player_1          actions 0 / 1
//   wolf           [[0,3],[1,2]]     [[3,2],[0,1]]     (the PR2 matrix game)
//   prisoners_dilemma
//                  [[3,0],[5,1]]     [[3,5],[0,1]]     cooperate / defect
//                                                      (R=3 S=0 T=5 P=1)
//   stag_hunt      [[4,0],[3,3]]     [[4,3],[0,3]]     stag / hare (Skyrms)
//   chicken        [[0,-1],[1,-10]]  [[0,1],[-1,-10]]  swerve / straight
//   matching_pennies
//                  [[1,-1],[-1,1]]   [[-1,1],[1,-1]]   heads / tails
//                                                      (player_0 wants a match)
//   battle_of_the_sexes
//                  [[3,0],[0,2]]     [[2,0],[0,3]]     opera / football
//   harmony        [[4,3],[2,1]]     [[4,2],[3,1]]     cooperate / defect
//
// The Stackelberg paper's iterated suite, player_0 = leader, player_1 =
// follower. Prefixed "stackelberg_" because stag_hunt, harmony and chicken
// clash with the textbook games above (and its PD differs from
// prisoners_dilemma). Its code adds a reward offset of -2.5: that is the
// iterated env's `reward_offset` setting, not part of the table.
//
//   stackelberg_pd                 [[3,1],[4,2]]  [[3,4],[1,2]]
//   stackelberg_stag_hunt          [[4,1],[3,2]]  [[4,3],[1,2]]
//   stackelberg_assurance          [[4,1],[2,3]]  [[4,2],[1,3]]
//   stackelberg_coordination       [[4,2],[1,3]]  [[4,1],[2,3]]
//   stackelberg_mixedharmony       [[4,3],[1,2]]  [[4,1],[3,2]]
//   stackelberg_harmony            [[4,3],[2,1]]  [[4,2],[3,1]]
//   stackelberg_noconflict         [[4,2],[3,1]]  [[4,3],[2,1]]
//   stackelberg_deadlock           [[2,1],[4,3]]  [[2,4],[1,3]]
//   stackelberg_prisoners_delight  [[1,2],[4,3]]  [[1,4],[2,3]]
//   stackelberg_hero               [[1,3],[4,2]]  [[1,4],[3,2]]
//   stackelberg_battle             [[2,3],[4,1]]  [[2,4],[3,1]]
//   stackelberg_chicken            [[3,2],[4,1]]  [[3,4],[2,1]]
// clang-format on
MatrixGamePreset Preset(std::string name, std::string description, int64_t rows,
                        int64_t cols, std::vector<double> row,
                        std::vector<double> column) {
  return MatrixGamePreset{
      std::move(name), std::move(description),
      PayoffMatrices{rows, cols, std::move(row), std::move(column)}};
}

std::vector<MatrixGamePreset> BuildPresets() {
  const std::vector<double> thesis = {2, 3, 3, 1, 4, 0, 1, 0, 10};
  std::vector<double> minus_thesis;
  for (double v : thesis) minus_thesis.push_back(-v);
  const std::vector<double> climbing = {11, -30, 0, -30, 7, 6, 0, 0, 5};

  std::vector<MatrixGamePreset> presets = {
      Preset("thesis_coop", "thesis eq. 3.1, cooperative: optimum (3,3) = 10",
             3, 3, thesis, thesis),
      Preset("thesis_zero_sum",
             "thesis eq. 3.1 for player_0, its negation for player_1", 3, 3,
             thesis, minus_thesis),
      Preset("climbing", "ROMMEO climbing game: optimum (A,A) = 11", 3, 3,
             climbing, climbing),
      Preset("wolf", "PR2 matrix game: only Nash is both mixing (0.5, 0.5)", 2,
             2, {0, 3, 1, 2}, {3, 2, 0, 1}),
      Preset("prisoners_dilemma", "0 cooperate, 1 defect; R3 S0 T5 P1", 2, 2,
             {3, 0, 5, 1}, {3, 5, 0, 1}),
      Preset("stag_hunt", "0 stag, 1 hare (Skyrms)", 2, 2, {4, 0, 3, 3},
             {4, 3, 0, 3}),
      Preset("chicken", "0 swerve, 1 straight", 2, 2, {0, -1, 1, -10},
             {0, 1, -1, -10}),
      Preset("matching_pennies", "0 heads, 1 tails; player_0 wins on a match",
             2, 2, {1, -1, -1, 1}, {-1, 1, 1, -1}),
      Preset("battle_of_the_sexes",
             "0 opera, 1 football; player_0 prefers opera", 2, 2, {3, 0, 0, 2},
             {2, 0, 0, 3}),
      Preset("harmony", "0 cooperate, 1 defect; cooperating dominates", 2, 2,
             {4, 3, 2, 1}, {4, 2, 3, 1}),
  };
  // The Stackelberg suite: {name, leader, follower}.
  const struct {
    const char* name;
    std::vector<double> leader, follower;
  } stackelberg[] = {
      {"pd", {3, 1, 4, 2}, {3, 4, 1, 2}},
      {"stag_hunt", {4, 1, 3, 2}, {4, 3, 1, 2}},
      {"assurance", {4, 1, 2, 3}, {4, 2, 1, 3}},
      {"coordination", {4, 2, 1, 3}, {4, 1, 2, 3}},
      {"mixedharmony", {4, 3, 1, 2}, {4, 1, 3, 2}},
      {"harmony", {4, 3, 2, 1}, {4, 2, 3, 1}},
      {"noconflict", {4, 2, 3, 1}, {4, 3, 2, 1}},
      {"deadlock", {2, 1, 4, 3}, {2, 4, 1, 3}},
      {"prisoners_delight", {1, 2, 4, 3}, {1, 4, 2, 3}},
      {"hero", {1, 3, 4, 2}, {1, 4, 3, 2}},
      {"battle", {2, 3, 4, 1}, {2, 4, 3, 1}},
      {"chicken", {3, 2, 4, 1}, {3, 4, 2, 1}},
  };
  for (const auto& game : stackelberg) {
    presets.push_back(Preset(absl::StrCat("stackelberg_", game.name),
                             absl::StrCat("Stackelberg paper's ", game.name,
                                          "; player_0 leads, player_1 follows"),
                             2, 2, game.leader, game.follower));
  }
  std::sort(presets.begin(), presets.end(),
            [](const MatrixGamePreset& a, const MatrixGamePreset& b) {
              return a.name < b.name;
            });
  return presets;
}

std::string PresetNames() {
  std::vector<std::string> names;
  for (const MatrixGamePreset& preset : MatrixGamePresets()) {
    names.push_back(preset.name);
  }
  return absl::StrJoin(names, ", ");
}

absl::Status CheckMatrix(const char* setting, const DoubleArray& array) {
  if (array.shape.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " must be a 2-D matrix, got shape [",
                     absl::StrJoin(array.shape, ","), "]"));
  }
  if (array.shape[0] < 1 || array.shape[1] < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " must have at least one row and column, got ",
                     array.shape[0], " x ", array.shape[1]));
  }
  // Checked: a shape such as 2^62+1 x 4 wraps to 4 elements in int64
  // arithmetic, and 2^32 x 2^32 to 0.
  const absl::StatusOr<int64_t> count =
      CheckedElementCount(array.shape, setting, array.values.size());
  if (!count.ok() || *count != static_cast<int64_t>(array.values.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        setting, " has ", array.values.size(), " values for shape ",
        array.shape[0], " x ", array.shape[1]));
  }
  for (size_t k = 0; k < array.values.size(); ++k) {
    if (!std::isfinite(array.values[k])) {
      return absl::InvalidArgumentError(absl::StrCat(
          setting, " entry ", k, " is not finite: ", array.values[k]));
    }
  }
  return absl::OkStatus();
}

double MaxAbs(const std::vector<double>& values) {
  double max_abs = 0;
  for (double v : values) max_abs = std::max(max_abs, std::abs(v));
  return max_abs;
}

const MatrixGamePreset* FindPreset(const std::string& name) {
  for (const MatrixGamePreset& preset : MatrixGamePresets()) {
    if (preset.name == name) return &preset;
  }
  return nullptr;
}

absl::Status UnknownPreset(const std::string& name) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown matrix game '", name, "'; known: ", PresetNames()));
}

// The checks PayoffsFromArrays makes, and the summary of two valid arrays.
absl::StatusOr<PayoffSummary> SummarizeArrays(const DoubleArray& row,
                                              const DoubleArray& column) {
  if (absl::Status s = CheckMatrix("payoffs_row", row); !s.ok()) return s;
  if (absl::Status s = CheckMatrix("payoffs_column", column); !s.ok()) {
    return s;
  }
  if (row.shape != column.shape) {
    return absl::InvalidArgumentError(
        absl::StrCat("payoffs_row is ", row.shape[0], " x ", row.shape[1],
                     " but payoffs_column is ", column.shape[0], " x ",
                     column.shape[1], "; they must have the same shape"));
  }
  return PayoffSummary{row.shape[0], row.shape[1],
                       std::max(MaxAbs(row.values), MaxAbs(column.values))};
}

// True when custom arrays are given (then both must be), false for the
// preset.
absl::StatusOr<bool> HasCustomPayoffs(const Settings& settings) {
  const DoubleArray& row = settings.GetArray("payoffs_row");
  const DoubleArray& column = settings.GetArray("payoffs_column");
  // An array is "given" when it has a shape or values: the default is [].
  const bool has_row = !row.shape.empty() || !row.values.empty();
  const bool has_column = !column.shape.empty() || !column.values.empty();
  if (has_row != has_column) {
    return absl::InvalidArgumentError(
        absl::StrCat("only ", has_row ? "payoffs_row" : "payoffs_column",
                     " was given; custom payoffs need both payoffs_row and "
                     "payoffs_column"));
  }
  return has_row;
}

}  // namespace

const std::vector<MatrixGamePreset>& MatrixGamePresets() {
  // Function-local: registrations read it during static initialisation.
  static const std::vector<MatrixGamePreset>* const presets =
      new std::vector<MatrixGamePreset>(BuildPresets());
  return *presets;
}

absl::StatusOr<PayoffMatrices> FindMatrixGamePreset(const std::string& name) {
  const MatrixGamePreset* preset = FindPreset(name);
  if (preset == nullptr) return UnknownPreset(name);
  return preset->payoffs;
}

absl::StatusOr<PayoffMatrices> PayoffsFromArrays(const DoubleArray& row,
                                                 const DoubleArray& column) {
  absl::StatusOr<PayoffSummary> summary = SummarizeArrays(row, column);
  if (!summary.ok()) return summary.status();
  return PayoffMatrices{summary->rows, summary->cols, row.values,
                        column.values};
}

std::vector<SettingDecl> PayoffSettingDecls(const std::string& default_game) {
  return {
      {"game", absl::StrCat("preset game, one of: ", PresetNames()),
       default_game},
      {"payoffs_row",
       "player_0's payoff matrix, n x m (e.g. [[0,3],[1,2]]); with "
       "payoffs_column, overrides `game`",
       DoubleArray{}},
      {"payoffs_column", "player_1's payoff matrix, same shape as payoffs_row",
       DoubleArray{}},
  };
}

absl::StatusOr<PayoffMatrices> PayoffsFromSettings(const Settings& settings) {
  absl::StatusOr<bool> custom = HasCustomPayoffs(settings);
  if (!custom.ok()) return custom.status();
  if (*custom) {
    return PayoffsFromArrays(settings.GetArray("payoffs_row"),
                             settings.GetArray("payoffs_column"));
  }
  return FindMatrixGamePreset(settings.GetString("game"));
}

absl::StatusOr<PayoffSummary> SummarizePayoffSettings(
    const Settings& settings) {
  absl::StatusOr<bool> custom = HasCustomPayoffs(settings);
  if (!custom.ok()) return custom.status();
  if (*custom) {
    return SummarizeArrays(settings.GetArray("payoffs_row"),
                           settings.GetArray("payoffs_column"));
  }
  const std::string& name = settings.GetString("game");
  const MatrixGamePreset* preset = FindPreset(name);
  if (preset == nullptr) return UnknownPreset(name);
  const PayoffMatrices& payoffs = preset->payoffs;
  return PayoffSummary{
      payoffs.rows, payoffs.cols,
      std::max(MaxAbs(payoffs.row_payoffs), MaxAbs(payoffs.column_payoffs))};
}

absl::Status CheckRewardSettings(const PayoffSummary& payoffs,
                                 double reward_scale, double reward_offset) {
  if (absl::Status s =
          CheckDoubleInRange("reward_offset", reward_offset, -kMaxAbsReward,
                             kMaxAbsReward, "every reward must stay within");
      !s.ok()) {
    return s;
  }
  // The largest reward magnitude, computed the way Step computes rewards
  // (rounding is monotonic, so no reachable reward exceeds it).
  const double largest =
      static_cast<float>(std::abs(reward_scale) * payoffs.max_abs_payoff +
                         std::abs(reward_offset));
  if (std::isfinite(reward_scale) && largest <= kMaxAbsReward) {
    return absl::OkStatus();
  }
  const double bound =
      payoffs.max_abs_payoff > 0
          ? (kMaxAbsReward - std::abs(reward_offset)) / payoffs.max_abs_payoff
          : std::numeric_limits<double>::max();
  return absl::InvalidArgumentError(absl::StrCat(
      "reward_scale must be in [", -bound, ", ", bound, "], got ", reward_scale,
      " (|reward_scale| * max|payoff| + |reward_offset| must be "
      "<= ",
      kMaxAbsReward, "; here max|payoff| = ", payoffs.max_abs_payoff,
      ", reward_offset = ", reward_offset, ")"));
}

absl::StatusOr<int64_t> PayoffCopyBytes(const PayoffSummary& payoffs,
                                        PayoffStorage storage) {
  int64_t entries, pairs;
  if (!CheckedMul(payoffs.rows, payoffs.cols, &entries) ||
      !CheckedMul(entries, 2, &pairs)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("payoffs of ", payoffs.rows, " x ", payoffs.cols,
                     " entries do not fit in memory"));
  }
  ByteEstimate bytes;
  if (storage == PayoffStorage::kFloatRewardPairs) {
    bytes.AddArray(pairs, sizeof(float));
  } else {
    bytes
        .AddArray(entries, sizeof(double))   // row_payoffs
        .AddArray(entries, sizeof(double));  // column_payoffs
  }
  bytes
      // The spec: ids "player_0", "player_1" and four Discrete spaces.
      .AddArray(2, sizeof(std::string))
      .AddStrings(2, 8)
      .AddArray(2, sizeof(Space))
      .AddArray(2, sizeof(Space));
  return bytes.Total();
}

}  // namespace marl
