#include "algebra/task_pool.h"

#include <flint/flint.h>
#include <glpk.h>

namespace relufit {

void release_thread_caches() {
  flint_cleanup();
  glp_free_env();  // returns 1, harmlessly, when this thread never used GLPK
}

TaskPool& TaskPool::shared() {
  static TaskPool pool(std::max(1u, std::thread::hardware_concurrency()));
  return pool;
}

TaskPool::TaskPool(unsigned threads) {
  for (unsigned t = 0; t < threads; ++t) threads_.emplace_back([this]() { loop(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void TaskPool::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void TaskPool::loop() {
  struct Release {
    ~Release() { release_thread_caches(); }
  } release;
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this]() { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace relufit
