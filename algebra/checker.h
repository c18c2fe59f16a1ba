// The independent checker. It shares no solving code with the solver: it
// parses the request's numbers itself, does its arithmetic with FLINT's
// fmpq (the solver uses GMP's mpq_class), rebuilds every LP row of a proof
// from the request and the node's path alone, and evaluates networks
// directly with max(0, .). Every answer passes through it before the server
// returns it; the Verify RPC and `relufit verify` expose it.
#pragma once

#include <string>

#include "algebra/answer.h"

namespace relufit {

struct CheckResult {
  bool valid = false;
  std::string message;  // what was verified, or the first failure
};

// Checks that `answer` is a correct answer to `request`: FEASIBLE weights
// fit every sample exactly; INFEASIBLE certificates prove emptiness;
// UNKNOWN is accepted (nothing is claimed) when it carries a reason.
CheckResult check_answer(const RequestData& request, const AnswerData& answer);

}  // namespace relufit
