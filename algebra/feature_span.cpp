#include "algebra/feature_span.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "algebra/lp.h"
#include "algebra/number.h"

namespace relufit {
namespace {

using Vec = std::vector<mpq_class>;

mpq_class dot(const Vec& a, const Vec& b) {
  mpq_class s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

bool is_zero(const Vec& v) {
  return std::all_of(v.begin(), v.end(), [](const mpq_class& x) { return sgn(x) == 0; });
}

// A subspace of Q^cols by a basis in reduced row echelon form, grown one
// vector at a time.
class Echelon {
 public:
  explicit Echelon(size_t cols) : cols_(cols) {}

  // Adds v when it is independent of the basis; true then.
  bool add(Vec v) {
    reduce(&v);
    size_t p = 0;
    while (p < cols_ && sgn(v[p]) == 0) ++p;
    if (p == cols_) return false;
    const mpq_class inv = 1 / v[p];
    for (auto& x : v) x *= inv;
    for (auto& row : rows_)
      if (sgn(row[p]) != 0) {
        const mpq_class f = row[p];
        for (size_t c = 0; c < cols_; ++c) row[c] -= f * v[c];
      }
    rows_.push_back(std::move(v));
    pivots_.push_back(p);
    return true;
  }

  // v minus its part in the span of the basis, along the pivot columns.
  void reduce(Vec* v) const {
    for (size_t r = 0; r < rows_.size(); ++r) {
      const mpq_class f = (*v)[pivots_[r]];
      if (sgn(f) != 0)
        for (size_t c = 0; c < cols_; ++c) (*v)[c] -= f * rows_[r][c];
    }
  }

  size_t rank() const { return rows_.size(); }

  // A basis of {x : b . x = 0 for every basis vector b}.
  std::vector<Vec> complement() const {
    std::vector<bool> pivot(cols_, false);
    for (size_t p : pivots_) pivot[p] = true;
    std::vector<Vec> out;
    for (size_t f = 0; f < cols_; ++f) {
      if (pivot[f]) continue;
      Vec x(cols_, mpq_class(0));
      x[f] = 1;
      for (size_t r = 0; r < rows_.size(); ++r) x[pivots_[r]] = -rows_[r][f];
      out.push_back(std::move(x));
    }
    return out;
  }

 private:
  size_t cols_;
  std::vector<Vec> rows_;
  std::vector<size_t> pivots_;
};

// The solution of a x = b (a: rows of length u) when there is exactly one.
std::optional<Vec> solve_unique(std::vector<Vec> a, Vec b, size_t u) {
  const size_t rows = a.size();
  size_t r = 0;
  std::vector<size_t> pivot_col;
  for (size_t c = 0; c < u && r < rows; ++c) {
    size_t p = r;
    while (p < rows && sgn(a[p][c]) == 0) ++p;
    if (p == rows) return std::nullopt;  // not of full column rank
    std::swap(a[p], a[r]);
    std::swap(b[p], b[r]);
    const mpq_class inv = 1 / a[r][c];
    for (auto& x : a[r]) x *= inv;
    b[r] *= inv;
    for (size_t q = 0; q < rows; ++q)
      if (q != r && sgn(a[q][c]) != 0) {
        const mpq_class f = a[q][c];
        for (size_t t = 0; t < u; ++t) a[q][t] -= f * a[r][t];
        b[q] -= f * b[r];
      }
    pivot_col.push_back(c);
    ++r;
  }
  if (r < u) return std::nullopt;
  for (size_t q = r; q < rows; ++q)
    if (sgn(b[q]) != 0) return std::nullopt;  // inconsistent
  return Vec(b.begin(), b.begin() + static_cast<long>(u));
}

std::vector<FarkasEntryData> sparse(const Vec& v) {
  std::vector<FarkasEntryData> out;
  for (size_t i = 0; i < v.size(); ++i)
    if (sgn(v[i]) != 0) out.push_back({static_cast<uint32_t>(i), rational_to_string(v[i])});
  return out;
}

// v scaled to coprime integers (same direction).
Vec primitive(Vec v) {
  mpz_class l = 1, g = 0;
  for (const auto& x : v) l = lcm(l, mpz_class(x.get_den()));
  for (auto& x : v) {
    x *= l;
    g = gcd(g, mpz_class(x.get_num()));
  }
  if (g > 1)
    for (auto& x : v) x /= g;
  return v;
}

// The columns of Z: each output's labels, then (output bias) the ones.
std::vector<Vec> label_columns(const Problem& p) {
  const size_t n = p.num_samples();
  std::vector<Vec> z;
  for (size_t o = 0; o < p.output_dim; ++o) {
    Vec col(n);
    for (size_t i = 0; i < n; ++i) col[i] = p.y[i][o];
    z.push_back(std::move(col));
  }
  if (p.output_bias) z.emplace_back(n, mpq_class(1));
  return z;
}

}  // namespace

uint32_t network_span(const Problem& p) { return p.hidden_width + (p.output_bias ? 1u : 0u); }

uint32_t label_rank(const Problem& p) {
  Echelon span(p.num_samples());
  for (auto& col : label_columns(p)) span.add(std::move(col));
  return static_cast<uint32_t>(span.rank());
}

FeatureSpanDecision decide_by_feature_span(const Problem& p, const SearchControl& control) {
  FeatureSpanDecision out;
  const size_t n = p.num_samples(), d = p.input_dim, m = p.hidden_width, k = p.output_dim;
  const size_t dx = d + (p.hidden_bias ? 1 : 0);
  const size_t mp = network_span(p);
  if (n == 0) {
    out.why = "no samples";
    return out;
  }
  // The columns of Z and their span U.
  const std::vector<Vec> z = label_columns(p);
  Echelon span_z(n);
  for (const auto& col : z) span_z.add(col);
  out.rank = static_cast<uint32_t>(span_z.rank());
  if (out.rank > mp) {
    out.kind = FeatureSpanDecision::Kind::kInfeasible;
    return out;
  }
  if (out.rank < mp) {
    out.why = "the labels span " + std::to_string(out.rank) + " dimensions, fewer than the " +
              std::to_string(mp) + " the network's outputs can";
    return out;
  }
  if (n > control.options.feature_span_max_samples || n >= 31) {
    out.why = std::to_string(n) + " samples: more than the feature-span method's " +
              std::to_string(control.options.feature_span_max_samples) + " (2^n activation sets)";
    return out;
  }
  const auto stop = [&]() {
    return std::chrono::steady_clock::now() >= control.deadline ||
           (control.cancelled && control.cancelled());
  };
  std::vector<Vec> xt(n);
  for (size_t i = 0; i < n; ++i) {
    xt[i] = p.x[i];
    if (p.hidden_bias) xt[i].push_back(1);
  }
  const std::vector<Vec> perp = span_z.complement();  // a basis of U's orthogonal complement
  const uint32_t num_sets = uint32_t{1} << n;
  auto in = [](uint32_t set, size_t i) { return ((set >> i) & 1u) != 0; };
  // h_q = sum_{i in P} q_i x~_i per q in perp: w with h_q . w = 0 for all q
  // are those whose feature D_P X~ w lies in U.
  auto eta_rows = [&](uint32_t set) {
    std::vector<Vec> h;
    for (const auto& q : perp) {
      Vec row(dx, mpq_class(0));
      for (size_t i = 0; i < n; ++i)
        if (in(set, i) && sgn(q[i]) != 0)
          for (size_t t = 0; t < dx; ++t) row[t] += q[i] * xt[i][t];
      h.push_back(std::move(row));
    }
    return h;
  };
  // The span of all ReLU features inside U (with 1), grown per activation set.
  Echelon span_f(n);
  if (p.output_bias) span_f.add(Vec(n, mpq_class(1)));
  std::vector<Vec> chosen_w, chosen_f;
  try {
    for (uint32_t set = 0; set < num_sets && span_f.rank() < mp; ++set) {
      if ((set & 15u) == 0 && stop()) {
        out.why = "stopped";
        return out;
      }
      Echelon eh(dx);
      for (auto& h : eta_rows(set)) eh.add(std::move(h));
      const std::vector<Vec> basis = eh.complement();  // {w : feature in U}
      if (basis.empty()) continue;
      const size_t s = basis.size();
      // The cone {t : c_i . t >= 0}, w = sum_l t_l basis[l], c_i = s_i x~_i . basis.
      std::vector<Vec> c(n, Vec(s));
      std::vector<bool> unknown(n, false), open(n, false);
      for (size_t i = 0; i < n; ++i) {
        for (size_t l = 0; l < s; ++l) c[i][l] = (in(set, i) ? 1 : -1) * dot(xt[i], basis[l]);
        unknown[i] = !is_zero(c[i]);
      }
      // Rows that can be positive on the cone (open), found a few at a
      // time; those left are its implicit equalities. t0 (the sum of the
      // points found) is positive on every open row.
      Vec t0(s, mpq_class(0));
      while (std::find(unknown.begin(), unknown.end(), true) != unknown.end()) {
        std::vector<LpRow> rows;
        LpRow sum;
        sum.coeffs.assign(s, mpq_class(0));
        sum.rhs = 1;
        for (size_t i = 0; i < n; ++i) {
          LpRow r;
          r.coeffs = c[i];
          rows.push_back(std::move(r));
          if (unknown[i])
            for (size_t l = 0; l < s; ++l) sum.coeffs[l] += c[i][l];
        }
        rows.push_back(std::move(sum));
        LpResult res = solve_lp_feasibility(rows, s);
        ++out.lps;
        if (!res.feasible) break;
        for (size_t i = 0; i < n; ++i)
          if (unknown[i] && sgn(dot(c[i], res.point)) > 0) {
            unknown[i] = false;
            open[i] = true;
          }
        for (size_t l = 0; l < s; ++l) t0[l] += res.point[l];
      }
      Echelon implicit(s);
      for (size_t i = 0; i < n; ++i)
        if (unknown[i]) implicit.add(c[i]);
      const std::vector<Vec> e = implicit.complement();  // the cone's linear span
      if (e.empty()) continue;
      // Points of the cone that span it: t0 and t0 + eps e_l (eps keeps the
      // open rows >= 0), or e itself when no row is open (the cone is e's span).
      std::vector<Vec> gens;
      if (is_zero(t0)) {
        gens = e;
      } else {
        gens.push_back(t0);
        for (const auto& dir : e) {
          mpq_class eps = 1;
          for (size_t i = 0; i < n; ++i) {
            if (!open[i]) continue;
            const mpq_class ce = dot(c[i], dir);
            if (sgn(ce) < 0) eps = std::min(eps, mpq_class(dot(c[i], t0) / (-2 * ce)));
          }
          Vec t = t0;
          for (size_t l = 0; l < s; ++l) t[l] += eps * dir[l];
          gens.push_back(std::move(t));
        }
      }
      for (const auto& t : gens) {
        Vec w(dx, mpq_class(0));
        for (size_t l = 0; l < s; ++l)
          for (size_t q = 0; q < dx; ++q) w[q] += t[l] * basis[l][q];
        Vec f(n, mpq_class(0));
        for (size_t i = 0; i < n; ++i) {
          const mpq_class v = dot(xt[i], w);
          if (in(set, i) ? sgn(v) < 0 : sgn(v) > 0) {
            out.why = "internal: a cone point off its activation set";
            return out;
          }
          if (in(set, i)) f[i] = v;
        }
        if (span_f.add(f)) {
          chosen_w.push_back(std::move(w));
          chosen_f.push_back(std::move(f));
          if (span_f.rank() == mp) break;
        }
      }
    }
    if (span_f.rank() == mp) {
      // m features and 1 span U: the output weights are the unique solution.
      const size_t u = m + (p.output_bias ? 1 : 0);
      std::vector<Vec> a(n, Vec(u));
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < m; ++j) a[i][j] = chosen_f[j][i];
        if (p.output_bias) a[i][m] = 1;
      }
      ExactFit fit;
      fit.a.assign(m, Vec(k));
      if (p.output_bias) fit.c.resize(k);
      for (size_t o = 0; o < k; ++o) {
        Vec b(n);
        for (size_t i = 0; i < n; ++i) b[i] = p.y[i][o];
        auto x = solve_unique(a, std::move(b), u);
        if (!x) {
          out.why = "internal: the chosen features do not give the labels";
          return out;
        }
        for (size_t j = 0; j < m; ++j) fit.a[j][o] = (*x)[j];
        if (p.output_bias) fit.c[o] = (*x)[m];
      }
      for (size_t j = 0; j < m; ++j) {
        fit.w.emplace_back(chosen_w[j].begin(), chosen_w[j].begin() + static_cast<long>(d));
        fit.b.push_back(p.hidden_bias ? chosen_w[j][d] : mpq_class(0));
      }
      out.fit = std::move(fit);
      out.kind = FeatureSpanDecision::Kind::kFeasible;
      return out;
    }
    // Too few: lambda orthogonal to every feature found (and to 1), not to U.
    std::optional<Vec> lambda;
    for (auto& v : span_f.complement())
      if (std::any_of(z.begin(), z.begin() + static_cast<long>(k),
                      [&](const Vec& col) { return sgn(dot(v, col)) != 0; })) {
        lambda = primitive(std::move(v));
        break;
      }
    if (!lambda) {
      out.why = "internal: no lambda";
      return out;
    }
    FeatureSpanData& cert = out.certificate;
    for (const auto& v : *lambda) cert.lambda.push_back(rational_to_string(v));
    cert.patterns.resize(num_sets);
    for (uint32_t set = 0; set < num_sets; ++set) {
      if ((set & 15u) == 0 && stop()) {
        out.why = "stopped";
        return out;
      }
      Vec g(dx, mpq_class(0));
      for (size_t i = 0; i < n; ++i)
        if (in(set, i) && sgn((*lambda)[i]) != 0)
          for (size_t t = 0; t < dx; ++t) g[t] += (*lambda)[i] * xt[i][t];
      if (is_zero(g)) continue;
      const std::vector<Vec> h = eta_rows(set);
      for (int sigma : {1, -1}) {
        // {w : s_i x~_i . w >= 0, h_q . w = 0, -sigma g . w >= 1} is empty;
        // its Farkas vector y (last entry 1) gives
        // sigma g = sum_i y_i s_i x~_i + sum_q y_q h_q, eta = sum_q y_q q.
        std::vector<LpRow> rows;
        for (size_t i = 0; i < n; ++i) {
          LpRow r;
          r.coeffs = xt[i];
          if (!in(set, i))
            for (auto& v : r.coeffs) v = -v;
          rows.push_back(std::move(r));
        }
        for (const auto& hq : h) {
          LpRow r;
          r.coeffs = hq;
          r.sense = RowSense::kEqual;
          rows.push_back(std::move(r));
        }
        LpRow last;
        last.coeffs = g;
        if (sigma > 0)
          for (auto& v : last.coeffs) v = -v;
        last.rhs = 1;
        rows.push_back(std::move(last));
        LpResult res = solve_lp_feasibility(rows, dx);
        ++out.lps;
        if (res.feasible) {
          out.why = "internal: lambda is not orthogonal to the features of an activation set";
          return out;
        }
        Vec mu(res.farkas.begin(), res.farkas.begin() + static_cast<long>(n));
        Vec eta(n, mpq_class(0));
        for (size_t q = 0; q < perp.size(); ++q) {
          const mpq_class& y = res.farkas[n + q];
          if (sgn(y) != 0)
            for (size_t i = 0; i < n; ++i) eta[i] += y * perp[q][i];
        }
        // Outside P eta's entries do not enter the identity, but eta must
        // stay orthogonal to U as a whole.
        auto& entry = cert.patterns[set];
        (sigma > 0 ? entry.mu_up : entry.mu_down) = sparse(mu);
        (sigma > 0 ? entry.eta_up : entry.eta_down) = sparse(eta);
      }
    }
    out.kind = FeatureSpanDecision::Kind::kInfeasible;
    return out;
  } catch (const LpStopped& e) {
    out.why = std::string("stopped: ") + e.what();
    return out;
  }
}

}  // namespace relufit
