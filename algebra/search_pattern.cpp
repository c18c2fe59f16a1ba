#include "algebra/search_pattern.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "algebra/lp.h"
#include "algebra/number.h"

namespace relufit {

std::vector<FarkasEntryData> sparse_farkas(const std::vector<mpq_class>& farkas) {
  std::vector<FarkasEntryData> out;
  for (size_t r = 0; r < farkas.size(); ++r)
    if (sgn(farkas[r]) != 0) out.push_back({static_cast<uint32_t>(r), rational_to_string(farkas[r])});
  return out;
}

std::string describe_pattern(const PatternView& view) {
  std::string out = "sign case (";
  for (const auto& t : view.signs.strings()) out += (out.back() == '(' ? "" : " ") + t;
  out += "), activation pattern";
  for (size_t s = 0; s < view.path.size(); ++s)
    out += " " + std::to_string(view.order[s]) + ":" + view.path[s];
  return out;
}

namespace {

// The pattern-level steps, written against one complete pattern (`cs`).
class PatternSolver {
 public:
  using CaseState = PatternView;
  PatternSolver(const SearchContext& ctx, SearchCounters* counters)
      : p_(ctx.p), ctx_(ctx), counters_(counters), m_(ctx.m), k_(ctx.k), dz_(ctx.dz), xt_(ctx.xt) {}

  ExactFit take_fit() {
    ExactFit fit;
    fit.a = std::move(solution_a_);
    fit.w = std::move(solution_w_);
    fit.b = std::move(solution_b_);
    fit.c = std::move(solution_c_);
    fit.algebraic = std::move(algebraic_fit_);
    return fit;
  }

  static std::vector<FarkasEntryData> sparse(const std::vector<mpq_class>& farkas) { return sparse_farkas(farkas); }
  const std::vector<uint32_t>& order(const CaseState& cs) const { return cs.order; }

  // A vector sum kappa_s y_{order[s]} that every fit with the case's pattern
  // makes parallel to a_j (see KIND_PINNED_DIRECTION in the proto).
  struct Direction {
    std::vector<mpq_class> y;           // the vector Y
    std::vector<size_t> positions;      // path positions s with kappa_s != 0, increasing
    std::vector<mpq_class> kappa;       // the coefficients, one per position
  };

  // Such vectors from small groups of decided samples: on a group where
  // every other neuron keeps one status, pairs (others all inactive) or
  // affine dependencies of d + 2 samples.
  std::vector<Direction> data_directions(const CaseState& cs, uint32_t j) const {
    std::map<std::string, std::vector<size_t>> groups;  // others' statuses -> positions
    for (size_t s = 0; s < cs.path.size(); ++s) {
      std::string key = cs.path[s];
      key[j] = '*';
      groups[key].push_back(s);
    }
    std::vector<Direction> out;
    auto push = [&](std::vector<size_t> positions, std::vector<mpq_class> kappa) {
      Direction d;
      d.y.assign(k_, mpq_class(0));
      for (size_t t = 0; t < positions.size(); ++t) {
        if (sgn(kappa[t]) == 0) continue;
        for (uint32_t o = 0; o < k_; ++o) d.y[o] += kappa[t] * p_.y[order(cs)[positions[t]]][o];
        d.positions.push_back(positions[t]);
        d.kappa.push_back(kappa[t]);
      }
      if (std::any_of(d.y.begin(), d.y.end(), [](const mpq_class& v) { return sgn(v) != 0; }))
        out.push_back(std::move(d));
    };
    for (const auto& [key, positions] : groups) {
      const bool others_active = key.find('1') != std::string::npos;
      const size_t g = std::min<size_t>(positions.size(), 8);
      if (!others_active) {
        for (size_t x = 0; x < g; ++x)
          for (size_t y = x + 1; y < g; ++y)
            push({positions[x], positions[y]}, {mpq_class(1), mpq_class(-1)});
        continue;
      }
      // Affine dependencies among windows of d + 2 samples of the group.
      const size_t w = p_.input_dim + 2;
      for (size_t start = 0; start + w <= g; ++start) {
        std::vector<size_t> win(positions.begin() + static_cast<long>(start),
                                positions.begin() + static_cast<long>(start + w));
        std::vector<std::vector<mpq_class>> rows;  // constraints on kappa
        for (uint32_t t = 0; t < p_.input_dim; ++t) {
          rows.emplace_back();
          for (size_t s : win) rows.back().push_back(p_.x[order(cs)[s]][t]);
        }
        rows.emplace_back(w, mpq_class(1));
        if (auto kappa = null_vector(rows, w)) push(win, *kappa);
      }
    }
    return out;
  }

  // At a complete pattern with no fit: tries to prove it empty from a
  // direction of a_j pinned by the data (KIND_PINNED_DIRECTION). Fills the
  // node and returns true on success.
  bool prove_pinned(const CaseState& cs, ProofNodeData* node) {
    const SignCase& sc = cs.signs;
    for (uint32_t j = 0; j < m_; ++j) {
      for (const Direction& dir : data_directions(cs, j)) {
        node->kind = ProofNodeKind::kPinnedDirection;
        node->neuron = j;
        node->farkas.clear();
        node->kappa.clear();
        for (size_t t = 0; t < dir.positions.size(); ++t)
          node->kappa.push_back({static_cast<uint32_t>(dir.positions[t]), rational_to_string(dir.kappa[t])});
        const uint32_t e = sc.lead[j];
        if (sgn(dir.y[e]) == 0) return true;  // Y != 0 but a_j,e = +-1: impossible
        std::vector<mpq_class> a(k_);
        bool contradiction = false;
        // Lemma 1's signs: a_jo = 0 before the lead, tau_jo a_jo >= 0 after.
        for (uint32_t o = 0; o < k_; ++o) {
          a[o] = sc.sign(j, e) * dir.y[o] / dir.y[e];
          if (sc.sign(j, o) == 0 ? sgn(a[o]) != 0 : sgn(a[o]) * sc.sign(j, o) < 0) contradiction = true;
        }
        if (contradiction) return true;
        std::vector<LpRow> rows = cs.rows;
        const size_t nv = ctx_.num_vars(sc);
        append_pinned_rows(ctx_, sc, j, a, &rows);
        LpResult res = solve_lp_feasibility(rows, nv, nullptr);
        ++counters_->lps;
        if (!res.feasible) {
          node->farkas = sparse(res.farkas);
          return true;
        }
      }
    }
    node->kind = ProofNodeKind::kUnspecified;
    node->kappa.clear();
    return false;
  }

  // A nonzero solution of rows * kappa = 0 (exact Gauss-Jordan), if any.
  static std::optional<std::vector<mpq_class>> null_vector(std::vector<std::vector<mpq_class>> rows,
                                                          size_t n) {
    const std::vector<size_t> pivot_col = reduce_rows(&rows, n);
    if (pivot_col.size() == n) return std::nullopt;
    size_t free_col = 0;
    while (std::find(pivot_col.begin(), pivot_col.end(), free_col) != pivot_col.end()) ++free_col;
    std::vector<mpq_class> kappa(n, mpq_class(0));
    kappa[free_col] = 1;
    for (size_t i = 0; i < pivot_col.size(); ++i) kappa[pivot_col[i]] = -rows[i][free_col];
    return kappa;
  }

  // At a complete pattern whose relaxation holds: for one output every
  // relaxed point is a fit; for several, look for rational output weights
  // r (u_jo = r_jo z_j at the relaxed point, read off active samples) and
  // solve the exact LP in (z, c) with r fixed.
  bool recover_weights(const CaseState& cs, const std::vector<mpq_class>& point) {
    const SignCase& sc = cs.signs;
    const size_t c0 = sc.bias_index(dz_);
    std::vector<std::vector<mpq_class>> a(m_, std::vector<mpq_class>(k_));
    for (uint32_t j = 0; j < m_; ++j) a[j][sc.lead[j]] = sc.sign(j, sc.lead[j]);
    if (sc.blocks.empty()) return accept(a, point, c0);
    // Candidate values of r_jo (DESIGN.md 2.6 b), most trusted first:
    // (1) directions of a_j read off the data: on a group G of samples where
    //     every other neuron has one status, any kappa with sum kappa_i = 0
    //     (kills c; not needed without output bias) and sum kappa_i x~_i = 0
    //     (kills the affine other neurons active on G; not needed when none
    //     is) gives sum kappa_i y_i = a_j * (scalar), parallel to a_j;
    // (2) u_jo . x~_i / z_j . x~_i at the relaxed point.
    std::vector<std::vector<mpq_class>> candidates(sc.blocks.size());
    auto add = [&](size_t b, const mpq_class& r) {
      const int want = sc.sign(sc.blocks[b].first, sc.blocks[b].second);
      if (sgn(r) * want < 0) return;
      auto& list = candidates[b];
      if (list.size() < 8 && std::find(list.begin(), list.end(), r) == list.end()) list.push_back(r);
    };
    for (size_t b = 0; b < sc.blocks.size(); ++b) {
      const auto [j, o] = sc.blocks[b];
      const uint32_t e = sc.lead[j];
      for (const Direction& d : data_directions(cs, j))
        if (sgn(d.y[e]) != 0) add(b, sc.sign(j, e) * d.y[o] / d.y[e]);
      for (size_t s = 0; s < cs.path.size(); ++s) {
        if (cs.path[s][j] != '1') continue;
        mpq_class zx = 0, ux = 0;
        for (uint32_t t = 0; t < dz_; ++t) {
          zx += point[j * dz_ + t] * xt_[order(cs)[s]][t];
          ux += point[(m_ + b) * dz_ + t] * xt_[order(cs)[s]][t];
        }
        if (sgn(zx) != 0) add(b, ux / zx);
      }
      if (candidates[b].empty()) candidates[b].push_back(mpq_class(sc.sign(j, o)));
    }
    // The first candidate everywhere, then each block's alternatives alone.
    std::vector<size_t> pick(sc.blocks.size(), 0);
    std::vector<std::vector<size_t>> trials = {pick};
    for (size_t b = 0; b < sc.blocks.size(); ++b)
      for (size_t alt = 1; alt < candidates[b].size(); ++alt) {
        auto t = pick;
        t[b] = alt;
        trials.push_back(t);
      }
    for (const auto& trial : trials) {
      for (size_t b = 0; b < sc.blocks.size(); ++b) {
        const auto [j, o] = sc.blocks[b];
        a[j][o] = candidates[b][trial[b]];
      }
      if (solve_fixed_output_weights(cs, a)) return true;
    }
    // Floating point guides a last attempt: alternating least squares on the
    // bilinear equations from each candidate start; the free output weights
    // are then fixed one at a time to a nearby simple rational (re-fitting
    // the others after each), and the exact LP decides.
    for (size_t start = 0; start < 3; ++start) {
      std::vector<double> r(sc.blocks.size());
      for (size_t b = 0; b < sc.blocks.size(); ++b)
        r[b] = candidates[b][std::min(start, candidates[b].size() - 1)].get_d();
      std::vector<bool> fixed(sc.blocks.size(), false);
      bool converged = true;
      for (size_t b = 0; b < sc.blocks.size() && converged; ++b) {
        converged = alternating_least_squares(cs, fixed, &r);
        const auto [j, o] = sc.blocks[b];
        a[j][o] = simple_rational_near(r[b]);
        r[b] = a[j][o].get_d();
        fixed[b] = true;
      }
      if (!converged) continue;
      if (solve_fixed_output_weights(cs, a)) return true;
    }
    return false;
  }

  // The pattern's bilinear system, for the algebraic step.
  PatternSystem pattern_system(const CaseState& cs) const {
    const SignCase& sc = cs.signs;
    PatternSystem ps;
    ps.m = m_;
    ps.k = k_;
    ps.dz = dz_;
    ps.output_bias = p_.output_bias;
    ps.xt = xt_;
    ps.y = p_.y;
    ps.act.assign(p_.num_samples(), std::string());
    for (size_t s = 0; s < cs.path.size(); ++s) ps.act[order(cs)[s]] = cs.path[s];
    ps.tau = sc.tau;
    ps.lead = sc.lead;
    ps.blocks = sc.blocks;
    return ps;
  }

  // The algebraic step from a given float guide (r: the free output
  // weights by block; zc: the z blocks, then c).
  bool algebraic_from(const CaseState& cs, const std::vector<double>& r,
                      const std::vector<double>& zc, std::string* step) {
    if (cs.signs.blocks.empty()) {
      *step = "no free output weights";
      return false;
    }
    auto fit = fit_algebraic(pattern_system(cs), r, zc, step);
    if (!fit) return false;
    algebraic_fit_ = std::move(*fit);
    return true;
  }

  // DESIGN.md 2.6 c, at a complete pattern where no rational output weights
  // were found: float guides from alternating least squares, then the exact
  // algebraic step (algebra/algebraic.h). On failure *step says why.
  bool algebraic_weights(const CaseState& cs, std::string* step) {
    const SignCase& sc = cs.signs;
    if (sc.blocks.empty()) {
      *step = "no free output weights";
      return false;
    }
    const PatternSystem ps = pattern_system(cs);
    *step = "alternating least squares found no float solution of the pattern";
    // Starts: every free output weight at 1, 1/2, 2, 1/4, 4 (with the case's
    // sign), then 11 mixed starts from a fixed pseudo-random sequence: the
    // equations of a pattern can have several real solutions, of which
    // only some keep the pattern's signs.
    std::mt19937 rng(12345);
    std::uniform_real_distribution<double> mag(-2.0, 2.0);
    for (int start = 0; start < 16; ++start) {
      std::vector<double> r(sc.blocks.size());
      for (size_t b = 0; b < sc.blocks.size(); ++b) {
        const double m = start < 5 ? std::ldexp(1.0, (start + 1) / 2 * (start % 2 ? -1 : 1))
                                   : std::exp2(mag(rng));
        r[b] = sc.sign(sc.blocks[b].first, sc.blocks[b].second) * m;
      }
      std::vector<double> zc;
      std::vector<bool> fixed(sc.blocks.size(), false);
      // A stalled run still hands its point on: the algebraic step polishes it.
      alternating_least_squares(cs, fixed, &r, &zc);
      if (zc.empty()) continue;
      auto fit = fit_algebraic(ps, r, zc, step);
      if (!fit) continue;
      algebraic_fit_ = std::move(*fit);
      return true;
    }
    return false;
  }

  // The fraction with the smallest denominator (up to 10^4) within 1e-9 of
  // v, else the closest one with denominator at most 12: where v is pinned
  // that recovers it, where it is free any simple value will do. A guide
  // only: every result is checked exactly.
  static mpq_class simple_rational_near(double v) {
    for (long q = 1; q <= 10000; ++q) {
      const long p = std::lround(v * static_cast<double>(q));
      if (std::fabs(v - static_cast<double>(p) / static_cast<double>(q)) < 1e-9 * std::max(1.0, std::fabs(v))) {
        mpq_class out(p, q);
        out.canonicalize();
        return out;
      }
    }
    mpq_class best(std::lround(v));
    for (long q = 2; q <= 12; ++q) {
      mpq_class cand(std::lround(v * static_cast<double>(q)), q);
      cand.canonicalize();
      if (std::fabs(v - cand.get_d()) < std::fabs(v - best.get_d())) best = cand;
    }
    return best;
  }

  // Minimises the squared residual of the pattern's equations over (z, c)
  // and the free output weights r in turn. Returns whether it converged to
  // a near-exact fit; *r holds the final output weights.
  bool alternating_least_squares(const CaseState& cs, const std::vector<bool>& fixed,
                                 std::vector<double>* r, std::vector<double>* zc = nullptr) const {
    const SignCase& sc = cs.signs;
    const size_t n = cs.path.size(), nz = m_ * dz_ + (p_.output_bias ? k_ : 0);
    std::vector<std::vector<double>> xt(n), y(n);
    for (size_t s = 0; s < n; ++s) {
      for (const auto& v : xt_[order(cs)[s]]) xt[s].push_back(v.get_d());
      for (const auto& v : p_.y[order(cs)[s]]) y[s].push_back(v.get_d());
    }
    auto weight = [&](uint32_t j, uint32_t o) -> double {
      if (o == sc.lead[j]) return sc.sign(j, o);
      int b = sc.block_of(j, o);
      return b < 0 ? 0.0 : (*r)[static_cast<size_t>(b)];
    };
    std::vector<double> v(nz, 0.0);
    double residual = 0;
    for (int iter = 0; iter < 2000; ++iter) {
      // (z, c) given r: normal equations of the n k equations.
      std::vector<double> ata(nz * nz, 0.0), atb(nz, 0.0), row(nz);
      for (size_t s = 0; s < n; ++s)
        for (uint32_t o = 0; o < k_; ++o) {
          std::fill(row.begin(), row.end(), 0.0);
          for (uint32_t j = 0; j < m_; ++j)
            if (cs.path[s][j] == '1')
              for (uint32_t t = 0; t < dz_; ++t) row[j * dz_ + t] = weight(j, o) * xt[s][t];
          if (p_.output_bias) row[m_ * dz_ + o] = 1;
          for (size_t a = 0; a < nz; ++a) {
            if (row[a] == 0) continue;
            atb[a] += row[a] * y[s][o];
            for (size_t b = 0; b < nz; ++b) ata[a * nz + b] += row[a] * row[b];
          }
        }
      for (size_t a = 0; a < nz; ++a) ata[a * nz + a] += 1e-12;
      if (!solve_dense(ata, atb, nz)) return false;
      v = atb;
      // r given (z, c): each block's weight in its own output, least squares.
      residual = 0;
      for (uint32_t o = 0; o < k_; ++o) {
        std::vector<size_t> bl;
        for (size_t b = 0; b < sc.blocks.size(); ++b)
          if (sc.blocks[b].second == o && !fixed[b]) bl.push_back(b);
        const size_t q = bl.size();
        std::vector<double> g(q * q, 0.0), h(q, 0.0), feat(q);
        for (size_t s = 0; s < n; ++s) {
          double rest = y[s][o] - (p_.output_bias ? v[m_ * dz_ + o] : 0.0);
          for (uint32_t j = 0; j < m_; ++j) {
            if (cs.path[s][j] != '1') continue;
            double pre = 0;
            for (uint32_t t = 0; t < dz_; ++t) pre += v[j * dz_ + t] * xt[s][t];
            if (o == sc.lead[j]) rest -= sc.sign(j, o) * pre;
            if (int b = sc.block_of(j, o); b >= 0 && fixed[static_cast<size_t>(b)])
              rest -= (*r)[static_cast<size_t>(b)] * pre;
            for (size_t x = 0; x < q; ++x)
              if (sc.blocks[bl[x]].first == j) feat[x] = pre;
          }
          for (size_t x = 0; x < q; ++x) {
            const uint32_t j = sc.blocks[bl[x]].first;
            if (cs.path[s][j] != '1') feat[x] = 0;
          }
          for (size_t x = 0; x < q; ++x) {
            h[x] += feat[x] * rest;
            for (size_t z = 0; z < q; ++z) g[x * q + z] += feat[x] * feat[z];
          }
          double fit = 0;
          for (size_t x = 0; x < q; ++x) fit += feat[x] * (*r)[bl[x]];
          residual += (rest - fit) * (rest - fit);
          std::fill(feat.begin(), feat.end(), 0.0);
        }
        if (q == 0) {
          residual += 0;  // nothing free in this output; its residual is counted below
        }
        if (q == 0) continue;
        for (size_t x = 0; x < q; ++x) g[x * q + x] += 1e-12;
        if (!solve_dense(g, h, q)) return false;
        for (size_t x = 0; x < q; ++x) {
          const auto [j, oo] = sc.blocks[bl[x]];
          // Keep the case's (closed) sign.
          (*r)[bl[x]] = sc.sign(j, oo) * std::max(0.0, sc.sign(j, oo) * h[x]);
        }
      }
      if (residual < 1e-20) break;
    }
    if (zc) *zc = v;
    return residual < 1e-10;
  }

  // Gaussian elimination with partial pivoting on a dense n x n system;
  // the solution replaces b.
  static bool solve_dense(std::vector<double>& a, std::vector<double>& b, size_t n) {
    for (size_t col = 0; col < n; ++col) {
      size_t p = col;
      for (size_t i = col + 1; i < n; ++i)
        if (std::fabs(a[i * n + col]) > std::fabs(a[p * n + col])) p = i;
      if (std::fabs(a[p * n + col]) < 1e-300) return false;
      if (p != col) {
        for (size_t j = 0; j < n; ++j) std::swap(a[p * n + j], a[col * n + j]);
        std::swap(b[p], b[col]);
      }
      for (size_t i = col + 1; i < n; ++i) {
        const double f = a[i * n + col] / a[col * n + col];
        if (f == 0) continue;
        for (size_t j = col; j < n; ++j) a[i * n + j] -= f * a[col * n + j];
        b[i] -= f * b[col];
      }
    }
    for (size_t i = n; i-- > 0;) {
      for (size_t j = i + 1; j < n; ++j) b[i] -= a[i * n + j] * b[j];
      b[i] /= a[i * n + i];
    }
    return true;
  }

  // The exact LP in (z, c) for the current pattern with output weights a.
  bool solve_fixed_output_weights(const CaseState& cs, const std::vector<std::vector<mpq_class>>& a) {
    const size_t nv = m_ * dz_ + (p_.output_bias ? k_ : 0);
    const std::vector<LpRow> rows = fixed_output_rows(ctx_, cs.order, cs.path, a);
    LpResult res = solve_lp_feasibility(rows, nv, nullptr);
    ++counters_->lps;
    if (!res.feasible) return false;
    return accept(a, res.point, m_ * dz_);
  }

  // Records weights: a (m x k), z blocks at the front of `point`, c at c0.
  bool accept(const std::vector<std::vector<mpq_class>>& a, const std::vector<mpq_class>& point,
              size_t c0) {
    solution_a_ = a;
    solution_w_.assign(m_, {});
    solution_b_.assign(m_, mpq_class(0));
    for (uint32_t j = 0; j < m_; ++j) {
      for (uint32_t t = 0; t < p_.input_dim; ++t) solution_w_[j].push_back(point[j * dz_ + t]);
      if (p_.hidden_bias) solution_b_[j] = point[j * dz_ + p_.input_dim];
    }
    solution_c_.clear();
    if (p_.output_bias)
      for (uint32_t o = 0; o < k_; ++o) solution_c_.push_back(point[c0 + o]);
    return true;
  }

 private:
  const Problem& p_;
  const SearchContext& ctx_;
  SearchCounters* counters_;
  uint32_t m_ = 0, k_ = 0, dz_ = 0;
  const std::vector<std::vector<mpq_class>>& xt_;
  std::vector<std::vector<mpq_class>> solution_a_, solution_w_;
  std::vector<mpq_class> solution_b_, solution_c_;
  std::optional<AlgebraicFit> algebraic_fit_;
};

}  // namespace

std::optional<ExactFit> recover_weights(const SearchContext& ctx, const PatternView& view,
                                        const std::vector<mpq_class>& point,
                                        SearchCounters* counters) {
  PatternSolver solver(ctx, counters);
  if (!solver.recover_weights(view, point)) return std::nullopt;
  return solver.take_fit();
}

std::optional<ExactFit> algebraic_weights(const SearchContext& ctx, const PatternView& view,
                                          std::string* step, SearchCounters* counters) {
  PatternSolver solver(ctx, counters);
  if (!solver.algebraic_weights(view, step)) return std::nullopt;
  return solver.take_fit();
}

std::optional<ExactFit> algebraic_weights_from(const SearchContext& ctx, const PatternView& view,
                                               const std::vector<double>& r,
                                               const std::vector<double>& zc, std::string* step,
                                               SearchCounters* counters) {
  PatternSolver solver(ctx, counters);
  if (!solver.algebraic_from(view, r, zc, step)) return std::nullopt;
  return solver.take_fit();
}

bool prove_pinned(const SearchContext& ctx, const PatternView& view, ProofNodeData* node,
                  SearchCounters* counters) {
  PatternSolver solver(ctx, counters);
  return solver.prove_pinned(view, node);
}

}  // namespace relufit
