#include "server/job_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "algebra/checker.h"
#include "algebra/task_pool.h"
#include "server/convert.h"
#include "server/erm_check.h"
#include "server/erm_pipeline.h"

namespace relufit {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint32_t sample_count(const v1::SolveRequest& r) {
  return static_cast<uint32_t>(r.dataset().samples_size());
}

// Validation as the RPC of the job's kind validates its request.
ValidationError validate_job_request(const v1::SubmitJobRequest& request, const ServiceOptions& service) {
  switch (request.job_case()) {
    case v1::SubmitJobRequest::kRequest: return validate_request(request.request(), service);
    case v1::SubmitJobRequest::kMinimize: return validate_minimize_request(request.minimize(), service);
    case v1::SubmitJobRequest::kMinWidth: return validate_min_width_request(request.min_width(), service);
    default:
      return {ValidationError::Code::kInvalidArgument,
              "job: set one of request (a Solve job), minimize or min_width"};
  }
}

// What one run of a job's pipeline gives back, whatever its kind.
struct RunOutcome {
  ValidationError error;            // the request is not valid (any more)
  bool undecided = false;           // UNKNOWN: a limit, cancellation or shutdown stopped it
  v1::SolveStatistics statistics;   // work done
};

// Runs the job's request through the pipeline of its kind (each checks its
// answer with the independent checker) and sets the job's result field;
// the caller clears it unless the job is done.
RunOutcome run_job_pipeline(v1::Job* job, const ServiceOptions& service, const PipelineControl& control) {
  RunOutcome out;
  switch (job->kind()) {
    case v1::JOB_KIND_MINIMIZE: {
      v1::MinimizeResponse* response = job->mutable_minimize_result();
      out.error = run_minimize(job->minimize_request(), service, control, response);
      out.undecided = response->status() == v1::MINIMIZE_STATUS_UNKNOWN;
      out.statistics = response->statistics();
      job->set_minimize_status(response->status());
      break;
    }
    case v1::JOB_KIND_MIN_WIDTH: {
      v1::MinWidthResponse* response = job->mutable_min_width_result();
      out.error = run_min_width(job->min_width_request(), service, control, response);
      out.undecided = response->verdict() == v1::VERDICT_UNKNOWN;
      out.statistics = response->statistics();
      job->set_verdict(response->verdict());
      break;
    }
    default: {
      v1::SolveResponse* response = job->mutable_result();
      out.error = run_pipeline(job->request(), service, control, response);
      out.undecided = response->verdict() == v1::VERDICT_UNKNOWN;
      out.statistics = response->statistics();
      job->set_verdict(response->verdict());
    }
  }
  return out;
}

}  // namespace

JobManager::JobManager(JobStore& store, const ServiceOptions& service, JobOptions options)
    : store_(store), service_(service), options_(options) {}

JobManager::~JobManager() { stop(); }

void JobManager::start() {
  // Jobs that were running when the server last stopped: run again, unless
  // they have been interrupted too often (a job that crashes the server
  // must not crash it forever).
  for (const std::string& id : store_.ids_in_state(v1::JOB_STATE_RUNNING)) {
    std::optional<v1::Job> job;
    try {
      job = store_.load(id);
    } catch (const DamagedRow& e) {
      spdlog::error("{}; left as it is, not run", e.what());
      continue;
    }
    if (!job) continue;
    if (job->attempts() >= options_.max_attempts) {
      job->set_state(v1::JOB_STATE_INTERRUPTED);
      job->set_state_reason("the server stopped during each of " + std::to_string(job->attempts()) +
                            " runs; not run again (resubmit to retry)");
      job->set_finished_unix_ms(now_ms());
      spdlog::warn("job {} interrupted for good after {} attempts", id, job->attempts());
    } else {
      job->set_state(v1::JOB_STATE_QUEUED);
      job->set_state_reason("the server stopped while it ran; queued to run again");
    }
    store_.update(*job);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : store_.ids_in_state(v1::JOB_STATE_QUEUED)) queue_.push_back(id);
    if (!queue_.empty()) spdlog::info("recovered {} queued job(s) from the store", queue_.size());
  }
  for (unsigned i = 0; i < std::max(1u, options_.workers); ++i)
    workers_.emplace_back([this] { worker_loop(); });
}

void JobManager::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.exchange(true) && workers_.empty()) return;
  }
  work_cv_.notify_all();
  changed_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

JobManager::SubmitError JobManager::submit(const v1::SubmitJobRequest& request, std::string* job_id,
                                           std::string* message, ValidationError* validation,
                                           const std::function<bool()>& abandoned,
                                           const std::string& owner) {
  if (stopping_) {
    *message = "the server is shutting down";
    return SubmitError::kStopping;
  }
  *validation = validate_job_request(request, service_);
  if (!validation->ok()) {
    *message = validation->message;
    return SubmitError::kInvalid;
  }
  if (abandoned && abandoned()) {
    *message = "the call's deadline passed (or it was cancelled) before the job was stored; no job";
    return SubmitError::kAbandoned;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= options_.max_queue) {
    *message = "job queue is full (" + std::to_string(options_.max_queue) +
               " queued); retry later or raise --max-queue";
    return SubmitError::kQueueFull;
  }
  try {
    *job_id = store_.insert(request, now_ms(), owner);
  } catch (const StoreError& e) {
    spdlog::error("submit: {}", e.what());
    *message = std::string("the job could not be stored: ") + e.what();
    return e.full() ? SubmitError::kStoreFull : SubmitError::kStoreError;
  }
  queue_.push_back(*job_id);
  work_cv_.notify_one();
  changed_cv_.notify_all();
  return SubmitError::kNone;
}

std::optional<v1::Job> JobManager::current(const std::string& id, bool include_request) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto u = unsaved_.find(id);
    if (u != unsaved_.end()) {
      v1::Job job = u->second;
      if (!include_request) clear_job_request(&job);
      return job;
    }
  }
  auto job = store_.load(id);  // verifies the row's checksum
  if (!job) return std::nullopt;
  reverify(*job);
  if (!include_request) clear_job_request(&*job);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = running_.find(id);
  if (it != running_.end() && !finished(job->state())) *job->mutable_progress() = it->second->progress;
  return job;
}

void JobManager::reverify(const v1::Job& job) const {
  if (job.state() != v1::JOB_STATE_DONE || !job_has_result(job)) return;
  // A proof left out at the request's wish (include_proof false) cannot be
  // checked again; the row's checksum still vouches for what was stored.
  const v1::SolveOptions& options = job_problem(job).options();
  const bool proof_left_out = options.has_include_proof() && !options.include_proof();
  if (proof_left_out && (job.kind() != v1::JOB_KIND_SOLVE || (job.result().verdict() == v1::VERDICT_INFEASIBLE &&
                                                               !job.result().has_certificate())))
    return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (reverified_.count(job.job_id())) return;
  }
  CheckControl control;
  control.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  control.cancelled = [this] { return stopping_.load(); };
  CheckResult check;
  switch (job.kind()) {
    case v1::JOB_KIND_MINIMIZE:
      check = check_minimize_response(job.minimize_request(), job.minimize_result(), control);
      break;
    case v1::JOB_KIND_MIN_WIDTH:
      check = check_min_width_response(job.min_width_request(), job.min_width_result(), control);
      break;
    default:
      check = check_answer(request_from_proto(job.request()), answer_from_proto(job.result()), control);
  }
  if (check.stopped)
    throw StoreError("job " + job.job_id() + ": the re-check of its stored result did not finish (" +
                         check.message + "); retry",
                     SQLITE_BUSY);
  if (!check.valid) {
    spdlog::error("job {}: stored result fails the checker: {}", job.job_id(), check.message);
    throw DamagedRow("job " + job.job_id() + " is damaged in the store: its stored result fails the "
                     "independent checker (" + check.message + "); not served");
  }
  std::lock_guard<std::mutex> lock(mu_);
  reverified_.insert(job.job_id());
}

std::optional<v1::Job> JobManager::get(const std::string& id, bool include_request,
                                       const Viewer& viewer) const {
  auto job = current(id, include_request);
  if (job && !viewer.may_see(*job)) return std::nullopt;
  return job;
}

std::optional<v1::Job> JobManager::cancel(const std::string& id, const Viewer& viewer) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto job = store_.load(id);
    if (!job || !viewer.may_see(*job)) return std::nullopt;
    if (finished(job->state())) {
      lock.unlock();
      return current(id, false);
    }
    auto q = std::find(queue_.begin(), queue_.end(), id);
    if (q != queue_.end()) {
      job->set_state(v1::JOB_STATE_CANCELLED);
      job->set_state_reason("cancelled before it ran");
      job->set_finished_unix_ms(now_ms());
      store_.update(*job);  // on failure the job stays queued (the error goes to the caller)
      queue_.erase(q);
      changed_cv_.notify_all();
    } else if (auto it = running_.find(id); it != running_.end()) {
      it->second->cancel = true;
      // The worker stores the cancelled state; wait for it so the answer
      // already says cancelled.
      changed_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return running_.count(id) == 0; });
    }
  }
  return current(id, false);
}

std::vector<v1::Job> JobManager::list(uint32_t page_size, const std::string& page_token,
                                      v1::JobState state, std::string* next_token,
                                      std::string* error, std::vector<std::string>* damaged,
                                      const Viewer& viewer) const {
  if (page_size == 0) page_size = 50;
  page_size = std::min<uint32_t>(page_size, 1000);
  int64_t before = 0;
  if (!page_token.empty()) {
    try {
      size_t used = 0;
      before = std::stoll(page_token, &used);
      if (used != page_token.size() || before <= 0) throw std::invalid_argument("token");
    } catch (const std::exception&) {
      *error = "page_token: not a token returned by ListJobs";
      return {};
    }
  }
  int64_t last = 0;
  std::vector<v1::Job> jobs =
      store_.list(page_size, before, state, &last, damaged, viewer.all ? nullptr : &viewer.principal);
  next_token->clear();
  if (jobs.size() + damaged->size() >= page_size && last > 1) *next_token = std::to_string(last);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& job : jobs) {
    auto u = unsaved_.find(job.job_id());
    if (u != unsaved_.end()) {
      job = u->second;
      clear_job_request(&job);
      // The summary of the result stays, as for the store's rows.
      const v1::Verdict verdict = job.verdict();
      const v1::MinimizeStatus status = job.minimize_status();
      clear_job_result(&job);
      job.set_verdict(verdict);
      job.set_minimize_status(status);
      continue;
    }
    auto it = running_.find(job.job_id());
    if (it != running_.end()) *job.mutable_progress() = it->second->progress;
  }
  return jobs;
}

bool JobManager::watch(const std::string& id, const std::function<bool(const v1::JobEvent&)>& send,
                       const std::function<bool()>& stop_watching, const Viewer& viewer) {
  auto job = current(id, false);
  if (!job || !viewer.may_see(*job)) return false;
  while (true) {
    v1::JobEvent event;
    event.set_state(job->state());
    *event.mutable_progress() = job->progress();
    if (finished(job->state())) {
      *event.mutable_final_job() = *job;
      send(event);
      return true;
    }
    if (!send(event)) return true;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_cv_.wait_for(lock, std::chrono::milliseconds(500));
    }
    if (stop_watching() || stopping_) return true;
    {
      // A running job's state and progress are in memory: no store read
      // (which would re-read and re-parse the whole request) per wake-up.
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(id);
      if (it != running_.end()) {
        job->set_state(v1::JOB_STATE_RUNNING);
        *job->mutable_progress() = it->second->progress;
        continue;
      }
    }
    job = current(id, false);
    if (!job) return true;
  }
}

void JobManager::worker_loop() {
  // The solver's and checker's caches of this thread go with it.
  struct Release {
    ~Release() { release_thread_caches(); }
  } release;
  while (true) {
    std::string id;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      running_[id] = std::make_shared<Running>();
    }
    try {
      run_job(id);
    } catch (const std::exception& e) {
      spdlog::error("job {}: {}", id, e.what());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.erase(id);
    }
    changed_cv_.notify_all();
  }
}

void JobManager::run_job(const std::string& id) {
  auto job = store_.load(id);
  if (!job) return;
  std::shared_ptr<Running> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running = running_[id];
  }
  const uint32_t n = sample_count(job_problem(*job));
  running->progress.set_num_samples(n);
  job->set_state(v1::JOB_STATE_RUNNING);
  job->set_state_reason(job->attempts() > 0 ? job->state_reason() : "");
  job->set_attempts(job->attempts() + 1);
  job->set_started_unix_ms(now_ms());
  *job->mutable_progress() = running->progress;
  try {
    store_.update(*job);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record its start: {}", id, e.what());
    job->set_state(v1::JOB_STATE_INTERRUPTED);
    job->set_state_reason(std::string("not run: the store could not record its start (") + e.what() +
                          "); it stays queued in the store and runs after a restart");
    std::lock_guard<std::mutex> lock(mu_);
    unsaved_[id] = *job;
    return;
  }
  changed_cv_.notify_all();
  spdlog::info("job {} running (attempt {})", id, job->attempts());

  const auto start = std::chrono::steady_clock::now();
  PipelineControl control;
  control.cancelled = [this, running] { return running->cancel.load() || stopping_.load(); };
  control.progress = [this, running, start, n](const SolveStats& s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      v1::JobProgress& p = running->progress;
      p.set_nodes(s.nodes);
      p.set_lps_solved(s.lps_solved);
      p.set_max_depth(s.max_depth);
      p.set_num_samples(n);
      p.set_elapsed_seconds(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    changed_cv_.notify_all();
  };
  const RunOutcome outcome = run_job_pipeline(&*job, service_, control);
  const ValidationError& e = outcome.error;

  v1::JobProgress& p = *job->mutable_progress();
  p.set_nodes(outcome.statistics.nodes());
  p.set_lps_solved(outcome.statistics.lps_solved());
  p.set_max_depth(outcome.statistics.max_depth());
  p.set_num_samples(n);
  p.set_elapsed_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (stopping_ && !running->cancel && outcome.undecided) {
    // Interrupted by shutdown: back to the queue, to run after a restart.
    clear_job_result(&*job);
    job->set_state(v1::JOB_STATE_QUEUED);
    job->set_state_reason("the server shut down while it ran; queued to run again");
    try {
      store_.update(*job);
    } catch (const std::exception& e) {  // still RUNNING in the store: recovered all the same
      spdlog::error("job {}: cannot re-queue it at shutdown: {}", id, e.what());
    }
    spdlog::info("job {} re-queued at shutdown", id);
    return;
  }
  if (running->cancel && outcome.undecided) {
    job->set_state(v1::JOB_STATE_CANCELLED);
    job->set_state_reason("cancelled while running");
  } else if (!e.ok()) {
    job->set_state(v1::JOB_STATE_INTERRUPTED);
    job->set_state_reason("request no longer valid on this server: " + e.message);
  } else {
    job->set_state(v1::JOB_STATE_DONE);
    job->set_state_reason("");
  }
  // Only a done job keeps its result.
  if (job->state() != v1::JOB_STATE_DONE) clear_job_result(&*job);
  job->set_finished_unix_ms(now_ms());
  store_final(&*job);
  spdlog::info("job {} {}", id, v1::JobState_Name(job->state()));
}

void JobManager::store_final(v1::Job* job) {
  std::string first;
  try {
    store_.update(*job);
    return;
  } catch (const std::exception& e) {
    first = e.what();
  }
  spdlog::error("job {}: cannot store its {} state: {}", job->job_id(), v1::JobState_Name(job->state()), first);
  // Without the result (much smaller), as INTERRUPTED with the cause.
  clear_job_result(job);
  job->set_state(v1::JOB_STATE_INTERRUPTED);
  job->set_state_reason("the result could not be stored (" + first + "); resubmit to run it again");
  try {
    store_.update(*job);
    return;
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot store the INTERRUPTED state either: {}", job->job_id(), e.what());
  }
  job->set_state_reason("the result could not be stored (" + first +
                        "); the job is still RUNNING in the store and runs again after a restart");
  std::lock_guard<std::mutex> lock(mu_);
  unsaved_[job->job_id()] = *job;
}

}  // namespace relufit
