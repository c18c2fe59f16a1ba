#include "algebra/products.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <flint/fmpq.h>
#include <flint/fmpq_mat.h>
#include <glpk.h>

#include "algebra/number.h"

namespace relufit {
namespace {

// A polynomial of degree <= 2 in the node variables: monomial index -> coefficient
// (v_t is t; v_s v_t with s <= t is nv + t (t + 1) / 2 + s), plus a constant.
struct Poly {
  std::map<uint32_t, mpq_class> terms;
  mpq_class constant;
};

class Builder {
 public:
  Builder(const SearchContext& ctx, const SignCase& sc, const std::vector<LpRow>& rows)
      : ctx_(ctx), sc_(sc), rows_(rows), nv_(ctx.num_vars(sc)) {}

  uint32_t quad(size_t s, size_t t) const {
    if (s > t) std::swap(s, t);
    return static_cast<uint32_t>(nv_ + t * (t + 1) / 2 + s);
  }

  // Q_r as (linear part, constant).
  Poly row(size_t r) const {
    Poly p;
    const LpRow& row = rows_[r];
    for (size_t t = 0; t < nv_; ++t)
      if (sgn(row.coeffs[t]) != 0) p.terms[static_cast<uint32_t>(t)] = row.coeffs[t];
    p.constant = -row.rhs;
    return p;
  }

  Poly product(size_t a, size_t b) const {
    const LpRow& ra = rows_[a];
    const LpRow& rb = rows_[b];
    Poly p;
    for (size_t s = 0; s < nv_; ++s) {
      if (sgn(ra.coeffs[s]) == 0) continue;
      for (size_t t = 0; t < nv_; ++t)
        if (sgn(rb.coeffs[t]) != 0) p.terms[quad(s, t)] += ra.coeffs[s] * rb.coeffs[t];
    }
    // (L_a - rhs_a)(L_b - rhs_b)
    if (sgn(rb.rhs) != 0)
      for (size_t s = 0; s < nv_; ++s)
        if (sgn(ra.coeffs[s]) != 0) p.terms[static_cast<uint32_t>(s)] -= ra.coeffs[s] * rb.rhs;
    if (sgn(ra.rhs) != 0)
      for (size_t t = 0; t < nv_; ++t)
        if (sgn(rb.coeffs[t]) != 0) p.terms[static_cast<uint32_t>(t)] -= rb.coeffs[t] * ra.rhs;
    p.constant = ra.rhs * rb.rhs;
    return p;
  }

  Poly times_variable(size_t a, size_t t) const {
    const LpRow& ra = rows_[a];
    Poly p;
    for (size_t s = 0; s < nv_; ++s)
      if (sgn(ra.coeffs[s]) != 0) p.terms[quad(s, t)] += ra.coeffs[s];
    if (sgn(ra.rhs) != 0) p.terms[static_cast<uint32_t>(t)] -= ra.rhs;
    return p;
  }

  // V_p[c] V_q[d] - V_p[d] V_q[c] for vector blocks p, q (dz variables each).
  Poly minor(size_t p, size_t q, size_t c, size_t d) const {
    const size_t dz = ctx_.dz;
    Poly out;
    out.terms[quad(p * dz + c, q * dz + d)] += 1;
    out.terms[quad(p * dz + d, q * dz + c)] -= 1;
    return out;
  }

  Poly square(size_t t) const {
    Poly p;
    p.terms[quad(t, t)] = 1;
    return p;
  }

  // tau_b u_b[c] z_j[c] for block b of neuron j.
  Poly aligned(size_t b, size_t c) const {
    const size_t dz = ctx_.dz;
    const auto [j, o] = sc_.blocks[b];
    Poly p;
    p.terms[quad((ctx_.m + b) * dz + c, j * dz + c)] = sc_.sign(j, o);
    return p;
  }

  size_t nv() const { return nv_; }

 private:
  const SearchContext& ctx_;
  const SignCase& sc_;
  const std::vector<LpRow>& rows_;
  size_t nv_;
};

struct Term {
  ProductTermData data;  // without coefficient
  Poly poly;
  bool equality = false;  // multiplier free
};

// Whether y (one entry per column) solves the Farkas system exactly:
// sum_t y_t col_t = -e_last (the constant row gets -1, i.e. the terms'
// constants sum to -1 ... see refute_by_products), y_t >= 0 unless free.
bool verify_farkas(const std::vector<std::vector<std::pair<int, const mpq_class*>>>& cols,
                   const std::vector<bool>& free_var, int num_rows, const std::vector<mpq_class>& y) {
  std::vector<mpq_class> sum(num_rows);
  for (size_t t = 0; t < cols.size(); ++t) {
    if (sgn(y[t]) == 0) continue;
    if (!free_var[t] && sgn(y[t]) < 0) return false;
    for (const auto& [r, v] : cols[t]) sum[r] += y[t] * *v;
  }
  for (int r = 0; r + 1 < num_rows; ++r)
    if (sgn(sum[r]) != 0) return false;
  return sum[num_rows - 1] == -1;
}

// Exact y on the basis GLPK ended with: the basic columns solve the rows
// whose auxiliary variable is not basic; every other y_t is 0.
std::optional<std::vector<mpq_class>> exact_on_basis(
    glp_prob* lp, const std::vector<std::vector<std::pair<int, const mpq_class*>>>& cols,
    const std::vector<bool>& free_var, int num_rows) {
  std::vector<int> basic_cols, tight_rows(num_rows, -1);
  int n_tight = 0;
  for (int r = 0; r < num_rows; ++r)
    if (glp_get_row_stat(lp, r + 1) != GLP_BS) tight_rows[r] = n_tight++;
  for (size_t t = 0; t < cols.size(); ++t)
    if (glp_get_col_stat(lp, static_cast<int>(t) + 1) == GLP_BS) basic_cols.push_back(static_cast<int>(t));
  if (n_tight == 0 || static_cast<int>(basic_cols.size()) != n_tight) return std::nullopt;
  fmpq_mat_t a, x, b;
  fmpq_mat_init(a, n_tight, n_tight);
  fmpq_mat_init(x, n_tight, 1);
  fmpq_mat_init(b, n_tight, 1);
  for (int c = 0; c < n_tight; ++c)
    for (const auto& [r, v] : cols[basic_cols[c]])
      if (tight_rows[r] >= 0) fmpq_set_mpq(fmpq_mat_entry(a, tight_rows[r], c), v->get_mpq_t());
  if (tight_rows[num_rows - 1] >= 0) fmpq_set_si(fmpq_mat_entry(b, tight_rows[num_rows - 1], 0), -1, 1);
  std::optional<std::vector<mpq_class>> out;
  if (fmpq_mat_solve(x, a, b)) {
    std::vector<mpq_class> y(cols.size());
    for (int c = 0; c < n_tight; ++c) fmpq_get_mpq(y[basic_cols[c]].get_mpq_t(), fmpq_mat_entry(x, c, 0));
    if (verify_farkas(cols, free_var, num_rows, y)) out = std::move(y);
  }
  fmpq_mat_clear(a);
  fmpq_mat_clear(x);
  fmpq_mat_clear(b);
  return out;
}

// Solves the Farkas system with GLPK (double precision, then its exact
// rational simplex from that basis if the basis does not give an exact
// solution) and rebuilds y exactly from the final basis. Floats only pick
// the basis: every returned y has been verified exactly.
std::optional<std::vector<mpq_class>> solve_farkas_system(
    const std::vector<std::vector<std::pair<int, const mpq_class*>>>& cols,
    const std::vector<bool>& free_var, int num_rows) {
  glp_term_out(GLP_OFF);
  glp_prob* lp = glp_create_prob();
  glp_add_rows(lp, num_rows);
  for (int r = 1; r <= num_rows; ++r)
    glp_set_row_bnds(lp, r, GLP_FX, r == num_rows ? -1.0 : 0.0, r == num_rows ? -1.0 : 0.0);
  glp_add_cols(lp, static_cast<int>(cols.size()));
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  for (size_t t = 0; t < cols.size(); ++t) {
    const int j = static_cast<int>(t) + 1;
    glp_set_col_bnds(lp, j, free_var[t] ? GLP_FR : GLP_LO, 0.0, 0.0);
    for (const auto& [r, v] : cols[t]) {
      ia.push_back(r + 1);
      ja.push_back(j);
      ar.push_back(v->get_d());
    }
  }
  glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_scale_prob(lp, GLP_SF_AUTO);
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.tm_lim = 5000;
  std::optional<std::vector<mpq_class>> y;
  if (glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT) {
    y = exact_on_basis(lp, cols, free_var, num_rows);
    if (!y && glp_exact(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT)
      y = exact_on_basis(lp, cols, free_var, num_rows);
  }
  glp_delete_prob(lp);
  return y;
}

}  // namespace

std::optional<std::vector<ProductTermData>> refute_by_products(const SearchContext& ctx,
                                                               const SignCase& sc,
                                                               const std::vector<LpRow>& rows,
                                                               const ProductFamilies& families) {
  if (sc.blocks.empty() || rows.empty()) return std::nullopt;
  Builder build(ctx, sc, rows);
  const size_t nv = build.nv(), dz = ctx.dz, m = ctx.m;
  const size_t per_sample = sc.rows_per_sample();
  std::vector<size_t> eq_rows, ineq_rows;
  for (size_t r = 0; r < rows.size(); ++r)
    (rows[r].sense == RowSense::kEqual ? eq_rows : ineq_rows).push_back(r);
  // Inequality rows that enter the pairwise products.
  std::vector<size_t> product_rows;
  const size_t first_recent =
      families.recent_rows == 0 || rows.size() <= families.recent_rows * per_sample
          ? 0
          : rows.size() - families.recent_rows * per_sample;
  for (size_t r : ineq_rows)
    if (r >= first_recent) product_rows.push_back(r);

  size_t count = rows.size();
  if (families.row_products) count += product_rows.size() * (product_rows.size() + 1) / 2;
  if (families.row_times_variable) count += eq_rows.size() * nv;
  if (count > families.max_terms) return std::nullopt;

  std::vector<Term> terms;
  terms.reserve(count + 64);
  auto add = [&](ProductKind kind, uint32_t a, uint32_t b, uint32_t c, uint32_t d, Poly poly,
                 bool equality) {
    Term t;
    t.data.kind = kind;
    t.data.a = a;
    t.data.b = b;
    t.data.c = c;
    t.data.d = d;
    t.poly = std::move(poly);
    t.equality = equality;
    terms.push_back(std::move(t));
  };
  for (size_t r = 0; r < rows.size(); ++r)
    add(ProductKind::kRow, r, 0, 0, 0, build.row(r), rows[r].sense == RowSense::kEqual);
  if (families.row_products)
    for (size_t x = 0; x < product_rows.size(); ++x)
      for (size_t y = x; y < product_rows.size(); ++y)
        add(ProductKind::kRowProduct, product_rows[x], product_rows[y], 0, 0,
            build.product(product_rows[x], product_rows[y]), false);
  if (families.row_times_variable)
    for (size_t r : eq_rows)
      for (size_t t = 0; t < nv; ++t)
        add(ProductKind::kRowTimesVariable, r, t, 0, 0, build.times_variable(r, t), true);
  if (families.minors) {
    // Vector blocks of each neuron: z_j, then its u blocks.
    for (uint32_t j = 0; j < m; ++j) {
      std::vector<size_t> vecs{j};
      for (size_t b = 0; b < sc.blocks.size(); ++b)
        if (sc.blocks[b].first == j) vecs.push_back(m + b);
      for (size_t x = 0; x < vecs.size(); ++x)
        for (size_t y = x + 1; y < vecs.size(); ++y)
          for (size_t c = 0; c < dz; ++c)
            for (size_t d = c + 1; d < dz; ++d)
              add(ProductKind::kMinor, vecs[x], vecs[y], c, d, build.minor(vecs[x], vecs[y], c, d), true);
    }
  }
  if (families.squares)
    for (size_t t = 0; t < nv; ++t) add(ProductKind::kSquare, t, 0, 0, 0, build.square(t), false);
  if (families.aligned)
    for (size_t b = 0; b < sc.blocks.size(); ++b)
      for (size_t c = 0; c < dz; ++c) add(ProductKind::kAligned, b, c, 0, 0, build.aligned(b, c), false);

  // The lifted LP's Farkas system: one unknown y_t per term (free for the
  // = 0 kinds, >= 0 otherwise); for every monomial of degree 1 or 2 the
  // y-weighted sum of the terms' coefficients is 0, and the y-weighted sum
  // of their constants is -1, so sum_t y_t P_t is identically -1.
  std::unordered_map<uint32_t, int> row_of;  // monomial -> row (0-based)
  for (const Term& t : terms)
    for (const auto& [mono, coef] : t.poly.terms)
      if (sgn(coef) != 0) row_of.emplace(mono, static_cast<int>(row_of.size()));
  const int num_rows = static_cast<int>(row_of.size()) + 1;  // + the constant's row
  std::vector<std::vector<std::pair<int, const mpq_class*>>> cols(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    for (const auto& [mono, coef] : terms[i].poly.terms)
      if (sgn(coef) != 0) cols[i].emplace_back(row_of.at(mono), &coef);
    if (sgn(terms[i].poly.constant) != 0) cols[i].emplace_back(num_rows - 1, &terms[i].poly.constant);
  }
  std::vector<bool> free_var(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) free_var[i] = terms[i].equality;
  auto y = solve_farkas_system(cols, free_var, num_rows);
  if (!y) return std::nullopt;
  std::vector<ProductTermData> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (sgn((*y)[i]) == 0) continue;
    ProductTermData d = terms[i].data;
    d.coefficient = rational_to_string((*y)[i]);
    out.push_back(std::move(d));
  }
  return out;
}

void note_products(const std::vector<ProductTermData>& terms, ProductStats* stats) {
  ++stats->refuted;
  for (const auto& t : terms) ++stats->terms_by_kind[static_cast<size_t>(t.kind)];
  stats->largest = std::max(stats->largest, terms.size());
}

}  // namespace relufit
