#include "envs/matrix/payoffs.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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
  if (static_cast<int64_t>(array.values.size()) !=
      array.shape[0] * array.shape[1]) {
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

}  // namespace

const std::vector<MatrixGamePreset>& MatrixGamePresets() {
  // Function-local: registrations read it during static initialisation.
  static const std::vector<MatrixGamePreset>* const presets =
      new std::vector<MatrixGamePreset>(BuildPresets());
  return *presets;
}

absl::StatusOr<PayoffMatrices> FindMatrixGamePreset(const std::string& name) {
  for (const MatrixGamePreset& preset : MatrixGamePresets()) {
    if (preset.name == name) return preset.payoffs;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown matrix game '", name, "'; known: ", PresetNames()));
}

absl::StatusOr<PayoffMatrices> PayoffsFromArrays(const DoubleArray& row,
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
  return PayoffMatrices{row.shape[0], row.shape[1], row.values, column.values};
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
  if (has_row) return PayoffsFromArrays(row, column);
  return FindMatrixGamePreset(settings.GetString("game"));
}

}  // namespace marl
