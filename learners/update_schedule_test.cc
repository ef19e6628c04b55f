#include "learners/update_schedule.h"

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(UpdateScheduleTest, NoUpdatesDuringWarmUpThenRatioPerTransition) {
  UpdateSchedule schedule(0.125, 16);
  EXPECT_TRUE(schedule.warming_up());
  EXPECT_EQ(schedule.Record(8), 0);
  EXPECT_TRUE(schedule.warming_up());
  // The batch that reaches 16 counts whole: 8 * 0.125 = 1 update.
  EXPECT_EQ(schedule.Record(8), 1);
  EXPECT_FALSE(schedule.warming_up());
  EXPECT_EQ(schedule.Record(8), 1);
  EXPECT_EQ(schedule.Record(4), 0);  // half an update carries over
  EXPECT_EQ(schedule.Record(4), 1);
  EXPECT_EQ(schedule.granted(), 3);
  EXPECT_EQ(schedule.transitions(), 32);
}

TEST(UpdateScheduleTest, OneByOneEqualsBatchedWithoutDrift) {
  // 0.1 has no exact double: summing it a million times drifts, the
  // schedule does not.
  UpdateSchedule one(0.1, 0), batched(0.1, 0);
  int64_t from_one = 0, from_batched = 0;
  for (int i = 0; i < 1000000; ++i) from_one += one.Record(1);
  for (int i = 0; i < 1000; ++i) from_batched += batched.Record(1000);
  EXPECT_EQ(from_one, 100000);
  EXPECT_EQ(from_batched, 100000);
}

TEST(UpdateScheduleTest, NotReadyTransitionsEarnNothing) {
  UpdateSchedule schedule(1.0, 0);
  EXPECT_EQ(schedule.Record(5, /*ready=*/false), 0);
  EXPECT_EQ(schedule.Record(5), 5);
  EXPECT_EQ(schedule.transitions(), 10);
}

TEST(UpdateScheduleTest, RestoresItsStateAndRefusesImpossibleOnes) {
  UpdateSchedule a(0.25, 4);
  a.Record(6);
  a.Record(3);
  UpdateSchedule b(0.25, 4);
  ASSERT_TRUE(b.Restore(a.state()).ok());
  EXPECT_EQ(b.Record(3), a.Record(3));
  EXPECT_EQ(b.granted(), a.granted());
  for (UpdateSchedule::State bad :
       {UpdateSchedule::State{-1, 0, 0}, UpdateSchedule::State{4, 5, 0},
        UpdateSchedule::State{8, 8, 3}}) {
    EXPECT_EQ(b.Restore(bad).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(UpdateScheduleTest, GoesOnFromItsCheckpointPart) {
  UpdateSchedule a(0.25, 4);
  a.Record(6);
  a.Record(3);
  LearnerStateWriter writer("test", {});
  a.Save(&writer);
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(writer.Finish(), "test", {});
  ASSERT_TRUE(reader.ok());
  UpdateSchedule b(0.25, 4);
  ASSERT_TRUE(b.Load(*reader).ok());
  EXPECT_EQ(b.transitions(), 9);
  EXPECT_EQ(b.Record(7), a.Record(7));
  // A part that holds an impossible state, or none, is refused.
  absl::StatusOr<LearnerStateReader> bad = LearnerStateReader::Open(
      LearnerStateWriter("test", {}).Ints("schedule", {4, 5, 0}).Finish(),
      "test", {});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(b.Load(*bad).code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<LearnerStateReader> none = LearnerStateReader::Open(
      LearnerStateWriter("test", {}).Finish(), "test", {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(b.Load(*none).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(b.transitions(), 16);  // unchanged by the failed loads
}

}  // namespace
}  // namespace marl
