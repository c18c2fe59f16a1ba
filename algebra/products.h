// Degree-2 product certificates (DESIGN.md section 6; proto: KIND_PRODUCTS).
//
// With several outputs a node's LP is a relaxation: each u block stands for
// a_jo z_j, and the LP forgets that u_b is a multiple of z_j. The products
// below see that coupling. Every term is a polynomial in the node LP's
// variables v (canonical order, proto CaseTree) that is >= 0 or = 0 at every
// fit of the node's pattern (with u_b = a_jo z_j):
//   inequality rows Q_r = (row r) . v - rhs_r, products Q_a Q_b of two
//   inequality rows, the 2x2 minors of the vector blocks of one neuron (u_b
//   is parallel to z_j), squares v_t^2 and tau_b u_b[t] z_j[t] =
//   |a_jo| z_j[t]^2.
// Each is read on the solution set of the node's equality rows, as a
// polynomial in that affine subspace's free variables w (which stands for
// multiplying the equality rows by variables, and is much smaller). Giving
// each monomial in w its own LP variable turns "some combination of the
// terms with the right signs is a negative constant" into an LP (the lifted
// LP's Farkas system): a Positivstellensatz refutation of the whole subtree
// below the node. GLPK solves it in double precision; the multipliers are
// rebuilt exactly from its basis and verified; the checker redoes the
// substitution and multiplies everything out with its own code.
#pragma once

#include <gmpxx.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "algebra/answer.h"
#include "algebra/lp.h"
#include "algebra/search.h"
#include "algebra/search_rows.h"

namespace relufit {

// Which families of terms the lifted LP gets. Row terms are always in.
struct ProductFamilies {
  bool row_products = true;        // Q_a Q_b, inequality rows a <= b
  bool minors = true;              // 2x2 minors of one neuron's vector blocks
  bool squares = true;             // v_t^2 >= 0
  bool aligned = true;             // tau_b u_b[t] z_j[t] >= 0
  // Only pairs with at least one inequality row of the last `recent_rows`
  // decided samples enter the pairwise products (0: all pairs).
  size_t recent_rows = 0;
  size_t max_terms = 20000;  // past this the attempt is skipped (no answer)
};

// A certificate that no fit has the pattern of the node whose LP rows are
// `rows` in sign case `sc`, or nullopt when the lifted LP is feasible (or too
// large). Only meaningful for sign cases with u blocks (for one output the
// node LP is exact and its own Farkas vector suffices).
std::optional<std::vector<ProductTermData>> refute_by_products(const SearchContext& ctx,
                                                               const SignCase& sc,
                                                               const std::vector<LpRow>& rows,
                                                               const ProductFamilies& families);

}  // namespace relufit
