#include "algebra/search_subtree.h"

#include <algorithm>

#include "algebra/lp.h"
#include "algebra/products.h"
#include "algebra/ratio_boxes.h"

namespace relufit {

SubtreeSearch::SubtreeSearch(const SearchContext& ctx, std::shared_ptr<const CaseSpec> spec,
                             SubtreeRoot root)
    : ctx_(ctx), spec_(std::move(spec)) {
  path_ = std::move(root.path);
  rows_ = path_rows(ctx_, spec_->signs, spec_->order, path_);
  parts_ = output_parts(ctx_, spec_->signs);
  Frame f;
  f.depth = path_.size();
  if (!path_.empty()) f.act = path_.back();
  f.point = root.point ? root.point
                       : std::make_shared<const std::vector<mpq_class>>(ctx_.num_vars(spec_->signs),
                                                                        mpq_class(0));
  stack_.push_back(std::move(f));
}

const std::vector<mpq_class>& SubtreeSearch::realizability(uint32_t j, NodeMemo* memo,
                                                           SearchCounters* counters) {
  std::string key;
  key.reserve(path_.size());
  for (const auto& act : path_) key.push_back(act[j]);
  auto& table = memo->columns[spec_->order_id];
  auto it = table.find(key);
  if (it != table.end()) return it->second;
  std::vector<mpq_class> farkas;
  if (key.find('1') != std::string::npos) {
    LpResult res = solve_lp_feasibility(column_rows(ctx_, spec_->order, key), ctx_.dz, nullptr);
    ++counters->lps;
    if (!res.feasible) farkas = std::move(res.farkas);
  }
  return table.emplace(std::move(key), std::move(farkas)).first->second;
}

std::vector<OutputPart> output_parts(const SearchContext& ctx, const SignCase& sc) {
  std::vector<OutputPart> parts(ctx.k);
  for (uint32_t o = 0; o < ctx.k; ++o) {
    OutputPart& p = parts[o];
    p.output = o;
    p.signs.assign(ctx.m, '0');
    p.row_offsets.push_back(o);
    for (uint32_t j = 0; j < ctx.m; ++j) {
      size_t block = 0, sign_row = 0;
      int sign = 1;
      if (sc.lead[j] == o) {
        block = j;
        sign_row = ctx.k + j;
        p.signs[j] = sc.sign(j, o) > 0 ? '+' : '-';
      } else if (int b = sc.block_of(j, o); b >= 0) {
        block = ctx.m + static_cast<size_t>(b);
        sign_row = ctx.k + ctx.m + static_cast<size_t>(b);
        sign = sc.sign(j, o);
        p.signs[j] = sign > 0 ? '+' : '-';
      } else {
        continue;
      }
      p.present.push_back(j);
      p.row_offsets.push_back(static_cast<uint32_t>(sign_row));
      for (uint32_t t = 0; t < ctx.dz; ++t) {
        p.vars.push_back(block * ctx.dz + t);
        p.var_sign.push_back(sign);
      }
    }
    if (ctx.p.output_bias) {
      p.vars.push_back(sc.bias_index(ctx.dz) + o);
      p.var_sign.push_back(1);
    }
  }
  return parts;
}

bool SubtreeSearch::node_lp(const std::vector<mpq_class>& parent, NodeMemo* memo, SearchCounters* counters,
                            std::shared_ptr<const std::vector<mpq_class>>* point,
                            std::vector<mpq_class>* farkas) {
  const size_t R = spec_->signs.rows_per_sample();
  const size_t depth = path_.size();
  if (parts_.size() == 1) {
    // One output: the part is the whole LP, and every sign case gives it
    // other signs, so nothing is shared; solve it in place.
    const auto first_new = rows_.cend() - static_cast<long>(R);
    if (point_satisfies(first_new, rows_.cend(), parent)) return true;
    LpResult res = solve_lp_feasibility(rows_, ctx_.num_vars(spec_->signs), nullptr);
    ++counters->lps;
    if (!res.feasible) {
      *farkas = std::move(res.farkas);
      return false;
    }
    *point = std::make_shared<const std::vector<mpq_class>>(std::move(res.point));
    return true;
  }
  std::vector<mpq_class> updated;  // the parent's point with new parts, once one is needed
  for (const OutputPart& part : parts_) {
    // The parent's point often satisfies the new sample's rows already.
    bool holds = true;
    for (uint32_t off : part.row_offsets) {
      const auto row = rows_.cbegin() + static_cast<long>(R * (depth - 1) + off);
      if (!point_satisfies(row, row + 1, parent)) {
        holds = false;
        break;
      }
    }
    if (holds) continue;
    std::string key(reinterpret_cast<const char*>(&spec_->order_id), sizeof(uint64_t));
    key.push_back(static_cast<char>(part.output));
    key += part.signs;
    // The depth too: a part without neurons has no activations to tell it.
    key.append(reinterpret_cast<const char*>(&depth), sizeof(depth));
    for (const auto& act : path_)
      for (uint32_t j : part.present) key.push_back(act[j]);
    auto it = memo->outputs.find(key);
    if (it == memo->outputs.end()) {
      // The part's rows in its own variables.
      std::vector<LpRow> rows;
      rows.reserve(depth * part.row_offsets.size());
      for (size_t s = 0; s < depth; ++s)
        for (uint32_t off : part.row_offsets) {
          const LpRow& g = rows_[R * s + off];
          LpRow r;
          r.sense = g.sense;
          r.rhs = g.rhs;
          r.coeffs.resize(part.vars.size());
          for (size_t l = 0; l < part.vars.size(); ++l) {
            r.coeffs[l] = g.coeffs[part.vars[l]];
            if (part.var_sign[l] < 0) r.coeffs[l] = -r.coeffs[l];
          }
          rows.push_back(std::move(r));
        }
      LpResult res = solve_lp_feasibility(rows, part.vars.size(), nullptr);
      ++counters->lps;
      if (memo->outputs.size() >= NodeMemo::kMaxOutputEntries) memo->outputs.clear();
      OutputLpEntry e;
      e.feasible = res.feasible;
      e.values = res.feasible ? std::move(res.point) : std::move(res.farkas);
      it = memo->outputs.emplace(std::move(key), std::move(e)).first;
    }
    const OutputLpEntry& e = it->second;
    if (!e.feasible) {
      farkas->assign(rows_.size(), mpq_class(0));
      size_t l = 0;
      for (size_t s = 0; s < depth; ++s)
        for (uint32_t off : part.row_offsets) (*farkas)[R * s + off] = e.values[l++];
      return false;
    }
    if (updated.empty()) updated = parent;
    for (size_t l = 0; l < part.vars.size(); ++l)
      updated[part.vars[l]] = part.var_sign[l] < 0 ? mpq_class(-e.values[l]) : e.values[l];
  }
  if (!updated.empty()) *point = std::make_shared<const std::vector<mpq_class>>(std::move(updated));
  return true;
}

std::vector<std::string> SubtreeSearch::children(size_t depth, const std::vector<mpq_class>& point) const {
  return admissible_children(ctx_, spec_->signs, spec_->order[depth], path_, point);
}

// Visits the node on top of the stack: records it in the proof, cuts it with
// a certificate, decides a complete pattern, or prepares its children.
NodeOutcome SubtreeSearch::visit(NodeMemo* memo, SearchCounters* counters) {
  Frame& f = stack_.back();
  f.visited = true;
  ++counters->nodes;
  ++nodes_;
  counters->note_depth(static_cast<uint32_t>(f.depth));
  ProofItem item;
  ProofNodeData& node = item.node;
  node.depth = static_cast<uint32_t>(f.depth);
  node.activation = f.act;
  node.kind = ProofNodeKind::kBranch;
  const SignCase& sc = spec_->signs;
  if (f.depth > 0) {
    for (uint32_t j = 0; j < ctx_.m; ++j) {
      const auto& farkas = realizability(j, memo, counters);
      if (!farkas.empty()) {
        node.kind = ProofNodeKind::kUnrealizable;
        node.neuron = j;
        node.farkas = sparse_farkas(farkas);
        proof_.push_back(std::move(item));
        return NodeOutcome::kUnrealizable;
      }
    }
    std::vector<mpq_class> farkas;
    if (!node_lp(*f.point, memo, counters, &f.point, &farkas)) {
      node.kind = ProofNodeKind::kLpInfeasible;
      node.farkas = sparse_farkas(farkas);
      proof_.push_back(std::move(item));
      return NodeOutcome::kLpInfeasible;
    }
  }
  // Several outputs, a few samples from the bottom: the coupling of the
  // outputs, which the node LP forgets, often refutes the whole subtree.
  const size_t n = ctx_.p.num_samples();
  if (ctx_.options.product_certificates && f.depth > 0 && f.depth < n && !sc.blocks.empty() &&
      n - f.depth <= ctx_.options.products_samples_left) {
    ProductFamilies families;
    families.recent_rows = ctx_.options.products_recent_samples;
    if (auto terms = refute_by_products(ctx_, sc, rows_, families)) {
      node.kind = ProofNodeKind::kProducts;
      node.products = std::move(*terms);
      proof_.push_back(std::move(item));
      return NodeOutcome::kProducts;
    }
  }
  if (f.depth == ctx_.p.num_samples()) {
    const PatternView view{sc, spec_->order, path_, rows_};
    if (auto fit = recover_weights(ctx_, view, *f.point, counters)) {
      fit_ = std::move(fit);
      return NodeOutcome::kFit;
    }
    if (prove_pinned(ctx_, view, &node, counters)) {
      proof_.push_back(std::move(item));
      return NodeOutcome::kPinned;
    }
    // The coupling of the outputs, which the node LP forgets, may refute
    // the pattern: tried before the algebraic step, whose least-squares
    // starts cost far more and find nothing in an empty pattern.
    if (auto terms = ctx_.options.product_certificates
                         ? refute_by_products(ctx_, sc, rows_, ProductFamilies{})
                         : std::nullopt) {
      node.kind = ProofNodeKind::kProducts;
      node.products = std::move(*terms);
      proof_.push_back(std::move(item));
      return NodeOutcome::kProducts;
    }
    std::string step;
    if (auto fit = algebraic_weights(ctx_, view, &step, counters)) {
      fit_ = std::move(fit);
      return NodeOutcome::kFit;
    }
    // Branch and bound over the output-weight ratios: exact at a single
    // ratio vector, so it refutes bilinear patterns whose finitely many
    // solutions are none of them fits (and may meet a fit on the way).
    if (ctx_.options.ratio_boxes > 0) {
      RatioBoxOutcome boxes = refute_by_ratio_boxes(ctx_, view, ctx_.options.ratio_boxes, counters);
      if (boxes.fit) {
        fit_ = std::move(boxes.fit);
        return NodeOutcome::kFit;
      }
      if (boxes.boxes) {
        node.kind = ProofNodeKind::kRatioBoxes;
        node.boxes = std::move(*boxes.boxes);
        proof_.push_back(std::move(item));
        return NodeOutcome::kRatioBoxes;
      }
      step += (step.empty() ? "" : "; ") + boxes.why;
    }
    // The relaxation holds but no fit was found: no proof for this pattern,
    // so the verdict can at best be UNKNOWN.
    if (undecided_.empty()) {
      undecided_ = describe_pattern(view);
      undecided_step_ = step;
    }
    node.kind = ProofNodeKind::kUnspecified;
    proof_.push_back(std::move(item));
    return NodeOutcome::kUndecided;
  }
  proof_.push_back(std::move(item));
  f.kids = children(f.depth, *f.point);
  return NodeOutcome::kBranched;
}

void SubtreeSearch::pop() {
  Frame& f = stack_.back();
  for (uint64_t ref : f.donated) {
    ProofItem item;
    item.ref = ref;
    proof_.push_back(std::move(item));
  }
  if (f.depth > 0) {
    path_.pop_back();
    rows_.resize(rows_.size() - spec_->signs.rows_per_sample());
  }
  stack_.pop_back();
}

SubtreeSearch::Status SubtreeSearch::run(uint64_t budget, const std::function<Poll()>& poll,
                                         NodeMemo* memo, SearchCounters* counters) {
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (!f.visited) {
      if (poll && poll() == Poll::kPause) return Status::kPaused;
      if (budget == 0) return Status::kBudget;
      --budget;
      switch (visit(memo, counters)) {
        case NodeOutcome::kFit:
          return Status::kFit;
        case NodeOutcome::kBranched:
          break;
        default:
          pop();
      }
      continue;
    }
    if (f.next_kid == f.kids.size()) {
      pop();
      continue;
    }
    Frame child;
    child.depth = f.depth + 1;
    child.act = f.kids[f.next_kid++];
    child.point = f.point;
    path_.push_back(child.act);
    append_sample_rows(ctx_, spec_->signs, spec_->order[f.depth], child.act, &rows_);
    stack_.push_back(std::move(child));
  }
  return Status::kDone;
}

SubtreeRoot SubtreeSearch::root_below(const Frame& f, const std::string& kid) const {
  SubtreeRoot r;
  r.path.assign(path_.begin(), path_.begin() + static_cast<long>(f.depth));
  r.path.push_back(kid);
  r.point = f.point;
  return r;
}

void SubtreeSearch::give_away_untried(Frame& f, const std::function<uint64_t()>& new_id,
                                      std::vector<std::pair<uint64_t, SubtreeRoot>>* out) {
  std::vector<uint64_t> refs;
  for (size_t c = f.next_kid; c < f.kids.size(); ++c) {
    const uint64_t id = new_id();
    refs.push_back(id);
    out->emplace_back(id, root_below(f, f.kids[c]));
  }
  f.kids.resize(f.next_kid);
  // Earlier donations of this frame were of later children: these go first.
  f.donated.insert(f.donated.begin(), refs.begin(), refs.end());
}

std::vector<std::pair<uint64_t, SubtreeRoot>> SubtreeSearch::donate(
    const std::function<uint64_t()>& new_id) {
  std::vector<std::pair<uint64_t, SubtreeRoot>> out;
  for (Frame& f : stack_)
    if (f.visited && f.next_kid < f.kids.size()) {
      give_away_untried(f, new_id, &out);
      break;
    }
  return out;
}

std::vector<std::pair<uint64_t, SubtreeRoot>> SubtreeSearch::close(
    const std::function<uint64_t()>& new_id) {
  std::vector<std::pair<uint64_t, SubtreeRoot>> out;
  // Unwinding the stack from the top gives the open nodes in preorder.
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (!f.visited) {
      const uint64_t id = new_id();
      SubtreeRoot r;
      r.path = path_;
      r.point = f.point;
      out.emplace_back(id, std::move(r));
      ProofItem item;
      item.ref = id;
      proof_.push_back(std::move(item));
      f.donated.clear();
    } else {
      give_away_untried(f, new_id, &out);
    }
    pop();
  }
  return out;
}

SubtreeResult decide_subtree(const SearchContext& ctx, std::shared_ptr<const CaseSpec> spec,
                             SubtreeRoot root, uint64_t node_budget, SearchCounters* counters) {
  SubtreeSearch search(ctx, std::move(spec), std::move(root));
  NodeMemo memo;
  SubtreeResult result;
  const auto status = search.run(node_budget, nullptr, &memo, counters);
  if (status == SubtreeSearch::Status::kFit) {
    result.fit = std::move(search.fit());
    return result;
  }
  if (status != SubtreeSearch::Status::kDone) {
    uint64_t next = 0;
    for (auto& [id, r] : search.close([&]() { return next++; })) result.open.push_back(std::move(r));
  }
  result.undecided = search.undecided();
  result.proof = search.take_proof();
  return result;
}

std::vector<ProofNodeData> splice_proof(uint64_t root_id,
                                        std::unordered_map<uint64_t, std::vector<ProofItem>>* parts) {
  std::vector<ProofNodeData> out;
  // A stack of (part, position) replaces recursion: references may nest deeply.
  std::vector<std::pair<std::vector<ProofItem>*, size_t>> todo;
  auto open = [&](uint64_t id) {
    auto it = parts->find(id);
    if (it != parts->end()) todo.emplace_back(&it->second, 0);
  };
  open(root_id);
  while (!todo.empty()) {
    auto& [part, pos] = todo.back();
    if (pos == part->size()) {
      todo.pop_back();
      continue;
    }
    ProofItem& item = (*part)[pos++];
    if (item.ref != ProofItem::kNoRef)
      open(item.ref);
    else
      out.push_back(std::move(item.node));
  }
  return out;
}

}  // namespace relufit
