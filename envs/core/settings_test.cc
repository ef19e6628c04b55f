#include "envs/core/settings.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(SettingsTest, ParsesEachType) {
  EXPECT_EQ(std::get<int64_t>(*ParseSettingValue(" 12 ", int64_t{0})), 12);
  EXPECT_DOUBLE_EQ(std::get<double>(*ParseSettingValue("0.7", 0.0)), 0.7);
  EXPECT_TRUE(std::get<bool>(*ParseSettingValue("true", false)));
  EXPECT_EQ(std::get<std::string>(*ParseSettingValue("pd", std::string())),
            "pd");
  EXPECT_FALSE(ParseSettingValue("x1", int64_t{0}).ok());
  EXPECT_FALSE(ParseSettingValue("maybe", false).ok());
}

TEST(SettingsTest, ParsesArraysWithShape) {
  auto value = ParseSettingValue("[[0, 3], [1, 2], [-1.5, 4]]", DoubleArray());
  ASSERT_TRUE(value.ok()) << value.status();
  const auto& array = std::get<DoubleArray>(*value);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(array.values, (std::vector<double>{0, 3, 1, 2, -1.5, 4}));
  EXPECT_EQ(SettingValueToString(*value), "[[0,3],[1,2],[-1.5,4]]");
  auto vector = ParseSettingValue("[1,2,3]", DoubleArray());
  ASSERT_TRUE(vector.ok());
  EXPECT_EQ(std::get<DoubleArray>(*vector).shape, (std::vector<int64_t>{3}));
}

TEST(SettingsTest, RejectsMalformedArrays) {
  for (const char* bad :
       {"[[0,3],[1]]", "[[0,3],1]", "[1,", "[]", "[1,x]", "[1] 2", "1,2"}) {
    EXPECT_FALSE(ParseSettingValue(bad, DoubleArray()).ok()) << bad;
  }
}

TEST(SettingsTest, RejectsListsAndNumbersMixedAtOneDepth) {
  // Each of these once parsed as a rectangular array it is not.
  for (const char* bad : {"[1,[2]]", "[[1],[[2]]]", "[[[1]],[2]]",
                          "[[1,2],[[3,4]]]", "[[1],2]"}) {
    EXPECT_FALSE(ParseSettingValue(bad, DoubleArray()).ok()) << bad;
  }
}

std::string Nested(int depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

TEST(SettingsTest, BoundsTheNestingDepth) {
  auto deepest = ParseSettingValue(Nested(kMaxArrayRank), DoubleArray());
  ASSERT_TRUE(deepest.ok()) << deepest.status();
  EXPECT_EQ(std::get<DoubleArray>(*deepest).shape,
            std::vector<int64_t>(kMaxArrayRank, 1));
  EXPECT_EQ(SettingValueToString(*deepest), Nested(kMaxArrayRank));
  // One level more, and a nest deep enough to overflow the stack if the
  // parser recursed into it.
  for (int depth : {kMaxArrayRank + 1, 1000000}) {
    auto too_deep = ParseSettingValue(Nested(depth), DoubleArray());
    EXPECT_EQ(too_deep.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(too_deep.status().message().find("nested deeper than 32"),
              std::string::npos)
        << too_deep.status();
    // The message quotes an excerpt, not a megabyte of brackets.
    EXPECT_LT(too_deep.status().message().size(), 200u);
  }
}

TEST(SettingsTest, NonFiniteNumbersParseForTheEnvironmentToCheck) {
  EXPECT_TRUE(std::isinf(std::get<double>(*ParseSettingValue("1e999", 0.0))));
  EXPECT_TRUE(std::isnan(std::get<double>(*ParseSettingValue("nan", 0.0))));
  EXPECT_FALSE(ParseSettingValue("99999999999999999999", int64_t{0}).ok());
}

TEST(SettingsTest, PrintsMalformedArraysWithoutReadingPastTheValues) {
  // Arrays built in code (not parsed) whose shape disagrees with the
  // values: a shape whose product wraps, too many dimensions, too few values.
  const int64_t big = int64_t{1} << 32;
  const DoubleArray wraps{{big, big}, {}};
  const DoubleArray wraps_to_four{{(int64_t{1} << 62) + 1, 4}, {1, 2, 3, 4}};
  const DoubleArray deep{std::vector<int64_t>(1000, 1), {5}};
  const DoubleArray short_values{{2, 2}, {1}};
  for (const DoubleArray& array : {wraps, wraps_to_four, deep, short_values}) {
    EXPECT_EQ(SettingValueToString(array).rfind("<malformed array", 0), 0u);
  }
}

TEST(SettingsTest, RangeChecksNameTheSettingValueAndRange) {
  EXPECT_TRUE(CheckIntInRange("n", 2, 2, 5).ok());
  EXPECT_TRUE(CheckIntInRange("n", 5, 2, 5).ok());
  const absl::Status low = CheckIntInRange("n", 1, 2, 5);
  EXPECT_EQ(low.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(low.message(), "n must be in [2, 5], got 1");
  EXPECT_TRUE(CheckDoubleInRange("p", 0.5, 0, 1).ok());
  const absl::Status high = CheckDoubleInRange("p", 1e308, 0, 1e27, "why");
  EXPECT_EQ(high.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(high.message(), "p must be in [0, 1e+27], got 1e+308 (why)");
  EXPECT_FALSE(CheckDoubleInRange("p", std::nan(""), -1e30, 1e30).ok());
  EXPECT_FALSE(CheckDoubleInRange("p", -INFINITY, -1e30, 1e30).ok());
}

TEST(SettingsTest, ResolveFillsDefaultsAndChecksTypes) {
  std::vector<SettingDecl> decls = {{"n", "count", int64_t{3}},
                                    {"p", "ratio", 0.5},
                                    {"game", "preset", std::string("pd")}};
  auto settings = Settings::Resolve(decls, {{"p", int64_t{2}}});
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->GetInt("n"), 3);
  EXPECT_DOUBLE_EQ(settings->GetDouble("p"), 2.0);  // int widened
  EXPECT_EQ(settings->GetString("game"), "pd");
  auto unknown = Settings::Resolve(decls, {{"q", int64_t{1}}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("known: n, p, game"),
            std::string::npos);
  EXPECT_FALSE(Settings::Resolve(decls, {{"n", 1.5}}).ok());
}

}  // namespace
}  // namespace marl
