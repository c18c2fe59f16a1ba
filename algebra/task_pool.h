// One process-wide pool of worker threads that every solve (Solve calls and
// jobs alike) borrows its extra search threads from, so that concurrent
// solves share the cores instead of each starting its own threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace relufit {

// Frees the calling thread's caches of FLINT (with Arb and Calcium) and its
// GLPK environment. Call it when a thread that ran the solver or the
// checker ends (the pool's threads do); else LeakSanitizer reports them.
void release_thread_caches();

class TaskPool {
 public:
  // The shared pool: one thread per core (at least one), started on first use.
  static TaskPool& shared();

  explicit TaskPool(unsigned threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Runs `task` on a pool thread when one is free (tasks run in FIFO order).
  void submit(std::function<void()> task);
  unsigned size() const { return static_cast<unsigned>(threads_.size()); }

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace relufit
