// The independent check of a Minimize or MinWidth answer to its request, on
// proto messages: what `relufit verify` does locally, what the Verify RPC
// does after validating the request, and what the job manager does to a
// stored result. The checker and the conversions only, never the solver, so
// the client links it too.
#pragma once

#include "algebra/checker.h"
#include "relufit/v1/relufit.pb.h"

namespace relufit {

// The problem as Minimize reads it: options.loss and max_error ignored.
v1::SolveRequest minimize_problem(const v1::MinimizeRequest& request);

// The problem as MinWidth reads it: the widths are chosen by the search, so
// hidden_width is set to 1 (any valid value passes validation).
v1::SolveRequest min_width_problem(const v1::MinWidthRequest& request);

// The response's loss (or max_width) must be the one asked for; then the
// checker on the answer (algebra/checker_erm.h).
CheckResult check_minimize_response(const v1::MinimizeRequest& request,
                                    const v1::MinimizeResponse& response, const CheckControl& control);
CheckResult check_min_width_response(const v1::MinWidthRequest& request,
                                     const v1::MinWidthResponse& response, const CheckControl& control);

}  // namespace relufit
