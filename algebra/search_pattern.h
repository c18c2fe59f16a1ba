// Complete activation patterns: recovering exact weights (DESIGN.md 2.6 b
// and c) and proving a pattern empty by a pinned output-weight direction
// (proto: KIND_PINNED_DIRECTION). Called by node evaluation at full depth
// and by the primal heuristic.
#pragma once

#include <gmpxx.h>

#include <optional>
#include <string>
#include <vector>

#include "algebra/algebraic.h"
#include "algebra/answer.h"
#include "algebra/search_rows.h"

namespace relufit {

// A complete pattern of one sign case: the activation of sample order[s] is
// path[s]; rows are its node LP rows (path_rows).
struct PatternView {
  const SignCase& signs;
  const std::vector<uint32_t>& order;
  const std::vector<std::string>& path;
  const std::vector<LpRow>& rows;
};


// At a complete pattern whose relaxation holds at `point`: for one output
// the point is a fit; for several, rational output weights from the data
// and the relaxed point, each tried with the exact LP in (z, c).
std::optional<ExactFit> recover_weights(const SearchContext& ctx, const PatternView& view,
                                        const std::vector<mpq_class>& point,
                                        SearchCounters* counters);

// The algebraic step (algebra/algebraic.h) from alternating-least-squares
// starts; on failure *step says where it stopped.
std::optional<ExactFit> algebraic_weights(const SearchContext& ctx, const PatternView& view,
                                          std::string* step, SearchCounters* counters);

// The algebraic step from a given float guide: r holds the free output
// weights (one per block of the view's sign case), zc the z blocks and then
// c, in the normalisation of Lemma 1 (each neuron's lead weight +-1).
std::optional<ExactFit> algebraic_weights_from(const SearchContext& ctx, const PatternView& view,
                                               const std::vector<double>& r,
                                               const std::vector<double>& zc, std::string* step,
                                               SearchCounters* counters);

// Fills *node as a KIND_PINNED_DIRECTION leaf and returns true when a
// direction pinned by the data proves the pattern empty.
bool prove_pinned(const SearchContext& ctx, const PatternView& view, ProofNodeData* node,
                  SearchCounters* counters);

// "sign case (+ -), activation pattern 3:10 0:01 ..." for messages.
std::string describe_pattern(const PatternView& view);

// The nonzero entries of a Farkas vector, as the proto lists them.
std::vector<FarkasEntryData> sparse_farkas(const std::vector<mpq_class>& farkas);

}  // namespace relufit
