// The primal heuristic (DESIGN.md 5): the activation pattern of a float fit,
// and of its near-tie neighbours, goes to the exact LP. Floats only choose
// the pattern; a returned fit is exact (and is checked again by the checker).
#pragma once

#include <optional>

#include "algebra/float_guide.h"
#include "algebra/search_pattern.h"

namespace relufit {

// The sign case of `fit` (neurons in their own order, which a fit need not
// keep sorted), its pattern, then each near tie flipped alone, then all of
// them: the first pattern whose exact LP holds and whose weights are
// recovered exactly gives the fit.
std::optional<ExactFit> try_float_pattern(const SearchContext& ctx, const FloatFit& fit,
                                          SearchCounters* counters);

}  // namespace relufit
