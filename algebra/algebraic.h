// Exact real algebraic numbers for the solver, and the algebraic step of the
// search (DESIGN.md 2.6 c): at a complete activation pattern whose linear
// relaxation holds but where no rational output weights fit, find weights
// that are real algebraic numbers and verify them exactly.
//
// The step is: a float point guides (the search's alternating least squares);
// constraints tight at that point become equations; the Jacobian of the
// bilinear system decides which unknowns are locally free, and those are
// fixed to nearby rationals, so that the remaining unknowns form an isolated
// solution; Newton's method refines it to some 600 bits; each free output
// weight is identified as an algebraic number by an integer relation search
// (Calcium's qqbar_guess, LLL); then with the output weights fixed the
// equations in (w, b, c) are linear and are solved by exact Gauss-Jordan
// elimination over the real algebraic numbers, and every sign constraint is
// checked exactly. Floats only propose; nothing is returned unless the exact
// arithmetic confirms it, and the independent checker checks it again. When
// any step fails the pattern stays undecided (the verdict can only be
// UNKNOWN), never infeasible.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "algebra/algebraic_number.h"

namespace relufit {

// One complete activation pattern of a sign case (see search.h).
struct PatternSystem {
  uint32_t m = 0, k = 0, dz = 0;
  bool output_bias = true;
  std::vector<std::vector<mpq_class>> xt;  // per sample: x, then 1 with hidden bias
  std::vector<std::vector<mpq_class>> y;   // per sample
  std::vector<std::string> act;            // per sample, m characters '1'/'0'
  std::vector<std::vector<int>> tau;       // m x k signs of the output weights
  std::vector<uint32_t> lead;              // per neuron, the output scaled to +-1
  std::vector<std::pair<uint32_t, uint32_t>> blocks;  // free output weights (j, o)
};

// Weights in the API's exact text (rational or algebraic).
struct AlgebraicFit {
  std::vector<std::vector<std::string>> a;  // m x k
  std::vector<std::vector<std::string>> z;  // m x dz
  std::vector<std::string> c;               // k, or empty without output bias
  std::vector<std::string> activation;      // per sample: '1' where w_j . x_i + b_j > 0
};

// The algebraic step. r0 (one per block) and v0 (z blocks, then c) are the
// float guide. On failure returns nullopt and says which step failed in *why.
std::optional<AlgebraicFit> fit_algebraic(const PatternSystem& ps, const std::vector<double>& r0,
                                          const std::vector<double>& v0, std::string* why);

}  // namespace relufit
