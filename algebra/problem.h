// The validated training problem: architecture and samples as exact
// rationals. Validation names the field and the sample index of the first
// problem found, and separates malformed input from input past the limits.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <vector>

#include "algebra/answer.h"

namespace relufit {

// Size limits a server puts on requests. Defaults are the server's defaults.
struct ProblemLimits {
  uint32_t max_samples = 2000;       // samples per dataset
  uint32_t max_input_dim = 64;       // input_dim
  uint32_t max_hidden_width = 12;    // hidden_width (the search branches 2^m ways)
  uint32_t max_output_dim = 32;      // output_dim
  uint32_t max_digits = 1000;        // decimal digits in one number
};

struct Problem {
  uint32_t input_dim = 0, hidden_width = 0, output_dim = 0;
  bool hidden_bias = true, output_bias = true;
  std::vector<std::vector<mpq_class>> x;  // n x d
  std::vector<std::vector<mpq_class>> y;  // n x k
  // Error budget: max_error > 0 asks for a network whose training error
  // under `loss` (kLinf when the request names none) is at most max_error.
  Loss loss = Loss::kUnspecified;
  mpq_class max_error = 0;
  size_t num_samples() const { return x.size(); }
};

struct ValidationError {
  enum class Code { kOk, kInvalidArgument, kResourceExhausted };
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
};

// Checks shape and numbers and fills *out. Messages look like
// "dataset.samples[3].x[1]: zero denominator in \"1/0\"".
ValidationError build_problem(const RequestData& request, const ProblemLimits& limits,
                              Problem* out);

}  // namespace relufit
