// The thin gRPC layer: converts requests, turns deadlines into time limits,
// calls the algebra, runs the checker on every answer, maps statuses to gRPC
// codes in one place.
#pragma once

#include <atomic>
#include <string>

#include "algebra/problem.h"
#include "relufit/v1/relufit.grpc.pb.h"

namespace relufit {

// Server settings; every field has a command-line flag in main.cpp.
struct ServiceOptions {
  ProblemLimits limits;                 // request size limits
  double default_time_limit = 60;       // seconds, when the request sets none
  double max_time_limit = 3600;         // seconds, cap on any request
  const std::atomic<bool>* shutting_down = nullptr;  // stops running solves
};

class ReluFitServiceImpl final : public v1::ReluFitService::Service {
 public:
  explicit ReluFitServiceImpl(ServiceOptions options) : options_(options) {}

  grpc::Status Solve(grpc::ServerContext* context, const v1::SolveRequest* request,
                     v1::SolveResponse* response) override;
  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                      v1::ExportResponse* response) override;

 private:
  ServiceOptions options_;
};

}  // namespace relufit
