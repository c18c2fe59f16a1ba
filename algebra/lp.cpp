#include "algebra/lp.h"

#include <cmath>
#include <optional>
#include <stdexcept>

#include "algebra/number.h"

namespace relufit {
namespace {

thread_local const LpStop* current_stop = nullptr;

// Throws LpStopped when the thread's LpStop says so; `pivot` counts pivots.
void poll_stop(size_t pivot) {
  const LpStop* s = current_stop;
  if (!s) return;
  if (s->abort && s->abort->load(std::memory_order_relaxed)) throw LpStopped("stopped");
  if (std::chrono::steady_clock::now() >= s->deadline) throw LpStopped("time limit");
  if ((pivot & 15) == 0 && s->cancelled && s->cancelled()) throw LpStopped("cancelled");
}

// Structural column of the Farkas system: LP row `row` with sign `sign`
// (equality rows get both signs, since their multiplier is free).
struct Column {
  size_t row;
  int sign;
};

template <class T>
struct Arith;
template <>
struct Arith<double> {
  static bool positive(double v) { return v > 1e-9; }
  static bool negative(double v) { return v < -1e-9; }
  static double from(const mpq_class& q) { return q.get_d(); }
};
template <>
struct Arith<mpq_class> {
  static bool positive(const mpq_class& v) { return sgn(v) > 0; }
  static bool negative(const mpq_class& v) { return sgn(v) < 0; }
  static const mpq_class& from(const mpq_class& q) { return q; }
};

// Phase 1 simplex (Bland's rule) on {sum_c col_c nu_c = e_N, nu >= 0}.
// Returns the final basis (column indices, artificials numbered from
// columns.size()) and whether the optimum is zero, or nullopt past the
// iteration cap. With `polled`, the thread's LpStop is polled at every pivot
// (it throws LpStopped).
template <class T>
struct Phase1Outcome {
  std::vector<size_t> basis;
  bool optimum_zero = false;
  std::vector<T> rhs;     // basic values
  std::vector<T> duals;   // simplex multipliers y (size N + 1)
};

template <class T>
std::optional<Phase1Outcome<T>> run_phase1(const std::vector<LpRow>& rows, size_t num_vars,
                                           const std::vector<Column>& columns,
                                           size_t max_iterations, bool polled = false) {
  using A = Arith<T>;
  const size_t m = num_vars + 1;  // constraint rows of the Farkas system
  const size_t c = columns.size();
  const size_t width = c + m + 1;  // structural, artificial, rhs
  std::vector<T> tab(m * width, T(0));
  std::vector<T> obj(width, T(0));
  auto at = [&](size_t i, size_t j) -> T& { return tab[i * width + j]; };
  for (size_t j = 0; j < c; ++j) {
    const LpRow& r = rows[columns[j].row];
    for (size_t i = 0; i < num_vars; ++i)
      if (sgn(r.coeffs[i]) != 0) at(i, j) = A::from(r.coeffs[i]) * T(columns[j].sign);
    if (sgn(r.rhs) != 0) at(num_vars, j) = A::from(r.rhs) * T(columns[j].sign);
  }
  for (size_t i = 0; i < m; ++i) at(i, c + i) = T(1);
  at(num_vars, width - 1) = T(1);
  for (size_t j = 0; j < c; ++j) {
    T s(0);
    for (size_t i = 0; i < m; ++i) s += at(i, j);
    obj[j] = -s;
  }
  obj[width - 1] = T(-1);
  std::vector<size_t> basis(m);
  for (size_t i = 0; i < m; ++i) basis[i] = c + i;

  for (size_t iter = 0;; ++iter) {
    if (iter > max_iterations) return std::nullopt;
    if (polled) poll_stop(iter);
    size_t enter = width;
    for (size_t j = 0; j + 1 < width; ++j)
      if (A::negative(obj[j])) {
        enter = j;
        break;
      }
    if (enter == width) break;
    size_t leave = m;
    T best(0);
    for (size_t i = 0; i < m; ++i) {
      if (!A::positive(at(i, enter))) continue;
      T ratio = at(i, width - 1) / at(i, enter);
      if (leave == m || ratio < best || (!(best < ratio) && basis[i] < basis[leave])) {
        leave = i;
        best = ratio;
      }
    }
    if (leave == m) return std::nullopt;  // unbounded cannot happen in phase 1
    T piv = at(leave, enter);
    for (size_t j = 0; j < width; ++j)
      if (at(leave, j) != T(0)) at(leave, j) /= piv;
    for (size_t i = 0; i < m; ++i) {
      if (i == leave) continue;
      T f = at(i, enter);
      if (f == T(0)) continue;
      for (size_t j = 0; j < width; ++j)
        if (at(leave, j) != T(0)) at(i, j) -= f * at(leave, j);
    }
    T f = obj[enter];
    for (size_t j = 0; j < width; ++j)
      if (at(leave, j) != T(0)) obj[j] -= f * at(leave, j);
    basis[leave] = enter;
  }
  Phase1Outcome<T> out;
  out.basis = basis;
  out.optimum_zero = !A::positive(-obj[width - 1]);
  out.rhs.resize(m);
  for (size_t i = 0; i < m; ++i) out.rhs[i] = at(i, width - 1);
  out.duals.resize(m);
  for (size_t i = 0; i < m; ++i) out.duals[i] = T(1) - obj[c + i];
  return out;
}

std::vector<Column> farkas_columns(const std::vector<LpRow>& rows) {
  std::vector<Column> columns;
  for (size_t r = 0; r < rows.size(); ++r) {
    columns.push_back({r, 1});
    if (rows[r].sense == RowSense::kEqual) columns.push_back({r, -1});
  }
  return columns;
}

// Solves M v = b exactly for square integer M (row-major) by fraction-free
// Gauss-Jordan elimination (every intermediate entry is a minor of [M | b],
// so all divisions are exact and the numbers stay small); nullopt when
// singular.
std::optional<std::vector<mpq_class>> solve_square_integer(std::vector<mpz_class> mat,
                                                           const std::vector<mpz_class>& b) {
  const size_t n = b.size(), w = n + 1;
  std::vector<mpz_class> aug(n * w);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) aug[i * w + j].swap(mat[i * n + j]);
    aug[i * w + n] = b[i];
  }
  mpz_class prev = 1, t;
  for (size_t k = 0; k < n; ++k) {
    size_t p = k;
    while (p < n && sgn(aug[p * w + k]) == 0) ++p;
    if (p == n) return std::nullopt;
    if (p != k)
      for (size_t j = 0; j < w; ++j) aug[p * w + j].swap(aug[k * w + j]);
    for (size_t i = 0; i < n; ++i) {
      if (i == k) continue;
      mpz_srcptr akk = aug[k * w + k].get_mpz_t(), aik = aug[i * w + k].get_mpz_t();
      for (size_t j = 0; j < w; ++j) {
        if (j == k) continue;
        mpz_ptr aij = aug[i * w + j].get_mpz_t();
        mpz_mul(t.get_mpz_t(), aik, aug[k * w + j].get_mpz_t());
        mpz_mul(aij, aij, akk);
        mpz_sub(aij, aij, t.get_mpz_t());
        mpz_divexact(aij, aij, prev.get_mpz_t());
      }
    }
    for (size_t i = 0; i < n; ++i)
      if (i != k) aug[i * w + k] = 0;
    prev = aug[k * w + k];
  }
  std::vector<mpq_class> x(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = mpq_class(aug[i * w + n], aug[i * w + i]);
    x[i].canonicalize();
  }
  return x;
}

// Column of the Farkas system (structural or artificial) as an exact vector.
mpq_class column_entry(const std::vector<LpRow>& rows, const std::vector<Column>& columns,
                       size_t num_vars, size_t col, size_t i) {
  if (col >= columns.size()) return mpq_class(col - columns.size() == i ? 1 : 0);
  const LpRow& r = rows[columns[col].row];
  const mpq_class& v = i < num_vars ? r.coeffs[i] : r.rhs;
  return columns[col].sign > 0 ? v : mpq_class(-v);
}

std::vector<mpq_class> point_from_duals(const std::vector<mpq_class>& y, size_t num_vars) {
  std::vector<mpq_class> x(num_vars);
  for (size_t i = 0; i < num_vars; ++i) x[i] = -y[i] / y[num_vars];
  return x;
}

// The multipliers of the LP rows from a Farkas-system basis and its values
// (exact, or in double precision before rounding).
template <class T>
std::vector<T> farkas_from_basis(const std::vector<Column>& columns, size_t num_rows,
                                 const std::vector<size_t>& basis, const std::vector<T>& values) {
  std::vector<T> farkas(num_rows, T(0));
  for (size_t i = 0; i < basis.size(); ++i)
    if (basis[i] < columns.size())
      farkas[columns[basis[i]].row] += values[i] * columns[basis[i]].sign;
  return farkas;
}

// Rebuilds the exact answer from a basis found in double precision. Each
// basis column is scaled to integers (by the lcm of its denominators, s_k),
// so B = B' S^-1 and B nu = q becomes B' (nu / s) = q, while B^T y = c_B
// becomes B'^T y = S c_B.
std::optional<LpResult> exact_from_basis(const std::vector<LpRow>& rows, size_t num_vars,
                                         const std::vector<Column>& columns,
                                         const std::vector<size_t>& basis, bool optimum_zero) {
  const size_t m = num_vars + 1;
  std::vector<mpz_class> bmat(m * m), scale(m);
  for (size_t k = 0; k < m; ++k) {
    mpz_class lcm = 1;
    std::vector<mpq_class> col(m);
    for (size_t i = 0; i < m; ++i) {
      col[i] = column_entry(rows, columns, num_vars, basis[k], i);
      mpz_lcm(lcm.get_mpz_t(), lcm.get_mpz_t(), col[i].get_den_mpz_t());
    }
    scale[k] = lcm;
    for (size_t i = 0; i < m; ++i) bmat[i * m + k] = col[i].get_num() * (lcm / col[i].get_den());
  }
  LpResult result;
  if (optimum_zero) {
    std::vector<mpz_class> q(m);
    q[num_vars] = 1;
    auto values = solve_square_integer(bmat, q);
    if (!values) return std::nullopt;
    for (size_t k = 0; k < m; ++k) (*values)[k] *= scale[k];
    result.feasible = false;
    result.farkas = farkas_from_basis(columns, rows.size(), basis, *values);
    if (!farkas_proves_infeasible(rows, num_vars, result.farkas)) return std::nullopt;
    return result;
  }
  // Duals: B'^T y = S c_B (cost 1 on artificials, whose scale is 1).
  std::vector<mpz_class> bt(m * m), cb(m);
  for (size_t i = 0; i < m; ++i)
    for (size_t k = 0; k < m; ++k) bt[k * m + i] = bmat[i * m + k];
  for (size_t k = 0; k < m; ++k) cb[k] = basis[k] >= columns.size() ? 1 : 0;
  auto y = solve_square_integer(bt, cb);
  if (!y || sgn((*y)[num_vars]) <= 0) return std::nullopt;
  result.feasible = true;
  result.point = point_from_duals(*y, num_vars);
  if (!point_satisfies(rows, result.point)) return std::nullopt;
  return result;
}

// The double-precision answer rounded to simple fractions (a vertex of data
// with small integers usually has small denominators), when the rounded
// Farkas vector or point passes the exact check; saves the exact rebuild.
std::optional<LpResult> rounded_answer(const std::vector<LpRow>& rows, size_t num_vars,
                                       const std::vector<Column>& columns,
                                       const Phase1Outcome<double>& guess) {
  auto round = [](double v) { return rational_near(v, 1e-9 * (1 + std::fabs(v))); };
  LpResult result;
  if (guess.optimum_zero) {
    const std::vector<double> farkas = farkas_from_basis(columns, rows.size(), guess.basis, guess.rhs);
    result.feasible = false;
    result.farkas.resize(rows.size());
    for (size_t r = 0; r < rows.size(); ++r)
      if (farkas[r] != 0.0) result.farkas[r] = round(farkas[r]);
    if (!farkas_proves_infeasible(rows, num_vars, result.farkas)) return std::nullopt;
    return result;
  }
  const double yn = guess.duals[num_vars];
  if (!(yn > 1e-9)) return std::nullopt;
  result.feasible = true;
  result.point.resize(num_vars);
  for (size_t i = 0; i < num_vars; ++i) result.point[i] = round(-guess.duals[i] / yn);
  if (!point_satisfies(rows, result.point)) return std::nullopt;
  return result;
}

}  // namespace

LpStopScope::LpStopScope(const LpStop* stop) : previous_(current_stop) { current_stop = stop; }

std::chrono::steady_clock::time_point lp_stop_deadline() {
  return current_stop ? current_stop->deadline : std::chrono::steady_clock::time_point::max();
}

bool lp_stop_requested() {
  const LpStop* s = current_stop;
  return s && ((s->abort && s->abort->load(std::memory_order_relaxed)) ||
               std::chrono::steady_clock::now() >= s->deadline);
}
LpStopScope::~LpStopScope() { current_stop = previous_; }

bool point_satisfies(const std::vector<LpRow>& rows, const std::vector<mpq_class>& point) {
  return point_satisfies(rows.begin(), rows.end(), point);
}

bool point_satisfies(std::vector<LpRow>::const_iterator first, std::vector<LpRow>::const_iterator last,
                     const std::vector<mpq_class>& point) {
  mpq_class s;
  for (auto it = first; it != last; ++it) {
    const LpRow& r = *it;
    s = 0;
    for (size_t i = 0; i < point.size(); ++i)
      if (sgn(r.coeffs[i]) != 0 && sgn(point[i]) != 0) s += r.coeffs[i] * point[i];
    int c = cmp(s, r.rhs);
    if (r.sense == RowSense::kEqual ? c != 0 : c < 0) return false;
  }
  return true;
}

bool farkas_proves_infeasible(const std::vector<LpRow>& rows, size_t num_vars,
                              const std::vector<mpq_class>& farkas) {
  if (farkas.size() != rows.size()) return false;
  std::vector<mpq_class> combo(num_vars);
  mpq_class rhs;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (sgn(farkas[r]) == 0) continue;
    if (rows[r].sense == RowSense::kGreaterEqual && sgn(farkas[r]) < 0) return false;
    for (size_t i = 0; i < num_vars; ++i) combo[i] += farkas[r] * rows[r].coeffs[i];
    rhs += farkas[r] * rows[r].rhs;
  }
  for (const auto& v : combo)
    if (sgn(v) != 0) return false;
  return sgn(rhs) > 0;
}

LpResult solve_lp_feasibility(const std::vector<LpRow>& rows, size_t num_vars,
                              LpCounters* counters) {
  if (counters) ++counters->solved;
  if (rows.empty()) {
    LpResult r;
    r.feasible = true;
    r.point.assign(num_vars, mpq_class(0));
    return r;
  }
  const std::vector<Column> columns = farkas_columns(rows);
  const size_t cap = 50 * (columns.size() + num_vars + 10);
  if (auto guess = run_phase1<double>(rows, num_vars, columns, cap)) {
    if (auto rounded = rounded_answer(rows, num_vars, columns, *guess)) {
      if (counters) ++counters->rounded;
      return *rounded;
    }
    if (auto exact = exact_from_basis(rows, num_vars, columns, guess->basis, guess->optimum_zero)) {
      if (counters) ++counters->guided;
      return *exact;
    }
  }
  if (counters) ++counters->exact_fallback;
  // Bland's rule terminates in exact arithmetic, but may take long: the
  // thread's LpStop is polled at every pivot, and a generous cap stops it.
  const size_t exact_cap = kExactPivotsPerColumn * (columns.size() + num_vars + 1);
  auto out = run_phase1<mpq_class>(rows, num_vars, columns, exact_cap, true);
  if (!out)
    throw LpStopped("exact simplex pivot cap (" + std::to_string(exact_cap) + " pivots on " +
                    std::to_string(rows.size()) + " rows)");
  LpResult result;
  if (out->optimum_zero) {
    result.feasible = false;
    result.farkas = farkas_from_basis(columns, rows.size(), out->basis, out->rhs);
    if (!farkas_proves_infeasible(rows, num_vars, result.farkas))
      throw std::logic_error("exact simplex: Farkas vector failed verification");
  } else {
    result.feasible = true;
    result.point = point_from_duals(out->duals, num_vars);
    if (!point_satisfies(rows, result.point))
      throw std::logic_error("exact simplex: point failed verification");
  }
  return result;
}

}  // namespace relufit
