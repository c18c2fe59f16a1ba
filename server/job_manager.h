// Jobs: a bounded queue, a pool of worker threads running the shared
// pipeline of the job's kind (Solve: run_pipeline; Minimize, MinWidth:
// erm_pipeline.h, each checking its answer before it is stored), live
// progress, cancellation, and recovery from the store after
// a restart (queued and running jobs are run again, or marked interrupted
// when they were already interrupted too often).
//
// Store failures: calls that read or write the store throw StoreError or
// DamagedRow (job_store.h) to the service, which turns them into gRPC
// errors. A worker whose final write fails retries without the result
// (state INTERRUPTED, with the cause); if that fails too the job is
// reported INTERRUPTED from memory and stays RUNNING in the store, so it
// runs again after a restart. A finished job's result is re-verified by the
// independent checker the first time it is read back.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/job_store.h"
#include "server/pipeline.h"

namespace relufit {

// Who asks about jobs: a principal (from the token file) and whether it may
// see and cancel every job (an operator, or any caller of a server without
// tokens). Others see only their own jobs; another's job is "not found".
struct Viewer {
  std::string principal;
  bool all = true;
  bool may_see(const v1::Job& job) const { return all || job.owner() == principal; }
};

struct JobOptions {
  unsigned workers = 2;        // concurrent solves
  size_t max_queue = 100;      // queued (not yet running) jobs
  unsigned max_attempts = 3;   // runs before a job that keeps being interrupted is given up
};

class JobManager {
 public:
  JobManager(JobStore& store, const ServiceOptions& service, JobOptions options);
  ~JobManager();

  // Re-queues or marks unfinished jobs from an earlier run, starts workers.
  void start();
  // Stops taking work, cancels running solves (their jobs go back to the
  // queue in the store, to run again after a restart), joins the workers.
  void stop();

  enum class SubmitError { kNone, kInvalid, kQueueFull, kStopping, kStoreFull, kStoreError, kAbandoned };
  // Validates (as the RPC of the request's kind would) and stores a job.
  // On failure *message says why. `abandoned`
  // (may be empty) is asked after validation, just before the job is
  // stored: true (the caller's deadline passed or it cancelled) stores
  // nothing and answers kAbandoned.
  SubmitError submit(const v1::SubmitJobRequest& request, std::string* job_id, std::string* message,
                     ValidationError* validation,
                     const std::function<bool()>& abandoned = {}, const std::string& owner = "");

  // The job, or nullopt; throws DamagedRow when its row is damaged or its
  // stored result fails the checker, StoreError when the store fails.
  std::optional<v1::Job> get(const std::string& id, bool include_request,
                             const Viewer& viewer = {}) const;
  // Cancels; waits (up to 5 s) until a running job has stopped.
  std::optional<v1::Job> cancel(const std::string& id, const Viewer& viewer = {});
  // Damaged rows are left out and described in *damaged.
  std::vector<v1::Job> list(uint32_t page_size, const std::string& page_token, v1::JobState state,
                            std::string* next_token, std::string* error,
                            std::vector<std::string>* damaged, const Viewer& viewer = {}) const;

  // Calls `send` with an event whenever progress or state changes (at most
  // every 0.5 s while running) and once more with the final job. Returns
  // false if the job does not exist; stops early when `stop_watching`
  // returns true or the manager stops.
  bool watch(const std::string& id, const std::function<bool(const v1::JobEvent&)>& send,
             const std::function<bool()>& stop_watching, const Viewer& viewer = {});

  bool stopping() const { return stopping_.load(); }

 private:
  struct Running {
    std::atomic<bool> cancel{false};
    v1::JobProgress progress;
  };
  void worker_loop();
  void run_job(const std::string& id);
  static bool finished(v1::JobState s) {
    return s == v1::JOB_STATE_DONE || s == v1::JOB_STATE_CANCELLED || s == v1::JOB_STATE_INTERRUPTED;
  }
  std::optional<v1::Job> current(const std::string& id, bool include_request) const;
  // Checks a finished job's stored result once per server run; throws
  // DamagedRow when it fails, StoreError (retry) when the check runs out of time.
  void reverify(const v1::Job& job) const;
  // Writes the worker's final state; on store failure falls back as the
  // header comment says.
  void store_final(v1::Job* job);

  JobStore& store_;
  const ServiceOptions& service_;
  JobOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;            // queue has work or stopping
  mutable std::condition_variable changed_cv_;  // any job changed
  std::deque<std::string> queue_;
  std::map<std::string, std::shared_ptr<Running>> running_;
  // Final states the store could not take (reported from memory).
  std::map<std::string, v1::Job> unsaved_;
  // Finished jobs whose stored result passed the checker since start.
  mutable std::set<std::string> reverified_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
};

}  // namespace relufit
