#include "algebra/breakpoints.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace relufit {
namespace {

int sign_of(const mpq_class& v) { return sgn(v); }

// Slopes s_i between consecutive points of output o (n - 1 of them).
std::vector<mpq_class> slopes(const SortedData1D& data, uint32_t o) {
  std::vector<mpq_class> s;
  for (size_t i = 0; i + 1 < data.x.size(); ++i)
    s.push_back((data.y[i + 1][o] - data.y[i][o]) / (data.x[i + 1] - data.x[i]));
  return s;
}

// The maximal runs (a, b) of interior indices (0-based: i = 1..n-2, e_i =
// sign(s_i - s_{i-1})) with equal nonzero signs.
std::vector<std::pair<size_t, size_t>> runs(const std::vector<mpq_class>& s) {
  std::vector<std::pair<size_t, size_t>> out;
  int current = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    const int e = sign_of(s[i] - s[i - 1]);
    if (e != 0 && e == current) {
      out.back().second = i;
    } else if (e != 0) {
      out.emplace_back(i, i);
    }
    current = e;
  }
  return out;
}

mpq_class eval(const Interpolant1D& g, const mpq_class& x) {
  mpq_class v = g.alpha + g.beta * x;
  for (const auto& [t, gamma] : g.knots)
    if (x > t) v += gamma * (x - t);
  return v;
}

bool polled_stop(const SearchControl& control) {
  if (control.cancelled && control.cancelled()) return true;
  return std::chrono::steady_clock::now() >= control.deadline;
}

// A subset F of the knots (bit t of the result) with
// beta + sum_{t in F} gamma_t = 0 as vectors, by a Gray-code walk over all
// subsets in exact integers (everything scaled by a common denominator).
// nullopt when none exists or the walk was stopped.
std::optional<uint64_t> facing_subset(const std::vector<mpq_class>& beta,
                                      const std::vector<std::vector<mpq_class>>& gamma,
                                      const SearchControl& control) {
  const size_t n = gamma.size(), k = beta.size();
  mpz_class den = 1;
  auto take = [&](const mpq_class& v) { mpz_lcm(den.get_mpz_t(), den.get_mpz_t(), v.get_den_mpz_t()); };
  for (const auto& v : beta) take(v);
  for (const auto& g : gamma)
    for (const auto& v : g) take(v);
  auto scaled = [&](const mpq_class& v) { return mpz_class(v.get_num() * (den / v.get_den())); };
  std::vector<mpz_class> target(k), sum(k, 0);
  for (size_t o = 0; o < k; ++o) target[o] = -scaled(beta[o]);
  std::vector<std::vector<mpz_class>> g(n, std::vector<mpz_class>(k));
  for (size_t t = 0; t < n; ++t)
    for (size_t o = 0; o < k; ++o) g[t][o] = scaled(gamma[t][o]);
  uint64_t mask = 0;
  const uint64_t total = uint64_t{1} << n;
  for (uint64_t step = 0;; ++step) {
    if (sum == target) return mask;
    if (step + 1 == total) return std::nullopt;
    if ((step & 4095) == 4095 && polled_stop(control)) return std::nullopt;
    const unsigned bit = static_cast<unsigned>(__builtin_ctzll(step + 1));
    mask ^= uint64_t{1} << bit;
    for (size_t o = 0; o < k; ++o) {
      if (mask >> bit & 1) sum[o] += g[bit][o];
      else sum[o] -= g[bit][o];
    }
  }
}

// Most knots for which the facing subsets are enumerated (2^20 subsets).
constexpr size_t kMaxFacingKnots = 20;

}  // namespace

std::optional<SortedData1D> sort_data_1d(const Problem& p) {
  if (p.input_dim != 1) return std::nullopt;
  std::vector<uint32_t> idx(p.num_samples());
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return p.x[a][0] < p.x[b][0]; });
  SortedData1D out;
  for (uint32_t i : idx) {
    if (!out.x.empty() && out.x.back() == p.x[i][0]) {
      if (out.y.back() != p.y[i]) return std::nullopt;
      continue;
    }
    out.x.push_back(p.x[i][0]);
    out.y.push_back(p.y[i]);
  }
  return out;
}

uint32_t min_breakpoints(const SortedData1D& data, uint32_t o) {
  uint32_t total = 0;
  for (const auto& [a, b] : runs(slopes(data, o))) total += static_cast<uint32_t>((b - a + 2) / 2);
  return total;
}

Interpolant1D sparsest_interpolant(const SortedData1D& data, uint32_t o) {
  Interpolant1D g;
  const auto& x = data.x;
  if (x.empty()) return g;
  if (x.size() == 1) {
    g.alpha = data.y[0][o];
    return g;
  }
  const std::vector<mpq_class> s = slopes(data, o);
  g.beta = s[0];
  g.alpha = data.y[0][o] - s[0] * x[0];
  for (const auto& [a, b] : runs(s)) {
    size_t i = a;
    for (; i + 1 <= b; i += 2) {
      // One knot for windows i and i + 1: where the line of [x_{i-1}, x_i]
      // (slope s_{i-1}) meets the line of [x_{i+1}, x_{i+2}] (slope s_{i+1}).
      const mpq_class& yi = data.y[i][o];
      const mpq_class& yi1 = data.y[i + 1][o];
      mpq_class t = (yi1 - yi + s[i - 1] * x[i] - s[i + 1] * x[i + 1]) / (s[i - 1] - s[i + 1]);
      g.knots.emplace_back(t, s[i + 1] - s[i - 1]);
    }
    if (i == b) g.knots.emplace_back(x[b], s[b] - s[b - 1]);  // odd leftover window
  }
  return g;
}

bool fit_1d_is_exact(const Problem& p, const Fit1D& fit) {
  const size_t m = fit.w.size();
  if (fit.b.size() != m || fit.a.size() != m || fit.c.size() != p.output_dim) return false;
  for (size_t i = 0; i < p.num_samples(); ++i) {
    std::vector<mpq_class> out(p.output_dim, 0);
    if (p.output_bias) out = fit.c;
    for (size_t j = 0; j < m; ++j) {
      mpq_class pre = fit.w[j] * p.x[i][0];
      if (p.hidden_bias) pre += fit.b[j];
      if (sgn(pre) <= 0) continue;
      for (size_t o = 0; o < p.output_dim; ++o) out[o] += fit.a[j][o] * pre;
    }
    if (out != p.y[i]) return false;
  }
  return true;
}

BreakpointDecision decide_by_breakpoints(const Problem& p, const SearchControl& control) {
  BreakpointDecision decision;
  auto data = sort_data_1d(p);
  if (!data) return decision;
  const uint32_t k = p.output_dim, m = p.hidden_width;
  for (uint32_t o = 0; o < k; ++o) {
    const uint32_t need = min_breakpoints(*data, o);
    if (need > m && need > decision.min_breakpoints) {
      decision.kind = BreakpointDecision::Kind::kInfeasible;
      decision.output = o;
      decision.min_breakpoints = need;
    }
  }
  if (decision.kind == BreakpointDecision::Kind::kInfeasible) return decision;
  if (!p.hidden_bias || !p.output_bias) return decision;

  // The outputs' sparsest interpolants over the union T of their knots.
  std::vector<mpq_class> alpha(k), beta(k);
  std::map<mpq_class, std::vector<mpq_class>> knots;  // t -> gamma (k entries)
  for (uint32_t o = 0; o < k; ++o) {
    const Interpolant1D g = sparsest_interpolant(*data, o);
    for (size_t i = 0; i < data->x.size(); ++i)
      if (eval(g, data->x[i]) != data->y[i][o]) return decision;  // never expected
    alpha[o] = g.alpha;
    beta[o] = g.beta;
    for (const auto& [t, gamma] : g.knots) {
      auto [it, inserted] = knots.try_emplace(t, std::vector<mpq_class>(k, 0));
      it->second[o] += gamma;
    }
  }
  std::vector<mpq_class> ts;
  std::vector<std::vector<mpq_class>> gammas;
  for (auto& [t, gamma] : knots) {
    ts.push_back(t);
    gammas.push_back(gamma);
  }
  const size_t T = ts.size();
  const bool linear = std::any_of(beta.begin(), beta.end(), [](const mpq_class& v) { return sgn(v) != 0; });

  Fit1D fit;
  fit.c = alpha;
  uint64_t facing = 0;  // bit t: knot t's neuron faces left
  if (m >= T + (linear ? 1 : 0)) {
    if (linear) {
      // beta max(0, x - (x_1 - 1)) = beta (x - x_1 + 1) at every sample.
      fit.w.push_back(1);
      fit.b.push_back(1 - data->x[0]);
      fit.a.push_back(beta);
      for (uint32_t o = 0; o < k; ++o) fit.c[o] += beta[o] * (data->x[0] - 1);
    }
  } else if (m == T && T <= kMaxFacingKnots) {
    // gamma max(0, x - t) = gamma (x - t) + gamma max(0, t - x): turning the
    // neurons of F to face left removes beta x iff beta + sum_F gamma_t = 0.
    auto subset = facing_subset(beta, gammas, control);
    if (!subset) return decision;
    facing = *subset;
  } else {
    return decision;
  }
  for (size_t t = 0; t < T; ++t) {
    if (facing >> t & 1) {
      fit.w.push_back(-1);
      fit.b.push_back(ts[t]);
      for (uint32_t o = 0; o < k; ++o) fit.c[o] -= gammas[t][o] * ts[t];
    } else {
      fit.w.push_back(1);
      fit.b.push_back(-ts[t]);
    }
    fit.a.push_back(gammas[t]);
  }
  while (fit.w.size() < m) {
    fit.w.push_back(0);
    fit.b.push_back(0);
    fit.a.push_back(std::vector<mpq_class>(k, 0));
  }
  if (!fit_1d_is_exact(p, fit)) return decision;  // never expected; the search decides
  decision.kind = BreakpointDecision::Kind::kFeasible;
  decision.fit = std::move(fit);
  return decision;
}

}  // namespace relufit
