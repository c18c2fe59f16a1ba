// Plain data of the Minimize and MinWidth answers (proto MinimizeResponse,
// MinWidthResponse), shared by the solver side, the checker and the
// server's conversion; no protobuf here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "algebra/answer.h"

namespace relufit {

struct MinimizeAnswerData {
  enum class Status { kUnspecified = 0, kOptimal = 1, kUnknown = 2, kBounded = 3 };
  Status status = Status::kUnspecified;
  Loss loss = Loss::kUnspecified;
  // kOptimal: the least training error; `network` reaches it and `proof`
  // (leaves kErmBound / kUnrealizable, not strict) shows no network does
  // better. kUnknown: best_error is the error of `network`, the best found
  // before the limit (empty when none), and `reason` says why.
  std::string optimal_error;
  std::string best_error;
  NetworkData network;
  CaseTreeData proof;
  // Several outputs (kBounded, or kOptimal when the bound meets best_error):
  // output_proofs[o] proves that output o alone (same width, same inputs)
  // has loss >= output_bounds[o]; lower_bound combines them (max for
  // L-infinity, sum for L1 and squared L2) and is <= every network's error.
  std::vector<CaseTreeData> output_proofs;
  std::vector<std::string> output_bounds;
  std::string lower_bound;
  std::string reason;
  SolveStats stats;
  std::string check_summary;
};

struct MinWidthAnswerData {
  // kFeasible: `width` is the smallest width with a fit (`fit`, checked at
  // width) and `below` refutes width - 1 (width > 1). kInfeasible: no width
  // up to max_width fits; `below` refutes max_width (= width). kUnknown:
  // `reason` names the width left undecided.
  Verdict verdict = Verdict::kUnspecified;
  uint32_t width = 0;
  uint32_t max_width = 0;
  AnswerData fit;
  AnswerData below;
  uint32_t lower_bound = 1;
  std::string tried;
  std::string reason;
  SolveStats stats;
  std::string check_summary;
};

}  // namespace relufit
