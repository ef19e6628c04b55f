#include "server/worker_pool.h"

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

constexpr std::chrono::microseconds kSleep(200);

TEST(WorkerPoolTest, RunsEveryIndexExactlyOnce) {
  for (int threads : {0, 1, 3}) {
    WorkerPool pool(threads);
    for (int64_t n : {0, 1, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelFor(n, [&](int64_t i) { hits[i].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(hits[i].load(), 1) << threads << " threads, n=" << n;
      }
    }
  }
}

TEST(WorkerPoolTest, ManyJobsInARow) {
  WorkerPool pool(2);
  std::atomic<int64_t> total{0};
  for (int job = 0; job < 500; ++job) {
    pool.ParallelFor(64, [&](int64_t i) { total.fetch_add(i); });
  }
  EXPECT_EQ(total.load(), 500 * (63 * 64 / 2));
}

// The time reported is the threads' time in body together: at least what
// body slept, summed over every index (a lower bound; sleeps never end
// early), whether the pool's threads ran them or the caller alone.
TEST(WorkerPoolTest, ReportsTheTimeOfEveryIndex) {
  for (int threads : {0, 2}) {
    WorkerPool pool(threads);
    const double ns = pool.ParallelFor(
        8, [](int64_t) { std::this_thread::sleep_for(kSleep); });
    EXPECT_GE(ns, 8 * std::chrono::nanoseconds(kSleep).count()) << threads;
  }
}

TEST(CostEstimateTest, TakesTheFirstSampleAsIs) {
  CostEstimate estimate;
  EXPECT_LT(estimate.ns_per_row(), 0);
  estimate.Add(40);
  EXPECT_EQ(estimate.ns_per_row(), 40);
}

TEST(CostEstimateTest, OneOutlierBarelyMovesIt) {
  CostEstimate estimate;
  estimate.Add(40);
  for (int i = 0; i < 10; ++i) estimate.Add(40);
  // One preempted step, a thousand times the cost.
  estimate.Add(40000);
  EXPECT_LE(estimate.ns_per_row(), 40 * 1.25 + 1);
  for (int i = 0; i < 10; ++i) estimate.Add(40);
  EXPECT_NEAR(estimate.ns_per_row(), 40, 1);
  // Not finite or negative: ignored.
  estimate.Add(-1);
  estimate.Add(std::numeric_limits<double>::infinity());
  estimate.Add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_NEAR(estimate.ns_per_row(), 40, 1);
}

TEST(CostEstimateTest, FollowsALastingChangeEitherWay) {
  CostEstimate estimate;
  estimate.Add(40);
  for (int i = 0; i < 25; ++i) estimate.Add(400);
  EXPECT_NEAR(estimate.ns_per_row(), 400, 10);
  for (int i = 0; i < 25; ++i) estimate.Add(40);
  EXPECT_NEAR(estimate.ns_per_row(), 40, 1);
  // An estimate of 0 can still grow.
  CostEstimate zero;
  zero.Add(0);
  for (int i = 0; i < 40; ++i) zero.Add(100);
  EXPECT_NEAR(zero.ns_per_row(), 100, 5);
}

TEST(TaskQueueTest, OneThreadRunsTasksInOrder) {
  std::vector<int> order;
  {
    TaskQueue queue(1);
    for (int i = 0; i < 100; ++i) {
      queue.Post([&order, i] { order.push_back(i); });
    }
  }  // the destructor lets queued tasks finish
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(TaskQueueTest, SeveralThreadsRunEveryTask) {
  std::atomic<int> done{0};
  {
    TaskQueue queue(3);
    for (int i = 0; i < 1000; ++i) queue.Post([&done] { done.fetch_add(1); });
  }
  EXPECT_EQ(done.load(), 1000);
}

}  // namespace
}  // namespace marl
