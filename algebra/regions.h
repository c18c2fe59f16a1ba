// The linear regions of a fit with input_dim 1 or 2: the box around the
// samples split where some neuron changes activation, with the affine map the
// network computes on each piece. Exact rational arithmetic throughout
// (CGAL's Arrangement_2 over GMP rationals for input_dim 2); irrational
// weights are first replaced by close rationals (their 30-digit decimals),
// and the result says so. No solving: the relufit client links this (for
// `relufit plot` and `relufit model`), as does the server's proto conversion
// (SolveResponse.regions).
#pragma once

#include <gmpxx.h>

#include <optional>
#include <string>
#include <vector>

#include "algebra/answer.h"
#include "algebra/problem.h"

namespace relufit {

// A network's weights as rationals: w is m x d, b has m entries (0 without
// hidden bias), a is m x k, c has k entries (0 without output bias).
struct RationalNetwork {
  std::vector<std::vector<mpq_class>> w, a;
  std::vector<mpq_class> b, c;
  // Some weight was irrational and is here its 30-digit decimal.
  bool approximated = false;
  // Per neuron: its weights (w, b, a) include an irrational one.
  std::vector<bool> neuron_approximated;

  // f(x), exactly (for the rational weights held here).
  std::vector<mpq_class> evaluate(const std::vector<mpq_class>& x) const;
};

// Digits of the decimal that stands in for an irrational weight.
constexpr unsigned kRegionApproximationDigits = 30;

// The weights of `network` (an answer's, strings as in answer.h) for the
// problem's shape. nullopt, with the reason in *error, when a weight is
// malformed or the shape does not match.
std::optional<RationalNetwork> rational_network(const Problem& problem, const NetworkData& network,
                                                std::string* error);

// One output's affine map on a region: f_o(x) = gradient . x + offset.
struct AffineMapData {
  std::vector<mpq_class> gradient;
  mpq_class offset;
};

struct LinearRegionData {
  // input_dim 2: the polygon's corners counterclockwise (no collinear ones);
  // input_dim 1: the interval's two ends, increasing.
  std::vector<std::vector<mpq_class>> vertices;
  std::string activation;            // '1' active / '0' inactive per neuron
  std::vector<AffineMapData> maps;   // one per output
};

struct FitRegionsData {
  std::vector<mpq_class> box_lower, box_upper;  // input_dim each
  std::vector<LinearRegionData> regions;        // sorted by their centroid
  bool approximated = false;
};

// The box around the samples: per coordinate, the samples' range widened on
// both sides by a tenth of its length (by 1 when the length is 0).
void sample_box(const Problem& problem, std::vector<mpq_class>* lower, std::vector<mpq_class>* upper);

// The regions of `net` inside the sample box of `problem` (input_dim 1 or
// 2). nullopt with the reason in *error otherwise.
std::optional<FitRegionsData> fit_regions(const Problem& problem, const RationalNetwork& net,
                                          std::string* error);

// Both steps: the regions of an answer's network.
std::optional<FitRegionsData> fit_regions(const Problem& problem, const NetworkData& network,
                                          std::string* error);

}  // namespace relufit
