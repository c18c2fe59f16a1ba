// Exports the training problem (DESIGN.md 2.2) in formats other tools read:
// SMT-LIB 2 (QF_NRA) for z3, cvc5 and other solvers, and a readable text
// rendering of the polynomial system and its activation-pattern families.
#pragma once

#include <string>

#include "algebra/problem.h"

namespace relufit {

// SMT-LIB 2, logic QF_NRA: real variables w_j_t, b_j (hidden bias), a_j_o,
// c_o (output bias), and h_i_j = max(0, w_j . x_i + b_j) encoded as
// h >= 0, h >= pre, (h = 0 or h = pre); one equality per sample and output.
// Ends with (check-sat) and (get-model). Indices are 0-based.
std::string export_smtlib(const Problem& problem);

// The same system for people: the bilinear equations with 0/1 activation
// unknowns P_ij, then, for output_dim = 1, the linear system each sign case
// and activation pattern reduces to.
std::string export_text(const Problem& problem);

}  // namespace relufit
