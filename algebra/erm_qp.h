// The node programs of empirical risk minimisation (algebra/erm.h), solved
// exactly. The only place that includes CGAL's QP solver (its headers cost
// seconds and a lot of memory per translation unit): callers see plain GMP.
#pragma once

#include <gmpxx.h>

#include <string>
#include <vector>

#include "algebra/answer.h"

namespace relufit {

// min loss(r) over x in Q^num_vars, with r_s = residual_rows[s] . x - labels[s]
// and sign_rows[q] . x >= 0 for every q. All variables free.
struct NodeProgram {
  Loss loss = Loss::kLinf;
  size_t num_vars = 0;
  std::vector<std::vector<mpq_class>> residual_rows;  // f_s as a linear form in x
  std::vector<mpq_class> labels;                      // y_s
  std::vector<std::vector<mpq_class>> sign_rows;      // a_q, each a_q . x >= 0
};

// The optimum and its dual certificate (erm.h: DualBound), each verified
// exactly here before it is returned (ok = false and `error` otherwise).
struct NodeSolution {
  bool ok = false;
  std::string error;
  mpq_class value;               // loss(r) at `point`, recomputed exactly
  std::vector<mpq_class> point;  // optimal x
  std::vector<mpq_class> lambda;  // one per residual row (free)
  std::vector<mpq_class> mu;      // one per sign row (>= 0)
  mpq_class bound;                // the lower bound lambda, mu prove (= value at an optimum)
};

NodeSolution solve_node_program(const NodeProgram& program);

// The loss of residuals r (exact).
mpq_class loss_of_residuals(Loss loss, const std::vector<mpq_class>& r);

// The lower bound that (lambda, mu) prove when sum_s lambda_s residual_rows[s]
// + sum_q mu_q sign_rows[q] = 0 and mu >= 0 (checked by the caller):
// with L = sum_s lambda_s y_s, Linf: L / sum|lambda|, L1: L / max|lambda|,
// L2: L^2 / sum lambda^2 (each 0 when L <= 0).
mpq_class dual_bound(Loss loss, const std::vector<mpq_class>& lambda,
                     const std::vector<mpq_class>& labels);

}  // namespace relufit
