// The exact search over activation patterns (DESIGN.md facts 1-6), one
// reduction for every output_dim.
//
// Sign cases: every neuron's output weight vector a_j has a sign vector
// tau_j in {+,-,0}^k (not all 0); scaling puts +-1 on its first nonzero
// entry, and the other nonzero entries become unknowns r_jo. Within each
// case, a depth-first search over samples in a fixed order: a node at depth
// t fixes the activation vectors of the first t samples; it is cut when a
// neuron's column is not realizable by an open half-space or when the node's
// linear relaxation is infeasible (u_jo standing for r_jo z_j, with the sign
// tau_jo), each with a Farkas certificate. For one output the relaxation is
// exact. Neurons of equal sign vector keep their columns in non-increasing
// lexicographic order (symmetry breaking). The proof format is documented
// on CaseTree in proto/relufit/v1/relufit.proto.
#pragma once

#include <gmpxx.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "algebra/algebraic.h"
#include "algebra/answer.h"
#include "algebra/problem.h"
#include "algebra/search_options.h"

namespace relufit {

// When to give up. All limits end in an UNKNOWN verdict with a reason.
struct SearchControl {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  uint64_t node_limit = 0;                // 0: none
  unsigned threads = 0;                   // search threads for this solve; 0: every core
  SearchOptions options;                  // the search's constants (threads above wins when set)
  std::function<bool()> cancelled;        // polled at every node; may be empty
  std::function<void(const SolveStats&)> progress;  // called about every 0.5 s; may be empty
};

// Exact weights. When `algebraic` is set, a, w, b, c are not.
struct ExactFit {
  std::vector<std::vector<mpq_class>> a;  // m x k
  std::vector<std::vector<mpq_class>> w;  // m x d
  std::vector<mpq_class> b;               // m (zeros without hidden bias)
  std::vector<mpq_class> c;               // k, or empty without output bias
  std::optional<AlgebraicFit> algebraic;  // all weights as exact texts, when some is irrational
};

struct SearchOutcome {
  Verdict verdict = Verdict::kUnknown;
  std::string reason;           // for kUnknown
  std::optional<ExactFit> fit;  // for kFeasible
  CaseTreeData proof;           // for kInfeasible
};

// Lemma 1 (proto: CaseTree): a sign vector t is 0 before its lead entry e,
// t_e = +-1 there (a_je is normalised to it), and + or - after it, read as
// a_jo >= 0 or a_jo <= 0 (closed: a_jo = 0 lies in both).
bool is_lemma1_sign_vector(const std::vector<int>& t);
// A fit's sign string with its zeros after the lead read as '+' ("0+0-"
// -> "0++-"): the Lemma 1 sign vector whose case holds that neuron.
std::string lemma1_sign_string(const std::string& s);

// "+-0" as {+1, -1, 0}.
std::vector<int> sign_vector(const std::string& s);

// One sign case: the sign vector of every neuron's output weights.
struct SignCase {
  std::vector<std::vector<int>> tau;                   // m x k, entries -1, 0, +1
  std::vector<uint32_t> lead;                          // first nonzero output per neuron
  std::vector<std::pair<uint32_t, uint32_t>> blocks;  // (j, o): o > lead[j], tau_jo != 0

  int sign(uint32_t j, uint32_t o) const { return tau[j][o]; }
  bool same_type(uint32_t j1, uint32_t j2) const { return tau[j1] == tau[j2]; }
  // Index of the u block of (j, o), or -1.
  int block_of(uint32_t j, uint32_t o) const;
  // LP rows per decided sample: k equalities, m z-sign rows, one per block.
  size_t rows_per_sample() const { return tau[0].size() + tau.size() + blocks.size(); }
  // Variables: z blocks (m), u blocks, then c (k, with output bias).
  size_t bias_index(size_t dz) const { return (tau.size() + blocks.size()) * dz; }
  size_t num_vars(size_t dz, bool output_bias) const {
    return bias_index(dz) + (output_bias ? tau[0].size() : 0);
  }
  // Per neuron, the sign vector as '+', '-', '0' characters.
  std::vector<std::string> strings() const;
  // The case of these sign vectors (each nonzero), with each neuron's lead
  // and the u blocks derived from them.
  static SignCase of(std::vector<std::vector<int>> tau);
};

// Number of sign cases for width m and k outputs (saturating at 2^40), and
// the most the search will take on: past it the answer is UNKNOWN.
uint64_t count_sign_cases(uint32_t m, uint32_t k);
constexpr uint64_t kMaxSignCases = 100000;

// Every sign case: non-decreasing sequences of m Lemma 1 sign vectors (of
// which there are 2 (2^k - 1)), ordered lexicographically with
// '+' < '-' < '0' (m + 1 cases for one output).
std::vector<SignCase> enumerate_sign_cases(uint32_t m, uint32_t k);

// Decides a problem of any output_dim, on control.threads threads (the
// calling one and helpers from TaskPool::shared()); the verdict does not
// depend on the number of threads. For several outputs, a complete
// pattern whose relaxation holds is tried with rational output weights, then
// with the algebraic step (algebraic.h); where both fail and no pinned-
// direction proof exists, the verdict is UNKNOWN naming the pattern and step.
SearchOutcome search_patterns(const Problem& problem, const SearchControl& control,
                              SolveStats* stats);

// The order in which the search decides samples (a permutation of 0..n-1):
// a farthest-point order on the inputs, so that early samples spread out and
// cuts come early. Only efficiency depends on it.
std::vector<uint32_t> choose_sample_order(const Problem& problem);

}  // namespace relufit
