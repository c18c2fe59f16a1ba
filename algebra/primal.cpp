#include "algebra/primal.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "algebra/lp.h"

namespace relufit {

namespace {

// try_float_pattern with the output-weight signs given.
std::optional<ExactFit> try_signs(const SearchContext& ctx, const FloatFit& fit,
                                  const std::vector<std::string>& signs, SearchCounters* counters) {
  const Problem& p = ctx.p;
  const uint32_t n = static_cast<uint32_t>(p.num_samples()), m = ctx.m, k = ctx.k;
  std::vector<std::vector<int>> tau;
  for (const std::string& s : signs) tau.push_back(sign_vector(s));
  const SignCase sc = SignCase::of(std::move(tau));
  std::vector<bool> dead(m, false);
  for (uint32_t j = 0; j < m; ++j) {
    double amax = 0, premax = 0;
    for (uint32_t o = 0; o < k; ++o) amax = std::max(amax, std::fabs(fit.a[j][o]));
    for (uint32_t i = 0; i < n; ++i) premax = std::max(premax, fit.pre[i][j]);
    // Lemma 1: a neuron that never acts is the zero neuron, inactive everywhere.
    dead[j] = premax <= 1e-9 || amax < 1e-9;
  }

  // The float fit in Lemma 1's normalisation: each neuron scaled so that its
  // lead output weight is +-1 (dead neurons at 0).
  std::vector<double> guide_r, guide_zc(static_cast<size_t>(m) * ctx.dz, 0.0);
  for (const auto& [j, o] : sc.blocks) {
    const double lead = std::fabs(fit.a[j][sc.lead[j]]);
    guide_r.push_back(dead[j] || lead == 0 ? 0.0 : fit.a[j][o] / lead);
  }
  for (uint32_t j = 0; j < m; ++j) {
    if (dead[j]) continue;
    const double lead = std::fabs(fit.a[j][sc.lead[j]]);
    for (uint32_t t = 0; t < ctx.dz; ++t) guide_zc[j * ctx.dz + t] = fit.z[j][t] * lead;
  }
  for (double c : fit.c) guide_zc.push_back(c);

  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::vector<std::string> path(n, std::string(m, '0'));
  struct Tie {
    uint32_t i, j;
    double margin;
  };
  std::vector<Tie> ties;
  for (uint32_t j = 0; j < m; ++j) {
    if (dead[j]) continue;
    double scale = 1;
    for (uint32_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(fit.pre[i][j]));
    for (uint32_t i = 0; i < n; ++i) {
      if (ctx.zero_input(i)) continue;
      const double v = fit.pre[i][j];
      if (v > 0) path[i][j] = '1';
      if (std::fabs(v) <= ctx.options.near_tie * scale) ties.push_back({i, j, std::fabs(v)});
    }
  }
  std::sort(ties.begin(), ties.end(), [](const Tie& a, const Tie& b) { return a.margin < b.margin; });
  if (ties.size() > ctx.options.max_tie_flips) ties.resize(ctx.options.max_tie_flips);

  auto attempt = [&](const std::vector<std::string>& pattern) -> std::optional<ExactFit> {
    const std::vector<LpRow> rows = path_rows(ctx, sc, order, pattern);
    LpResult res = solve_lp_feasibility(rows, ctx.num_vars(sc), nullptr);
    ++counters->lps;
    if (!res.feasible) return std::nullopt;
    const PatternView view{sc, order, pattern, rows};
    if (auto out = recover_weights(ctx, view, res.point, counters)) return out;
    // Several outputs: no rational output weights were found, but the float
    // fit itself guides the algebraic step (its own alternating least
    // squares may miss a solution that the trainer found).
    std::string step;
    return algebraic_weights_from(ctx, view, guide_r, guide_zc, &step, counters);
  };
  auto flip = [](std::vector<std::string>* pattern, const Tie& t) {
    char& c = (*pattern)[t.i][t.j];
    c = c == '1' ? '0' : '1';
  };
  if (auto out = attempt(path)) return out;
  for (const Tie& t : ties) {
    flip(&path, t);
    if (auto out = attempt(path)) return out;
    flip(&path, t);
  }
  if (ties.size() > 1) {
    for (const Tie& t : ties) flip(&path, t);
    if (auto out = attempt(path)) return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ExactFit> try_float_pattern(const SearchContext& ctx, const FloatFit& fit,
                                          SearchCounters* counters) {
  const std::vector<std::string> signs = float_fit_signs(ctx.p, fit);
  if (auto out = try_signs(ctx, fit, signs, counters)) return out;
  // A trainer often reaches a fit whose exact counterpart has some output
  // weights 0 by a neuron whose small weight there is balanced by huge ones
  // elsewhere: read weights below a hundredth of the neuron's largest as 0.
  if (ctx.k > 1) {
    const std::vector<std::string> coarse = float_fit_signs(ctx.p, fit, 1e-2);
    if (coarse != signs) return try_signs(ctx, fit, coarse, counters);
  }
  return std::nullopt;
}

}  // namespace relufit
