#include "algebra/algebraic.h"

#include <arb.h>
#include <flint/fmpq.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "algebra/number.h"
#include "algebra/qqbar_bridge.h"

namespace relufit {

// ---- the algebraic step ------------------------------------------------------

namespace {

constexpr slong kPrec = 768;       // working precision of the refinement, bits
constexpr long kAccuracy = 560;    // bits trusted in the refined values
constexpr int kMaxDegree = 8;      // of a guessed minimal polynomial
constexpr int kMaxCoeffBits = 48;  // of its coefficients

// A high-precision real (an arb ball used by its midpoint only: a guide).
class HP {
 public:
  HP() { arb_init(v_); }
  HP(double d) {  // NOLINT: implicit, as double is
    arb_init(v_);
    arb_set_d(v_, d);
  }
  explicit HP(const mpq_class& q) {
    arb_init(v_);
    fmpq_t f;
    fmpq_init(f);
    fmpq_set_mpq(f, q.get_mpq_t());
    arb_set_fmpq(v_, f, kPrec);
    fmpq_clear(f);
  }
  HP(const HP& o) {
    arb_init(v_);
    arb_set(v_, o.v_);
  }
  HP& operator=(const HP& o) {
    arb_set(v_, o.v_);
    return *this;
  }
  ~HP() { arb_clear(v_); }
  HP operator+(const HP& o) const {
    HP r;
    arb_add(r.v_, v_, o.v_, kPrec);
    return r.mid();
  }
  HP operator-(const HP& o) const {
    HP r;
    arb_sub(r.v_, v_, o.v_, kPrec);
    return r.mid();
  }
  HP operator*(const HP& o) const {
    HP r;
    arb_mul(r.v_, v_, o.v_, kPrec);
    return r.mid();
  }
  HP operator/(const HP& o) const {
    HP r;
    arb_div(r.v_, v_, o.v_, kPrec);
    return r.mid();
  }
  HP& operator+=(const HP& o) { return *this = *this + o; }
  HP& operator-=(const HP& o) { return *this = *this - o; }
  double d() const { return arf_get_d(arb_midref(v_), ARF_RND_NEAR); }
  std::string str(long digits) const {
    char* s = arb_get_str(v_, digits, ARB_STR_NO_RADIUS);
    std::string out(s);
    flint_free(s);
    return out;
  }

 private:
  HP mid() {
    mag_zero(arb_radref(v_));
    return *this;
  }
  arb_t v_;
};

double approx(double v) { return v; }
double approx(const HP& v) { return v.d(); }

template <class T>
T cv(const mpq_class& q);
template <>
double cv<double>(const mpq_class& q) {
  return q.get_d();
}
template <>
HP cv<HP>(const mpq_class& q) {
  return HP(q);
}

// The bilinear system of one pattern: unknowns (r blocks | z blocks | c),
// equations: every sample and output, every constraint tight at the guide
// (z_j . x~_i = 0), and every unknown fixed to a rational.
struct Bilinear {
  const PatternSystem& ps;
  size_t B = 0, nz = 0, N = 0;
  std::vector<std::vector<int>> block;  // m x k: block index or -1
  std::vector<std::pair<size_t, uint32_t>> tight;  // (sample, neuron)
  std::vector<std::pair<size_t, mpq_class>> fixed; // (unknown, value)

  explicit Bilinear(const PatternSystem& p) : ps(p) {
    B = ps.blocks.size();
    nz = ps.m * ps.dz + (ps.output_bias ? ps.k : 0);
    N = B + nz;
    block.assign(ps.m, std::vector<int>(ps.k, -1));
    for (size_t b = 0; b < B; ++b) block[ps.blocks[b].first][ps.blocks[b].second] = static_cast<int>(b);
  }
  size_t rows() const { return ps.xt.size() * ps.k + tight.size() + fixed.size(); }

  template <class T>
  T weight(uint32_t j, uint32_t o, const std::vector<T>& x) const {
    if (o == ps.lead[j]) return T(static_cast<double>(ps.tau[j][o]));
    const int b = block[j][o];
    return b < 0 ? T(0.0) : x[static_cast<size_t>(b)];
  }
  template <class T>
  T pre(size_t i, uint32_t j, const std::vector<T>& x) const {
    T v(0.0);
    for (uint32_t t = 0; t < ps.dz; ++t) v += x[B + j * ps.dz + t] * cv<T>(ps.xt[i][t]);
    return v;
  }

  // Residuals F (rows) and Jacobian J (rows x N, row-major).
  template <class T>
  void eval(const std::vector<T>& x, std::vector<T>* F, std::vector<T>* J) const {
    const size_t R = rows();
    F->assign(R, T(0.0));
    J->assign(R * N, T(0.0));
    size_t r = 0;
    for (size_t i = 0; i < ps.xt.size(); ++i)
      for (uint32_t o = 0; o < ps.k; ++o, ++r) {
        T f = T(0.0) - cv<T>(ps.y[i][o]);
        for (uint32_t j = 0; j < ps.m; ++j) {
          if (ps.act[i][j] != '1') continue;
          const T a = weight(j, o, x);
          const T p = pre(i, j, x);
          f += a * p;
          if (block[j][o] >= 0) (*J)[r * N + static_cast<size_t>(block[j][o])] = p;
          for (uint32_t t = 0; t < ps.dz; ++t) (*J)[r * N + B + j * ps.dz + t] = a * cv<T>(ps.xt[i][t]);
        }
        if (ps.output_bias) {
          f += x[B + ps.m * ps.dz + o];
          (*J)[r * N + B + ps.m * ps.dz + o] = T(1.0);
        }
        (*F)[r] = f;
      }
    for (const auto& [i, j] : tight) {
      (*F)[r] = pre(i, j, x);
      for (uint32_t t = 0; t < ps.dz; ++t) (*J)[r * N + B + j * ps.dz + t] = cv<T>(ps.xt[i][t]);
      ++r;
    }
    for (const auto& [v, q] : fixed) {
      (*F)[r] = x[v] - cv<T>(q);
      (*J)[r * N + v] = T(1.0);
      ++r;
    }
  }
};

// Solves the square system A y = b (A n x n row-major) by Gaussian elimination
// with partial pivoting; false when a pivot vanishes.
template <class T>
bool solve_square(std::vector<T> A, std::vector<T>& b, size_t n) {
  for (size_t col = 0; col < n; ++col) {
    size_t p = col;
    for (size_t i = col + 1; i < n; ++i)
      if (std::fabs(approx(A[i * n + col])) > std::fabs(approx(A[p * n + col]))) p = i;
    if (std::fabs(approx(A[p * n + col])) < 1e-280) return false;
    if (p != col) {
      for (size_t j = 0; j < n; ++j) std::swap(A[p * n + j], A[col * n + j]);
      std::swap(b[p], b[col]);
    }
    for (size_t i = col + 1; i < n; ++i) {
      const T f = A[i * n + col] / A[col * n + col];
      for (size_t j = col; j < n; ++j) A[i * n + j] -= f * A[col * n + j];
      b[i] -= f * b[col];
    }
  }
  for (size_t i = n; i-- > 0;) {
    for (size_t j = i + 1; j < n; ++j) b[i] -= A[i * n + j] * b[j];
    b[i] = b[i] / A[i * n + i];
  }
  return true;
}

// Gauss-Newton on the normal equations; returns the final residual norm
// (max abs), or infinity when a step could not be computed.
template <class T>
double gauss_newton(const Bilinear& sys, std::vector<T>* x, int iterations, double target,
                    double damping = 0) {
  std::vector<T> F, J;
  const size_t N = sys.N;
  double res = INFINITY;
  for (int it = 0; it <= iterations; ++it) {
    sys.eval(*x, &F, &J);
    res = 0;
    for (const T& f : F) res = std::max(res, std::fabs(approx(f)));
    if (res <= target || it == iterations) break;
    std::vector<T> A(N * N, T(0.0)), g(N, T(0.0));
    const size_t R = F.size();
    for (size_t r = 0; r < R; ++r)
      for (size_t a = 0; a < N; ++a) {
        if (approx(J[r * N + a]) == 0) continue;
        g[a] += J[r * N + a] * F[r];
        for (size_t c = 0; c < N; ++c)
          if (approx(J[r * N + c]) != 0) A[a * N + c] += J[r * N + a] * J[r * N + c];
      }
    if (damping > 0) {
      double trace = 0;
      for (size_t a = 0; a < N; ++a) trace += std::fabs(approx(A[a * N + a]));
      for (size_t a = 0; a < N; ++a) A[a * N + a] += T(damping * (1 + trace / N));
    }
    if (!solve_square(A, g, N)) return INFINITY;
    for (size_t a = 0; a < N; ++a) (*x)[a] -= g[a];
  }
  return res;
}

// Unknowns that the equations leave locally free at x: a greedy column
// basis of J in the given priority order; the others are free.
std::vector<size_t> free_unknowns(const Bilinear& sys, const std::vector<double>& x,
                                  const std::vector<size_t>& priority) {
  std::vector<double> F, J;
  sys.eval(x, &F, &J);
  const size_t R = F.size(), N = sys.N;
  double scale = 0;
  for (double v : J) scale = std::max(scale, std::fabs(v));
  const double tol = 1e-8 * std::max(1.0, scale);
  std::vector<bool> used(R, false);
  std::vector<size_t> out;
  for (size_t col : priority) {
    size_t p = R;
    double best = tol;
    for (size_t r = 0; r < R; ++r)
      if (!used[r] && std::fabs(J[r * N + col]) > best) {
        best = std::fabs(J[r * N + col]);
        p = r;
      }
    if (p == R) {
      out.push_back(col);
      continue;
    }
    used[p] = true;
    for (size_t r = 0; r < R; ++r) {
      if (r == p || J[r * N + col] == 0) continue;
      const double f = J[r * N + col] / J[p * N + col];
      for (size_t c = 0; c < N; ++c) J[r * N + c] -= f * J[p * N + c];
    }
  }
  return out;
}

std::string block_name(const PatternSystem& ps, size_t b) {
  return "a[" + std::to_string(ps.blocks[b].first) + "][" + std::to_string(ps.blocks[b].second) + "]";
}

// One attempt with a given priority among unknowns for staying determined.
std::optional<AlgebraicFit> attempt(const PatternSystem& ps, std::vector<double> x,
                                    const std::vector<size_t>& priority, std::string* why) {
  Bilinear sys(ps);
  const size_t n = ps.xt.size();
  // Polish the guide on the sample equations alone (damped Gauss-Newton:
  // the guide may come from alternating least squares that stalled).
  if (gauss_newton(sys, &x, 200, 1e-14, 1e-9) > 1e-8) {
    *why = "no float solution of the pattern's equations near the guide";
    return std::nullopt;
  }
  // Constraints tight at the guide become equations; violated ones end it.
  for (size_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < ps.m; ++j) {
      double zmax = 0, xmax = 0;
      for (uint32_t t = 0; t < ps.dz; ++t) {
        zmax = std::max(zmax, std::fabs(x[sys.B + j * ps.dz + t]));
        xmax = std::max(xmax, std::fabs(ps.xt[i][t].get_d()));
      }
      const double v = sys.pre(i, j, x), tol = 1e-6 * std::max(1e-3, zmax * xmax);
      if (std::fabs(v) <= tol) {
        sys.tight.push_back({i, j});
      } else if ((ps.act[i][j] == '1') != (v > 0)) {
        *why = "the float guide leaves the pattern";
        return std::nullopt;
      }
    }
  if (gauss_newton(sys, &x, 30, 1e-13) > 1e-9) {
    *why = "the float guide does not converge to a solution of the pattern's equations";
    return std::nullopt;
  }
  // Fix locally free unknowns to nearby rationals, so the rest is isolated.
  for (int round = 0; round < 3; ++round) {
    const auto freecols = free_unknowns(sys, x, priority);
    if (freecols.empty()) break;
    for (size_t v : freecols) {
      bool already = false;
      for (const auto& f : sys.fixed) already |= f.first == v;
      if (!already) sys.fixed.push_back({v, rational_near(x[v], 1e-4 * (1 + std::fabs(x[v])))});
    }
    if (gauss_newton(sys, &x, 30, 1e-13) > 1e-9) {
      *why = "no solution near the float guide once the free unknowns are fixed to rationals";
      return std::nullopt;
    }
  }
  if (!free_unknowns(sys, x, priority).empty()) {
    *why = "the solution set near the float guide could not be made isolated";
    return std::nullopt;
  }
  // Newton at high precision on the isolated solution.
  std::vector<HP> hx(x.begin(), x.end());
  if (gauss_newton(sys, &hx, 40, std::ldexp(1.0, -700)) > std::ldexp(1.0, -600)) {
    *why = "Newton's method did not converge at high precision";
    return std::nullopt;
  }
  // Output weights as exact algebraic numbers.
  std::vector<Alg> r(sys.B);
  for (size_t b = 0; b < sys.B; ++b) {
    bool is_fixed = false;
    for (const auto& [v, q] : sys.fixed)
      if (v == b) {
        r[b] = Alg(q);
        is_fixed = true;
      }
    if (is_fixed) continue;
    auto g = Alg::guess(hx[b].str(200), kAccuracy, kMaxDegree, kMaxCoeffBits);
    if (!g) {
      *why = "output weight " + block_name(ps, b) + " ~ " + hx[b].str(20) +
             ": no algebraic number of degree <= " + std::to_string(kMaxDegree) + " found";
      return std::nullopt;
    }
    r[b] = std::move(*g);
  }
  auto weight = [&](uint32_t j, uint32_t o) {
    if (o == ps.lead[j]) return Alg(mpq_class(ps.tau[j][o]));
    const int b = sys.block[j][o];
    return b < 0 ? Alg() : r[static_cast<size_t>(b)];
  };
  // With r exact, the equations are linear in (z, c): exact Gauss-Jordan.
  const size_t nv = sys.nz;
  std::vector<std::vector<Alg>> rows;
  std::vector<Alg> rhs;
  auto zero_row = [&]() { return std::vector<Alg>(nv); };
  for (size_t i = 0; i < n; ++i)
    for (uint32_t o = 0; o < ps.k; ++o) {
      auto row = zero_row();
      for (uint32_t j = 0; j < ps.m; ++j) {
        if (ps.act[i][j] != '1') continue;
        const Alg a = weight(j, o);
        if (a.sign() == 0) continue;
        for (uint32_t t = 0; t < ps.dz; ++t)
          if (sgn(ps.xt[i][t]) != 0) row[j * ps.dz + t] = a * Alg(ps.xt[i][t]);
      }
      if (ps.output_bias) row[ps.m * ps.dz + o] = Alg(mpq_class(1));
      rows.push_back(std::move(row));
      rhs.push_back(Alg(ps.y[i][o]));
    }
  for (const auto& [i, j] : sys.tight) {
    auto row = zero_row();
    for (uint32_t t = 0; t < ps.dz; ++t) row[j * ps.dz + t] = Alg(ps.xt[i][t]);
    rows.push_back(std::move(row));
    rhs.push_back(Alg());
  }
  for (const auto& [v, q] : sys.fixed) {
    if (v < sys.B) continue;
    auto row = zero_row();
    row[v - sys.B] = Alg(mpq_class(1));
    rows.push_back(std::move(row));
    rhs.push_back(Alg(q));
  }
  std::vector<int> pivot_of_col(nv, -1);
  size_t prow = 0;
  for (size_t col = 0; col < nv && prow < rows.size(); ++col) {
    size_t p = rows.size();
    for (size_t i = prow; i < rows.size(); ++i)
      if (rows[i][col].sign() != 0) {
        p = i;
        break;
      }
    if (p == rows.size()) continue;
    std::swap(rows[p], rows[prow]);
    std::swap(rhs[p], rhs[prow]);
    const Alg piv = rows[prow][col];
    for (size_t c = col; c < nv; ++c)
      if (rows[prow][c].sign() != 0) rows[prow][c] = rows[prow][c] / piv;
    rhs[prow] = rhs[prow] / piv;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i == prow || rows[i][col].sign() == 0) continue;
      const Alg f = rows[i][col];
      for (size_t c = col; c < nv; ++c)
        if (rows[prow][c].sign() != 0) rows[i][c] = rows[i][c] - f * rows[prow][c];
      rhs[i] = rhs[i] - f * rhs[prow];
    }
    pivot_of_col[col] = static_cast<int>(prow);
    ++prow;
  }
  for (size_t i = prow; i < rows.size(); ++i)
    if (rhs[i].sign() != 0) {
      *why = "the exact equations with the identified output weights are inconsistent";
      return std::nullopt;
    }
  std::vector<Alg> v(nv);
  for (size_t col = 0; col < nv; ++col)
    if (pivot_of_col[col] < 0) v[col] = Alg(rational_near(hx[sys.B + col].d(), 1e-6));
  for (size_t col = 0; col < nv; ++col) {
    if (pivot_of_col[col] < 0) continue;
    const size_t i = static_cast<size_t>(pivot_of_col[col]);
    Alg val = rhs[i];
    for (size_t c = 0; c < nv; ++c)
      if (c != col && pivot_of_col[c] < 0 && rows[i][c].sign() != 0) val = val - rows[i][c] * v[c];
    v[col] = std::move(val);
  }
  // Every sign constraint, exactly.
  AlgebraicFit fit;
  fit.activation.assign(n, std::string(ps.m, '0'));
  for (size_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < ps.m; ++j) {
      Alg pre;
      for (uint32_t t = 0; t < ps.dz; ++t)
        if (sgn(ps.xt[i][t]) != 0) pre = pre + v[j * ps.dz + t] * Alg(ps.xt[i][t]);
      const int s = pre.sign();
      if ((ps.act[i][j] == '1' && s < 0) || (ps.act[i][j] != '1' && s > 0)) {
        *why = "the exact solution violates the pattern's sign constraints";
        return std::nullopt;
      }
      if (s > 0) fit.activation[i][j] = '1';
    }
  fit.a.assign(ps.m, std::vector<std::string>(ps.k));
  fit.z.assign(ps.m, std::vector<std::string>(ps.dz));
  for (uint32_t j = 0; j < ps.m; ++j) {
    for (uint32_t o = 0; o < ps.k; ++o) fit.a[j][o] = weight(j, o).text();
    for (uint32_t t = 0; t < ps.dz; ++t) fit.z[j][t] = v[j * ps.dz + t].text();
  }
  if (ps.output_bias)
    for (uint32_t o = 0; o < ps.k; ++o) fit.c.push_back(v[ps.m * ps.dz + o].text());
  return fit;
}

}  // namespace

std::optional<AlgebraicFit> fit_algebraic(const PatternSystem& ps, const std::vector<double>& r0,
                                          const std::vector<double>& v0, std::string* why) {
  std::vector<double> x(r0);
  x.insert(x.end(), v0.begin(), v0.end());
  const size_t B = ps.blocks.size(), N = x.size();
  // First keep (w, b, c) determined and let output weights be fixed where
  // free (they then tend to stay rational); then the other way round.
  std::vector<size_t> zc_first, r_first;
  for (size_t v = B; v < N; ++v) zc_first.push_back(v);
  for (size_t b = 0; b < B; ++b) zc_first.push_back(b), r_first.push_back(b);
  for (size_t v = B; v < N; ++v) r_first.push_back(v);
  std::string first_why;
  if (auto fit = attempt(ps, x, zc_first, &first_why)) return fit;
  if (auto fit = attempt(ps, x, r_first, why)) return fit;
  *why = first_why;
  return std::nullopt;
}

}  // namespace relufit
