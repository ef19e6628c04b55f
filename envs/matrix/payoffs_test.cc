#include "envs/matrix/payoffs.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "envs/core/settings.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

PayoffMatrices Preset(const std::string& name) {
  absl::StatusOr<PayoffMatrices> payoffs = FindMatrixGamePreset(name);
  EXPECT_TRUE(payoffs.ok()) << payoffs.status();
  return payoffs.ok() ? *payoffs : PayoffMatrices();
}

absl::StatusOr<PayoffMatrices> FromSettings(
    const std::map<std::string, SettingValue>& given) {
  absl::StatusOr<Settings> settings =
      Settings::Resolve(PayoffSettingDecls("wolf"), given);
  EXPECT_TRUE(settings.ok()) << settings.status();
  return PayoffsFromSettings(*settings);
}

DoubleArray Parse(const std::string& text) {
  absl::StatusOr<SettingValue> value = ParseSettingValue(text, DoubleArray{});
  EXPECT_TRUE(value.ok()) << value.status();
  return std::get<DoubleArray>(*value);
}

void ExpectInvalid(const absl::StatusOr<PayoffMatrices>& payoffs,
                   const std::string& fragment) {
  ASSERT_FALSE(payoffs.ok());
  EXPECT_EQ(payoffs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(payoffs.status().message().find(fragment), std::string::npos)
      << payoffs.status();
}

TEST(PayoffsTest, PresetTableHasEveryGameSortedOnce) {
  const std::vector<std::string> expected = {
      "battle_of_the_sexes",
      "chicken",
      "climbing",
      "harmony",
      "matching_pennies",
      "prisoners_dilemma",
      "stackelberg_assurance",
      "stackelberg_battle",
      "stackelberg_chicken",
      "stackelberg_coordination",
      "stackelberg_deadlock",
      "stackelberg_harmony",
      "stackelberg_hero",
      "stackelberg_mixedharmony",
      "stackelberg_noconflict",
      "stackelberg_pd",
      "stackelberg_prisoners_delight",
      "stackelberg_stag_hunt",
      "stag_hunt",
      "thesis_coop",
      "thesis_zero_sum",
      "wolf",
  };
  std::vector<std::string> names;
  for (const MatrixGamePreset& preset : MatrixGamePresets()) {
    names.push_back(preset.name);
    const PayoffMatrices& p = preset.payoffs;
    EXPECT_EQ(p.row_payoffs.size(), static_cast<size_t>(p.rows * p.cols))
        << preset.name;
    EXPECT_EQ(p.column_payoffs.size(), p.row_payoffs.size()) << preset.name;
    EXPECT_FALSE(preset.description.empty()) << preset.name;
  }
  EXPECT_EQ(names, expected);
}

TEST(PayoffsTest, WolfIsThePr2Game) {
  const PayoffMatrices p = Preset("wolf");
  ASSERT_EQ(p.rows, 2);
  ASSERT_EQ(p.cols, 2);
  // [[0,3],[1,2]] / [[3,2],[0,1]]
  EXPECT_EQ(p.RowPayoff(0, 0), 0);
  EXPECT_EQ(p.RowPayoff(0, 1), 3);
  EXPECT_EQ(p.RowPayoff(1, 0), 1);
  EXPECT_EQ(p.RowPayoff(1, 1), 2);
  EXPECT_EQ(p.ColumnPayoff(0, 0), 3);
  EXPECT_EQ(p.ColumnPayoff(0, 1), 2);
  EXPECT_EQ(p.ColumnPayoff(1, 0), 0);
  EXPECT_EQ(p.ColumnPayoff(1, 1), 1);
}

TEST(PayoffsTest, ThesisGamesShareRowPayoffsAndDifferInSign) {
  const PayoffMatrices coop = Preset("thesis_coop");
  const PayoffMatrices zero_sum = Preset("thesis_zero_sum");
  const std::vector<double> thesis = {2, 3, 3, 1, 4, 0, 1, 0, 10};
  EXPECT_EQ(coop.row_payoffs, thesis);
  EXPECT_EQ(coop.column_payoffs, thesis);
  EXPECT_EQ(zero_sum.row_payoffs, thesis);
  for (int a0 = 0; a0 < 3; ++a0) {
    for (int a1 = 0; a1 < 3; ++a1) {
      EXPECT_EQ(zero_sum.ColumnPayoff(a0, a1), -zero_sum.RowPayoff(a0, a1));
    }
  }
  EXPECT_EQ(zero_sum.ColumnPayoff(2, 2), -10);
}

TEST(PayoffsTest, ClimbingAndTextbookGames) {
  const PayoffMatrices climbing = Preset("climbing");
  EXPECT_EQ(climbing.RowPayoff(0, 0), 11);
  EXPECT_EQ(climbing.RowPayoff(0, 1), -30);
  EXPECT_EQ(climbing.ColumnPayoff(2, 2), 5);  // the code's 5, not (5,3)
  EXPECT_EQ(climbing.column_payoffs, climbing.row_payoffs);

  const PayoffMatrices pd = Preset("prisoners_dilemma");
  EXPECT_EQ(pd.RowPayoff(1, 0), 5);  // defect against a cooperator
  EXPECT_EQ(pd.ColumnPayoff(1, 0), 0);
  const PayoffMatrices pennies = Preset("matching_pennies");
  for (int a0 = 0; a0 < 2; ++a0) {
    for (int a1 = 0; a1 < 2; ++a1) {
      EXPECT_EQ(pennies.RowPayoff(a0, a1), a0 == a1 ? 1 : -1);
      EXPECT_EQ(pennies.ColumnPayoff(a0, a1), -pennies.RowPayoff(a0, a1));
    }
  }
}

TEST(PayoffsTest, StackelbergGamesSplitLeaderAndFollower) {
  const PayoffMatrices pd = Preset("stackelberg_pd");
  EXPECT_EQ(pd.row_payoffs, (std::vector<double>{3, 1, 4, 2}));
  EXPECT_EQ(pd.column_payoffs, (std::vector<double>{3, 4, 1, 2}));
  const PayoffMatrices hero = Preset("stackelberg_hero");
  EXPECT_EQ(hero.row_payoffs, (std::vector<double>{1, 3, 4, 2}));
  EXPECT_EQ(hero.column_payoffs, (std::vector<double>{1, 4, 3, 2}));
}

TEST(PayoffsTest, UnknownPresetListsTheKnownOnes) {
  ExpectInvalid(FindMatrixGamePreset("pd"), "known: battle_of_the_sexes");
}

TEST(PayoffsTest, CustomThreeByTwoPayoffs) {
  absl::StatusOr<PayoffMatrices> p =
      FromSettings({{"payoffs_row", Parse("[[1,2],[3,4],[5,6]]")},
                    {"payoffs_column", Parse("[[-1,-2],[-3,-4],[-5,-6.5]]")}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->rows, 3);
  EXPECT_EQ(p->cols, 2);
  EXPECT_EQ(p->RowPayoff(0, 1), 2);
  EXPECT_EQ(p->RowPayoff(2, 0), 5);
  EXPECT_EQ(p->ColumnPayoff(1, 1), -4);
  EXPECT_EQ(p->ColumnPayoff(2, 1), -6.5);
}

TEST(PayoffsTest, CustomPayoffsOverrideTheGame) {
  absl::StatusOr<PayoffMatrices> p =
      FromSettings({{"game", std::string("climbing")},
                    {"payoffs_row", Parse("[[7]]")},
                    {"payoffs_column", Parse("[[8]]")}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->rows, 1);
  EXPECT_EQ(p->cols, 1);
  EXPECT_EQ(p->RowPayoff(0, 0), 7);
  EXPECT_EQ(p->ColumnPayoff(0, 0), 8);
}

TEST(PayoffsTest, DefaultSettingsGiveThePreset) {
  absl::StatusOr<PayoffMatrices> p = FromSettings({});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->row_payoffs, (std::vector<double>{0, 3, 1, 2}));
}

TEST(PayoffsTest, RejectsBadCustomPayoffs) {
  ExpectInvalid(FromSettings({{"payoffs_row", Parse("[[1,2],[3,4]]")},
                              {"payoffs_column", Parse("[[1,2,3],[4,5,6]]")}}),
                "same shape");
  ExpectInvalid(FromSettings({{"payoffs_row", Parse("[[1,2],[3,4]]")}}),
                "only payoffs_row was given");
  ExpectInvalid(FromSettings({{"payoffs_column", Parse("[[1,2],[3,4]]")}}),
                "only payoffs_column was given");
  ExpectInvalid(FromSettings({{"payoffs_row", Parse("[1,2]")},
                              {"payoffs_column", Parse("[3,4]")}}),
                "payoffs_row must be a 2-D matrix");
  ExpectInvalid(FromSettings({{"payoffs_row", Parse("[[1,2],[3,4]]")},
                              {"payoffs_column", Parse("[[[1,2],[3,4]]]")}}),
                "payoffs_column must be a 2-D matrix");
  // Arrays built in code (or from the protocol) skip the parser's checks.
  ExpectInvalid(PayoffsFromArrays(DoubleArray{{2, 2}, {1, 2, 3}},
                                  DoubleArray{{2, 2}, {1, 2, 3, 4}}),
                "3 values for shape 2 x 2");
  ExpectInvalid(
      PayoffsFromArrays(DoubleArray{{0, 2}, {}}, DoubleArray{{0, 2}, {}}),
      "at least one row");
  ExpectInvalid(PayoffsFromArrays(DoubleArray{{1, 2}, {1, NAN}},
                                  DoubleArray{{1, 2}, {1, 2}}),
                "not finite");
}

// The shapes of issue 9: their products wrap past 2^63 to 0 and to 4, and
// once made a Discrete(4294967296) action space over four values.
TEST(PayoffsTest, RejectsShapesWhoseSizeOverflows) {
  const int64_t big = int64_t{1} << 32;
  const DoubleArray wraps_to_zero{{big, big}, {}};
  const DoubleArray wraps_to_four{{(int64_t{1} << 62) + 1, 4}, {1, 2, 3, 4}};
  const DoubleArray negative{{-2, -2}, {1, 2, 3, 4}};
  for (const DoubleArray& array : {wraps_to_zero, wraps_to_four, negative}) {
    ExpectInvalid(PayoffsFromArrays(array, array), "payoffs_row");
    ExpectInvalid(
        FromSettings({{"payoffs_row", array}, {"payoffs_column", array}}),
        "payoffs_row");
    absl::StatusOr<Settings> settings =
        Settings::Resolve(PayoffSettingDecls("wolf"),
                          {{"payoffs_row", array}, {"payoffs_column", array}});
    ASSERT_TRUE(settings.ok());
    EXPECT_EQ(SummarizePayoffSettings(*settings).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(PayoffsTest, SummaryMatchesThePayoffs) {
  absl::StatusOr<Settings> preset =
      Settings::Resolve(PayoffSettingDecls("climbing"), {});
  ASSERT_TRUE(preset.ok());
  absl::StatusOr<PayoffSummary> summary = SummarizePayoffSettings(*preset);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->rows, 3);
  EXPECT_EQ(summary->cols, 3);
  EXPECT_EQ(summary->max_abs_payoff, 30);
  absl::StatusOr<Settings> custom =
      Settings::Resolve(PayoffSettingDecls("climbing"),
                        {{"payoffs_row", Parse("[[1,2,3],[4,5,6]]")},
                         {"payoffs_column", Parse("[[0,0,0],[0,-7.5,0]]")}});
  ASSERT_TRUE(custom.ok());
  summary = SummarizePayoffSettings(*custom);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->rows, 2);
  EXPECT_EQ(summary->cols, 3);
  EXPECT_EQ(summary->max_abs_payoff, 7.5);
  absl::StatusOr<Settings> unknown = Settings::Resolve(
      PayoffSettingDecls("climbing"), {{"game", std::string("chess")}});
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(SummarizePayoffSettings(*unknown).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PayoffsTest, RewardSettingsKeepRewardsWithinTheBound) {
  const PayoffSummary ten{2, 2, 10.0};
  EXPECT_TRUE(CheckRewardSettings(ten, 1.0, 0.0).ok());
  EXPECT_TRUE(CheckRewardSettings(ten, -9e28, 0.0).ok());
  EXPECT_TRUE(CheckRewardSettings(ten, 5e28, 4e29).ok());
  for (const auto& [scale, offset] :
       std::vector<std::pair<double, double>>{{1e308, 0},
                                              {2e29, 0},
                                              {-2e29, 0},
                                              {NAN, 0},
                                              {INFINITY, 0},
                                              {1e29, 1e29},
                                              {1, 1.1e30},
                                              {1, NAN},
                                              {1, -INFINITY}}) {
    const absl::Status s = CheckRewardSettings(ten, scale, offset);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << scale << " " << offset;
    // Names the setting at fault, its value and the allowed range.
    const bool offset_at_fault = !(std::abs(offset) <= 1e30);
    EXPECT_NE(s.message().find(offset_at_fault
                                   ? "reward_offset must be in [-1e+30, 1e+30]"
                                   : "reward_scale must be in ["),
              std::string::npos)
        << s;
  }
  const absl::Status s = CheckRewardSettings(ten, 1e308, 0);
  EXPECT_NE(s.message().find("reward_scale must be in [-1e+29, 1e+29], got "
                             "1e+308"),
            std::string::npos)
      << s;
  // All-zero payoffs: any finite scale.
  EXPECT_TRUE(CheckRewardSettings(PayoffSummary{1, 1, 0.0}, 1e308, 0).ok());
  EXPECT_FALSE(CheckRewardSettings(PayoffSummary{1, 1, 0.0}, NAN, 0).ok());
  // At the edge, the reward once rounded to float is what counts: float(1e30)
  // is above 1e30.
  EXPECT_FALSE(CheckRewardSettings(PayoffSummary{1, 1, 1.0}, 1e30, 0).ok());
  EXPECT_TRUE(CheckRewardSettings(PayoffSummary{1, 1, 1.0}, 9.99e29, 0).ok());
}

TEST(PayoffsTest, CopyBytesCountBothMatrices) {
  absl::StatusOr<int64_t> small = PayoffCopyBytes(PayoffSummary{2, 2, 1});
  absl::StatusOr<int64_t> large = PayoffCopyBytes(PayoffSummary{1000, 1000, 1});
  ASSERT_TRUE(small.ok() && large.ok());
  EXPECT_GE(*large - *small, 2 * 8 * 1000 * 1000);
  EXPECT_LE(*large - *small, 2 * 8 * 1000 * 1000 + 2 * 8192);
  EXPECT_EQ(
      PayoffCopyBytes(PayoffSummary{int64_t{1} << 32, int64_t{1} << 32, 1})
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
}

TEST(PayoffsTest, CopyBytesOfFloatRewardPairs) {
  const PayoffStorage pairs = PayoffStorage::kFloatRewardPairs;
  absl::StatusOr<int64_t> small =
      PayoffCopyBytes(PayoffSummary{2, 2, 1}, pairs);
  absl::StatusOr<int64_t> large =
      PayoffCopyBytes(PayoffSummary{1000, 1000, 1}, pairs);
  ASSERT_TRUE(small.ok() && large.ok());
  EXPECT_GE(*large - *small, 2 * 4 * 1000 * 1000);
  EXPECT_LE(*large - *small, 2 * 4 * 1000 * 1000 + 8192);
  // Twice the entries may overflow where the entries alone do not.
  EXPECT_EQ(PayoffCopyBytes(
                PayoffSummary{int64_t{1} << 31, int64_t{1} << 31, 1}, pairs)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace marl
