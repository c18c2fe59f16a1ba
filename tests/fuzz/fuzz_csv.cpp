// libFuzzer: reading a CSV request as the client does (relufit solve
// FILE.csv), then validating it with the server's default limits
// (build_problem). The first input byte picks the architecture flags
// (input_dim 1-4, with or without biases); the rest is the CSV text.
// Nothing may crash, abort or leak; a CsvError is an answer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "algebra/problem.h"
#include "client/csv.h"
#include "server/convert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1 << 16) return 0;
  relufit::CsvArchitecture arch;
  arch.input_dim = 1 + (data[0] & 3);
  arch.hidden_width = 1 + ((data[0] >> 2) & 3);
  arch.no_hidden_bias = (data[0] >> 4) & 1;
  arch.no_output_bias = (data[0] >> 5) & 1;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const relufit::v1::SolveRequest request = relufit::request_from_csv("fuzz.csv", text, arch);
    relufit::Problem problem;
    (void)relufit::build_problem(relufit::request_from_proto(request), relufit::ProblemLimits{}, &problem);
  } catch (const relufit::CsvError&) {
  }
  return 0;
}
