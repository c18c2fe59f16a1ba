// The exact search for output_dim = 1 (DESIGN.md facts 1-5).
//
// Sign cases p = 0..m (output weights +1 for neurons < p, -1 after), then a
// depth-first search over samples in a fixed order: a node at depth t fixes
// the activation vectors of the first t samples; it is cut when a neuron's
// column is not realizable by an open half-space or when the node's LP is
// infeasible, each with a Farkas certificate. Within a sign group the columns
// are kept in non-increasing lexicographic order (symmetry breaking). The
// proof format is documented on CaseTree in proto/relufit/v1/relufit.proto.
#pragma once

#include <gmpxx.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "algebra/answer.h"
#include "algebra/problem.h"

namespace relufit {

// When to give up. All limits end in an UNKNOWN verdict with a reason.
struct SearchControl {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  uint64_t node_limit = 0;                // 0: none
  std::function<bool()> cancelled;        // polled at every node; may be empty
  std::function<void(const SolveStats&)> progress;  // called about every 0.5 s; may be empty
};

struct SearchOutcome {
  Verdict verdict = Verdict::kUnknown;
  std::string reason;                       // for kUnknown
  std::vector<mpq_class> a, c;              // output weights (m), output bias (0 or 1)
  std::vector<std::vector<mpq_class>> w;    // m x d
  std::vector<mpq_class> b;                 // m (zeros without hidden bias)
  CaseTreeData proof;                       // for kInfeasible
};

// Decides a problem with output_dim == 1.
SearchOutcome search_single_output(const Problem& problem, const SearchControl& control,
                                   SolveStats* stats);

// The order in which the search decides samples (a permutation of 0..n-1):
// a farthest-point order on the inputs, so that early samples spread out and
// cuts come early. Only efficiency depends on it.
std::vector<uint32_t> choose_sample_order(const Problem& problem);

}  // namespace relufit
