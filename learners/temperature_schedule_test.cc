#include "learners/temperature_schedule.h"

#include <cmath>

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(TemperatureScheduleTest, Exponential) {
  const TemperatureSchedule s = TemperatureSchedule::Exponential(1.0, 0.5, 0.1);
  EXPECT_DOUBLE_EQ(s.At(0), 1.0);
  EXPECT_DOUBLE_EQ(s.At(2), 0.25);
  EXPECT_DOUBLE_EQ(s.At(10), 0.1);  // floor
  EXPECT_TRUE(s.Validate("t").ok());
  EXPECT_DOUBLE_EQ(TemperatureSchedule::Constant(0.3).At(1000), 0.3);
}

TEST(TemperatureScheduleTest, RommeoAnnealing) {
  // The authors' 0.1 + 500 exp(-0.1 max(t - 10, 0)).
  const TemperatureSchedule s =
      TemperatureSchedule::Rommeo(0.1, 500.0, 0.1, 10.0);
  EXPECT_DOUBLE_EQ(s.At(0), 500.1);
  EXPECT_DOUBLE_EQ(s.At(10), 500.1);
  EXPECT_NEAR(s.At(20), 0.1 + 500 * std::exp(-1.0), 1e-12);
  EXPECT_NEAR(s.At(1000), 0.1, 1e-12);
  EXPECT_TRUE(s.Validate("t").ok());
}

TEST(TemperatureScheduleTest, RejectsBadValues) {
  EXPECT_FALSE(
      TemperatureSchedule::Exponential(0, 0.5, 0.1).Validate("a").ok());
  EXPECT_FALSE(
      TemperatureSchedule::Exponential(1, 1.5, 0.1).Validate("a").ok());
  EXPECT_FALSE(TemperatureSchedule::Rommeo(0, 1, 0.1, 0).Validate("a").ok());
  EXPECT_FALSE(TemperatureSchedule::Rommeo(0.1, 1, -1, 0).Validate("a").ok());
}

}  // namespace
}  // namespace marl
