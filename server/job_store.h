// The embedded job store: one SQLite database in WAL mode holding every
// job's request, state, progress and checked result (with its certificate).
// Each write is one transaction with synchronous=FULL, so a kill -9 loses
// nothing that was acknowledged. Thread-safe (one connection, one mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "relufit/v1/relufit.pb.h"

namespace relufit {

class JobStore {
 public:
  // Opens (creating if needed) the database; throws std::runtime_error with
  // SQLite's message when it cannot.
  explicit JobStore(const std::string& path);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Inserts a new queued job; returns its id.
  std::string insert(const v1::SolveRequest& request, int64_t now_ms);
  // Writes the job's state fields (state, reason, progress, times,
  // attempts, and the result when set).
  void update(const v1::Job& job);
  // The job, with request and result, or nullopt.
  std::optional<v1::Job> load(const std::string& id) const;
  // Jobs newest first after `before_seq` (0: from the newest), at most
  // `limit`, optionally in one state; fills *last_seq for paging.
  std::vector<v1::Job> list(uint32_t limit, int64_t before_seq, v1::JobState state,
                            int64_t* last_seq) const;
  // Ids of jobs in a state, oldest first (recovery after a restart).
  std::vector<std::string> ids_in_state(v1::JobState state) const;

 private:
  void exec(const char* sql) const;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

}  // namespace relufit
