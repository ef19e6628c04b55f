#ifndef MARL_SERVER_WORKER_POOL_H_
#define MARL_SERVER_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace marl {

// A fixed set of threads that run one ParallelFor at a time: a batch's
// copies spread over the workers and the calling thread. Not for concurrent
// callers (EnvService lets one batch use it at a time; the others step on
// their own thread).
class WorkerPool {
 public:
  // `threads` extra threads beside the caller; 0 runs everything inline.
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs body(i) for i in [0, n), in chunks over the caller and the workers;
  // returns when all are done, with the time the threads spent in body
  // together (ns): what the work would have taken on one thread, for
  // measuring its cost.
  double ParallelFor(int64_t n, const std::function<void(int64_t)>& body);
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void WorkerLoop();
  // Runs chunks until none is left; adds the time taken to busy_ns_.
  void RunChunks();

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable work_ready_, work_done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  int active_ = 0;
  // The current job.
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> busy_ns_{0};
};

// A running estimate of what a request costs per row (ns), which decides
// where the next one runs. Wall time is all there is to measure, and the
// CPU is shared, so one sample can be an outlier (a preempted step): a
// sample counts for at most twice the estimate, so one outlier raises it by
// at most a quarter, while a lasting change is followed (a rise by a
// quarter per sample, a fall at once by a quarter of the difference).
// Thread-safe to read while one thread adds.
class CostEstimate {
 public:
  // < 0 until the first sample.
  double ns_per_row() const { return value_.load(std::memory_order_relaxed); }
  // Ignores samples that are not finite or are negative.
  void Add(double ns_per_row);

 private:
  std::atomic<double> value_{-1.0};
};

// Threads that run queued tasks, oldest first. The destructor lets queued
// tasks finish, then joins.
class TaskQueue {
 public:
  explicit TaskQueue(int threads);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  void Post(std::function<void()> task);

 private:
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
};

}  // namespace marl

#endif  // MARL_SERVER_WORKER_POOL_H_
