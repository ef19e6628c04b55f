#include "server/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace marl {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void WorkerPool::RunChunks() {
  const int64_t start = NowNs();
  while (true) {
    const int64_t begin = next_.fetch_add(chunk_);
    if (begin >= n_) break;
    const int64_t end = std::min(n_, begin + chunk_);
    for (int64_t i = begin; i < end; ++i) (*body_)(i);
  }
  busy_ns_.fetch_add(NowNs() - start);
}

void WorkerPool::WorkerLoop() {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      ++active_;
    }
    RunChunks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_;
    }
    work_done_.notify_all();
  }
}

double WorkerPool::ParallelFor(int64_t n,
                               const std::function<void(int64_t)>& body) {
  if (threads_.empty() || n <= 1) {
    const int64_t start = NowNs();
    for (int64_t i = 0; i < n; ++i) body(i);
    return static_cast<double>(NowNs() - start);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    n_ = n;
    // A few chunks per thread balances uneven copies without contention.
    chunk_ = std::max<int64_t>(1, n / (4 * (threads() + 1)));
    next_.store(0);
    busy_ns_.store(0);
    ++generation_;
  }
  work_ready_.notify_all();
  RunChunks();
  std::unique_lock<std::mutex> lock(mutex_);
  // Workers that woke late find no chunks left and leave at once.
  work_done_.wait(lock, [&] { return active_ == 0; });
  body_ = nullptr;
  return static_cast<double>(busy_ns_.load());
}

void CostEstimate::Add(double ns_per_row) {
  if (!(ns_per_row >= 0) || !std::isfinite(ns_per_row)) return;
  const double before = value_.load(std::memory_order_relaxed);
  if (before < 0) {
    value_.store(ns_per_row, std::memory_order_relaxed);
    return;
  }
  // At most twice the estimate (+1 ns, so that an estimate of 0 can grow).
  const double bounded = std::min(ns_per_row, 2 * before + 1);
  value_.store(before + 0.25 * (bounded - before), std::memory_order_relaxed);
}

TaskQueue::TaskQueue(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      while (true) {
        std::function<void()> task;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          ready_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
          if (tasks_.empty()) return;  // stopping, and nothing left
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
      }
    });
  }
}

TaskQueue::~TaskQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void TaskQueue::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

}  // namespace marl
