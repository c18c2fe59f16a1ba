// The one solving pipeline behind Solve and jobs: request -> validate ->
// solve -> independent check -> response. Knows proto messages, not gRPC.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "algebra/answer.h"
#include "algebra/problem.h"
#include "relufit/v1/relufit.pb.h"

namespace relufit {

// Server settings shared by every solve; each field has a flag in main.cpp.
struct ServiceOptions {
  ProblemLimits limits;                 // request size limits
  double default_time_limit = 60;       // seconds, when the request sets none
  double max_time_limit = 3600;         // seconds, cap on any request
  unsigned search_threads = 0;          // per solve, and the most a request gets; 0: every core
  // Memory budget of the calls being handled (Solve, Minimize, MinWidth,
  // Verify, Export, SubmitJob): each counts kInflightFactor times its
  // message size while it runs; a call past the budget gets
  // RESOURCE_EXHAUSTED.
  uint64_t max_inflight_bytes = uint64_t{2048} << 20;
  static constexpr uint64_t kInflightFactor = 4;
  const std::atomic<bool>* shutting_down = nullptr;  // stops running solves
};

struct PipelineControl {
  // Latest moment to stop (in addition to the request's time limit).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<bool()> cancelled;                   // may be empty
  std::function<void(const SolveStats&)> progress;   // may be empty
};

// Search threads for a request: its options.threads, or the server's
// default when 0, capped by the server's setting (at least 1).
unsigned search_threads_for(const v1::SolveOptions& opts, const ServiceOptions& options);

// Validates the request (INVALID_ARGUMENT / RESOURCE_EXHAUSTED in the
// returned error), or solves it, checks the answer and fills *response.
// An answer the checker rejects is turned into VERDICT_UNKNOWN with the
// checker's reason: nothing unchecked leaves.
ValidationError run_pipeline(const v1::SolveRequest& request, const ServiceOptions& options,
                             const PipelineControl& control, v1::SolveResponse* response);

// Only the validation step (used before a job is accepted); fills *problem
// when given, so the pipeline parses the numbers once.
ValidationError validate_request(const v1::SolveRequest& request, const ServiceOptions& options,
                                 Problem* problem = nullptr);

}  // namespace relufit
