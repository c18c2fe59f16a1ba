// The search's constants in one record, with defaults, validated once
// (after HiGHS's options records). Only efficiency depends on them: every
// answer is exact and checked whatever they are.
#pragma once

#include <cstdint>
#include <string>

namespace relufit {

struct SearchOptions {
  // Threads for one solve (the calling thread and helpers from the shared
  // pool); 0: every core.
  unsigned threads = 0;
  // Node visits a subtree task runs before it yields to the next one (round
  // robin over the sign cases); each yield doubles it, up to max_slice.
  uint64_t first_slice = 256;
  uint64_t max_slice = uint64_t{1} << 16;
  // A sign case whose search grows past restart_nodes (times restart_growth
  // with each restart) starts again with another sample order; 0: never.
  uint64_t restart_nodes = 1000000;
  uint32_t restart_growth = 4;
  // Primal heuristic on or off (off: the search alone, as in proofs of
  // concept and tests of the search's limits).
  bool primal_heuristic = true;
  // Primal heuristic (a float fit whose activation pattern goes to the exact
  // LP): at the root for at most root_heuristic_seconds and
  // root_heuristic_starts starts, then each time the node count doubles past
  // heuristic_after_nodes, for heuristic_fraction of the time spent so far
  // (at most heuristic_max_seconds, and a twentieth of the time left).
  double root_heuristic_seconds = 0.1;
  uint32_t root_heuristic_starts = 16;
  uint64_t heuristic_after_nodes = 1000;
  double heuristic_fraction = 0.125;
  double heuristic_max_seconds = 1.0;
  // Pre-activations within near_tie (relative to the fit's scale) of 0 may
  // sit on either side: up to max_tie_flips of them are flipped one at a
  // time (then all together) when the float pattern's LP fails.
  double near_tie = 1e-6;
  uint32_t max_tie_flips = 16;
  // When a float fit names a sign case but its pattern fails, that case's
  // next task runs at least head_start_nodes nodes at once.
  uint64_t head_start_nodes = 20000;
  // Several outputs: degree-2 product certificates (algebra/products.h)
  // are tried at complete patterns that nothing else decides, and at inner
  // nodes with at most products_samples_left samples still undecided whose
  // LP holds (0: complete patterns only); there the pairwise products take
  // at least one row of the last products_recent_samples decided samples
  // (0: all pairs).
  uint32_t products_samples_left = 1;
  // false: no product certificates at all (tests and experiments).
  bool product_certificates = true;
  uint32_t products_recent_samples = 1;
  // Several outputs: a complete pattern that nothing else decides gets a
  // branch and bound over its output-weight ratios (algebra/ratio_boxes.h)
  // of at most ratio_boxes boxes, one exact LP each (0: never).
  uint64_t ratio_boxes = 500;
  // Labels spanning as many dimensions as the network's outputs can
  // (algebra/feature_span.h): decided by exact linear algebra and LPs over
  // the 2^n activation sets before any search, when n is at most
  // feature_span_max_samples (false: always search; tests of the search).
  bool feature_span = true;
  uint32_t feature_span_max_samples = 12;
  // Progress callbacks, about this often.
  double progress_seconds = 0.5;

  // Empty when every value is admissible, else the first problem found.
  std::string validate() const {
    if (first_slice == 0 || max_slice < first_slice) return "first_slice must be in 1..max_slice";
    if (restart_growth < 2 || restart_growth > 16) return "restart_growth must be in 2..16";
    if (!(root_heuristic_seconds >= 0) || !(heuristic_max_seconds >= 0))
      return "heuristic times must be >= 0";
    if (!(heuristic_fraction >= 0 && heuristic_fraction <= 1))
      return "heuristic_fraction must be in [0, 1]";
    if (!(near_tie >= 0 && near_tie < 1)) return "near_tie must be in [0, 1)";
    if (threads > 1024) return "threads must be at most 1024";
    if (feature_span_max_samples > 16) return "feature_span_max_samples must be at most 16";
    if (!(progress_seconds > 0)) return "progress_seconds must be positive";
    return "";
  }
};

}  // namespace relufit
