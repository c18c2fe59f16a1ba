// The search's fixed data for one problem and the one builder of its LP
// rows, in the canonical order documented on CaseTree in the proto (the
// checker rebuilds the same rows from the request alone).
#pragma once

#include <gmpxx.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "algebra/lp.h"
#include "algebra/problem.h"
#include "algebra/search.h"
#include "algebra/search_options.h"

namespace relufit {

// What every part of one solve reads and nothing writes after construction.
struct SearchContext {
  SearchContext(const Problem& problem, const SearchOptions& opts);

  const Problem& p;
  SearchOptions options;
  uint32_t m = 0, k = 0, dz = 0;
  std::vector<std::vector<mpq_class>> xt;  // per sample: x, then 1 with hidden bias

  // Whether sample i has x~ = 0 (x = 0 without hidden bias): every neuron is
  // at 0 there, so Lemma 2's canonical pattern has it inactive.
  bool zero_input(uint32_t i) const;
  size_t num_vars(const SignCase& sc) const { return sc.num_vars(dz, p.output_bias); }
};

// Work counters of one solve, shared by its threads.
struct SearchCounters {
  std::atomic<uint64_t> nodes{0};
  std::atomic<uint64_t> lps{0};
  std::atomic<uint32_t> max_depth{0};
  void note_depth(uint32_t depth) {
    uint32_t seen = max_depth.load(std::memory_order_relaxed);
    while (depth > seen && !max_depth.compare_exchange_weak(seen, depth)) {
    }
  }
};

// Rows of `sample` with activation `act` in sign case `sc`: k equalities, m
// sign rows of the z blocks, one sign row per u block (proto: CaseTree).
void append_sample_rows(const SearchContext& ctx, const SignCase& sc, uint32_t sample,
                        const std::string& act, std::vector<LpRow>* rows);

// The node LP of a path: the rows of samples order[0..path.size()).
std::vector<LpRow> path_rows(const SearchContext& ctx, const SignCase& sc,
                             const std::vector<uint32_t>& order,
                             const std::vector<std::string>& path);

// Realizability of one neuron's column `key` ('1'/'0' per decided sample in
// `order`): sigma_s (z . x~_i) >= [active] in z (proto: KIND_UNREALIZABLE).
std::vector<LpRow> column_rows(const SearchContext& ctx, const std::vector<uint32_t>& order,
                               const std::string& key);

// The exact LP in (z, c) of a complete path with every output weight fixed
// to `a` (m x k): variables z_0..z_{m-1}, then c.
std::vector<LpRow> fixed_output_rows(const SearchContext& ctx, const std::vector<uint32_t>& order,
                                     const std::vector<std::string>& path,
                                     const std::vector<std::vector<mpq_class>>& a);

// The children of a node (proto: Lemma 2): the activation vectors of
// `sample`, decided after the samples of `path`, that the symmetry rule
// allows in sign case `sc` (one, all inactive, for a sample with x~ = 0);
// the one `point` (an LP point whose z blocks come first; empty: none)
// predicts first, then by Hamming distance from it.
std::vector<std::string> admissible_children(const SearchContext& ctx, const SignCase& sc,
                                             uint32_t sample, const std::vector<std::string>& path,
                                             const std::vector<mpq_class>& point);

// The pinned-direction rows u_jo - a_jo z_j = 0 for neuron j's blocks.
void append_pinned_rows(const SearchContext& ctx, const SignCase& sc, uint32_t j,
                        const std::vector<mpq_class>& a_j, std::vector<LpRow>* rows);

}  // namespace relufit
