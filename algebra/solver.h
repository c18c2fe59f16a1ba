// The solving pipeline: validated problem -> cheap global answers ->
// search -> answer with exact weights or proof. The caller (server, tests)
// runs the independent checker on the result before handing it out.
#pragma once

#include "algebra/answer.h"
#include "algebra/problem.h"
#include "algebra/search.h"

namespace relufit {

struct SolveSettings {
  SearchControl control;
  unsigned decimal_digits = 30;  // significant digits of decimal renderings
};

// Decides the problem. Never throws for a valid problem; limits and
// unsupported cases give Verdict::kUnknown with a reason.
AnswerData solve_problem(const Problem& problem, const SolveSettings& settings);

}  // namespace relufit
