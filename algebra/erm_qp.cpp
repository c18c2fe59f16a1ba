// CGAL's exact QP solver behind NodeProgram (the one translation unit that
// includes it). Rows are scaled to integers so that CGAL works over Gmpz;
// the multipliers are scaled back and the certificate is verified here with
// GMP rationals before anything is returned.
#include "algebra/erm_qp.h"

#include <CGAL/Gmpz.h>
#include <CGAL/QP_functions.h>
#include <CGAL/QP_models.h>

#include <algorithm>

namespace relufit {
namespace {

using Program = CGAL::Quadratic_program<CGAL::Gmpz>;
using Solution = CGAL::Quadratic_program_solution<CGAL::Gmpz>;

CGAL::Gmpz to_cgal(const mpz_class& v) { return CGAL::Gmpz(v.get_mpz_t()); }
mpz_class from_cgal(const CGAL::Gmpz& v) { return mpz_class(v.mpz()); }

// One constraint row before scaling: coeffs . vars (rel) rhs.
struct Row {
  std::vector<std::pair<size_t, mpq_class>> coeffs;
  mpq_class rhs;
  CGAL::Comparison_result rel = CGAL::SMALLER;
};

// The positive integer that clears the row's denominators.
mpz_class row_scale(const Row& row) {
  mpz_class l = row.rhs.get_den();
  for (const auto& [j, v] : row.coeffs) mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), v.get_den_mpz_t());
  return l;
}

bool identity_holds(const NodeProgram& p, const std::vector<mpq_class>& lambda,
                    const std::vector<mpq_class>& mu) {
  for (const auto& v : mu)
    if (sgn(v) < 0) return false;
  for (size_t j = 0; j < p.num_vars; ++j) {
    mpq_class sum = 0;
    for (size_t s = 0; s < lambda.size(); ++s) sum += lambda[s] * p.residual_rows[s][j];
    for (size_t q = 0; q < mu.size(); ++q) sum += mu[q] * p.sign_rows[q][j];
    if (sgn(sum) != 0) return false;
  }
  return true;
}

}  // namespace

mpq_class loss_of_residuals(Loss loss, const std::vector<mpq_class>& r) {
  mpq_class out = 0;
  for (const auto& v : r) {
    const mpq_class a = abs(v);
    if (loss == Loss::kLinf) {
      if (a > out) out = a;
    } else if (loss == Loss::kL1) {
      out += a;
    } else {
      out += v * v;
    }
  }
  return out;
}

mpq_class dual_bound(Loss loss, const std::vector<mpq_class>& lambda,
                     const std::vector<mpq_class>& labels) {
  mpq_class l = 0, norm = 0;
  for (size_t s = 0; s < lambda.size(); ++s) {
    l += lambda[s] * labels[s];
    const mpq_class a = abs(lambda[s]);
    if (loss == Loss::kLinf) {
      norm += a;
    } else if (loss == Loss::kL1) {
      if (a > norm) norm = a;
    } else {
      norm += lambda[s] * lambda[s];
    }
  }
  if (sgn(l) <= 0 || sgn(norm) == 0) return 0;
  mpq_class out = loss == Loss::kL2 ? mpq_class(l * l / norm) : mpq_class(l / norm);
  out.canonicalize();
  return out;
}

NodeSolution solve_node_program(const NodeProgram& p) {
  NodeSolution out;
  const size_t nb = p.num_vars, ns = p.residual_rows.size(), nq = p.sign_rows.size();
  const bool linf = p.loss == Loss::kLinf, l2 = p.loss == Loss::kL2;
  // Extra variables: gamma (Linf), e_s (L1) or r_s (L2) after the base ones.
  const size_t nvars = nb + (linf ? 1 : ns);
  std::vector<Row> rows;
  auto base = [&](const std::vector<mpq_class>& f, int sign, Row* row) {
    for (size_t j = 0; j < nb; ++j)
      if (sgn(f[j]) != 0) row->coeffs.emplace_back(j, sign * f[j]);
  };
  for (size_t s = 0; s < ns; ++s) {
    const size_t t = linf ? nb : nb + s;
    if (l2) {  // f_s - r_s = y_s
      Row r;
      base(p.residual_rows[s], 1, &r);
      r.coeffs.emplace_back(t, -1);
      r.rhs = p.labels[s];
      r.rel = CGAL::EQUAL;
      rows.push_back(std::move(r));
    } else {  // -f_s - t <= -y_s and f_s - t <= y_s
      Row up, lo;
      base(p.residual_rows[s], -1, &up);
      up.coeffs.emplace_back(t, -1);
      up.rhs = -p.labels[s];
      base(p.residual_rows[s], 1, &lo);
      lo.coeffs.emplace_back(t, -1);
      lo.rhs = p.labels[s];
      rows.push_back(std::move(up));
      rows.push_back(std::move(lo));
    }
  }
  for (size_t q = 0; q < nq; ++q) {
    Row r;
    base(p.sign_rows[q], 1, &r);
    r.rhs = 0;
    r.rel = CGAL::LARGER;
    rows.push_back(std::move(r));
  }
  Program qp(CGAL::SMALLER, false, 0, false, 0);
  std::vector<mpz_class> scale(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    scale[i] = row_scale(rows[i]);
    for (const auto& [j, v] : rows[i].coeffs) {
      mpq_class sv = v * scale[i];
      qp.set_a(static_cast<int>(j), static_cast<int>(i), to_cgal(sv.get_num()));
    }
    mpq_class b = rows[i].rhs * scale[i];
    qp.set_b(static_cast<int>(i), to_cgal(b.get_num()));
    qp.set_r(static_cast<int>(i), rows[i].rel);
  }
  // Make sure every variable exists even when no row names it.
  if (nvars > 0) qp.set_c(static_cast<int>(nvars - 1), 0);
  if (linf) {
    qp.set_c(static_cast<int>(nb), 1);
  } else {
    for (size_t s = 0; s < ns; ++s) {
      if (l2)
        qp.set_d(static_cast<int>(nb + s), static_cast<int>(nb + s), 2);  // 2D: objective sum r_s^2
      else
        qp.set_c(static_cast<int>(nb + s), 1);
    }
  }
  Solution sol = l2 ? CGAL::solve_quadratic_program(qp, CGAL::Gmpz())
                    : CGAL::solve_linear_program(qp, CGAL::Gmpz());
  if (sol.status() != CGAL::QP_OPTIMAL) {
    out.error = sol.status() == CGAL::QP_INFEASIBLE ? "node program infeasible"
                                                    : "node program unbounded";
    return out;
  }
  const mpz_class den = from_cgal(sol.variables_common_denominator());
  std::vector<mpq_class> x;
  for (auto it = sol.variable_numerators_begin(); it != sol.variable_numerators_end(); ++it) {
    mpq_class v(from_cgal(*it), den);
    v.canonicalize();
    x.push_back(v);
  }
  x.resize(nvars);
  out.point.assign(x.begin(), x.begin() + static_cast<long>(nb));
  std::vector<mpq_class> resid(ns);
  for (size_t s = 0; s < ns; ++s) {
    mpq_class f = 0;
    for (size_t j = 0; j < nb; ++j) f += p.residual_rows[s][j] * out.point[j];
    resid[s] = f - p.labels[s];
  }
  for (size_t q = 0; q < nq; ++q) {
    mpq_class v = 0;
    for (size_t j = 0; j < nb; ++j) v += p.sign_rows[q][j] * out.point[j];
    if (sgn(v) < 0) {
      out.error = "the QP solver's point violates a sign row";
      return out;
    }
  }
  out.value = loss_of_residuals(p.loss, resid);
  // Multipliers of the original rows (CGAL: >= 0 on <= rows, <= 0 on >= rows).
  std::vector<mpq_class> ell;
  size_t i = 0;
  for (auto it = sol.optimality_certificate_numerators_begin();
       it != sol.optimality_certificate_numerators_end() && i < rows.size(); ++it, ++i)
    ell.push_back(mpq_class(from_cgal(*it) * scale[i]));
  ell.resize(rows.size());
  std::vector<mpq_class> lambda(ns), mu(nq);
  for (size_t s = 0; s < ns; ++s) lambda[s] = l2 ? mpq_class(-ell[s]) : mpq_class(ell[2 * s] - ell[2 * s + 1]);
  const size_t first_sign = l2 ? ns : 2 * ns;
  for (size_t q = 0; q < nq; ++q) mu[q] = -ell[first_sign + q];
  if (!identity_holds(p, lambda, mu)) {
    // The other sign convention, in case: the check below is what counts.
    for (auto& v : lambda) v = -v;
    if (!identity_holds(p, lambda, mu)) {
      out.error = "the QP solver's multipliers do not give a dual certificate";
      return out;
    }
  }
  // A common positive factor keeps the numbers small (bounds are scale free).
  mpz_class g = 0;
  for (const auto* vec : {&lambda, &mu})
    for (const auto& v : *vec)
      if (sgn(v) != 0) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), v.get_num_mpz_t());
  if (sgn(g) > 0) {
    mpz_class l = 1;
    for (const auto* vec : {&lambda, &mu})
      for (const auto& v : *vec) mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), v.get_den_mpz_t());
    const mpq_class factor(l, g);
    for (auto* vec : {&lambda, &mu})
      for (auto& v : *vec) v *= factor;
  }
  out.lambda = std::move(lambda);
  out.mu = std::move(mu);
  out.bound = dual_bound(p.loss, out.lambda, p.labels);
  out.ok = true;
  return out;
}

}  // namespace relufit
