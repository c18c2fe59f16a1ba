#include "server/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "algebra/checker.h"
#include "algebra/solver.h"
#include "server/convert.h"
#include "server/erm_convert.h"

namespace relufit {

unsigned search_threads_for(const v1::SolveOptions& opts, const ServiceOptions& options) {
  const unsigned cap = options.search_threads
                           ? options.search_threads
                           : std::max(1u, std::thread::hardware_concurrency());
  return opts.threads() ? std::min(opts.threads(), cap) : cap;
}

namespace {

// The request converted once (request_from_proto) and validated.
ValidationError validate_data(const RequestData& data, const v1::SolveOptions& opts,
                              const ServiceOptions& options, Problem* problem) {
  Problem local;
  ValidationError e = build_problem(data, options.limits, problem ? problem : &local);
  if (!e.ok()) return e;
  if (opts.time_limit_seconds() < 0 || !std::isfinite(opts.time_limit_seconds()))
    return {ValidationError::Code::kInvalidArgument,
            "options.time_limit_seconds: must be a finite number >= 0"};
  if (opts.decimal_digits() > 1000)
    return {ValidationError::Code::kInvalidArgument, "options.decimal_digits: at most 1000"};
  return {};
}

}  // namespace

ValidationError validate_request(const v1::SolveRequest& request, const ServiceOptions& options,
                                 Problem* problem) {
  return validate_data(request_from_proto(request), request.options(), options, problem);
}

ValidationError run_pipeline(const v1::SolveRequest& request, const ServiceOptions& options,
                             const PipelineControl& control, v1::SolveResponse* response) {
  const RequestData data = request_from_proto(request);
  Problem problem;
  if (auto e = validate_data(data, request.options(), options, &problem); !e.ok()) return e;

  const auto& opts = request.options();
  double limit = opts.time_limit_seconds() > 0 ? opts.time_limit_seconds()
                                               : options.default_time_limit;
  limit = std::min(limit, options.max_time_limit);
  SolveSettings settings;
  settings.control.deadline = std::min(
      control.deadline, std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(limit)));
  settings.control.node_limit = opts.node_limit();
  settings.control.threads = search_threads_for(opts, options);
  const std::atomic<bool>* shutting_down = options.shutting_down;
  settings.control.cancelled = [&control, shutting_down]() {
    return (shutting_down && shutting_down->load()) || (control.cancelled && control.cancelled());
  };
  settings.control.progress = control.progress;
  settings.decimal_digits = opts.decimal_digits() ? opts.decimal_digits() : 30;

  AnswerData answer = solve_problem(problem, settings);
  const auto check_start = std::chrono::steady_clock::now();
  // The check gets the call's deadline (a late answer is of no use) and at
  // least 10 s, or the time limit, past the end of the solve otherwise.
  CheckControl check_control;
  check_control.deadline = std::min(
      control.deadline,
      check_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(std::max(10.0, limit))));
  check_control.cancelled = settings.control.cancelled;
  CheckResult check = check_answer(data, answer, check_control);
  answer.stats.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - check_start).count();
  if (check.stopped) {
    spdlog::warn("check of a {} answer stopped: {}", verdict_name(answer.verdict), check.message);
    AnswerData unknown;
    unknown.verdict = Verdict::kUnknown;
    const bool cancelled = settings.control.cancelled();
    unknown.reason = std::string(cancelled ? "cancelled" : "time limit") + ": the " +
                     verdict_name(answer.verdict) + " answer was found but its check did not finish";
    unknown.stats = answer.stats;
    answer = std::move(unknown);
  } else if (!check.valid) {
    spdlog::error("checker rejected a {} answer: {}", verdict_name(answer.verdict), check.message);
    AnswerData unknown;
    unknown.verdict = Verdict::kUnknown;
    unknown.reason = "internal: the checker rejected the solver's " +
                     std::string(verdict_name(answer.verdict)) + " answer (" + check.message + ")";
    unknown.stats = answer.stats;
    answer = std::move(unknown);
  } else {
    answer.check_summary = check.message;
  }
  spdlog::info("solve n={} d={} m={} k={} threads={}: {} in {:.3f}s ({} nodes, {} LPs){}{}",
               problem.num_samples(), problem.input_dim, problem.hidden_width, problem.output_dim,
               settings.control.threads, verdict_name(answer.verdict), answer.stats.solve_seconds, answer.stats.nodes,
               answer.stats.lps_solved, answer.reason.empty() ? "" : ": ", answer.reason);
  const bool include_proof = !opts.has_include_proof() || opts.include_proof();
  *response = answer_to_proto(answer, settings.decimal_digits, include_proof);
  if (opts.include_regions() && answer.verdict == Verdict::kFeasible && problem.input_dim <= 2) {
    std::string error;
    if (auto regions = fit_regions(problem, answer.network, &error))
      *response->mutable_regions() = regions_to_proto(*regions);
    else
      spdlog::warn("regions of a checked fit not computed: {}", error);
  }
  if (sgn(problem.max_error) > 0) response->set_loss(loss_to_proto(problem.loss));
  return {};
}

}  // namespace relufit
