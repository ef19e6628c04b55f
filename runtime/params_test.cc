#include "runtime/params.h"

#include <string>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace marl {

enum class Clock { kUpdates, kTransitions };
inline constexpr EnumName<Clock> kClockNames[] = {
    {Clock::kUpdates, "updates"}, {Clock::kTransitions, "transitions"}};
inline bool AbslParseFlag(absl::string_view text, Clock* out,
                          std::string* error) {
  return ParseEnum(text, kClockNames, out, error);
}
inline std::string AbslUnparseFlag(Clock clock) {
  return UnparseEnum(clock, kClockNames);
}

namespace {

#define MARL_TEST_PARAMS(P)                                             \
  P(double, test_lr, 1e-3, Positive(), "A learning rate.")              \
  P(int64_t, test_batch, 64, AtLeast(1), "A batch size.")               \
  P(int32_t, test_particles, 16, InRange(1, 4096), "Particles.")        \
  P(bool, test_flag, false, AnyValue(), "A switch.")                    \
  P(double, test_entropy, std::nan(""), AnyDouble(), "NaN: automatic.") \
  P(::marl::Clock, test_clock, ::marl::Clock::kUpdates, AnyValue(),     \
    "What t counts.")                                                   \
  P(std::string, test_name, "x", AnyValue(), "A name.")                 \
  P(Numbers, test_betas, Numbers("0.1,-0.1"), AnyValue(), "Betas.")     \
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
  absl::SetFlag(&FLAGS_test_clock, Clock::kTransitions);
  TestParams read;
  ReadParamFlags(&read);
  EXPECT_EQ(read.test_lr, 0.000123456789);
  EXPECT_EQ(read.test_hidden.sizes, (std::vector<int64_t>{8, 4, 2}));
  EXPECT_EQ(read.test_clock, Clock::kTransitions);
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
            "\"test_name\": \"x\", \"test_betas\": [0.1, -0.1], "
            "\"test_hidden\": [3, 2]}");
}

TEST(ParamsTest, EnumsAndNumbersParseFromTheirNames) {
  const absl::CommandLineFlag* clock = absl::FindCommandLineFlag("test_clock");
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock->DefaultValue(), "updates");
  std::string error;
  Clock c;
  EXPECT_TRUE(AbslParseFlag("transitions", &c, &error));
  EXPECT_EQ(c, Clock::kTransitions);
  EXPECT_FALSE(AbslParseFlag("time", &c, &error));
  EXPECT_EQ(error, "'time' is not one of \"updates\", \"transitions\"");

  Numbers numbers;
  EXPECT_TRUE(AbslParseFlag("0.1,-0.30000000000000004", &numbers, &error));
  EXPECT_EQ(numbers.values, (std::vector<double>{0.1, -0.30000000000000004}));
  EXPECT_EQ(AbslUnparseFlag(numbers), "0.1,-0.30000000000000004");
  for (const char* bad : {"x", "0.1,nan", "inf", "1e999"}) {
    EXPECT_FALSE(AbslParseFlag(bad, &numbers, &error)) << bad;
  }
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
