// The thin gRPC layer: converts requests, turns deadlines into time limits,
// calls the shared pipeline (which runs the checker on every answer) or the
// job manager, and maps statuses to gRPC codes in one place.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "relufit/v1/relufit.grpc.pb.h"
#include "server/job_manager.h"
#include "server/pipeline.h"

namespace relufit {

// One accepted access token and whom it names.
struct AccessToken {
  std::string token;
  std::string principal;     // owner of the jobs submitted with it
  bool operator_role = false;  // sees and cancels every principal's jobs
};

// Who may call: when `tokens` is not empty every call must carry
// "authorization: Bearer <one of the tokens>" (health and reflection stay
// open so probes work), and job calls see only the caller's principal's
// jobs (operators: all). Without tokens every caller sees every job.
struct AccessOptions {
  std::vector<AccessToken> tokens;
};

// Reads a token file: one token per line, "#" comments and blank lines
// skipped. A line "PRINCIPAL TOKEN" names the token's principal, "PRINCIPAL
// TOKEN operator" makes it an operator; a line with the token alone is its
// own principal "token-LINE". Throws std::runtime_error naming the line.
AccessOptions parse_token_file(const std::string& text, const std::string& path);

class ReluFitServiceImpl final : public v1::ReluFitService::Service {
 public:
  ReluFitServiceImpl(const ServiceOptions& options, JobManager& jobs, AccessOptions access = {});

  grpc::Status Solve(grpc::ServerContext* context, const v1::SolveRequest* request,
                     v1::SolveResponse* response) override;
  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                      v1::ExportResponse* response) override;
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
  // OK and the caller's Viewer, or UNAUTHENTICATED.
  grpc::Status authorize(const grpc::ServerContext* context, Viewer* viewer = nullptr) const;
  // Admission by bytes: reserves kInflightFactor x `message_bytes` of the
  // in-flight budget for the call (released by the returned guard), or
  // answers RESOURCE_EXHAUSTED.
  class Admission;
  grpc::Status admit(size_t message_bytes, std::shared_ptr<Admission>* ticket);
  std::atomic<uint64_t> inflight_bytes_{0};

  const ServiceOptions& options_;
  JobManager& jobs_;
  AccessOptions access_;
  // SHA-256 of each accepted token: a presented token is hashed and
  // compared with every digest in constant time, so neither the
  // comparison's time nor its length leaks which bytes or how many matched.
  std::vector<std::string> token_digests_;
};

// A server interceptor that turns gRPC's answer to request bytes that do not
// decode (INTERNAL with an empty message) into INVALID_ARGUMENT naming the
// expected message type. Register with ServerBuilder::experimental().
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_wire_error_interceptor();

}  // namespace relufit
