// The embedded job store: one SQLite database in WAL mode holding every
// job's kind (Solve, Minimize, MinWidth), request, state, progress and
// checked result (with its certificate).
// Each write is one transaction with synchronous=FULL, so a kill -9 loses
// nothing that was acknowledged. After each insert (an acknowledged submit)
// and each final state the WAL is checkpointed into the database file, so
// those also survive the loss of the -wal file after a crash; the states in
// between (running, progress) may then be lost, and the job runs again. Every row carries a SHA-256 checksum of all
// its fields, verified whenever the row is read: a damaged row is reported
// (DamagedRow), never returned. Thread-safe (one connection, one mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "relufit/v1/relufit.pb.h"

namespace relufit {

// SQLite could not do what was asked (disk full, I/O error, locked, ...);
// what() names the store and SQLite's message.
class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& what, int sqlite_code)
      : std::runtime_error(what), code_(sqlite_code) {}
  int sqlite_code() const { return code_; }
  // The disk or the database is full (SQLITE_FULL).
  bool full() const { return (code_ & 0xff) == SQLITE_FULL; }

 private:
  int code_;
};

// A stored row that fails its checksum, cannot be parsed or cannot be read:
// it is not served. what() says which job and what failed.
class DamagedRow : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The job's kind, request and result, whatever the kind (v1::Job has one
// request and one result field per kind, see relufit.proto).
v1::JobKind job_kind_of(const v1::SubmitJobRequest& request);
bool job_has_result(const v1::Job& job);
void clear_job_request(v1::Job* job);
// Clears the result and the verdict / minimize_status that summarise it.
void clear_job_result(v1::Job* job);

class JobStore {
 public:
  // Opens (creating if needed) the database, adds the columns of later
  // versions (owner; kind, which is JOB_KIND_SOLVE for rows written before
  // it existed), adds checksums to rows written before they existed, and
  // checks that the store can be written; throws
  // StoreError with SQLite's message when it cannot.
  explicit JobStore(const std::string& path);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Inserts a new queued job of the request's kind owned by `owner` (may
  // be empty); returns its id ("job-" and 32 hex digits, 128 bits from the
  // system's CSPRNG). Throws StoreError (also for a request of no kind).
  std::string insert(const v1::SubmitJobRequest& request, int64_t now_ms, const std::string& owner = "");
  // Writes the job's state fields (state, reason, progress, times,
  // attempts, and the result of the stored row's kind when set). Throws
  // StoreError, or DamagedRow when the stored row is damaged (it is left
  // as it is).
  void update(const v1::Job& job);
  // The job, with request and result, or nullopt when there is none.
  // Throws DamagedRow or StoreError.
  std::optional<v1::Job> load(const std::string& id) const;
  // Jobs newest first after `before_seq` (0: from the newest), at most
  // `limit`, optionally in one state; fills *last_seq for paging. Damaged
  // rows are left out and described in *damaged. `owner`: only that
  // principal's jobs, unless null (all jobs).
  std::vector<v1::Job> list(uint32_t limit, int64_t before_seq, v1::JobState state,
                            int64_t* last_seq, std::vector<std::string>* damaged,
                            const std::string* owner = nullptr) const;
  // Ids of jobs in a state, oldest first (recovery after a restart).
  std::vector<std::string> ids_in_state(v1::JobState state) const;

 private:
  void exec(const char* sql) const;
  void checkpoint();
  void add_missing_checksums();
  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

}  // namespace relufit
