#include "runtime/json.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(JsonStringTest, EscapesSpecialCharacters) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("l1\nl2\tx\r\b\f"), "\"l1\\nl2\\tx\\r\\b\\f\"");
  EXPECT_EQ(JsonString(std::string("a\0b\x01", 4)), "\"a\\u0000b\\u0001\"");
  EXPECT_EQ(JsonString("/"), "\"/\"");
}

TEST(JsonStringTest, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonString("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // A lone continuation byte, a truncated sequence and an overlong '/'.
  EXPECT_EQ(JsonString("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(JsonString("a\xC3"), "\"a\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  // Encoded surrogate halves are not valid UTF-8 either.
  EXPECT_EQ(JsonString("\xED\xA0\x80").find("\xED"), std::string::npos);
}

TEST(JsonStringTest, OutputIsAlwaysValidJson) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  EXPECT_TRUE(ValidateJson(JsonString(all_bytes)).ok());
}

TEST(JsonNumberTest, ShortestRoundTrip) {
  EXPECT_EQ(JsonNumber(0.1), "0.1");
  EXPECT_EQ(JsonNumber(3.0), "3");
  EXPECT_EQ(JsonNumber(-2.5), "-2.5");
  EXPECT_EQ(JsonNumber(1e300), "1e+300");
  EXPECT_EQ(JsonNumber(int64_t{-42}), "-42");
  EXPECT_EQ(JsonNumber(std::numeric_limits<uint64_t>::max()),
            "18446744073709551615");

  std::mt19937_64 rng(1234);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-300, 300);
  for (int i = 0; i < 10000; ++i) {
    const double v = std::ldexp(mantissa(rng), exponent(rng));
    const std::string text = JsonNumber(v);
    ASSERT_TRUE(ValidateJson(text).ok()) << text;
    ASSERT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
  }
  const double specials[] = {std::numeric_limits<double>::min(),
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::epsilon(), -0.0};
  for (double v : specials) {
    const std::string text = JsonNumber(v);
    ASSERT_TRUE(ValidateJson(text).ok()) << text;
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
  }
}

TEST(JsonNumberTest, NonFiniteIsNull) {
  EXPECT_EQ(JsonNumber(std::nan("")), "null");
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(JsonNumber(-std::numeric_limits<double>::infinity()), "null");
}

TEST(ValidateJsonTest, AcceptsValidDocuments) {
  for (const char* text :
       {"{}", "[]", "0", "-0.5e-3", "\"x\"", "true", "false", "null",
        " { \"a\" : [1, 2.5, {\"b\": null}], \"c\": \"\\u00e9\\n\" } ",
        "[[[]]]", "1E+2"}) {
    EXPECT_TRUE(ValidateJson(text).ok()) << text;
  }
}

TEST(ValidateJsonTest, RejectsInvalidDocuments) {
  for (const char* text :
       {"", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "01", "1.", ".5", "+1", "NaN",
        "nul", "'x'", "\"\\x\"", "\"\\u12\"", "{a:1}", "1 2", "\"unterminated",
        "[1] x", "-"}) {
    absl::Status s = ValidateJson(text);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_FALSE(ValidateJson("\"a\nb\"").ok());  // raw control character
  EXPECT_FALSE(ValidateJson("\"\xFF\"").ok());  // invalid UTF-8
  EXPECT_FALSE(ValidateJson(std::string(10000, '[')).ok());  // too deep
}

TEST(JsonObjectTest, BuildsInInsertionOrder) {
  JsonObject o;
  EXPECT_TRUE(o.empty());
  EXPECT_EQ(o.Build(), "{}");
  o.Add("s", "x\"y")
      .Add("i", int64_t{-3})
      .Add("u", uint64_t{7})
      .Add("n", 5)
      .Add("d", 0.25)
      .Add("nan", std::nan(""))
      .Add("b", true)
      .AddNull("z")
      .AddRaw("raw", "[1, {\"k\": 2}]");
  EXPECT_FALSE(o.empty());
  const std::string text = o.Build();
  EXPECT_EQ(text,
            "{\"s\": \"x\\\"y\", \"i\": -3, \"u\": 7, \"n\": 5, \"d\": 0.25, "
            "\"nan\": null, \"b\": true, \"z\": null, "
            "\"raw\": [1, {\"k\": 2}]}");
  EXPECT_TRUE(ValidateJson(text).ok());
}

TEST(JsonObjectTest, NumberArraysAreExact) {
  const std::vector<double> rates = {0.000123456789, 1e-7, 3.0};
  const std::vector<int64_t> hidden = {100, 64};
  JsonObject o;
  o.Add("rates", rates)
      .Add("hidden", hidden)
      .Add("none", std::vector<double>{});
  EXPECT_EQ(o.Build(),
            "{\"rates\": [0.000123456789, 1e-07, 3], \"hidden\": [100, 64], "
            "\"none\": []}");
  EXPECT_TRUE(ValidateJson(o.Build()).ok());
}

TEST(JsonObjectTest, BuildIndentedNests) {
  JsonObject inner;
  inner.Add("x", 1);
  JsonObject outer;
  outer.Add("a", "b").AddRaw("inner", inner.BuildIndented());
  EXPECT_EQ(outer.BuildIndented(),
            "{\n  \"a\": \"b\",\n  \"inner\": {\n    \"x\": 1\n  }\n}");
  EXPECT_EQ(JsonObject().BuildIndented(), "{}");
  EXPECT_TRUE(ValidateJson(outer.BuildIndented()).ok());
  // Raw multi-line texts are shifted too; strings keep their escapes.
  JsonObject raw;
  raw.AddRaw("spec", "{\n  \"s\": \"a\\nb\"\n}");
  EXPECT_EQ(raw.BuildIndented(),
            "{\n  \"spec\": {\n    \"s\": \"a\\nb\"\n  }\n}");
}

TEST(StringMembersTest, ReadsOneObjectsStringsInFileOrder) {
  auto members = StringMembers(
      R"({"seed": 1, "flags": {"zeta": "1", "alpha": "a\"b", "e": ""}})",
      "flags");
  ASSERT_TRUE(members.ok()) << members.status();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"zeta", "1"}, {"alpha", "a\"b"}, {"e", ""}};
  EXPECT_EQ(*members, expected);
}

TEST(MemberTextsTest, GivesEachValueAsCompactJson) {
  auto top = MemberTexts(R"({"a": [1, 2], "b": {"c": "x"}, "n": 0.5})");
  ASSERT_TRUE(top.ok()) << top.status();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "[1,2]"}, {"b", "{\"c\":\"x\"}"}, {"n", "0.5"}};
  EXPECT_EQ(*top, expected);
  auto inner = MemberTexts(R"({"b": {"c": "x"}})", "b");
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(*inner,
            (std::vector<std::pair<std::string, std::string>>{{"c", "\"x\""}}));
  EXPECT_FALSE(MemberTexts("[1]").ok());
  EXPECT_FALSE(MemberTexts(R"({"b": 1})", "b").ok());
  EXPECT_EQ(*NumberMember(R"({"step": 40, "time": 0.5})", "step"), 40);
  EXPECT_FALSE(NumberMember(R"({"step": "40"})", "step").ok());
}

TEST(StringMembersTest, RefusesWhatIsNotAnObjectOfStrings) {
  for (const char* text :
       {"", "[1]", "{\"flags\": 1}", "{\"other\": {}}",
        "{\"flags\": {\"a\": 1}}", "{\"flags\": {\"a\": \"1\"}",
        "{\"flags\": {\"a\": null}}"}) {
    EXPECT_EQ(StringMembers(text, "flags").status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
  // Deep nesting is an error, not a stack overflow.
  const std::string deep = "{\"flags\": " + std::string(100000, '[') + "}";
  EXPECT_EQ(StringMembers(deep, "flags").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
