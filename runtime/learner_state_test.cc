#include "runtime/learner_state.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

std::string Written() {
  std::mt19937_64 engine(7);
  engine.discard(5);
  return LearnerStateWriter("sac", {3, 2})
      .Bytes("actor", std::string("\0\1net", 5))
      .Ints("counters", {10, 4})
      .Doubles("q", {0.5, -1e300, 2})
      .Engine("rng", engine)
      .Finish();
}

TEST(LearnerStateTest, PartsReadBackAsWritten) {
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(Written(), "sac", {3, 2});
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::string bytes;
  ASSERT_TRUE(reader->Bytes("actor", &bytes).ok());
  EXPECT_EQ(bytes, std::string("\0\1net", 5));
  std::vector<int64_t> ints;
  ASSERT_TRUE(reader->Ints("counters", 2, &ints).ok());
  EXPECT_EQ(ints, (std::vector<int64_t>{10, 4}));
  std::vector<double> doubles;
  ASSERT_TRUE(reader->Doubles("q", -1, &doubles).ok());
  EXPECT_EQ(doubles, (std::vector<double>{0.5, -1e300, 2}));
  std::mt19937_64 engine, expected(7);
  expected.discard(5);
  ASSERT_TRUE(reader->Engine("rng", &engine).ok());
  EXPECT_EQ(engine, expected);  // goes on where it stopped
  EXPECT_TRUE(reader->Has("q"));
  EXPECT_FALSE(reader->Has("replay"));
}

TEST(LearnerStateTest, AnotherLearnerOrShapeIsRefused) {
  absl::Status other =
      LearnerStateReader::Open(Written(), "gr2", {3, 2}).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(other.message().find("'sac', not 'gr2'"), std::string::npos)
      << other;
  absl::Status shape =
      LearnerStateReader::Open(Written(), "sac", {3, 3}).status();
  EXPECT_EQ(shape.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(shape.message().find("[3, 2]"), std::string::npos) << shape;
  EXPECT_EQ(LearnerStateReader::Open(Written(), "sac", {3}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LearnerStateTest, MissingOrMisshapenPartsAreDataLoss) {
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(Written(), "sac", {3, 2});
  ASSERT_TRUE(reader.ok());
  std::vector<int64_t> ints = {99};
  absl::Status missing = reader->Ints("updates", 1, &ints);
  EXPECT_EQ(missing.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(missing.message().find("'updates'"), std::string::npos);
  EXPECT_EQ(reader->Ints("counters", 3, &ints).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ints, (std::vector<int64_t>{99}));  // untouched on error
  std::mt19937_64 engine(1), before(1);
  EXPECT_EQ(reader->Engine("actor", &engine).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(engine, before);
}

TEST(LearnerStateTest, APartWrittenTwiceIsDataLoss) {
  const std::string twice =
      LearnerStateWriter("sac", {}).Ints("n", {1}).Ints("n", {2}).Finish();
  absl::Status s = LearnerStateReader::Open(twice, "sac", {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'n' appears twice"), std::string::npos) << s;
}

TEST(LearnerStateTest, BytesThatDoNotParseAreDataLoss) {
  const std::string good = Written();
  for (const std::string& bad :
       {std::string("\xff\xff\xff"), good.substr(0, good.size() / 2)}) {
    EXPECT_EQ(LearnerStateReader::Open(bad, "sac", {3, 2}).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

// Data-parallel sharing: model parts (in nested states too) come from the
// shared state, everything else stays; the digest sees only model parts
// that are the same bytes in every process.
TEST(LearnerStateTest, WithModelOfTakesOnlyModelParts) {
  auto state = [](const std::string& weight, const std::string& optimizer,
                  uint64_t seed) {
    const std::string inner = LearnerStateWriter("inner", {1})
                                  .Model("module/q", weight + "q")
                                  .Ints("updates", {int64_t(seed)})
                                  .Finish();
    return LearnerStateWriter("outer", {2})
        .Model("module/w", weight)
        .ProcessModel("optimizer/w", optimizer)
        .Engine("rng", std::mt19937_64(seed))
        .Bytes("replay", "replay" + std::to_string(seed))
        .Nested("agent_0", inner)
        .Finish();
  };
  const std::string own = state("own", "own_opt", 1);
  const std::string shared = state("shared", "shared_opt", 2);
  absl::StatusOr<std::string> merged = WithModelOf(own, shared);
  ASSERT_TRUE(merged.ok()) << merged.status();
  // Exactly the shared model with the own engine, replay and counters.
  EXPECT_EQ(*merged, state("shared", "shared_opt", 1));

  // The digest: equal for equal models whatever the process bytes.
  const auto digest = [](const std::string& s) {
    return DigestModel(s).value();
  };
  EXPECT_EQ(digest(own).parts, 2);  // module/w and the nested module/q
  EXPECT_EQ(digest(state("a", "x", 1)).digest,
            digest(state("a", "y", 2)).digest);
  EXPECT_NE(digest(state("a", "x", 1)).digest,
            digest(state("b", "x", 1)).digest);
  EXPECT_EQ(digest(LearnerStateWriter("t", {}).Ints("n", {1}).Finish()).parts,
            0);

  // Another learner's or another layout's state is refused.
  const std::string other =
      LearnerStateWriter("outer", {2}).Model("module/v", "x").Finish();
  EXPECT_EQ(WithModelOf(own, other).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WithModelOf(own, "\xff garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
