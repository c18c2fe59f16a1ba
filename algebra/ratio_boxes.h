// Ratio boxes (proto: KIND_RATIO_BOXES): a spatial branch and bound over
// the output-weight ratios of a pattern, with a Farkas vector at every box.
//
// In every fit of a node's pattern each u block b = (j, o) is u_b = a_jo z_j
// with rho_b = tau_jo a_jo = |a_jo| >= 0, and sigma_s (z_j . x~_i) >= 0 at
// every decided sample. So for rho_b in [lo, hi] the rows
//   tau_jo sigma_s (u_b . x~_i) - lo sigma_s (z_j . x~_i) >= 0   (lo > 0)
//   hi sigma_s (z_j . x~_i) - tau_jo sigma_s (u_b . x~_i) >= 0   (hi < inf)
// hold; they are linear in the node LP's variables. Splitting rho_b at a
// threshold t covers [lo, t] and [t, hi]; a box whose node LP plus these
// rows is infeasible holds no fit. Where the node LP is a relaxation
// because it forgets that u_b is a multiple of z_j, small boxes make it
// exact: at a single ratio vector the rows force u_b . x~_i = tau rho z_j .
// x~_i. This decides complete patterns whose bilinear equations have
// finitely many solutions, none of them a fit, which neither the node LP nor
// the degree-2 products refute. Thresholds are chosen from the LP point
// (floats choose, exact Farkas vectors decide).
#pragma once

#include <gmpxx.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "algebra/answer.h"
#include "algebra/search_pattern.h"
#include "algebra/search_rows.h"

namespace relufit {

// The rows a box adds to the node's rows, in the order the proto gives
// (for each block b with lo_b > 0: one row per decided sample; then, if
// hi_b is finite, one per decided sample). hi[b] empty: infinite.
std::vector<LpRow> ratio_box_rows(const SearchContext& ctx, const SignCase& sc,
                                  const std::vector<uint32_t>& order,
                                  const std::vector<std::string>& path,
                                  const std::vector<mpq_class>& lo,
                                  const std::vector<std::optional<mpq_class>>& hi);

struct RatioBoxOutcome {
  // A refutation: the split tree in preorder (set when every box closed).
  std::optional<std::vector<RatioBoxData>> boxes;
  // A fit found on the way (the algebraic step from a nearly rank-one box).
  std::optional<ExactFit> fit;
  size_t leaves = 0;  // boxes closed
  std::string why;    // when neither: what stopped the search
};

// Runs the branch and bound at the node with rows `view.rows` (all of the
// node's samples decided along view.path) until every box is closed, a fit
// is found, or max_boxes boxes (one exact LP each) were tried without
// finishing.
RatioBoxOutcome refute_by_ratio_boxes(const SearchContext& ctx, const PatternView& view,
                                      size_t max_boxes, SearchCounters* counters);

}  // namespace relufit
