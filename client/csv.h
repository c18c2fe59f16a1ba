// Samples in CSV as a SolveRequest (relufit solve/submit/export FILE.csv):
// one sample per line, input_dim input columns then the labels; '#'
// comments and a non-numeric header line are skipped. Kept apart from the
// command line so that tests/fuzz/fuzz_csv.cpp reads CSV the way the client
// does.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "relufit/v1/relufit.pb.h"

namespace relufit {

struct CsvArchitecture {
  uint32_t input_dim = 0, hidden_width = 0;
  bool no_hidden_bias = false, no_output_bias = false;
};

// A CSV text that is not a request; the message names the file and line.
class CsvError : public std::runtime_error {
 public:
  explicit CsvError(const std::string& message) : std::runtime_error(message) {}
};

// `path` only names the file in messages. Throws CsvError.
v1::SolveRequest request_from_csv(const std::string& path, const std::string& text,
                                  const CsvArchitecture& arch);

}  // namespace relufit
