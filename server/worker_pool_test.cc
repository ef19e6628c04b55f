#include "server/worker_pool.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

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
