#include "server/service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>

#include "algebra/checker.h"
#include "algebra/export.h"
#include "server/convert.h"
#include "server/erm_pipeline.h"

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

// See make_wire_error_interceptor.
class WireErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit WireErrorInterceptor(std::string method) : method_(std::move(method)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using Hook = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_MESSAGE) && methods->GetRecvMessage() == nullptr)
      undecodable_ = true;
    if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS) && undecodable_) {
      const grpc::Status st = methods->GetSendStatus();
      if (st.error_code() == grpc::StatusCode::INTERNAL)
        methods->ModifySendStatus({grpc::StatusCode::INVALID_ARGUMENT,
                                   "request: the bytes received do not decode as a " + expected_type() +
                                       " (protobuf wire format)"});
    }
    methods->Proceed();
  }

 private:
  std::string expected_type() const {
    // "/relufit.v1.ReluFitService/Solve" -> relufit.v1.SolveRequest
    std::string name = method_;
    if (!name.empty() && name[0] == '/') name = name.substr(1);
    std::replace(name.begin(), name.end(), '/', '.');
    const auto* m = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
    return m ? m->input_type()->full_name() : "request message of " + shown(method_);
  }
  std::string method_;
  bool undecodable_ = false;
};

class WireErrorInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new WireErrorInterceptor(info->method() ? info->method() : "");
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_wire_error_interceptor() {
  return std::make_unique<WireErrorInterceptorFactory>();
}

ReluFitServiceImpl::ReluFitServiceImpl(const ServiceOptions& options, JobManager& jobs,
                                       std::shared_ptr<const AccessCheck> access)
    : options_(options), jobs_(jobs), access_(std::move(access)) {}

class ReluFitServiceImpl::Admission {
 public:
  Admission(std::atomic<uint64_t>& counter, uint64_t bytes) : counter_(counter), bytes_(bytes) {}
  ~Admission() { counter_.fetch_sub(bytes_); }
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

 private:
  std::atomic<uint64_t>& counter_;
  uint64_t bytes_;
};

grpc::Status ReluFitServiceImpl::admit(size_t message_bytes, std::shared_ptr<Admission>* ticket) {
  const uint64_t cost = ServiceOptions::kInflightFactor * static_cast<uint64_t>(message_bytes);
  uint64_t now = inflight_bytes_.load();
  do {
    if (now + cost > options_.max_inflight_bytes) {
      const auto kib = [](uint64_t b) { return std::to_string((b + 1023) >> 10) + " KiB"; };
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "server busy: this call needs " + kib(cost) + " of the in-flight memory budget (" +
                  std::to_string(ServiceOptions::kInflightFactor) + " x its message size); " +
                  kib(now) + " of " + kib(options_.max_inflight_bytes) +
                  " are taken by calls in progress (--max-inflight-mb); retry later"};
    }
  } while (!inflight_bytes_.compare_exchange_weak(now, now + cost));
  *ticket = std::make_shared<Admission>(inflight_bytes_, cost);
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::authorize(const grpc::ServerContext* context, Viewer* viewer) const {
  Viewer caller;
  grpc::Status st = caller_of(*access_, context, &caller);
  if (viewer) *viewer = caller;
  return st;
}

grpc::Status ReluFitServiceImpl::answer(grpc::ServerContext* context, size_t request_bytes,
                                        const std::function<ValidationError(const PipelineControl&)>& run) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  std::shared_ptr<Admission> admitted;
  if (auto busy = admit(request_bytes, &admitted); !busy.ok()) return busy;
  PipelineControl control;
  // A gRPC deadline shortens the time limit so the answer (UNKNOWN, "time
  // limit") still reaches the caller in time.
  control.deadline = steady_deadline(context);
  control.cancelled = [context] { return context->IsCancelled(); };
  ValidationError e;
  if (auto st = guarded([&] {
        e = run(control);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (!e.ok()) return to_grpc(e);
  if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::Solve(grpc::ServerContext* context, const v1::SolveRequest* request,
                                       v1::SolveResponse* response) {
  return answer(context, request->ByteSizeLong(), [&](const PipelineControl& control) {
    return run_pipeline(*request, options_, control, response);
  });
}

grpc::Status ReluFitServiceImpl::Minimize(grpc::ServerContext* context, const v1::MinimizeRequest* request,
                                          v1::MinimizeResponse* response) {
  return answer(context, request->ByteSizeLong(), [&](const PipelineControl& control) {
    return run_minimize(*request, options_, control, response);
  });
}

grpc::Status ReluFitServiceImpl::MinWidth(grpc::ServerContext* context, const v1::MinWidthRequest* request,
                                          v1::MinWidthResponse* response) {
  return answer(context, request->ByteSizeLong(), [&](const PipelineControl& control) {
    return run_min_width(*request, options_, control, response);
  });
}

grpc::Status ReluFitServiceImpl::Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                                        v1::VerifyResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  std::shared_ptr<Admission> admitted;
  if (auto busy = admit(request->ByteSizeLong(), &admitted); !busy.ok()) return busy;
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
  ValidationError e;
  if (auto st = guarded([&] {
        if (is_erm_verify(*request)) {  // a Minimize or MinWidth answer
          check = verify_erm(*request, options_, check_control, &e);
          return grpc::Status::OK;
        }
        const RequestData data = request_from_proto(request->request());
        Problem problem;
        e = build_problem(data, options_.limits, &problem);
        if (e.ok()) check = check_answer(data, answer_from_proto(request->response()), check_control);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (!e.ok()) return to_grpc(e);
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
  std::shared_ptr<Admission> admitted;
  if (auto busy = admit(request->ByteSizeLong(), &admitted); !busy.ok()) return busy;
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
  Viewer viewer;
  if (auto denied = authorize(context, &viewer); !denied.ok()) return denied;
  std::shared_ptr<Admission> admitted;
  if (auto busy = admit(request->ByteSizeLong(), &admitted); !busy.ok()) return busy;
  // A call whose deadline has passed gets no job (nobody waits for its id).
  if (context->deadline() <= std::chrono::system_clock::now())
    return {grpc::StatusCode::DEADLINE_EXCEEDED, "the call's deadline passed before the job was created"};
  std::string id, message;
  ValidationError validation;
  auto abandoned = [context] {
    return context->IsCancelled() || context->deadline() <= std::chrono::system_clock::now();
  };
  switch (jobs_.submit(*request, &id, &message, &validation, abandoned, viewer.principal)) {
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
    case JobManager::SubmitError::kAbandoned:
      return {grpc::StatusCode::DEADLINE_EXCEEDED, message};
  }
  return {grpc::StatusCode::INTERNAL, "unexpected submit outcome"};
}

grpc::Status ReluFitServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                        v1::Job* response) {
  Viewer viewer;
  if (auto denied = authorize(context, &viewer); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    auto job = jobs_.get(request->job_id(), request->include_request(), viewer);
    if (!job) return not_found(request->job_id());
    *response = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status ReluFitServiceImpl::WatchJob(grpc::ServerContext* context,
                                          const v1::WatchJobRequest* request,
                                          grpc::ServerWriter<v1::JobEvent>* writer) {
  Viewer viewer;
  if (auto denied = authorize(context, &viewer); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    bool found = jobs_.watch(
        request->job_id(), [writer](const v1::JobEvent& e) { return writer->Write(e); },
        [context] { return context->IsCancelled(); }, viewer);
    if (!found) return not_found(request->job_id());
    if (jobs_.stopping()) return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};
    return grpc::Status::OK;
  });
}

grpc::Status ReluFitServiceImpl::CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                                           v1::Job* response) {
  Viewer viewer;
  if (auto denied = authorize(context, &viewer); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    auto job = jobs_.cancel(request->job_id(), viewer);
    if (!job) return not_found(request->job_id());
    *response = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status ReluFitServiceImpl::ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                                          v1::ListJobsResponse* response) {
  Viewer viewer;
  if (auto denied = authorize(context, &viewer); !denied.ok()) return denied;
  return guarded([&]() -> grpc::Status {
    std::string next, error;
    std::vector<std::string> damaged;
    auto jobs = jobs_.list(request->page_size(), request->page_token(), request->state(), &next,
                           &error, &damaged, viewer);
    if (!error.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, error};
    for (auto& j : jobs) *response->add_jobs() = std::move(j);
    for (auto& d : damaged) response->add_damaged(std::move(d));
    response->set_next_page_token(next);
    return grpc::Status::OK;
  });
}

}  // namespace relufit
