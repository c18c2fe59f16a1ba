#include "server/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "algebra/checker.h"
#include "algebra/export.h"
#include "algebra/solver.h"
#include "server/convert.h"

namespace relufit {
namespace {

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

}  // namespace

grpc::Status ReluFitServiceImpl::Solve(grpc::ServerContext* context,
                                       const v1::SolveRequest* request,
                                       v1::SolveResponse* response) {
  const RequestData data = request_from_proto(*request);
  Problem problem;
  if (auto e = build_problem(data, options_.limits, &problem); !e.ok()) return to_grpc(e);

  const auto& opts = request->options();
  if (opts.time_limit_seconds() < 0 || !std::isfinite(opts.time_limit_seconds()))
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "options.time_limit_seconds: must be a finite number >= 0"};
  if (opts.decimal_digits() > 1000)
    return {grpc::StatusCode::INVALID_ARGUMENT, "options.decimal_digits: at most 1000"};
  double limit = opts.time_limit_seconds() > 0 ? opts.time_limit_seconds()
                                               : options_.default_time_limit;
  limit = std::min(limit, options_.max_time_limit);
  const auto now = std::chrono::steady_clock::now();
  SolveSettings settings;
  settings.control.deadline =
      now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(limit));
  // A gRPC deadline shortens the limit so the answer (UNKNOWN, "time limit")
  // still reaches the caller in time.
  const auto call_deadline = context->deadline();
  if (call_deadline != std::chrono::system_clock::time_point::max()) {
    auto left = call_deadline - std::chrono::system_clock::now() - std::chrono::milliseconds(50);
    auto by_call = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
    settings.control.deadline = std::min(settings.control.deadline, by_call);
  }
  settings.control.node_limit = opts.node_limit();
  const std::atomic<bool>* shutting_down = options_.shutting_down;
  settings.control.cancelled = [context, shutting_down]() {
    return context->IsCancelled() || (shutting_down && shutting_down->load());
  };
  settings.decimal_digits = opts.decimal_digits() ? opts.decimal_digits() : 30;

  AnswerData answer = solve_problem(problem, settings);
  const auto check_start = std::chrono::steady_clock::now();
  CheckResult check = check_answer(data, answer);
  answer.stats.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - check_start).count();
  if (!check.valid) {
    // Never let an unchecked verdict out: report it as undecided.
    spdlog::error("checker rejected a {} answer: {}", verdict_name(answer.verdict), check.message);
    answer = AnswerData{Verdict::kUnknown, "internal: the checker rejected the solver's " +
                                               std::string(verdict_name(answer.verdict)) +
                                               " answer (" + check.message + ")",
                        {}, {}, answer.stats, ""};
  } else {
    answer.check_summary = check.message;
  }
  if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "call cancelled"};
  spdlog::info("solve n={} d={} m={} k={}: {} in {:.3f}s ({} nodes, {} LPs){}{}",
               problem.num_samples(), problem.input_dim, problem.hidden_width, problem.output_dim,
               verdict_name(answer.verdict), answer.stats.solve_seconds, answer.stats.nodes,
               answer.stats.lps_solved, answer.reason.empty() ? "" : ": ", answer.reason);
  const bool include_proof = !opts.has_include_proof() || opts.include_proof();
  *response = answer_to_proto(answer, settings.decimal_digits, include_proof);
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::Verify(grpc::ServerContext*, const v1::VerifyRequest* request,
                                        v1::VerifyResponse* response) {
  const RequestData data = request_from_proto(request->request());
  Problem problem;
  if (auto e = build_problem(data, options_.limits, &problem); !e.ok()) return to_grpc(e);
  CheckResult check = check_answer(data, answer_from_proto(request->response()));
  response->set_valid(check.valid);
  response->set_message(check.message);
  return grpc::Status::OK;
}

grpc::Status ReluFitServiceImpl::Export(grpc::ServerContext*, const v1::ExportRequest* request,
                                        v1::ExportResponse* response) {
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
      return {grpc::StatusCode::INVALID_ARGUMENT, "format: choose EXPORT_FORMAT_SMTLIB2 or EXPORT_FORMAT_TEXT"};
  }
}

}  // namespace relufit
