#include "server/service.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "algebra/checker.h"
#include "algebra/export.h"
#include "server/convert.h"

namespace relufit {
namespace {

// The one mapping from validation results to gRPC codes.
grpc::Status to_grpc(const ValidationError& e) {
  switch (e.code) {
    case ValidationError::Code::kOk: return grpc::Status::OK;
    case ValidationError::Code::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, e.message};
    case ValidationError::Code::kResourceExhausted:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, e.message};
  }
  return {grpc::StatusCode::INTERNAL, e.message};
}

// A client-supplied text for a message: printable ASCII, at most 64
// characters, then its length (a 1 MB job id must not come back).
std::string shown(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 64) out += "... (" + std::to_string(s.size()) + " characters)";
  return out;
}

grpc::Status not_found(const std::string& id) {
  return {grpc::StatusCode::NOT_FOUND, "job_id: no job \"" + shown(id) + "\""};
}

// Runs a handler body, turning store failures and anything else thrown into
// a gRPC status with the cause (never an empty UNKNOWN).
template <class F>
grpc::Status guarded(F&& body) {
  try {
    return body();
  } catch (const DamagedRow& e) {
    return {grpc::StatusCode::DATA_LOSS, e.what()};
  } catch (const StoreError& e) {
    return {e.full() ? grpc::StatusCode::RESOURCE_EXHAUSTED : grpc::StatusCode::UNAVAILABLE, e.what()};
  } catch (const std::bad_alloc&) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, "out of memory"};
  } catch (const std::exception& e) {
    return {grpc::StatusCode::INTERNAL, std::string("internal error: ") + e.what()};
  }
}

// Compares without stopping at the first difference.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The call's gRPC deadline on the steady clock, less a margin so that the
// answer still reaches the caller in time; max() when the call has none.
std::chrono::steady_clock::time_point steady_deadline(const grpc::ServerContext* context) {
  const auto call_deadline = context->deadline();
  if (call_deadline == std::chrono::system_clock::time_point::max())
    return std::chrono::steady_clock::time_point::max();
  auto left = call_deadline - std::chrono::system_clock::now() - std::chrono::milliseconds(50);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

}  // namespace

grpc::Status ReluFitServiceImpl::authorize(const grpc::ServerContext* context) const {
  if (access_.tokens.empty()) return grpc::Status::OK;
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return {grpc::StatusCode::UNAUTHENTICATED, "missing access token (authorization: Bearer ...)"};
  const std::string value(it->second.data(), it->second.size());
  const std::string prefix = "Bearer ";
  if (value.compare(0, prefix.size(), prefix) == 0) {
    const std::string token = value.substr(prefix.size());
    bool ok = false;
    for (const auto& t : access_.tokens) ok = same_secret(token, t) || ok;
    if (ok) return grpc::Status::OK;
  }
  return {grpc::StatusCode::UNAUTHENTICATED, "invalid access token"};
}

grpc::Status ReluFitServiceImpl::Solve(grpc::ServerContext* context,
                                       const v1::SolveRequest* request,
                                       v1::SolveResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  PipelineControl control;
  // A gRPC deadline shortens the time limit so the answer (UNKNOWN, "time
  // limit") still reaches the caller in time.
  control.deadline = steady_deadline(context);
  control.cancelled = [context] { return context->IsCancelled(); };
  ValidationError e;
  if (auto st = guarded([&] {
        e = run_pipeline(*request, options_, control, response);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (!e.ok()) return to_grpc(e);
  if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                                        v1::VerifyResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  const RequestData data = request_from_proto(request->request());
  Problem problem;
  if (auto e = build_problem(data, options_.limits, &problem); !e.ok()) return to_grpc(e);
  // The check honours the call's deadline (capped by --max-time-limit),
  // its cancellation and server shutdown; CheckLimits bound each step.
  CheckControl check_control;
  check_control.deadline = std::min(
      steady_deadline(context),
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(options_.max_time_limit)));
  const std::atomic<bool>* shutting_down = options_.shutting_down;
  check_control.cancelled = [context, shutting_down] {
    return context->IsCancelled() || (shutting_down && shutting_down->load());
  };
  CheckResult check;
  if (auto st = guarded([&] {
        check = check_answer(data, answer_from_proto(request->response()), check_control);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (check.stopped) {
    if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
    if (options_.shutting_down && options_.shutting_down->load())
      return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};
    return {grpc::StatusCode::DEADLINE_EXCEEDED,
            "the check did not finish before the call's deadline (or --max-time-limit)"};
  }
  response->set_valid(check.valid);
  response->set_message(check.message);
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                                        v1::ExportResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  Problem problem;
  if (auto e = build_problem(request_from_proto(request->request()), options_.limits, &problem);
      !e.ok())
    return to_grpc(e);
  switch (request->format()) {
    case v1::EXPORT_FORMAT_SMTLIB2:
      response->set_content(export_smtlib(problem));
      return grpc::Status::OK;
    case v1::EXPORT_FORMAT_TEXT:
      response->set_content(export_text(problem));
      return grpc::Status::OK;
    default:
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "format: choose EXPORT_FORMAT_SMTLIB2 or EXPORT_FORMAT_TEXT"};
  }
}

grpc::Status ReluFitServiceImpl::SubmitJob(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                                           v1::SubmitJobResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  // A call whose deadline has passed gets no job (nobody waits for its id).
  if (context->deadline() <= std::chrono::system_clock::now())
    return {grpc::StatusCode::DEADLINE_EXCEEDED, "the call's deadline passed before the job was created"};
  std::string id, message;
  ValidationError validation;
  switch (jobs_.submit(request->request(), &id, &message, &validation)) {
    case JobManager::SubmitError::kNone:
      response->set_job_id(id);
      return grpc::Status::OK;
    case JobManager::SubmitError::kInvalid:
      return to_grpc(validation);
    case JobManager::SubmitError::kQueueFull:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, message};
    case JobManager::SubmitError::kStopping:
      return {grpc::StatusCode::UNAVAILABLE, message};
    case JobManager::SubmitError::kStoreFull:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, message};
    case JobManager::SubmitError::kStoreError:
      return {grpc::StatusCode::UNAVAILABLE, message};
  }
  return {grpc::StatusCode::INTERNAL, "unexpected submit outcome"};
}

grpc::Status ReluFitServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                        v1::Job* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    auto job = jobs_.get(request->job_id(), request->include_request());
    if (!job) return not_found(request->job_id());
    *response = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status ReluFitServiceImpl::WatchJob(grpc::ServerContext* context,
                                          const v1::WatchJobRequest* request,
                                          grpc::ServerWriter<v1::JobEvent>* writer) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    bool found = jobs_.watch(
        request->job_id(), [writer](const v1::JobEvent& e) { return writer->Write(e); },
        [context] { return context->IsCancelled(); });
    if (!found) return not_found(request->job_id());
    if (jobs_.stopping()) return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};
    return grpc::Status::OK;
  });
}

grpc::Status ReluFitServiceImpl::CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                                           v1::Job* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    auto job = jobs_.cancel(request->job_id());
    if (!job) return not_found(request->job_id());
    *response = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status ReluFitServiceImpl::ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                                          v1::ListJobsResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    std::string next, error;
    std::vector<std::string> damaged;
    auto jobs = jobs_.list(request->page_size(), request->page_token(), request->state(), &next,
                           &error, &damaged);
    if (!error.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, error};
    for (auto& j : jobs) *response->add_jobs() = std::move(j);
    for (auto& d : damaged) response->add_damaged(std::move(d));
    response->set_next_page_token(next);
    return grpc::Status::OK;
  });
}

}  // namespace relufit
