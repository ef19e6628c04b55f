#include "runtime/params.h"

#include <string>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

#define MARL_TEST_PARAMS(P)                                                  \
  P(double, test_lr, 1e-3, Positive(), "A learning rate.")                   \
  P(int64_t, test_batch, 64, AtLeast(1), "A batch size.")                    \
  P(int32_t, test_particles, 16, InRange(1, 4096), "Particles.")             \
  P(bool, test_flag, false, AnyValue(), "A switch.")                         \
  P(double, test_entropy, std::nan(""), AnyDouble(), "NaN: automatic.")      \
  P(std::string, test_clock, "updates", (OneOf{{"updates", "transitions"}}), \
    "What t counts.")                                                        \
  P(LayerSizes, test_hidden, LayerSizes("100,100"), AnyValue(), "Layers.")

struct TestParams {
  MARL_PARAMS(MARL_TEST_PARAMS)
};

}  // namespace
}  // namespace marl

MARL_PARAM_FLAGS(TestParams, MARL_TEST_PARAMS)

namespace marl {
namespace {

TEST(ParamsTest, DefaultsAndFlagsComeFromTheOneList) {
  TestParams defaults;
  EXPECT_EQ(defaults.test_lr, 1e-3);
  EXPECT_EQ(defaults.test_hidden.sizes, (std::vector<int64_t>{100, 100}));
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag("test_lr");
  ASSERT_NE(flag, nullptr);
  EXPECT_EQ(flag->Help(), "A learning rate.");
  EXPECT_EQ(flag->DefaultValue(), "0.001");
  EXPECT_EQ(absl::FindCommandLineFlag("test_hidden")->DefaultValue(),
            "100,100");

  absl::SetFlag(&FLAGS_test_lr, 0.000123456789);
  absl::SetFlag(&FLAGS_test_hidden, LayerSizes("8,4,2"));
  absl::SetFlag(&FLAGS_test_clock, std::string("transitions"));
  TestParams read;
  ReadParamFlags(&read);
  EXPECT_EQ(read.test_lr, 0.000123456789);
  EXPECT_EQ(read.test_hidden.sizes, (std::vector<int64_t>{8, 4, 2}));
  EXPECT_EQ(read.test_clock, "transitions");
  EXPECT_TRUE(ValidateParams(read).ok()) << ValidateParams(read);
}

TEST(ParamsTest, ValidationNamesTheFlagAndWhatIsWanted) {
  auto problem = [](auto change) {
    TestParams p;
    change(p);
    return std::string(ValidateParams(p).message());
  };
  EXPECT_EQ(problem([](TestParams& p) { p.test_lr = 0; }),
            "--test_lr must be > 0, got 0");
  EXPECT_EQ(problem([](TestParams& p) { p.test_lr = INFINITY; }),
            "--test_lr must be finite, got inf");
  EXPECT_EQ(problem([](TestParams& p) { p.test_batch = 0; }),
            "--test_batch must be >= 1, got 0");
  EXPECT_EQ(problem([](TestParams& p) { p.test_particles = 5000; }),
            "--test_particles must be in [1, 4096], got 5000");
  EXPECT_EQ(problem([](TestParams& p) { p.test_clock = "time"; }),
            "--test_clock must be one of \"updates\", \"transitions\", got "
            "time");
  // AnyDouble lets NaN through (it means "automatic" here).
  EXPECT_EQ(problem([](TestParams& p) {}), "");
}

TEST(ParamsTest, JsonHoldsTheExactValues) {
  TestParams p;
  p.test_lr = 0.1 + 0.2;  // 0.30000000000000004
  p.test_hidden = LayerSizes("3,2");
  JsonObject json;
  json.Add("kind", "test");
  EXPECT_EQ(AddParams(p, json).Build(),
            "{\"kind\": \"test\", \"test_lr\": 0.30000000000000004, "
            "\"test_batch\": 64, \"test_particles\": 16, \"test_flag\": "
            "false, \"test_entropy\": null, \"test_clock\": \"updates\", "
            "\"test_hidden\": [3, 2]}");
}

TEST(LayerSizesTest, ParsesPositiveSizesOnly) {
  LayerSizes sizes;
  std::string error;
  EXPECT_TRUE(AbslParseFlag("64,32", &sizes, &error));
  EXPECT_EQ(sizes.sizes, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(AbslUnparseFlag(sizes), "64,32");
  EXPECT_TRUE(AbslParseFlag("", &sizes, &error));  // no hidden layer
  EXPECT_TRUE(sizes.sizes.empty());
  for (const char* bad :
       {"0", "-3", "a", "64,x", "99999999999999999999", "2000000"}) {
    EXPECT_FALSE(AbslParseFlag(bad, &sizes, &error)) << bad;
    EXPECT_NE(error.find("is not a layer size"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace marl
