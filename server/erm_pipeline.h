// The pipelines of Minimize and MinWidth (and the Verify of their answers):
// request -> validate -> solve (algebra/erm.h, min_width.h) -> independent
// check (algebra/checker_erm.h) -> response. An answer the checker rejects
// becomes UNKNOWN with the checker's reason. Knows proto messages, not gRPC.
#pragma once

#include "algebra/checker.h"
#include "algebra/problem.h"
#include "relufit/v1/relufit.pb.h"
#include "server/pipeline.h"

namespace relufit {

// Only the validation steps of run_minimize / run_min_width (used before a
// job is accepted): the problem as Minimize / MinWidth reads it, and for
// MinWidth max_width against the server's limit on hidden_width.
ValidationError validate_minimize_request(const v1::MinimizeRequest& request, const ServiceOptions& options);
ValidationError validate_min_width_request(const v1::MinWidthRequest& request, const ServiceOptions& options);

ValidationError run_minimize(const v1::MinimizeRequest& request, const ServiceOptions& options,
                             const PipelineControl& control, v1::MinimizeResponse* response);

ValidationError run_min_width(const v1::MinWidthRequest& request, const ServiceOptions& options,
                              const PipelineControl& control, v1::MinWidthResponse* response);

// Whether a VerifyRequest carries a Minimize or MinWidth answer.
bool is_erm_verify(const v1::VerifyRequest& request);

// Validates the request, then checks that answer (check_minimize_response
// or check_min_width_response, server/erm_check.h); validation errors in
// *error.
CheckResult verify_erm(const v1::VerifyRequest& request, const ServiceOptions& options,
                       const CheckControl& control, ValidationError* error);

}  // namespace relufit
