// The handlers of Minimize and MinWidth, and the part of Verify that checks
// their answers: members of ReluFitServiceImpl kept apart from service.cpp,
// as thin as Solve's (convert, deadline, pipeline, one status mapping).
#include <algorithm>
#include <chrono>

#include "server/erm_pipeline.h"
#include "server/service.h"

namespace relufit {
namespace {

grpc::Status erm_to_grpc(const ValidationError& e) {
  switch (e.code) {
    case ValidationError::Code::kOk: return grpc::Status::OK;
    case ValidationError::Code::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, e.message};
    case ValidationError::Code::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, e.message};
  }
  return {grpc::StatusCode::INTERNAL, e.message};
}

std::chrono::steady_clock::time_point erm_deadline(const grpc::ServerContext* context) {
  const auto call_deadline = context->deadline();
  if (call_deadline == std::chrono::system_clock::time_point::max())
    return std::chrono::steady_clock::time_point::max();
  auto left = call_deadline - std::chrono::system_clock::now() - std::chrono::milliseconds(50);
  return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

template <class F>
grpc::Status erm_guarded(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, "out of memory"};
  } catch (const std::exception& e) {
    return {grpc::StatusCode::INTERNAL, std::string("internal error: ") + e.what()};
  }
}

}  // namespace

grpc::Status ReluFitServiceImpl::Minimize(grpc::ServerContext* context, const v1::MinimizeRequest* request,
                                          v1::MinimizeResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  std::shared_ptr<Admission> admitted;
  if (auto busy = admit(request->ByteSizeLong(), &admitted); !busy.ok()) return busy;
  PipelineControl control;
  control.deadline = erm_deadline(context);
  control.cancelled = [context] { return context->IsCancelled(); };
  ValidationError e;
  if (auto st = erm_guarded([&] {
        e = run_minimize(*request, options_, control, response);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (!e.ok()) return erm_to_grpc(e);
  if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::MinWidth(grpc::ServerContext* context, const v1::MinWidthRequest* request,
                                          v1::MinWidthResponse* response) {
  if (auto denied = authorize(context); !denied.ok()) return denied;
  std::shared_ptr<Admission> admitted;
  if (auto busy = admit(request->ByteSizeLong(), &admitted); !busy.ok()) return busy;
  PipelineControl control;
  control.deadline = erm_deadline(context);
  control.cancelled = [context] { return context->IsCancelled(); };
  ValidationError e;
  if (auto st = erm_guarded([&] {
        e = run_min_width(*request, options_, control, response);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (!e.ok()) return erm_to_grpc(e);
  if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
  return grpc::Status::OK;
}

// Called by Verify (after authorization and admission) for requests that
// carry a Minimize or MinWidth answer.
grpc::Status ReluFitServiceImpl::VerifyErm(grpc::ServerContext* context, const v1::VerifyRequest* request,
                                           v1::VerifyResponse* response) {
  CheckControl check_control;
  check_control.deadline = std::min(
      erm_deadline(context),
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(options_.max_time_limit)));
  const std::atomic<bool>* shutting_down = options_.shutting_down;
  check_control.cancelled = [context, shutting_down] {
    return context->IsCancelled() || (shutting_down && shutting_down->load());
  };
  CheckResult check;
  ValidationError e;
  if (auto st = erm_guarded([&] {
        check = verify_erm(*request, options_, check_control, &e);
        return grpc::Status::OK;
      });
      !st.ok())
    return st;
  if (!e.ok()) return erm_to_grpc(e);
  if (check.stopped) {
    if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
    return {grpc::StatusCode::DEADLINE_EXCEEDED, "the check did not finish before the call's deadline"};
  }
  response->set_valid(check.valid);
  response->set_message(check.message);
  return grpc::Status::OK;
}

}  // namespace relufit
