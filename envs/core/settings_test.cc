#include "envs/core/settings.h"

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
