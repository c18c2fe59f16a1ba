// One-dimensional inputs (input_dim = 1) decided by breakpoints
// (DESIGN.md section 7; Debarre, Denoyelle, Unser, Fageot, J. Comput. Appl.
// Math. 2022).
//
// Sort the distinct inputs x_1 < ... < x_n (samples with equal x and equal
// labels collapse to one point). For output o the slopes are
// s_i = (y_{i+1} - y_i) / (x_{i+1} - x_i), i = 1..n-1, and at the interior
// points i = 2..n-1 the slope changes have signs e_i = sign(s_i - s_{i-1}).
// A run is a maximal set a..b of consecutive interior indices whose e_i are
// equal and nonzero, of length L = b - a + 1, and
//
//     p*_o = sum over runs of ceil(L / 2).
//
// Lower bound (the lemma and its proof are on BreakpointBound in
// proto/relufit/v1/relufit.proto): every continuous piecewise-linear
// interpolant of output o has at least p*_o knots, and a network of width m
// has at most m knots, so m < max_o p*_o has no fit.
//
// Upper bound: a sparsest interpolant with exactly p*_o knots (within a run
// the windows are paired, (a, a+1), (a+2, a+3), ...; a pair (i, i+1) gets one
// knot where the line of [x_{i-1}, x_i] meets the line of [x_{i+1}, x_{i+2}],
// strictly inside (x_i, x_{i+1}); a leftover window b gets its knot at x_b).
// With hidden and output bias, one neuron per knot of the union T of the
// outputs' knot sets plus one neuron for the linear part fits at every width
// m >= |T| + 1; at m = |T| a fit exists in this family when the neurons of a
// subset F can face left with beta + sum_{t in F} gamma_t = 0.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "algebra/problem.h"
#include "algebra/search.h"

namespace relufit {

// The data of a one-dimensional problem sorted by x with equal inputs merged.
struct SortedData1D {
  std::vector<mpq_class> x;               // strictly increasing
  std::vector<std::vector<mpq_class>> y;  // labels, one vector per x
};

// Sorts and merges; nullopt when two samples have equal x and different y
// (a conflicting pair) or when input_dim != 1.
std::optional<SortedData1D> sort_data_1d(const Problem& p);

// p*_o for output o of sorted data.
uint32_t min_breakpoints(const SortedData1D& data, uint32_t o);

// g(x) = alpha + beta x + sum over knots (t, gamma) of gamma max(0, x - t).
struct Interpolant1D {
  mpq_class alpha, beta;
  std::vector<std::pair<mpq_class, mpq_class>> knots;  // (t, gamma), t increasing, gamma != 0
};

// The sparsest interpolant of output o described above: p*_o knots.
Interpolant1D sparsest_interpolant(const SortedData1D& data, uint32_t o);

// Exact weights of a network with input_dim 1 (w and b are m entries each,
// a is m x k, c has k entries).
struct Fit1D {
  std::vector<mpq_class> w, b;
  std::vector<std::vector<mpq_class>> a;
  std::vector<mpq_class> c;
};

// Whether the network fits every sample of p exactly (hidden and output
// bias as in the architecture; b and c are ignored where they are off).
bool fit_1d_is_exact(const Problem& p, const Fit1D& fit);

// What the breakpoints decide about a problem with input_dim = 1.
struct BreakpointDecision {
  enum class Kind { kUndecided, kInfeasible, kFeasible };
  Kind kind = Kind::kUndecided;
  uint32_t output = 0;           // kInfeasible: the output with p*_o > width
  uint32_t min_breakpoints = 0;  // kInfeasible: that p*_o
  Fit1D fit;                     // kFeasible: verified exactly at every sample
};

// INFEASIBLE when hidden_width < max_o p*_o; FEASIBLE by construction when
// both biases are on and the width allows it (see above); otherwise
// undecided (the search decides). Cancellation and the deadline of `control`
// are polled during the subset enumeration (undecided when reached).
BreakpointDecision decide_by_breakpoints(const Problem& p, const SearchControl& control);

}  // namespace relufit
