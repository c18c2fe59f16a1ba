// "Decide this subtree": the depth-first search below one node of a sign
// case's tree, as a function of (problem, sign case, sample order, prefix).
// It returns a fit, a proof of the subtree, or the subtree's open nodes;
// proofs of subtrees searched elsewhere (other threads, processes or
// machines) are spliced in by reference (ProofItem::ref), so the scheduler
// can split a running subtree and merge the parts into one case tree.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "algebra/answer.h"
#include "algebra/search_pattern.h"
#include "algebra/search_rows.h"

namespace relufit {

// One sign case as searched by one attempt: its signs and sample order.
struct CaseSpec {
  SignCase signs;
  std::vector<uint32_t> order;
  uint64_t order_id = 0;  // equal ids mean equal orders (for the column memo)
};

// A node of a case tree: the activations of samples order[0..path.size()),
// and an LP point of its parent (a hint: children whose rows it satisfies
// need no LP; any point, even all zeros, is correct).
struct SubtreeRoot {
  std::vector<std::string> path;
  std::shared_ptr<const std::vector<mpq_class>> point;
};

// One entry of a proof in preorder: a node, or (ref != kNoRef) the place of
// another subtree's whole proof.
struct ProofItem {
  static constexpr uint64_t kNoRef = ~uint64_t{0};
  ProofNodeData node;
  uint64_t ref = kNoRef;
};

// What visiting one node showed.
enum class NodeOutcome {
  kUnrealizable,  // a neuron's column is no half-space dichotomy (leaf)
  kLpInfeasible,  // the node LP is infeasible (leaf)
  kPinned,        // a complete pattern refuted by a pinned direction (leaf)
  kProducts,      // refuted by a degree-2 product certificate (leaf)
  kRatioBoxes,    // a complete pattern refuted by ratio boxes (leaf)
  kBranched,      // children to search
  kFit,           // exact weights fit every sample
  kUndecided,     // a complete pattern neither fitted nor refuted
};

// The node LP of a sign case falls apart by outputs: output o's rows (its
// equalities, the sign rows of the z blocks whose lead is o and of the u
// blocks of o) touch only output o's variables. Written in each neuron's
// own sign (z_j, or tau_jo u_jo for a u block), output o's part depends only
// on which neurons output o has and their signs, not on the rest of the
// sign case, so cases that agree on output o share it. An entry: the part's
// point (feasible) or its Farkas vector (over the part's rows), in the
// part's own order (OutputPart).
struct OutputLpEntry {
  bool feasible = false;
  std::vector<mpq_class> values;
};

// What a thread remembers across nodes, sign cases and subtrees.
struct NodeMemo {
  // Realizability of columns, per sample order: column -> Farkas vector
  // (empty when realizable).
  std::unordered_map<uint64_t, std::unordered_map<std::string, std::vector<mpq_class>>> columns;
  // Output parts of node LPs: key (order, output, signs, activations) ->
  // entry; cleared when it grows past kMaxOutputEntries.
  std::unordered_map<std::string, OutputLpEntry> outputs;
  static constexpr size_t kMaxOutputEntries = 1 << 20;
};

// One output's part of a sign case's node LP (see OutputLpEntry): per
// decided sample, the rows at these offsets within the sample's R rows (its
// equality, then the present neurons' sign rows in neuron order); the
// variables (global index, and the sign that turns the global value into
// the part's: -1 for a u block with tau = -1).
struct OutputPart {
  uint32_t output = 0;
  std::string signs;                 // per neuron: '0' absent, '+' or '-'
  std::vector<uint32_t> present;     // neurons with a block in this output
  std::vector<uint32_t> row_offsets;
  std::vector<size_t> vars;
  std::vector<int> var_sign;
};
std::vector<OutputPart> output_parts(const SearchContext& ctx, const SignCase& sc);

class SubtreeSearch {
 public:
  enum class Status { kFit, kDone, kBudget, kPaused };
  // What the poll asks before each node visit.
  enum class Poll { kGo, kPause };

  SubtreeSearch(const SearchContext& ctx, std::shared_ptr<const CaseSpec> spec, SubtreeRoot root);

  // Visits at most `budget` nodes. kDone: the subtree is decided (proof()
  // complete but for references to donated parts); kFit: fit() holds exact
  // weights; kBudget: nodes left; kPaused: `poll` asked to pause.
  Status run(uint64_t budget, const std::function<Poll()>& poll, NodeMemo* memo,
             SearchCounters* counters);

  // Splits off the untried children of the shallowest node that has any:
  // each becomes a root (with an id from new_id) searched elsewhere, and its
  // proof's place here becomes a reference. Empty when nothing is left.
  std::vector<std::pair<uint64_t, SubtreeRoot>> donate(const std::function<uint64_t()>& new_id);

  // Ends the search here: every open node becomes a root as in donate(), so
  // proof() is then complete with references to them.
  std::vector<std::pair<uint64_t, SubtreeRoot>> close(const std::function<uint64_t()>& new_id);

  const std::vector<ProofItem>& proof() const { return proof_; }
  std::vector<ProofItem> take_proof() { return std::move(proof_); }
  std::optional<ExactFit>& fit() { return fit_; }
  // The first complete pattern that was neither fitted nor refuted.
  const std::string& undecided() const { return undecided_; }
  const std::string& undecided_step() const { return undecided_step_; }
  uint64_t nodes() const { return nodes_; }
  const CaseSpec& spec() const { return *spec_; }

 private:
  struct Frame {
    size_t depth = 0;
    std::string act;  // activation of sample order[depth - 1]
    std::shared_ptr<const std::vector<mpq_class>> point;  // parent's until visited
    bool visited = false;
    std::vector<std::string> kids;
    size_t next_kid = 0;
    std::vector<uint64_t> donated;  // references after the kids searched here
  };

  NodeOutcome visit(NodeMemo* memo, SearchCounters* counters);
  const std::vector<mpq_class>& realizability(uint32_t j, NodeMemo* memo, SearchCounters* counters);
  // The node LP by output parts: nullopt and *farkas (over rows_) when a
  // part is infeasible; else the point (the parent's, or updated where a
  // part needed its own).
  bool node_lp(const std::vector<mpq_class>& parent, NodeMemo* memo, SearchCounters* counters,
               std::shared_ptr<const std::vector<mpq_class>>* point, std::vector<mpq_class>* farkas);
  std::vector<std::string> children(size_t depth, const std::vector<mpq_class>& point) const;
  void pop();
  SubtreeRoot root_below(const Frame& f, const std::string& kid) const;
  // Makes f's untried children roots of their own (ids from new_id) and
  // leaves references to them in f's place in the proof.
  void give_away_untried(Frame& f, const std::function<uint64_t()>& new_id,
                         std::vector<std::pair<uint64_t, SubtreeRoot>>* out);

  const SearchContext& ctx_;
  std::shared_ptr<const CaseSpec> spec_;
  std::vector<Frame> stack_;
  std::vector<std::string> path_;  // from the case root
  std::vector<LpRow> rows_;        // node LP rows of path_
  std::vector<ProofItem> proof_;
  std::vector<OutputPart> parts_;
  std::optional<ExactFit> fit_;
  std::string undecided_, undecided_step_;
  uint64_t nodes_ = 0;
};

// The subtree below `root` as one call: a fit, a complete proof, or (when
// `node_budget` runs out) the proof so far with references 0, 1, ... to the
// open nodes returned in `open`.
struct SubtreeResult {
  std::optional<ExactFit> fit;
  std::vector<ProofItem> proof;
  std::vector<SubtreeRoot> open;
  std::string undecided;  // a complete pattern neither fitted nor refuted, if any
};
SubtreeResult decide_subtree(const SearchContext& ctx, std::shared_ptr<const CaseSpec> spec,
                             SubtreeRoot root, uint64_t node_budget, SearchCounters* counters);

// The case tree of one sign case in preorder, from the proof of its root
// subtree and the proofs of the referenced ones (by id).
std::vector<ProofNodeData> splice_proof(uint64_t root_id,
                                        std::unordered_map<uint64_t, std::vector<ProofItem>>* parts);

}  // namespace relufit
