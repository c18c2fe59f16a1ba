#include "algebra/search_rows.h"

#include <algorithm>

namespace relufit {

SearchContext::SearchContext(const Problem& problem, const SearchOptions& opts)
    : p(problem), options(opts) {
  m = p.hidden_width;
  k = p.output_dim;
  dz = p.input_dim + (p.hidden_bias ? 1 : 0);
  xt.resize(p.num_samples());
  for (size_t i = 0; i < p.num_samples(); ++i) {
    xt[i] = p.x[i];
    if (p.hidden_bias) xt[i].push_back(1);
  }
}

bool SearchContext::zero_input(uint32_t i) const {
  return !p.hidden_bias &&
         std::all_of(p.x[i].begin(), p.x[i].end(), [](const mpq_class& v) { return sgn(v) == 0; });
}

void append_sample_rows(const SearchContext& ctx, const SignCase& sc, uint32_t i,
                        const std::string& act, std::vector<LpRow>* rows) {
  const uint32_t m = ctx.m, k = ctx.k, dz = ctx.dz;
  const size_t nv = ctx.num_vars(sc);
  const size_t c0 = sc.bias_index(dz);
  const auto& xt = ctx.xt[i];
  for (uint32_t o = 0; o < k; ++o) {
    LpRow eq;
    eq.coeffs.assign(nv, mpq_class(0));
    eq.sense = RowSense::kEqual;
    eq.rhs = ctx.p.y[i][o];
    for (uint32_t j = 0; j < m; ++j) {
      if (act[j] != '1') continue;
      long block = -1;
      int factor = 0;
      if (o == sc.lead[j]) {
        block = j;
        factor = sc.sign(j, o);
      } else if (int b = sc.block_of(j, o); b >= 0) {
        block = m + b;
        factor = 1;
      }
      if (block < 0) continue;
      for (uint32_t t = 0; t < dz; ++t) eq.coeffs[block * dz + t] = factor * xt[t];
    }
    if (ctx.p.output_bias) eq.coeffs[c0 + o] = 1;
    rows->push_back(std::move(eq));
  }
  auto sign_row = [&](size_t block, int factor) {
    LpRow g;
    g.coeffs.assign(nv, mpq_class(0));
    g.sense = RowSense::kGreaterEqual;
    for (uint32_t t = 0; t < dz; ++t) g.coeffs[block * dz + t] = factor * xt[t];
    rows->push_back(std::move(g));
  };
  for (uint32_t j = 0; j < m; ++j) sign_row(j, act[j] == '1' ? 1 : -1);
  for (size_t b = 0; b < sc.blocks.size(); ++b) {
    const auto [j, o] = sc.blocks[b];
    sign_row(m + b, sc.sign(j, o) * (act[j] == '1' ? 1 : -1));
  }
}

std::vector<LpRow> path_rows(const SearchContext& ctx, const SignCase& sc,
                             const std::vector<uint32_t>& order,
                             const std::vector<std::string>& path) {
  std::vector<LpRow> rows;
  rows.reserve(path.size() * sc.rows_per_sample());
  for (size_t s = 0; s < path.size(); ++s) append_sample_rows(ctx, sc, order[s], path[s], &rows);
  return rows;
}

std::vector<LpRow> column_rows(const SearchContext& ctx, const std::vector<uint32_t>& order,
                               const std::string& key) {
  std::vector<LpRow> rows;
  for (size_t s = 0; s < key.size(); ++s) {
    LpRow r;
    const int sigma = key[s] == '1' ? 1 : -1;
    r.coeffs.resize(ctx.dz);
    for (uint32_t t = 0; t < ctx.dz; ++t) r.coeffs[t] = sigma * ctx.xt[order[s]][t];
    r.rhs = key[s] == '1' ? 1 : 0;
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<LpRow> fixed_output_rows(const SearchContext& ctx, const std::vector<uint32_t>& order,
                                     const std::vector<std::string>& path,
                                     const std::vector<std::vector<mpq_class>>& a) {
  const uint32_t m = ctx.m, k = ctx.k, dz = ctx.dz;
  const size_t nv = m * dz + (ctx.p.output_bias ? k : 0);
  std::vector<LpRow> rows;
  for (size_t s = 0; s < path.size(); ++s) {
    const uint32_t i = order[s];
    const std::string& act = path[s];
    for (uint32_t o = 0; o < k; ++o) {
      LpRow eq;
      eq.coeffs.assign(nv, mpq_class(0));
      eq.sense = RowSense::kEqual;
      eq.rhs = ctx.p.y[i][o];
      for (uint32_t j = 0; j < m; ++j)
        if (act[j] == '1' && sgn(a[j][o]) != 0)
          for (uint32_t t = 0; t < dz; ++t) eq.coeffs[j * dz + t] = a[j][o] * ctx.xt[i][t];
      if (ctx.p.output_bias) eq.coeffs[m * dz + o] = 1;
      rows.push_back(std::move(eq));
    }
    for (uint32_t j = 0; j < m; ++j) {
      LpRow g;
      g.coeffs.assign(nv, mpq_class(0));
      g.sense = RowSense::kGreaterEqual;
      for (uint32_t t = 0; t < dz; ++t) g.coeffs[j * dz + t] = (act[j] == '1' ? 1 : -1) * ctx.xt[i][t];
      rows.push_back(std::move(g));
    }
  }
  return rows;
}

void append_pinned_rows(const SearchContext& ctx, const SignCase& sc, uint32_t j,
                        const std::vector<mpq_class>& a_j, std::vector<LpRow>* rows) {
  const size_t nv = ctx.num_vars(sc);
  for (size_t b = 0; b < sc.blocks.size(); ++b) {
    if (sc.blocks[b].first != j) continue;
    const uint32_t o = sc.blocks[b].second;
    for (uint32_t t = 0; t < ctx.dz; ++t) {
      LpRow eq;
      eq.coeffs.assign(nv, mpq_class(0));
      eq.sense = RowSense::kEqual;
      eq.coeffs[(ctx.m + b) * ctx.dz + t] = 1;
      eq.coeffs[j * ctx.dz + t] = -a_j[o];
      rows->push_back(std::move(eq));
    }
  }
}

std::vector<std::string> admissible_children(const SearchContext& ctx, const SignCase& sc,
                                             uint32_t sample, const std::vector<std::string>& path,
                                             const std::vector<mpq_class>& point) {
  const uint32_t m = ctx.m, dz = ctx.dz;
  std::string predicted(m, '0');
  // x~ = 0: every activation gives the same rows, so one child stands for all.
  if (ctx.zero_input(sample)) return {predicted};
  for (uint32_t j = 0; j < m && !point.empty(); ++j) {
    mpq_class v = 0;
    for (uint32_t t = 0; t < dz; ++t) v += point[j * dz + t] * ctx.xt[sample][t];
    if (sgn(v) > 0) predicted[j] = '1';
  }
  // tied[j]: neurons j, j+1 share a sign group and agree on all decided samples.
  std::vector<bool> tied(m, false);
  for (uint32_t j = 0; j + 1 < m; ++j) {
    if (!sc.same_type(j, j + 1)) continue;
    bool same = true;
    for (const auto& act : path) same = same && act[j] == act[j + 1];
    tied[j] = same;
  }
  std::vector<std::string> out;
  for (uint32_t mask = 0; mask < (1u << m); ++mask) {
    std::string act(m, '0');
    for (uint32_t j = 0; j < m; ++j)
      if (mask & (1u << j)) act[j] = '1';
    bool ok = true;
    for (uint32_t j = 0; j + 1 < m && ok; ++j)
      if (tied[j] && act[j] == '0' && act[j + 1] == '1') ok = false;
    if (ok) out.push_back(act);
  }
  auto distance = [&](const std::string& a) {
    int d = 0;
    for (uint32_t j = 0; j < m; ++j) d += a[j] != predicted[j];
    return d;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const std::string& a, const std::string& b) { return distance(a) < distance(b); });
  return out;
}

}  // namespace relufit
