// The smallest width with a fit (DESIGN.md section 7). Widths are monotone:
// a fit at width m pads to width m + 1 with a zero neuron (a = 0, w = 0,
// b = 0, or a = +1 with w = 0, b = 0). So the answer is the width m with a
// fit at m and an INFEASIBLE proof at m - 1 (none needed at m = 1).
//
// Strategy: cheap lower bounds first (input_dim 1 with zero error: width
// p* - 1 is refuted by the breakpoint bound at once, so the search starts
// there), then widths upward with the ordinary solver (solve_problem, which
// honours an error budget), so each INFEASIBLE answer is the proof below
// the next width. The caller checks the fit and the proof (checker_erm.h).
#pragma once

#include <cstdint>
#include <string>

#include "algebra/answer.h"
#include "algebra/erm_answer.h"
#include "algebra/problem.h"
#include "algebra/solver.h"

namespace relufit {

// The answer (erm_answer.h): kFeasible with `width`, `fit` at it and (width
// > 1) `below` at width - 1; kInfeasible when no width up to max_width fits
// (`below` refutes max_width); kUnknown with the width left undecided.
using MinWidthResult = MinWidthAnswerData;

// The problem's hidden_width is ignored; widths 1..max_width are considered.
MinWidthResult find_min_width(const Problem& problem, uint32_t max_width,
                              const SolveSettings& settings);

}  // namespace relufit
