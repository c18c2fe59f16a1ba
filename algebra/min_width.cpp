#include "algebra/min_width.h"

#include <algorithm>
#include <chrono>

#include "algebra/breakpoints.h"

namespace relufit {
namespace {

void add_stats(const SolveStats& s, SolveStats* total) {
  total->nodes += s.nodes;
  total->lps_solved += s.lps_solved;
  total->max_depth = std::max(total->max_depth, s.max_depth);
}

}  // namespace

MinWidthResult find_min_width(const Problem& problem, uint32_t max_width,
                              const SolveSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  MinWidthResult result;
  result.max_width = max_width;
  auto finish = [&]() {
    result.stats.solve_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  };
  if (max_width == 0) {
    result.reason = "max_width must be at least 1";
    return finish();
  }
  // Input dimension 1, zero error: widths below p* = max_o p*_o fail by the
  // breakpoint bound (no search), so the first width worth solving is p* - 1
  // (its INFEASIBLE answer is that short proof) or 1.
  uint32_t first = 1;
  if (problem.input_dim == 1 && sgn(problem.max_error) == 0) {
    if (auto sorted = sort_data_1d(problem)) {
      uint32_t pstar = 0;
      for (uint32_t o = 0; o < problem.output_dim; ++o)
        pstar = std::max(pstar, min_breakpoints(*sorted, o));
      result.lower_bound = std::max(1u, pstar);
      first = std::max(1u, std::min(max_width, pstar > 0 ? pstar - 1 : 1));
    }
  }
  AnswerData previous;  // the answer at width - 1, when solved
  for (uint32_t w = first; w <= max_width; ++w) {
    Problem at = problem;
    at.hidden_width = w;
    AnswerData answer = solve_problem(at, settings);
    add_stats(answer.stats, &result.stats);
    if (!result.tried.empty()) result.tried += " ";
    result.tried += std::to_string(w) + ":" + verdict_name(answer.verdict);
    if (answer.verdict == Verdict::kUnknown) {
      result.reason = "width " + std::to_string(w) + " not decided: " + answer.reason;
      return finish();
    }
    if (answer.verdict == Verdict::kInfeasible) {
      // A conflicting pair refutes every width at once.
      if (answer.certificate.kind == CertificateData::Kind::kConflictingPair && w < max_width) {
        Problem top = problem;
        top.hidden_width = max_width;
        answer = solve_problem(top, settings);
        result.tried += " " + std::to_string(max_width) + ":" + verdict_name(answer.verdict);
        if (answer.verdict != Verdict::kInfeasible) {
          result.reason = "width " + std::to_string(max_width) + " not decided: " + answer.reason;
          return finish();
        }
        w = max_width;
      }
      previous = std::move(answer);
      if (w == max_width) {
        result.verdict = Verdict::kInfeasible;
        result.width = max_width;
        result.below = std::move(previous);
        return finish();
      }
      continue;
    }
    // FEASIBLE at w: the proof at w - 1 is the previous answer (w > first),
    // or is solved now (w = first > 1 cannot happen after an INFEASIBLE at
    // first - 1, but can when first was raised by the lower bound).
    if (w > 1 && previous.verdict != Verdict::kInfeasible) {
      Problem below = problem;
      below.hidden_width = w - 1;
      previous = solve_problem(below, settings);
      add_stats(previous.stats, &result.stats);
      result.tried += " " + std::to_string(w - 1) + ":" + verdict_name(previous.verdict);
      if (previous.verdict != Verdict::kInfeasible) {
        result.reason = "width " + std::to_string(w - 1) + " not decided below the fit at width " +
                        std::to_string(w) + ": " +
                        (previous.verdict == Verdict::kFeasible ? "a fit exists (internal error)"
                                                                : previous.reason);
        return finish();
      }
    }
    result.verdict = Verdict::kFeasible;
    result.width = w;
    result.fit = std::move(answer);
    if (w > 1) result.below = std::move(previous);
    return finish();
  }
  result.reason = "no width tried";
  return finish();
}

}  // namespace relufit
