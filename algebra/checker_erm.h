// The independent checker for the answers beyond zero error: Solve with an
// error budget (loss, max_error > 0), Minimize and MinWidth. Part of the
// checker library: its own number parsing and FLINT (fmpq) arithmetic, its
// own rebuilding of the node rows and of Lemma 2's children; no solving code.
#pragma once

#include <cstdint>

#include "algebra/answer.h"
#include "algebra/checker.h"
#include "algebra/erm_answer.h"

namespace relufit {

// Whether the request asks for an error budget (max_error set and > 0).
// check_answer hands such requests to check_error_budget_answer.
bool request_has_error_budget(const RequestData& request);

// FEASIBLE: rational weights whose training error under the loss is at most
// max_error (evaluated exactly). INFEASIBLE: an ErmTree of the request's
// loss with threshold max_error, strict. UNKNOWN: a reason.
CheckResult check_error_budget_answer(const RequestData& request, const AnswerData& answer,
                                      const CheckControl& control = {});

// kOptimal: the network's exact training error equals optimal_error and
// the proof shows every network's error is >= it. kUnknown: a reason, and
// best_error equals the network's error when a network is given.
CheckResult check_minimize_answer(const RequestData& request, const MinimizeAnswerData& answer,
                                  const CheckControl& control = {});

// The fit at `width` and the proof at width - 1 (or at max_width), each
// with check_answer on the request at that width.
CheckResult check_min_width_answer(const RequestData& request, const MinWidthAnswerData& answer,
                                   const CheckControl& control = {});

}  // namespace relufit
