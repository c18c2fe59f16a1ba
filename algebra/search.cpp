#include "algebra/search.h"

#include <algorithm>
#include <unordered_map>

#include "algebra/lp.h"
#include "algebra/number.h"

namespace relufit {

std::vector<uint32_t> choose_sample_order(const Problem& problem) {
  const size_t n = problem.num_samples();
  std::vector<std::vector<double>> pts(n);
  for (size_t i = 0; i < n; ++i)
    for (const auto& v : problem.x[i]) pts[i].push_back(v.get_d());
  std::vector<uint32_t> order;
  std::vector<bool> used(n, false);
  std::vector<double> dist(n, 1e300);
  // Start from the lexicographically smallest input.
  size_t first = 0;
  for (size_t i = 1; i < n; ++i)
    if (pts[i] < pts[first]) first = i;
  size_t next = first;
  for (size_t step = 0; step < n; ++step) {
    order.push_back(static_cast<uint32_t>(next));
    used[next] = true;
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (used[i]) continue;
      double d2 = 0;
      for (size_t t = 0; t < pts[i].size(); ++t) {
        double diff = pts[i][t] - pts[next][t];
        d2 += diff * diff;
      }
      dist[i] = std::min(dist[i], d2);
      if (best == n || dist[i] > dist[best]) best = i;
    }
    next = best;
  }
  return order;
}

namespace {

enum class Status { kFound, kExhausted, kBudget, kStopped };

// One frame of the depth-first search: a node and its remaining children.
struct Frame {
  size_t depth = 0;
  std::string act;                  // activation of sample order[depth - 1]
  std::vector<mpq_class> point;     // parent's point until visited, then the node's
  bool visited = false;
  std::vector<std::string> kids;
  size_t next_kid = 0;
};

// The resumable search of one sign case: its own stack, path and proof.
struct CaseState {
  uint32_t positive = 0;
  std::vector<Frame> stack;
  std::vector<std::string> path;  // activation per decided sample
  std::vector<LpRow> rows;        // LP rows of the decided samples, canonical order
  std::vector<ProofNodeData> nodes;
  bool finished = false;
};

class SingleOutputSearch {
 public:
  SingleOutputSearch(const Problem& p, const SearchControl& control, SolveStats* stats)
      : p_(p), control_(control), stats_(stats) {
    m_ = p.hidden_width;
    dz_ = p.input_dim + (p.hidden_bias ? 1 : 0);
    nvars_ = m_ * dz_ + (p.output_bias ? 1 : 0);
    order_ = choose_sample_order(p);
    xt_.resize(p.num_samples());
    for (size_t i = 0; i < p.num_samples(); ++i) {
      xt_[i] = p.x[i];
      if (p.hidden_bias) xt_[i].push_back(1);
    }
    last_progress_ = std::chrono::steady_clock::now();
  }

  SearchOutcome run() {
    SearchOutcome out;
    std::vector<CaseState> cases(m_ + 1);
    for (uint32_t pcase = 0; pcase <= m_; ++pcase) {
      cases[pcase].positive = pcase;
      Frame root;
      root.point.assign(nvars_, mpq_class(0));
      cases[pcase].stack.push_back(std::move(root));
    }
    // Round-robin over the sign cases in growing slices, each resuming where
    // it stopped, so a feasible case is not starved by an exhaustive one.
    uint64_t slice = 256;
    while (true) {
      bool all_finished = true;
      for (CaseState& cs : cases) {
        if (cs.finished) continue;
        Status st = advance(cs, slice);
        if (st == Status::kFound) {
          fill_weights(cs, &out);
          out.verdict = Verdict::kFeasible;
          return out;
        }
        if (st == Status::kStopped) {
          out.verdict = Verdict::kUnknown;
          out.reason = stop_reason_;
          return out;
        }
        if (st == Status::kExhausted) {
          cs.finished = true;
        } else {
          all_finished = false;
        }
      }
      if (all_finished) break;
      slice = std::min<uint64_t>(slice * 2, 1u << 16);
    }
    out.verdict = Verdict::kInfeasible;
    out.proof.sample_order = order_;
    for (CaseState& cs : cases) {
      SignCaseData sc;
      sc.positive_neurons = cs.positive;
      sc.nodes = std::move(cs.nodes);
      out.proof.cases.push_back(std::move(sc));
    }
    return out;
  }

 private:
  static int sign_of(const CaseState& cs, uint32_t j) { return j < cs.positive ? 1 : -1; }

  // Rows of the decided sample at path position s with activation `act`.
  void append_rows(CaseState& cs, size_t s, const std::string& act) {
    const uint32_t i = order_[s];
    LpRow eq;
    eq.coeffs.assign(nvars_, mpq_class(0));
    eq.sense = RowSense::kEqual;
    eq.rhs = p_.y[i][0];
    for (uint32_t j = 0; j < m_; ++j)
      if (act[j] == '1')
        for (uint32_t t = 0; t < dz_; ++t) eq.coeffs[j * dz_ + t] = sign_of(cs, j) * xt_[i][t];
    if (p_.output_bias) eq.coeffs[m_ * dz_] = 1;
    cs.rows.push_back(std::move(eq));
    for (uint32_t j = 0; j < m_; ++j) {
      LpRow g;
      g.coeffs.assign(nvars_, mpq_class(0));
      g.sense = RowSense::kGreaterEqual;
      const int sigma = act[j] == '1' ? 1 : -1;
      for (uint32_t t = 0; t < dz_; ++t) g.coeffs[j * dz_ + t] = sigma * xt_[i][t];
      cs.rows.push_back(std::move(g));
    }
  }

  // Farkas vector (over decided samples) when the column of neuron j is not
  // an open half-space dichotomy; empty when it is realizable.
  const std::vector<mpq_class>& realizability(const CaseState& cs, uint32_t j) {
    std::string key;
    key.reserve(cs.path.size());
    for (const auto& act : cs.path) key.push_back(act[j]);
    auto it = realizable_memo_.find(key);
    if (it != realizable_memo_.end()) return it->second;
    std::vector<mpq_class> farkas;
    if (key.find('1') != std::string::npos) {
      std::vector<LpRow> rows;
      for (size_t s = 0; s < key.size(); ++s) {
        LpRow r;
        const int sigma = key[s] == '1' ? 1 : -1;
        r.coeffs.resize(dz_);
        for (uint32_t t = 0; t < dz_; ++t) r.coeffs[t] = sigma * xt_[order_[s]][t];
        r.rhs = key[s] == '1' ? 1 : 0;
        rows.push_back(std::move(r));
      }
      LpResult res = solve_lp_feasibility(rows, dz_, &lp_);
      ++stats_->lps_solved;
      if (!res.feasible) farkas = std::move(res.farkas);
    }
    return realizable_memo_.emplace(std::move(key), std::move(farkas)).first->second;
  }

  bool stop_requested() {
    if (control_.node_limit && stats_->nodes >= control_.node_limit) {
      stop_reason_ = "node limit (" + std::to_string(control_.node_limit) + " nodes)";
      return true;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= control_.deadline) {
      stop_reason_ = "time limit";
      return true;
    }
    if (control_.cancelled && control_.cancelled()) {
      stop_reason_ = "cancelled";
      return true;
    }
    if (control_.progress && now - last_progress_ > std::chrono::milliseconds(500)) {
      last_progress_ = now;
      control_.progress(*stats_);
    }
    return false;
  }

  static std::vector<FarkasEntryData> sparse(const std::vector<mpq_class>& farkas) {
    std::vector<FarkasEntryData> out;
    for (size_t r = 0; r < farkas.size(); ++r)
      if (sgn(farkas[r]) != 0) out.push_back({static_cast<uint32_t>(r), rational_to_string(farkas[r])});
    return out;
  }

  // Activation vectors for sample order_[depth] allowed by the symmetry rule,
  // the one predicted by `point` first, then by distance from it.
  std::vector<std::string> children(const CaseState& cs, size_t depth,
                                    const std::vector<mpq_class>& point) {
    const uint32_t i = order_[depth];
    std::string predicted(m_, '0');
    for (uint32_t j = 0; j < m_; ++j) {
      mpq_class v = 0;
      for (uint32_t t = 0; t < dz_; ++t) v += point[j * dz_ + t] * xt_[i][t];
      if (sgn(v) > 0) predicted[j] = '1';
    }
    // tied[j]: neurons j, j+1 share a sign group and agree on all decided samples.
    std::vector<bool> tied(m_, false);
    for (uint32_t j = 0; j + 1 < m_; ++j) {
      if (sign_of(cs, j) != sign_of(cs, j + 1)) continue;
      bool same = true;
      for (const auto& act : cs.path)
        if (act[j] != act[j + 1]) {
          same = false;
          break;
        }
      tied[j] = same;
    }
    std::vector<std::string> out;
    for (uint32_t mask = 0; mask < (1u << m_); ++mask) {
      std::string act(m_, '0');
      for (uint32_t j = 0; j < m_; ++j)
        if (mask & (1u << j)) act[j] = '1';
      bool ok = true;
      for (uint32_t j = 0; j + 1 < m_ && ok; ++j)
        if (tied[j] && act[j] == '0' && act[j + 1] == '1') ok = false;
      if (ok) out.push_back(act);
    }
    auto distance = [&](const std::string& a) {
      int d = 0;
      for (uint32_t j = 0; j < m_; ++j) d += a[j] != predicted[j];
      return d;
    };
    std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
      return distance(a) < distance(b);
    });
    return out;
  }

  // Visits the node on top of the stack: records it in the proof, cuts it
  // with a certificate, or prepares its children. Returns kFound at a leaf
  // that fits every sample, kExhausted when cut, kBudget when it branches.
  Status visit(CaseState& cs) {
    Frame& f = cs.stack.back();
    f.visited = true;
    ++stats_->nodes;
    stats_->max_depth = std::max<uint32_t>(stats_->max_depth, static_cast<uint32_t>(f.depth));
    ProofNodeData node{static_cast<uint32_t>(f.depth), f.act, ProofNodeKind::kBranch, 0, {}};
    if (f.depth > 0) {
      for (uint32_t j = 0; j < m_; ++j) {
        const auto& farkas = realizability(cs, j);
        if (!farkas.empty()) {
          node.kind = ProofNodeKind::kUnrealizable;
          node.neuron = j;
          node.farkas = sparse(farkas);
          cs.nodes.push_back(std::move(node));
          return Status::kExhausted;
        }
      }
      // The parent's point often satisfies the new sample's rows already.
      const auto first_new = cs.rows.end() - (m_ + 1);
      std::vector<LpRow> fresh(first_new, cs.rows.end());
      if (!point_satisfies(fresh, f.point)) {
        LpResult res = solve_lp_feasibility(cs.rows, nvars_, &lp_);
        ++stats_->lps_solved;
        if (!res.feasible) {
          node.kind = ProofNodeKind::kLpInfeasible;
          node.farkas = sparse(res.farkas);
          cs.nodes.push_back(std::move(node));
          return Status::kExhausted;
        }
        f.point = std::move(res.point);
      }
    }
    cs.nodes.push_back(std::move(node));
    if (f.depth == p_.num_samples()) {
      solution_ = f.point;
      return Status::kFound;
    }
    f.kids = children(cs, f.depth, f.point);
    return Status::kBudget;
  }

  void pop(CaseState& cs) {
    if (cs.stack.back().depth > 0) {
      cs.path.pop_back();
      cs.rows.resize(cs.rows.size() - (m_ + 1));
    }
    cs.stack.pop_back();
  }

  // Runs the case's depth-first search for at most `budget` node visits.
  Status advance(CaseState& cs, uint64_t budget) {
    while (!cs.stack.empty()) {
      Frame& f = cs.stack.back();
      if (!f.visited) {
        if (stop_requested()) return Status::kStopped;
        if (budget == 0) return Status::kBudget;
        --budget;
        Status st = visit(cs);
        if (st == Status::kFound) return st;
        if (st == Status::kExhausted) pop(cs);
        continue;
      }
      if (f.next_kid == f.kids.size()) {
        pop(cs);
        continue;
      }
      Frame child;
      child.depth = f.depth + 1;
      child.act = f.kids[f.next_kid++];
      child.point = f.point;
      cs.path.push_back(child.act);
      append_rows(cs, f.depth, child.act);
      cs.stack.push_back(std::move(child));
    }
    return Status::kExhausted;
  }

  void fill_weights(const CaseState& cs, SearchOutcome* out) const {
    out->a.resize(m_);
    out->w.assign(m_, {});
    out->b.assign(m_, mpq_class(0));
    for (uint32_t j = 0; j < m_; ++j) {
      out->a[j] = sign_of(cs, j);
      for (uint32_t t = 0; t < p_.input_dim; ++t) out->w[j].push_back(solution_[j * dz_ + t]);
      if (p_.hidden_bias) out->b[j] = solution_[j * dz_ + p_.input_dim];
    }
    if (p_.output_bias) out->c.push_back(solution_[m_ * dz_]);
  }

  const Problem& p_;
  const SearchControl& control_;
  SolveStats* stats_;
  uint32_t m_ = 0, dz_ = 0, nvars_ = 0;
  std::vector<uint32_t> order_;
  std::vector<std::vector<mpq_class>> xt_;
  std::unordered_map<std::string, std::vector<mpq_class>> realizable_memo_;
  std::vector<mpq_class> solution_;
  LpCounters lp_;
  std::string stop_reason_;
  std::chrono::steady_clock::time_point last_progress_;
};

}  // namespace

SearchOutcome search_single_output(const Problem& problem, const SearchControl& control,
                                   SolveStats* stats) {
  SingleOutputSearch search(problem, control, stats);
  return search.run();
}

}  // namespace relufit
