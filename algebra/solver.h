// The solving pipeline: validated problem -> cheap global answers ->
// search -> answer with exact weights or proof. The caller (server, tests)
// runs the independent checker on the result before handing it out.
#pragma once

#include <optional>

#include "algebra/answer.h"
#include "algebra/problem.h"
#include "algebra/search.h"

namespace relufit {

struct SolveSettings {
  SearchControl control;
  unsigned decimal_digits = 30;  // significant digits of decimal renderings
};

// The cheap global answers that need no search: a conflicting pair (any
// shape); with one input, the breakpoint bound (INFEASIBLE) or a constructed
// fit. nullopt when the search is needed.
std::optional<AnswerData> quick_answer(const Problem& problem, const SearchControl& control = {});

// Exact weights (rational or algebraic) as a FEASIBLE answer's network.
AnswerData answer_from_fit(const Problem& problem, ExactFit fit);

// Decides the problem. Never throws for a valid problem; limits and
// unsupported cases give Verdict::kUnknown with a reason.
AnswerData solve_problem(const Problem& problem, const SolveSettings& settings);

}  // namespace relufit
