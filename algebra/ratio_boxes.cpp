#include "algebra/ratio_boxes.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "algebra/lp.h"

namespace relufit {

std::vector<LpRow> ratio_box_rows(const SearchContext& ctx, const SignCase& sc,
                                  const std::vector<uint32_t>& order,
                                  const std::vector<std::string>& path,
                                  const std::vector<mpq_class>& lo,
                                  const std::vector<std::optional<mpq_class>>& hi) {
  const uint32_t m = ctx.m, dz = ctx.dz;
  const size_t nv = ctx.num_vars(sc);
  std::vector<LpRow> rows;
  // One row per decided sample: zf sigma (z_j . x~) + uf tau sigma (u_b . x~) >= 0.
  auto add = [&](size_t b, const mpq_class& zf, int uf) {
    const auto [j, o] = sc.blocks[b];
    const int tau = sc.sign(j, o);
    for (size_t s = 0; s < path.size(); ++s) {
      const int sigma = path[s][j] == '1' ? 1 : -1;
      const auto& xt = ctx.xt[order[s]];
      LpRow r;
      r.coeffs.assign(nv, mpq_class(0));
      r.sense = RowSense::kGreaterEqual;
      for (uint32_t t = 0; t < dz; ++t) {
        r.coeffs[j * dz + t] = sigma * zf * xt[t];
        r.coeffs[(m + b) * dz + t] = uf * tau * sigma * xt[t];
      }
      rows.push_back(std::move(r));
    }
  };
  for (size_t b = 0; b < sc.blocks.size(); ++b) {
    if (sgn(lo[b]) > 0) add(b, -lo[b], 1);
    if (hi[b]) add(b, *hi[b], -1);
  }
  return rows;
}

namespace {

// The simplest fraction strictly between a and b (0 <= a < b, finite), by
// the continued-fraction walk of the Stern-Brocot tree.
mpq_class simplest_between(double a, double b) {
  // Invariant: the answer is p/q with the convergents built so far.
  mpz_class p0 = 0, q0 = 1, p1 = 1, q1 = 0;
  double x = a, y = b;
  for (int iter = 0; iter < 64; ++iter) {
    const double fa = std::floor(x);
    // An integer strictly inside (x, y) ends the walk.
    if (fa + 1 < y) {
      const mpz_class t(static_cast<long>(fa) + 1);
      return mpq_class(t * p1 + p0, t * q1 + q0);
    }
    const mpz_class t(static_cast<long>(fa));
    const mpz_class p2 = t * p1 + p0, q2 = t * q1 + q0;
    p0 = p1;
    q0 = q1;
    p1 = p2;
    q1 = q2;
    const double fx = x - fa, fy = y - fa;
    if (fx <= 0) break;
    // (x, y) -> (1 / fy, 1 / fx).
    x = 1 / fy;
    y = 1 / fx;
    if (!std::isfinite(x) || !std::isfinite(y) || x > 1e15) break;
  }
  mpq_class r((a + b) / 2);
  r.canonicalize();
  return r;
}

class BoxSearch {
 public:
  static constexpr size_t kMaxDepth = 40;

  BoxSearch(const SearchContext& ctx, const PatternView& view, size_t max_boxes, SearchCounters* counters)
      : ctx_(ctx), view_(view), sc_(view.signs), max_boxes_(max_boxes), counters_(counters) {}

  RatioBoxOutcome run() {
    const size_t nb = sc_.blocks.size();
    std::vector<mpq_class> lo(nb, mpq_class(0));
    std::vector<std::optional<mpq_class>> hi(nb);
    std::vector<RatioBoxData> tree;
    const bool closed = box(lo, hi, &tree);
    RatioBoxOutcome out;
    out.leaves = leaves_;
    if (fit_) {
      out.fit = std::move(fit_);
    } else if (closed) {
      out.boxes = std::move(tree);
    } else {
      out.why = why_;
    }
    return out;
  }

 private:
  // Decides one box: appends its subtree to *tree and returns true when every
  // box below it closed.
  bool box(std::vector<mpq_class>& lo, std::vector<std::optional<mpq_class>>& hi,
           std::vector<RatioBoxData>* tree, size_t depth = 0) {
    if (fit_) return false;
    // A path of many cuts: a ratio tends to 0 or infinity while the LP
    // stays feasible (solutions at infinity, where u_b and z_j grow apart),
    // which no box closes.
    if (depth > kMaxDepth) {
      why_ = "ratio boxes: " + std::to_string(kMaxDepth) +
             " nested cuts without closing the box (a ratio tends to 0 or infinity)";
      return false;
    }
    // Between the LPs too: a box search may hold hundreds of them.
    if (lp_stop_requested()) {
      why_ = "ratio boxes: stopped";
      return false;
    }
    if (boxes_ >= max_boxes_) {
      why_ = "ratio boxes: " + std::to_string(leaves_) + " of " + std::to_string(max_boxes_) +
             " boxes tried were closed, more remain";
      return false;
    }
    ++boxes_;
    std::vector<LpRow> rows = view_.rows;
    auto extra = ratio_box_rows(ctx_, sc_, view_.order, view_.path, lo, hi);
    rows.insert(rows.end(), std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
    LpResult res = solve_lp_feasibility(rows, ctx_.num_vars(sc_), nullptr);
    ++counters_->lps;
    if (!res.feasible) {
      RatioBoxData leaf;
      leaf.farkas = sparse_farkas(res.farkas);
      tree->push_back(std::move(leaf));
      ++leaves_;
      return true;
    }
    size_t block = 0;
    mpq_class t;
    if (!choose_split(res.point, lo, hi, &block, &t)) return false;
    RatioBoxData split;
    split.split = true;
    split.block = static_cast<uint32_t>(block);
    split.threshold = t.get_str();
    tree->push_back(std::move(split));
    std::optional<mpq_class> old_hi = hi[block];
    hi[block] = t;
    const bool left = box(lo, hi, tree, depth + 1);
    hi[block] = old_hi;
    if (!left) return false;
    mpq_class old_lo = lo[block];
    lo[block] = t;
    const bool right = box(lo, hi, tree, depth + 1);
    lo[block] = old_lo;
    return right;
  }

  // Where to cut the box that holds `point`. For block b = (j, o) the
  // sample-wise ratios q_s = tau sigma (u_b . x~) / sigma (z_j . x~) (exact;
  // +infinity where z_j . x~ = 0 < tau sigma u_b . x~) lie in the box; a cut
  // t with min q < t < max q leaves the point in neither half. The block
  // cut is the one whose ratios spread widest as angles atan(q) (bounded,
  // and small in a small box, so no block is cut forever); the cut is the
  // simplest fraction near the middle angle. When no block spreads, the
  // point is nearly a fit: the algebraic step tries it, then the widest
  // interval (as angles) is halved.
  bool choose_split(const std::vector<mpq_class>& point, const std::vector<mpq_class>& lo,
                    const std::vector<std::optional<mpq_class>>& hi, size_t* block, mpq_class* t) {
    const uint32_t m = ctx_.m, dz = ctx_.dz;
    const size_t nb = sc_.blocks.size();
    const double half_pi = std::atan(1.0) * 2;
    double best = 0;
    bool found = false;
    mpq_class best_qmin, best_qmax;
    bool best_infinite = false;
    std::vector<double> ratio(nb, 0);
    for (size_t b = 0; b < nb; ++b) {
      const auto [j, o] = sc_.blocks[b];
      const int tau = sc_.sign(j, o);
      std::optional<mpq_class> qmin, qmax;
      bool infinite = false;
      double zz = 0, uz = 0;
      for (size_t s = 0; s < view_.path.size(); ++s) {
        const int sigma = view_.path[s][j] == '1' ? 1 : -1;
        const auto& xt = ctx_.xt[view_.order[s]];
        mpq_class z = 0, u = 0;
        for (uint32_t q = 0; q < dz; ++q) {
          z += point[j * dz + q] * xt[q];
          u += point[(m + b) * dz + q] * xt[q];
        }
        z *= sigma;
        u *= tau * sigma;
        zz += z.get_d() * z.get_d();
        uz += u.get_d() * z.get_d();
        if (sgn(z) > 0) {
          mpq_class q = u / z;
          if (!qmin || q < *qmin) qmin = q;
          if (!qmax || q > *qmax) qmax = q;
        } else if (sgn(u) > 0) {
          infinite = true;
        }
      }
      ratio[b] = tau * (zz > 0 ? std::max(0.0, uz / zz) : 0.0);
      if (!qmin) continue;  // no finite ratio: nothing to cut between
      const double amin = std::atan(qmin->get_d());
      const double amax = infinite ? half_pi : std::atan(qmax->get_d());
      if (!infinite && !(*qmin < *qmax)) continue;
      const double spread = amax - amin;
      if (!found || spread > best) {
        found = true;
        best = spread;
        *block = b;
        best_qmin = *qmin;
        best_qmax = infinite ? mpq_class(0) : *qmax;
        best_infinite = infinite;
      }
    }
    if (found && best > 1e-7) {
      const double amin = std::atan(best_qmin.get_d());
      const double amax = best_infinite ? half_pi : std::atan(best_qmax.get_d());
      const double mid = (amin + amax) / 2, quarter = (amax - amin) / 4;
      *t = simplest_between(std::tan(mid - quarter), std::tan(mid + quarter));
      // Exactly strictly between the ratios (then inside the box too).
      if (!(*t > best_qmin) || (!best_infinite && !(*t < best_qmax)))
        *t = best_infinite ? mpq_class(2 * best_qmin + 1) : mpq_class((best_qmin + best_qmax) / 2);
      return inside(lo, hi, *block, *t);
    }
    // Nearly a fit: the algebraic step may make it exact.
    if (fit_attempts_ < 8) {
      ++fit_attempts_;
      std::vector<double> zc;
      for (size_t i = 0; i < m * dz; ++i) zc.push_back(point[i].get_d());
      for (size_t i = sc_.bias_index(dz); i < point.size(); ++i) zc.push_back(point[i].get_d());
      std::string step;
      if (auto fit = algebraic_weights_from(ctx_, view_, ratio, zc, &step, counters_)) {
        fit_ = std::move(fit);
        return false;
      }
    }
    // Halve the widest interval, as angles.
    double widest = -1;
    for (size_t b = 0; b < nb; ++b) {
      const double w = (hi[b] ? std::atan(hi[b]->get_d()) : half_pi) - std::atan(lo[b].get_d());
      if (w > widest) {
        widest = w;
        *block = b;
      }
    }
    const size_t b = *block;
    const double al = std::atan(lo[b].get_d()), ah = hi[b] ? std::atan(hi[b]->get_d()) : half_pi;
    const double mid = (al + ah) / 2, quarter = (ah - al) / 4;
    *t = simplest_between(std::tan(mid - quarter), std::tan(mid + quarter));
    if (!(*t > lo[b]) || (hi[b] && !(*t < *hi[b]))) *t = hi[b] ? mpq_class((lo[b] + *hi[b]) / 2) : mpq_class(2 * lo[b] + 1);
    return inside(lo, hi, b, *t);
  }

  bool inside(const std::vector<mpq_class>& lo, const std::vector<std::optional<mpq_class>>& hi, size_t b,
              const mpq_class& t) {
    if (t <= lo[b] || (hi[b] && t >= *hi[b])) {
      why_ = "ratio boxes: no cut inside the box";
      return false;
    }
    return true;
  }

  const SearchContext& ctx_;
  const PatternView& view_;
  const SignCase& sc_;
  size_t max_boxes_;
  size_t boxes_ = 0;
  SearchCounters* counters_;
  size_t leaves_ = 0;
  int fit_attempts_ = 0;
  std::optional<ExactFit> fit_;
  std::string why_;
};

}  // namespace

RatioBoxOutcome refute_by_ratio_boxes(const SearchContext& ctx, const PatternView& view,
                                      size_t max_boxes, SearchCounters* counters) {
  if (view.signs.blocks.empty()) {
    RatioBoxOutcome out;
    out.why = "ratio boxes: no u blocks";
    return out;
  }
  return BoxSearch(ctx, view, max_boxes, counters).run();
}

}  // namespace relufit
