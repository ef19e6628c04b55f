#include "runtime/observation_encoder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(ObservationEncoderTest, DiscreteRowsBecomeOneHots) {
  const ObservationEncoder encoder("player_0", Space::Discrete(3));
  EXPECT_EQ(encoder.raw_size(), 1);
  EXPECT_EQ(encoder.size(), 3);
  const float raw[] = {2.0f, 0.0f};
  std::vector<float> out;
  ASSERT_TRUE(encoder.Encode(raw, 2, &out).ok());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 1, 1, 0, 0}));
}

TEST(ObservationEncoderTest, BoxRowsAreCopied) {
  const ObservationEncoder encoder("a", Space::Box({2}, {-1, -1}, {1, 1}));
  EXPECT_EQ(encoder.size(), 2);
  const float raw[] = {0.5f, -0.25f, 1.0f, 0.0f};
  std::vector<float> out;
  ASSERT_TRUE(encoder.Encode(raw, 2, &out).ok());
  EXPECT_EQ(out, (std::vector<float>{0.5f, -0.25f, 1.0f, 0.0f}));
}

TEST(ObservationEncoderTest, NotAnIndexIsOutOfRangeNamingTheAgent) {
  const ObservationEncoder encoder("player_1", Space::Discrete(3));
  std::vector<float> out;
  for (float bad : {3.0f, -1.0f, 0.5f}) {
    const absl::Status s = encoder.Encode(&bad, 1, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << bad;
    EXPECT_NE(s.message().find("player_1"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace marl
