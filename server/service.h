// The thin gRPC layer: converts requests, turns deadlines into time limits,
// calls the shared pipeline (which runs the checker on every answer) or the
// job manager, and maps statuses to gRPC codes in one place.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "relufit/v1/relufit.grpc.pb.h"
#include "server/auth.h"
#include "server/job_manager.h"
#include "server/pipeline.h"

namespace relufit {

class ReluFitServiceImpl final : public v1::ReluFitService::Service {
 public:
  // Who may call is decided before any handler runs, by the credentials
  // made from the same AccessCheck (server/auth.h); handlers learn the
  // caller from authorize().
  ReluFitServiceImpl(const ServiceOptions& options, JobManager& jobs,
                     std::shared_ptr<const AccessCheck> access);

  grpc::Status Solve(grpc::ServerContext* context, const v1::SolveRequest* request,
                     v1::SolveResponse* response) override;
  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                      v1::ExportResponse* response) override;
  grpc::Status Minimize(grpc::ServerContext* context, const v1::MinimizeRequest* request,
                        v1::MinimizeResponse* response) override;
  grpc::Status MinWidth(grpc::ServerContext* context, const v1::MinWidthRequest* request,
                        v1::MinWidthResponse* response) override;
  grpc::Status SubmitJob(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                         v1::SubmitJobResponse* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;

 private:
  // OK and the caller's Viewer (caller_of, server/auth.h), or
  // UNAUTHENTICATED.
  grpc::Status authorize(const grpc::ServerContext* context, Viewer* viewer = nullptr) const;
  // The one shape of Solve, Minimize and MinWidth: authorization,
  // admission of `request_bytes`, the call's deadline and cancellation as
  // the pipeline's control, then `run` (which fills the response), and one
  // status mapping.
  grpc::Status answer(grpc::ServerContext* context, size_t request_bytes,
                      const std::function<ValidationError(const PipelineControl&)>& run);
  // Admission by bytes: reserves kInflightFactor x `message_bytes` of the
  // in-flight budget for the call (released by the returned guard), or
  // answers RESOURCE_EXHAUSTED.
  class Admission;
  grpc::Status admit(size_t message_bytes, std::shared_ptr<Admission>* ticket);
  std::atomic<uint64_t> inflight_bytes_{0};

  const ServiceOptions& options_;
  JobManager& jobs_;
  std::shared_ptr<const AccessCheck> access_;
};

// A server interceptor that turns gRPC's answer to request bytes that do not
// decode (INTERNAL with an empty message) into INVALID_ARGUMENT naming the
// expected message type. Register with ServerBuilder::experimental().
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_wire_error_interceptor();

}  // namespace relufit
