#include "server/erm_pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "algebra/checker_erm.h"
#include "algebra/erm.h"
#include "algebra/min_width.h"
#include "server/convert.h"
#include "server/erm_check.h"
#include "server/erm_convert.h"

namespace relufit {
namespace {

std::chrono::steady_clock::duration seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

// Validation and settings as in run_pipeline (pipeline.cpp): the request's
// time limit (or the server's default), capped, and the call's deadline.
ValidationError prepare(const v1::SolveRequest& request, const ServiceOptions& options,
                        const PipelineControl& control, Problem* problem, SolveSettings* settings,
                        double* limit) {
  if (auto e = validate_request(request, options, problem); !e.ok()) return e;
  const auto& opts = request.options();
  *limit = std::min(opts.time_limit_seconds() > 0 ? opts.time_limit_seconds() : options.default_time_limit,
                    options.max_time_limit);
  settings->control.deadline = std::min(control.deadline, std::chrono::steady_clock::now() + seconds(*limit));
  settings->control.node_limit = opts.node_limit();
  settings->control.threads = search_threads_for(opts, options);
  const std::atomic<bool>* shutting_down = options.shutting_down;
  settings->control.cancelled = [control, shutting_down]() {
    return (shutting_down && shutting_down->load()) || (control.cancelled && control.cancelled());
  };
  settings->control.progress = control.progress;
  settings->decimal_digits = opts.decimal_digits() ? opts.decimal_digits() : 30;
  return {};
}

// The largest width MinWidth tries: the request's, or the server's limit.
ValidationError max_width_for(const v1::MinWidthRequest& request, const ServiceOptions& options,
                              uint32_t* max_width) {
  *max_width = request.max_width() ? request.max_width() : options.limits.max_hidden_width;
  if (*max_width > options.limits.max_hidden_width)
    return {ValidationError::Code::kResourceExhausted,
            "max_width: " + std::to_string(*max_width) + " exceeds the server limit " +
                std::to_string(options.limits.max_hidden_width)};
  return {};
}

CheckControl check_control_for(const PipelineControl& control, const SolveSettings& settings, double limit) {
  CheckControl c;
  c.deadline = std::min(control.deadline, std::chrono::steady_clock::now() + seconds(std::max(10.0, limit)));
  c.cancelled = settings.control.cancelled;
  return c;
}

}  // namespace

ValidationError validate_minimize_request(const v1::MinimizeRequest& request, const ServiceOptions& options) {
  return validate_request(minimize_problem(request), options);
}

ValidationError validate_min_width_request(const v1::MinWidthRequest& request, const ServiceOptions& options) {
  if (auto e = validate_request(min_width_problem(request), options); !e.ok()) return e;
  uint32_t max_width = 0;
  return max_width_for(request, options, &max_width);
}

ValidationError run_minimize(const v1::MinimizeRequest& request, const ServiceOptions& options,
                             const PipelineControl& control, v1::MinimizeResponse* response) {
  const v1::SolveRequest solve = minimize_problem(request);
  Problem problem;
  SolveSettings settings;
  double limit = 0;
  if (auto e = prepare(solve, options, control, &problem, &settings, &limit); !e.ok()) return e;
  const Loss loss = loss_from_proto(request.loss());
  MinimizeAnswerData answer = solve_minimize(problem, loss, settings);
  const auto check_start = std::chrono::steady_clock::now();
  CheckResult check = check_minimize_answer(request_from_proto(solve), answer,
                                            check_control_for(control, settings, limit));
  answer.stats.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - check_start).count();
  if (!check.valid) {
    spdlog::error("checker rejected a Minimize answer: {}", check.message);
    MinimizeAnswerData unknown;
    unknown.loss = answer.loss;
    unknown.status = MinimizeAnswerData::Status::kUnknown;
    unknown.reason = (check.stopped ? "time limit: the answer's check did not finish (" 
                                    : "internal: the checker rejected the solver's answer (") +
                     check.message + ")";
    unknown.stats = answer.stats;
    answer = std::move(unknown);
  } else {
    answer.check_summary = check.message;
  }
  spdlog::info("minimize n={} d={} m={} loss={}: {} {} in {:.3f}s ({} nodes)", problem.num_samples(),
               problem.input_dim, problem.hidden_width, loss_name(answer.loss),
               answer.status == MinimizeAnswerData::Status::kOptimal ? "optimal" : "unknown",
               answer.best_error, answer.stats.solve_seconds, answer.stats.nodes);
  const auto& opts = solve.options();
  *response = minimize_answer_to_proto(answer, settings.decimal_digits,
                                       !opts.has_include_proof() || opts.include_proof());
  return {};
}

ValidationError run_min_width(const v1::MinWidthRequest& request, const ServiceOptions& options,
                              const PipelineControl& control, v1::MinWidthResponse* response) {
  const v1::SolveRequest solve = min_width_problem(request);
  Problem problem;
  SolveSettings settings;
  double limit = 0;
  if (auto e = prepare(solve, options, control, &problem, &settings, &limit); !e.ok()) return e;
  uint32_t max_width = 0;
  if (auto e = max_width_for(request, options, &max_width); !e.ok()) return e;
  MinWidthAnswerData answer = find_min_width(problem, max_width, settings);
  const auto check_start = std::chrono::steady_clock::now();
  CheckResult check =
      check_min_width_answer(request_from_proto(solve), answer, check_control_for(control, settings, limit));
  answer.stats.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - check_start).count();
  if (!check.valid) {
    spdlog::error("checker rejected a MinWidth answer: {}", check.message);
    MinWidthAnswerData unknown;
    unknown.verdict = Verdict::kUnknown;
    unknown.max_width = max_width;
    unknown.tried = answer.tried;
    unknown.reason = (check.stopped ? "time limit: the answer's check did not finish ("
                                    : "internal: the checker rejected the solver's answer (") +
                     check.message + ")";
    unknown.stats = answer.stats;
    answer = std::move(unknown);
  } else {
    answer.check_summary = check.message;
  }
  spdlog::info("min-width n={} d={}: {} width {} ({}) in {:.3f}s", problem.num_samples(), problem.input_dim,
               verdict_name(answer.verdict), answer.width, answer.tried, answer.stats.solve_seconds);
  const auto& opts = solve.options();
  *response = min_width_answer_to_proto(answer, settings.decimal_digits,
                                        !opts.has_include_proof() || opts.include_proof());
  response->set_loss(sgn(problem.max_error) > 0 ? loss_to_proto(problem.loss) : v1::LOSS_UNSPECIFIED);
  response->set_max_error(sgn(problem.max_error) > 0 ? opts.max_error() : "");
  return {};
}

bool is_erm_verify(const v1::VerifyRequest& request) {
  return request.has_minimize_request() || request.has_min_width_request();
}

CheckResult verify_erm(const v1::VerifyRequest& request, const ServiceOptions& options,
                       const CheckControl& control, ValidationError* error) {
  if (request.has_minimize_request()) {
    *error = validate_minimize_request(request.minimize_request(), options);
    if (!error->ok()) return {};
    return check_minimize_response(request.minimize_request(), request.minimize_response(), control);
  }
  *error = validate_request(min_width_problem(request.min_width_request()), options);
  if (!error->ok()) return {};
  return check_min_width_response(request.min_width_request(), request.min_width_response(), control);
}

}  // namespace relufit
