#include "algebra/products.h"

#include <flint/fmpq.h>
#include <flint/fmpq_mat.h>
#include <glpk.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "algebra/number.h"

namespace relufit {
namespace {

// An affine function of the free variables w of the node's equality rows:
// lin . w + c.
template <class T>
struct Affine {
  std::vector<T> lin;
  T c{};
};

// The node's equality rows solved for their pivot variables (reduced row
// echelon form, exact): every variable v_i as an affine function of the
// free variables. Empty when the equality rows are inconsistent.
struct Substitution {
  std::vector<size_t> free_vars;           // variable index of each w
  std::vector<Affine<mpq_class>> of_var;   // v_i in terms of w
  bool consistent = true;
};

Substitution solve_equalities(const std::vector<LpRow>& rows, size_t nv) {
  std::vector<std::vector<mpq_class>> a;  // [coeffs | rhs]
  for (const LpRow& r : rows) {
    if (r.sense != RowSense::kEqual) continue;
    std::vector<mpq_class> row(r.coeffs);
    row.push_back(r.rhs);
    a.push_back(std::move(row));
  }
  const std::vector<size_t> pivots = reduce_rows(&a, nv);
  const size_t rank = pivots.size();
  std::vector<long> pivot_row_of(nv, -1);
  for (size_t r = 0; r < rank; ++r) pivot_row_of[pivots[r]] = static_cast<long>(r);
  Substitution s;
  for (size_t i = rank; i < a.size(); ++i)
    if (sgn(a[i][nv]) != 0) s.consistent = false;
  std::vector<long> w_of(nv, -1);
  for (size_t col = 0; col < nv; ++col)
    if (pivot_row_of[col] < 0) {
      w_of[col] = static_cast<long>(s.free_vars.size());
      s.free_vars.push_back(col);
    }
  const size_t nw = s.free_vars.size();
  s.of_var.resize(nv);
  for (size_t col = 0; col < nv; ++col) {
    Affine<mpq_class>& f = s.of_var[col];
    f.lin.assign(nw, mpq_class(0));
    if (pivot_row_of[col] < 0) {
      f.lin[w_of[col]] = 1;
      continue;
    }
    const auto& row = a[pivot_row_of[col]];
    f.c = row[nv];
    for (size_t w = 0; w < nw; ++w) f.lin[w] = -row[s.free_vars[w]];
  }
  return s;
}

// Dense polynomials of degree <= 2 in nw variables: index 0 is the constant,
// 1 + i is w_i, 1 + nw + (j (j + 1) / 2 + i) is w_i w_j (i <= j).
size_t poly_size(size_t nw) { return 1 + nw + nw * (nw + 1) / 2; }

template <class T>
void add_product(const Affine<T>& f, const Affine<T>& g, const T& scale, std::vector<T>* out) {
  const size_t nw = f.lin.size();
  auto& p = *out;
  p[0] += scale * f.c * g.c;
  for (size_t i = 0; i < nw; ++i) {
    if (f.lin[i] != T(0)) p[1 + i] += scale * f.lin[i] * g.c;
    if (g.lin[i] != T(0)) p[1 + i] += scale * g.lin[i] * f.c;
  }
  for (size_t i = 0; i < nw; ++i) {
    if (f.lin[i] == T(0)) continue;
    for (size_t j = 0; j < nw; ++j) {
      if (g.lin[j] == T(0)) continue;
      const size_t lo = std::min(i, j), hi = std::max(i, j);
      p[1 + nw + hi * (hi + 1) / 2 + lo] += scale * f.lin[i] * g.lin[j];
    }
  }
}

template <class T>
void add_affine(const Affine<T>& f, const T& scale, std::vector<T>* out) {
  auto& p = *out;
  p[0] += scale * f.c;
  for (size_t i = 0; i < f.lin.size(); ++i)
    if (f.lin[i] != T(0)) p[1 + i] += scale * f.lin[i];
}

// The terms of one node in both precisions: the affine forms of the
// inequality rows and of the variables, in w.
template <class T>
struct Forms {
  std::vector<Affine<T>> row;  // per node row (equality rows unused)
  std::vector<Affine<T>> var;  // per variable
};

Affine<mpq_class> row_in_w(const LpRow& r, const Substitution& s) {
  Affine<mpq_class> f;
  f.lin.assign(s.free_vars.size(), mpq_class(0));
  f.c = -r.rhs;
  for (size_t i = 0; i < r.coeffs.size(); ++i) {
    if (sgn(r.coeffs[i]) == 0) continue;
    const Affine<mpq_class>& v = s.of_var[i];
    f.c += r.coeffs[i] * v.c;
    for (size_t w = 0; w < f.lin.size(); ++w)
      if (sgn(v.lin[w]) != 0) f.lin[w] += r.coeffs[i] * v.lin[w];
  }
  return f;
}

Affine<double> to_double(const Affine<mpq_class>& f) {
  Affine<double> d;
  d.c = f.c.get_d();
  d.lin.reserve(f.lin.size());
  for (const auto& v : f.lin) d.lin.push_back(v.get_d());
  return d;
}

// A term is a ProductTermData without its coefficient. Minors are = 0 at
// every fit, so their coefficient may have either sign; the rest are >= 0.
using Term = ProductTermData;
bool free_sign(const Term& t) { return t.kind == ProductKind::kMinor; }
Term term(ProductKind kind, uint32_t a, uint32_t b = 0, uint32_t c = 0, uint32_t d = 0) {
  Term t;
  t.kind = kind;
  t.a = a;
  t.b = b;
  t.c = c;
  t.d = d;
  return t;
}

// The polynomial of term t in w (exact or double).
template <class T>
std::vector<T> term_poly(const Term& t, const Forms<T>& f, const SearchContext& ctx,
                         const SignCase& sc, size_t nw) {
  std::vector<T> p(poly_size(nw), T(0));
  const T one(1);
  const size_t dz = ctx.dz;
  switch (t.kind) {
    case ProductKind::kRow:
      add_affine(f.row[t.a], one, &p);
      break;
    case ProductKind::kRowProduct:
      add_product(f.row[t.a], f.row[t.b], one, &p);
      break;
    case ProductKind::kMinor:
      add_product(f.var[t.a * dz + t.c], f.var[t.b * dz + t.d], one, &p);
      add_product(f.var[t.a * dz + t.d], f.var[t.b * dz + t.c], T(-1), &p);
      break;
    case ProductKind::kSquare:
      add_product(f.var[t.a], f.var[t.a], one, &p);
      break;
    case ProductKind::kAligned: {
      const auto [j, o] = sc.blocks[t.a];
      add_product(f.var[(ctx.m + t.a) * dz + t.b], f.var[j * dz + t.b], T(sc.sign(j, o)), &p);
      break;
    }
    default:
      break;
  }
  return p;
}

// Exact multipliers on the basis GLPK ended with: the basic columns solve
// the rows whose auxiliary variable is not basic; every other y_t is 0.
// Verified against the exact polynomials before it is returned.
std::optional<std::vector<mpq_class>> exact_on_basis(glp_prob* lp, const std::vector<Term>& terms,
                                                     const Forms<mpq_class>& forms,
                                                     const SearchContext& ctx, const SignCase& sc,
                                                     size_t nw) {
  const int num_rows = static_cast<int>(poly_size(nw));
  std::vector<int> tight(num_rows, -1);
  int n_tight = 0;
  for (int r = 0; r < num_rows; ++r)
    if (glp_get_row_stat(lp, r + 1) != GLP_BS) tight[r] = n_tight++;
  std::vector<int> basic;
  for (size_t t = 0; t < terms.size(); ++t)
    if (glp_get_col_stat(lp, static_cast<int>(t) + 1) == GLP_BS) basic.push_back(static_cast<int>(t));
  if (n_tight == 0 || static_cast<int>(basic.size()) != n_tight) return std::nullopt;
  std::vector<std::vector<mpq_class>> polys;
  polys.reserve(basic.size());
  for (int t : basic) polys.push_back(term_poly(terms[t], forms, ctx, sc, nw));
  fmpq_mat_t a, x, b;
  fmpq_mat_init(a, n_tight, n_tight);
  fmpq_mat_init(x, n_tight, 1);
  fmpq_mat_init(b, n_tight, 1);
  for (int c = 0; c < n_tight; ++c)
    for (int r = 0; r < num_rows; ++r)
      if (tight[r] >= 0 && sgn(polys[c][r]) != 0)
        fmpq_set_mpq(fmpq_mat_entry(a, tight[r], c), polys[c][r].get_mpq_t());
  if (tight[0] >= 0) fmpq_set_si(fmpq_mat_entry(b, tight[0], 0), -1, 1);
  std::optional<std::vector<mpq_class>> out;
  if (fmpq_mat_solve(x, a, b)) {
    std::vector<mpq_class> y(terms.size());
    std::vector<mpq_class> sum(num_rows);
    bool ok = true;
    for (int c = 0; c < n_tight && ok; ++c) {
      mpq_class& v = y[basic[c]];
      fmpq_get_mpq(v.get_mpq_t(), fmpq_mat_entry(x, c, 0));
      if (sgn(v) == 0) continue;
      if (!free_sign(terms[basic[c]]) && sgn(v) < 0) ok = false;
      for (int r = 0; r < num_rows; ++r)
        if (sgn(polys[c][r]) != 0) sum[r] += v * polys[c][r];
    }
    for (int r = 1; r < num_rows && ok; ++r) ok = sgn(sum[r]) == 0;
    if (ok && sum[0] == -1) out = std::move(y);
  }
  fmpq_mat_clear(a);
  fmpq_mat_clear(x);
  fmpq_mat_clear(b);
  return out;
}

}  // namespace

std::optional<std::vector<ProductTermData>> refute_by_products(const SearchContext& ctx,
                                                               const SignCase& sc,
                                                               const std::vector<LpRow>& rows,
                                                               const ProductFamilies& families) {
  if (sc.blocks.empty() || rows.empty() || lp_stop_requested()) return std::nullopt;
  const size_t nv = ctx.num_vars(sc), dz = ctx.dz, m = ctx.m;
  const Substitution sub = solve_equalities(rows, nv);
  if (!sub.consistent) return std::nullopt;  // the node LP's own Farkas vector proves that
  const size_t nw = sub.free_vars.size();

  // The terms (equality rows are implicit: everything is read on their
  // solution set, parametrised by w).
  std::vector<size_t> ineq;
  for (size_t r = 0; r < rows.size(); ++r)
    if (rows[r].sense != RowSense::kEqual) ineq.push_back(r);
  const size_t per_sample = sc.rows_per_sample();
  const size_t first_recent =
      families.recent_rows == 0 || rows.size() <= families.recent_rows * per_sample
          ? 0
          : rows.size() - families.recent_rows * per_sample;
  std::vector<Term> terms;
  for (size_t r : ineq) terms.push_back(term(ProductKind::kRow, static_cast<uint32_t>(r)));
  if (families.row_products)
    for (size_t x = 0; x < ineq.size(); ++x)
      for (size_t y = x; y < ineq.size(); ++y)
        if (ineq[y] >= first_recent)
          terms.push_back(term(ProductKind::kRowProduct, static_cast<uint32_t>(ineq[x]),
                           static_cast<uint32_t>(ineq[y])));
  if (families.minors)
    for (uint32_t j = 0; j < m; ++j) {
      std::vector<uint32_t> vecs{j};
      for (size_t b = 0; b < sc.blocks.size(); ++b)
        if (sc.blocks[b].first == j) vecs.push_back(static_cast<uint32_t>(m + b));
      for (size_t x = 0; x < vecs.size(); ++x)
        for (size_t y = x + 1; y < vecs.size(); ++y)
          for (uint32_t c = 0; c < dz; ++c)
            for (uint32_t d = c + 1; d < dz; ++d) {
              terms.push_back(term(ProductKind::kMinor, vecs[x], vecs[y], c, d));
            }
    }
  if (families.squares)
    for (size_t v = 0; v < nv; ++v) terms.push_back(term(ProductKind::kSquare, static_cast<uint32_t>(v)));
  if (families.aligned)
    for (size_t b = 0; b < sc.blocks.size(); ++b)
      for (uint32_t c = 0; c < dz; ++c)
        terms.push_back(term(ProductKind::kAligned, static_cast<uint32_t>(b), c));
  if (terms.size() > families.max_terms) return std::nullopt;

  Forms<mpq_class> exact;
  exact.row.resize(rows.size());
  for (size_t r : ineq) exact.row[r] = row_in_w(rows[r], sub);
  exact.var = sub.of_var;
  Forms<double> approx;
  approx.row.resize(rows.size());
  for (size_t r : ineq) approx.row[r] = to_double(exact.row[r]);
  for (const auto& v : exact.var) approx.var.push_back(to_double(v));

  // The Farkas system of the lifted LP: one unknown y_t per term (free for
  // minors, >= 0 otherwise); sum_t y_t P_t(w) = -1 as polynomials: every
  // monomial's row is 0, the constant's row is -1. GLPK solves it in double
  // precision; the multipliers are then rebuilt exactly from its basis.
  const int num_rows = static_cast<int>(poly_size(nw));
  glp_term_out(GLP_OFF);
  glp_prob* lp = glp_create_prob();
  glp_add_rows(lp, num_rows);
  for (int r = 1; r <= num_rows; ++r) {
    const double rhs = r == 1 ? -1.0 : 0.0;
    glp_set_row_bnds(lp, r, GLP_FX, rhs, rhs);
  }
  glp_add_cols(lp, static_cast<int>(terms.size()));
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  for (size_t t = 0; t < terms.size(); ++t) {
    const int j = static_cast<int>(t) + 1;
    glp_set_col_bnds(lp, j, free_sign(terms[t]) ? GLP_FR : GLP_LO, 0.0, 0.0);
    const std::vector<double> p = term_poly(terms[t], approx, ctx, sc, nw);
    double scale = 0;
    for (double v : p) scale = std::max(scale, std::fabs(v));
    for (int r = 0; r < num_rows; ++r)
      if (std::fabs(p[r]) > 1e-12 * scale) {
        ia.push_back(r + 1);
        ja.push_back(j);
        ar.push_back(p[r]);
      }
  }
  glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  // One equilibration pass: the entries are products of small data, and
  // GLP_SF_AUTO's iterated geometric scaling cost a third of the call.
  glp_scale_prob(lp, GLP_SF_EQ);
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  // At most 2 s, and never past the solve's deadline (the thread's LpStop).
  parm.tm_lim = 2000;
  const auto deadline = lp_stop_deadline();
  if (deadline != std::chrono::steady_clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()).count();
    parm.tm_lim = static_cast<int>(std::max<long long>(1, std::min<long long>(parm.tm_lim, left)));
  }
  std::optional<std::vector<mpq_class>> y;
  if (glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT) {
    y = exact_on_basis(lp, terms, exact, ctx, sc, nw);
    if (!y && glp_exact(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT)
      y = exact_on_basis(lp, terms, exact, ctx, sc, nw);
  }
  glp_delete_prob(lp);
  // GLPK keeps an environment per thread; freeing it here keeps a pool
  // thread from holding it (and leak checkers quiet) at a cost of
  // microseconds against the milliseconds of the solve.
  glp_free_env();
  if (!y) return std::nullopt;
  std::vector<ProductTermData> out;
  for (size_t t = 0; t < terms.size(); ++t) {
    if (sgn((*y)[t]) == 0) continue;
    ProductTermData d = terms[t];
    d.coefficient = rational_to_string((*y)[t]);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace relufit
