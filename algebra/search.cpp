#include "algebra/search.h"

#include "algebra/algebraic.h"

#include <algorithm>
#include <memory>
#include <map>
#include <optional>
#include <cmath>
#include <random>
#include <unordered_map>

#include "algebra/float_guide.h"
#include "algebra/lp.h"
#include "algebra/number.h"

namespace relufit {

namespace {

// Whether sample i has x~ = 0 (x = 0 without hidden bias): every neuron is
// at 0 there, so Lemma 2's canonical pattern has it inactive.
bool zero_input(const Problem& problem, size_t i) {
  return !problem.hidden_bias &&
         std::all_of(problem.x[i].begin(), problem.x[i].end(), [](const mpq_class& v) { return sgn(v) == 0; });
}

}  // namespace

std::vector<uint32_t> choose_sample_order(const Problem& problem) {
  const size_t n = problem.num_samples();
  std::vector<std::vector<double>> pts(n);
  for (size_t i = 0; i < n; ++i)
    for (const auto& v : problem.x[i]) pts[i].push_back(v.get_d());
  std::vector<uint32_t> order;
  std::vector<bool> used(n, false);
  std::vector<double> dist(n, 1e300);
  // Samples with x~ = 0 (x = 0 without hidden bias) come first: each has a
  // single child (every neuron inactive) and, with output bias, pins c.
  for (size_t i = 0; i < n; ++i)
    if (zero_input(problem, i)) {
      order.push_back(static_cast<uint32_t>(i));
      used[i] = true;
    }
  // Then farthest-point order from the lexicographically smallest input.
  size_t first = n;
  for (size_t i = 0; i < n; ++i)
    if (!used[i] && (first == n || pts[i] < pts[first])) first = i;
  size_t next = first;
  for (size_t step = order.size(); step < n; ++step) {
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

int SignCase::block_of(uint32_t j, uint32_t o) const {
  for (size_t b = 0; b < blocks.size(); ++b)
    if (blocks[b].first == j && blocks[b].second == o) return static_cast<int>(b);
  return -1;
}

std::vector<std::string> SignCase::strings() const {
  std::vector<std::string> out;
  for (const auto& t : tau) {
    std::string s;
    for (int v : t) s.push_back(v > 0 ? '+' : v < 0 ? '-' : '0');
    out.push_back(s);
  }
  return out;
}

std::vector<SignCase> enumerate_sign_cases(uint32_t m, uint32_t k) {
  // Sign vectors in lexicographic order with + < - < 0, the zero vector left out.
  std::vector<std::vector<int>> types;
  const int digit[3] = {1, -1, 0};
  uint64_t total = 1;
  for (uint32_t o = 0; o < k; ++o) total *= 3;
  for (uint64_t code = 0; code < total; ++code) {
    std::vector<int> t(k);
    uint64_t c = code;
    for (int o = static_cast<int>(k) - 1; o >= 0; --o, c /= 3) t[o] = digit[c % 3];
    if (std::any_of(t.begin(), t.end(), [](int v) { return v != 0; })) types.push_back(t);
  }
  std::vector<SignCase> out;
  std::vector<size_t> pick(m, 0);
  while (true) {
    SignCase sc;
    for (uint32_t j = 0; j < m; ++j) {
      const auto& t = types[pick[j]];
      sc.tau.push_back(t);
      uint32_t lead = 0;
      while (t[lead] == 0) ++lead;
      sc.lead.push_back(lead);
    }
    for (uint32_t j = 0; j < m; ++j)
      for (uint32_t o = sc.lead[j] + 1; o < k; ++o)
        if (sc.tau[j][o] != 0) sc.blocks.emplace_back(j, o);
    out.push_back(std::move(sc));
    // Next non-decreasing sequence.
    int j = static_cast<int>(m) - 1;
    while (j >= 0 && pick[j] + 1 == types.size()) --j;
    if (j < 0) break;
    ++pick[j];
    for (uint32_t t = j + 1; t < m; ++t) pick[t] = pick[j];
  }
  return out;
}

namespace {

enum class Status { kFound, kExhausted, kBudget, kStopped };

// One frame of the depth-first search: a node and its remaining children.
struct Frame {
  size_t depth = 0;
  std::string act;                  // activation of sample order[depth - 1]
  // The parent's LP point until visited, then the node's (shared: children
  // of a node whose point already satisfies their rows reuse it uncopied).
  std::shared_ptr<const std::vector<mpq_class>> point;
  bool visited = false;
  std::vector<std::string> kids;
  size_t next_kid = 0;
};

// The resumable search of one sign case: its own stack, path and proof.
struct CaseState {
  SignCase signs;
  size_t order_index = 0;         // which sample order this attempt uses
  uint32_t attempt = 0;           // restarts so far
  uint64_t attempt_nodes = 0;     // nodes visited in this attempt
  std::vector<Frame> stack;
  std::vector<std::string> path;  // activation per decided sample
  std::vector<LpRow> rows;        // LP rows of the decided samples, canonical order
  std::vector<ProofNodeData> nodes;
  bool finished = false;
  std::string undecided;          // first complete pattern no proof or fit was found for
  std::string undecided_step;     // where the algebraic step stopped on it
};

class PatternSearch {
 public:
  PatternSearch(const Problem& p, const SearchControl& control, SolveStats* stats)
      : p_(p), control_(control), stats_(stats) {
    m_ = p.hidden_width;
    k_ = p.output_dim;
    dz_ = p.input_dim + (p.hidden_bias ? 1 : 0);
    orders_.push_back(choose_sample_order(p));
    memos_.emplace_back();
    xt_.resize(p.num_samples());
    for (size_t i = 0; i < p.num_samples(); ++i) {
      xt_[i] = p.x[i];
      if (p.hidden_bias) xt_[i].push_back(1);
    }
    last_progress_ = std::chrono::steady_clock::now();
  }

  SearchOutcome run() {
    SearchOutcome out;
    std::vector<CaseState> cases;
    for (SignCase& sc : enumerate_sign_cases(m_, k_)) {
      CaseState cs;
      cs.signs = std::move(sc);
      Frame root;
      root.point = zero_point(cs);
      cs.stack.push_back(std::move(root));
      cases.push_back(std::move(cs));
    }
    // Round-robin over the sign cases in growing slices, each resuming where
    // it stopped, so a feasible case is not starved by an exhaustive one.
    const auto started = std::chrono::steady_clock::now();
    uint64_t slice = 256;
    while (true) {
      bool all_finished = true;
      for (CaseState& cs : cases) {
        if (cs.finished) continue;
        if (step(cs, slice, &out)) return out;
        all_finished = all_finished && cs.finished;
        if (guide(cases, started, &out)) return out;
      }
      if (all_finished) break;
      slice = std::min<uint64_t>(slice * 2, 1u << 16);
    }
    for (const CaseState& cs : cases) {
      if (cs.undecided.empty()) continue;
      out.verdict = Verdict::kUnknown;
      out.reason = "no fit and no proof for " + cs.undecided +
                   ": its linear relaxation is feasible, no rational output weights fit, and "
                   "the algebraic step found no fit (" + cs.undecided_step + ")";
      return out;
    }
    out.verdict = Verdict::kInfeasible;
    for (CaseState& cs : cases) {
      SignCaseData sc;
      sc.output_signs = cs.signs.strings();
      sc.sample_order = order(cs);
      sc.nodes = std::move(cs.nodes);
      out.proof.cases.push_back(std::move(sc));
    }
    return out;
  }

 private:
  const std::vector<uint32_t>& order(const CaseState& cs) const { return orders_[cs.order_index]; }

  // Each time the node count doubles past kGuideAfterNodes without an
  // answer, a float fit gets a quarter of the time spent so far (at most
  // 0.5 s, and a twentieth of the time left), with new random starts. When
  // it fits, it names a sign case that has a fit, and that case gets
  // kHeadStart more node visits at once. An ordering only: every case is
  // still searched, and nothing from the float fit is trusted. Returns true
  // when the search is over (*out filled).
  static constexpr uint64_t kGuideAfterNodes = 3000;
  static constexpr uint64_t kHeadStart = 20000;

  bool guide(std::vector<CaseState>& cases, std::chrono::steady_clock::time_point started,
             SearchOutcome* out) {
    if (k_ < 2 || guide_done_ || stats_->nodes < next_guide_nodes_) return false;
    next_guide_nodes_ = 2 * stats_->nodes;
    const auto now = std::chrono::steady_clock::now();
    auto budget = std::min<std::chrono::steady_clock::duration>((now - started) / 4,
                                                                 std::chrono::milliseconds(500));
    if (control_.deadline - now < budget * 20) budget = (control_.deadline - now) / 20;
    std::vector<std::string> guess = float_fit_signs(p_, now + budget, ++guide_calls_);
    if (guess.empty()) return false;
    guide_done_ = true;
    std::sort(guess.begin(), guess.end());
    for (CaseState& cs : cases) {
      std::vector<std::string> signs = cs.signs.strings();
      std::sort(signs.begin(), signs.end());
      if (signs == guess) return !cs.finished && step(cs, kHeadStart, out);
    }
    return false;
  }

  // Advances one case by at most `budget` nodes. True when the search is
  // over (a fit found, or stopped), with *out filled; otherwise the case is
  // marked finished when exhausted, or restarted past its node limit.
  bool step(CaseState& cs, uint64_t budget, SearchOutcome* out) {
    Status st = advance(cs, budget);
    if (st == Status::kFound) {
      out->verdict = Verdict::kFeasible;
      out->algebraic = std::move(algebraic_fit_);
      out->a = solution_a_;
      out->w = solution_w_;
      out->b = solution_b_;
      out->c = solution_c_;
      return true;
    }
    if (st == Status::kStopped) {
      out->verdict = Verdict::kUnknown;
      out->reason = stop_reason_;
      return true;
    }
    if (st == Status::kExhausted)
      cs.finished = true;
    else if (cs.attempt_nodes > restart_limit(cs.attempt))
      restart(cs);
    return false;
  }

  std::shared_ptr<const std::vector<mpq_class>> zero_point(const CaseState& cs) const {
    return std::make_shared<const std::vector<mpq_class>>(cs.signs.num_vars(dz_, p_.output_bias), mpq_class(0));
  }

  bool zero_input(uint32_t i) const { return relufit::zero_input(p_, i); }

  // Restarts: the search of a case that grows past its limit starts again
  // with another sample order (order 0 is the farthest-point order, order
  // a > 0 a fixed pseudo-random shuffle). Feasible searches have heavy tails
  // in the order; the limit (10000 nodes, doubling) means a case that needs
  // a big tree costs at most about three times its size.
  static uint64_t restart_limit(uint32_t attempt) { return uint64_t{10000} << std::min(attempt, 30u); }

  void restart(CaseState& cs) {
    ++cs.attempt;
    while (orders_.size() <= cs.attempt) {
      std::vector<uint32_t> shuffled(p_.num_samples());
      for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i] = static_cast<uint32_t>(i);
      std::mt19937 rng(static_cast<uint32_t>(orders_.size()));
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      std::stable_partition(shuffled.begin(), shuffled.end(), [&](uint32_t i) { return zero_input(i); });
      orders_.push_back(std::move(shuffled));
      memos_.emplace_back();
    }
    cs.order_index = cs.attempt;
    cs.attempt_nodes = 0;
    cs.stack.clear();
    cs.path.clear();
    cs.rows.clear();
    cs.nodes.clear();
    cs.undecided.clear();
    cs.undecided_step.clear();
    Frame root;
    root.point = zero_point(cs);
    cs.stack.push_back(std::move(root));
  }

  // Rows of the decided sample at path position s with activation `act`, in
  // the canonical order documented on CaseTree in the proto: k equalities,
  // m sign rows of the z blocks, one sign row per u block.
  void append_rows(CaseState& cs, size_t s, const std::string& act) {
    const uint32_t i = order(cs)[s];
    const SignCase& sc = cs.signs;
    const size_t nv = sc.num_vars(dz_, p_.output_bias);
    const size_t c0 = sc.bias_index(dz_);
    for (uint32_t o = 0; o < k_; ++o) {
      LpRow eq;
      eq.coeffs.assign(nv, mpq_class(0));
      eq.sense = RowSense::kEqual;
      eq.rhs = p_.y[i][o];
      for (uint32_t j = 0; j < m_; ++j) {
        if (act[j] != '1') continue;
        long block = -1;
        int factor = 0;
        if (o == sc.lead[j]) {
          block = j;
          factor = sc.sign(j, o);
        } else if (int b = sc.block_of(j, o); b >= 0) {
          block = m_ + b;
          factor = 1;
        }
        if (block < 0) continue;
        for (uint32_t t = 0; t < dz_; ++t) eq.coeffs[block * dz_ + t] = factor * xt_[i][t];
      }
      if (p_.output_bias) eq.coeffs[c0 + o] = 1;
      cs.rows.push_back(std::move(eq));
    }
    auto sign_row = [&](size_t block, int factor) {
      LpRow g;
      g.coeffs.assign(nv, mpq_class(0));
      g.sense = RowSense::kGreaterEqual;
      for (uint32_t t = 0; t < dz_; ++t) g.coeffs[block * dz_ + t] = factor * xt_[i][t];
      cs.rows.push_back(std::move(g));
    };
    for (uint32_t j = 0; j < m_; ++j) sign_row(j, act[j] == '1' ? 1 : -1);
    for (size_t b = 0; b < sc.blocks.size(); ++b) {
      const auto [j, o] = sc.blocks[b];
      sign_row(m_ + b, sc.sign(j, o) * (act[j] == '1' ? 1 : -1));
    }
  }

  // Farkas vector (over decided samples) when the column of neuron j is not
  // an open half-space dichotomy; empty when it is realizable.
  const std::vector<mpq_class>& realizability(const CaseState& cs, uint32_t j) {
    std::string key;
    key.reserve(cs.path.size());
    for (const auto& act : cs.path) key.push_back(act[j]);
    auto& memo = memos_[cs.order_index];
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
    std::vector<mpq_class> farkas;
    if (key.find('1') != std::string::npos) {
      std::vector<LpRow> rows;
      for (size_t s = 0; s < key.size(); ++s) {
        LpRow r;
        const int sigma = key[s] == '1' ? 1 : -1;
        r.coeffs.resize(dz_);
        for (uint32_t t = 0; t < dz_; ++t) r.coeffs[t] = sigma * xt_[order(cs)[s]][t];
        r.rhs = key[s] == '1' ? 1 : 0;
        rows.push_back(std::move(r));
      }
      LpResult res = solve_lp_feasibility(rows, dz_, nullptr);
      ++stats_->lps_solved;
      if (!res.feasible) farkas = std::move(res.farkas);
    }
    return memo.emplace(std::move(key), std::move(farkas)).first->second;
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

  // Activation vectors for sample order(cs)[depth] allowed by the symmetry rule,
  // the one predicted by `point` first, then by distance from it.
  std::vector<std::string> children(const CaseState& cs, size_t depth,
                                    const std::vector<mpq_class>& point) {
    const uint32_t i = order(cs)[depth];
    std::string predicted(m_, '0');
    // x~_i = 0: Lemma 2's canonical pattern has every neuron inactive here
    // (every activation gives the same rows, so one child stands for all).
    if (zero_input(i)) return {predicted};
    for (uint32_t j = 0; j < m_; ++j) {
      mpq_class v = 0;
      for (uint32_t t = 0; t < dz_; ++t) v += point[j * dz_ + t] * xt_[i][t];
      if (sgn(v) > 0) predicted[j] = '1';
    }
    // tied[j]: neurons j, j+1 share a sign group and agree on all decided samples.
    std::vector<bool> tied(m_, false);
    for (uint32_t j = 0; j + 1 < m_; ++j) {
      if (!cs.signs.same_type(j, j + 1)) continue;
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
    ++cs.attempt_nodes;
    stats_->max_depth = std::max<uint32_t>(stats_->max_depth, static_cast<uint32_t>(f.depth));
    ProofNodeData node{static_cast<uint32_t>(f.depth), f.act, ProofNodeKind::kBranch, 0, {}, {}};
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
      const auto first_new = cs.rows.cend() - static_cast<long>(cs.signs.rows_per_sample());
      if (!point_satisfies(first_new, cs.rows.cend(), *f.point)) {
        LpResult res = solve_lp_feasibility(cs.rows, cs.signs.num_vars(dz_, p_.output_bias), nullptr);
        ++stats_->lps_solved;
        if (!res.feasible) {
          node.kind = ProofNodeKind::kLpInfeasible;
          node.farkas = sparse(res.farkas);
          cs.nodes.push_back(std::move(node));
          return Status::kExhausted;
        }
        f.point = std::make_shared<const std::vector<mpq_class>>(std::move(res.point));
      }
    }
    cs.nodes.push_back(std::move(node));
    if (f.depth == p_.num_samples()) {
      if (recover_weights(cs, *f.point)) return Status::kFound;
      if (prove_pinned(cs, &cs.nodes.back())) return Status::kExhausted;
      std::string step;
      if (algebraic_weights(cs, &step)) return Status::kFound;
      // The relaxation holds but no fit was found: no proof for this
      // pattern, so the verdict can at best be UNKNOWN.
      if (cs.undecided.empty()) {
        cs.undecided = describe(cs);
        cs.undecided_step = step;
      }
      cs.nodes.back().kind = ProofNodeKind::kUnspecified;
      return Status::kExhausted;
    }
    f.kids = children(cs, f.depth, *f.point);
    return Status::kBudget;
  }

  void pop(CaseState& cs) {
    if (cs.stack.back().depth > 0) {
      cs.path.pop_back();
      cs.rows.resize(cs.rows.size() - cs.signs.rows_per_sample());
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

  std::string describe(const CaseState& cs) const {
    std::string out = "sign case (";
    for (const auto& t : cs.signs.strings()) out += (out.back() == '(' ? "" : " ") + t;
    out += "), activation pattern";
    for (size_t s = 0; s < cs.path.size(); ++s)
      out += " " + std::to_string(order(cs)[s]) + ":" + cs.path[s];
    return out;
  }

  // A vector sum kappa_s y_{order[s]} that every fit with the case's pattern
  // makes parallel to a_j (see KIND_PINNED_DIRECTION in the proto).
  struct Direction {
    std::vector<mpq_class> y;           // the vector Y
    std::vector<size_t> positions;      // path positions s with kappa_s != 0, increasing
    std::vector<mpq_class> kappa;       // the coefficients, one per position
  };

  // Such vectors from small groups of decided samples: on a group where
  // every other neuron keeps one status, pairs (others all inactive) or
  // affine dependencies of d + 2 samples.
  std::vector<Direction> data_directions(const CaseState& cs, uint32_t j) const {
    std::map<std::string, std::vector<size_t>> groups;  // others' statuses -> positions
    for (size_t s = 0; s < cs.path.size(); ++s) {
      std::string key = cs.path[s];
      key[j] = '*';
      groups[key].push_back(s);
    }
    std::vector<Direction> out;
    auto push = [&](std::vector<size_t> positions, std::vector<mpq_class> kappa) {
      Direction d;
      d.y.assign(k_, mpq_class(0));
      for (size_t t = 0; t < positions.size(); ++t) {
        if (sgn(kappa[t]) == 0) continue;
        for (uint32_t o = 0; o < k_; ++o) d.y[o] += kappa[t] * p_.y[order(cs)[positions[t]]][o];
        d.positions.push_back(positions[t]);
        d.kappa.push_back(kappa[t]);
      }
      if (std::any_of(d.y.begin(), d.y.end(), [](const mpq_class& v) { return sgn(v) != 0; }))
        out.push_back(std::move(d));
    };
    for (const auto& [key, positions] : groups) {
      const bool others_active = key.find('1') != std::string::npos;
      const size_t g = std::min<size_t>(positions.size(), 8);
      if (!others_active) {
        for (size_t x = 0; x < g; ++x)
          for (size_t y = x + 1; y < g; ++y)
            push({positions[x], positions[y]}, {mpq_class(1), mpq_class(-1)});
        continue;
      }
      // Affine dependencies among windows of d + 2 samples of the group.
      const size_t w = p_.input_dim + 2;
      for (size_t start = 0; start + w <= g; ++start) {
        std::vector<size_t> win(positions.begin() + static_cast<long>(start),
                                positions.begin() + static_cast<long>(start + w));
        std::vector<std::vector<mpq_class>> rows;  // constraints on kappa
        for (uint32_t t = 0; t < p_.input_dim; ++t) {
          rows.emplace_back();
          for (size_t s : win) rows.back().push_back(p_.x[order(cs)[s]][t]);
        }
        rows.emplace_back(w, mpq_class(1));
        if (auto kappa = null_vector(rows, w)) push(win, *kappa);
      }
    }
    return out;
  }

  // At a complete pattern with no fit: tries to prove it empty from a
  // direction of a_j pinned by the data (KIND_PINNED_DIRECTION). Fills the
  // node and returns true on success.
  bool prove_pinned(const CaseState& cs, ProofNodeData* node) {
    const SignCase& sc = cs.signs;
    for (uint32_t j = 0; j < m_; ++j) {
      for (const Direction& dir : data_directions(cs, j)) {
        node->kind = ProofNodeKind::kPinnedDirection;
        node->neuron = j;
        node->farkas.clear();
        node->kappa.clear();
        for (size_t t = 0; t < dir.positions.size(); ++t)
          node->kappa.push_back({static_cast<uint32_t>(dir.positions[t]), rational_to_string(dir.kappa[t])});
        const uint32_t e = sc.lead[j];
        if (sgn(dir.y[e]) == 0) return true;  // Y != 0 but a_j,e = +-1: impossible
        std::vector<mpq_class> a(k_);
        bool contradiction = false;
        for (uint32_t o = 0; o < k_; ++o) {
          a[o] = sc.sign(j, e) * dir.y[o] / dir.y[e];
          if (sgn(a[o]) != sc.sign(j, o)) contradiction = true;
        }
        if (contradiction) return true;
        std::vector<LpRow> rows = cs.rows;
        const size_t nv = sc.num_vars(dz_, p_.output_bias);
        for (size_t b = 0; b < sc.blocks.size(); ++b) {
          if (sc.blocks[b].first != j) continue;
          const uint32_t o = sc.blocks[b].second;
          for (uint32_t t = 0; t < dz_; ++t) {
            LpRow eq;
            eq.coeffs.assign(nv, mpq_class(0));
            eq.sense = RowSense::kEqual;
            eq.coeffs[(m_ + b) * dz_ + t] = 1;
            eq.coeffs[j * dz_ + t] = -a[o];
            rows.push_back(std::move(eq));
          }
        }
        LpResult res = solve_lp_feasibility(rows, nv, nullptr);
        ++stats_->lps_solved;
        if (!res.feasible) {
          node->farkas = sparse(res.farkas);
          return true;
        }
      }
    }
    node->kind = ProofNodeKind::kUnspecified;
    node->kappa.clear();
    return false;
  }

  // A nonzero solution of rows * kappa = 0 (exact Gauss-Jordan), if any.
  static std::optional<std::vector<mpq_class>> null_vector(std::vector<std::vector<mpq_class>> rows,
                                                          size_t n) {
    std::vector<size_t> pivot_col;
    size_t r = 0;
    for (size_t c = 0; c < n && r < rows.size(); ++c) {
      size_t p = r;
      while (p < rows.size() && sgn(rows[p][c]) == 0) ++p;
      if (p == rows.size()) continue;
      std::swap(rows[p], rows[r]);
      const mpq_class piv = rows[r][c];
      for (auto& v : rows[r]) v /= piv;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (i == r || sgn(rows[i][c]) == 0) continue;
        const mpq_class f = rows[i][c];
        for (size_t t = 0; t < n; ++t) rows[i][t] -= f * rows[r][t];
      }
      pivot_col.push_back(c);
      ++r;
    }
    if (pivot_col.size() == n) return std::nullopt;
    size_t free_col = 0;
    while (std::find(pivot_col.begin(), pivot_col.end(), free_col) != pivot_col.end()) ++free_col;
    std::vector<mpq_class> kappa(n, mpq_class(0));
    kappa[free_col] = 1;
    for (size_t i = 0; i < pivot_col.size(); ++i) kappa[pivot_col[i]] = -rows[i][free_col];
    return kappa;
  }

  // At a complete pattern whose relaxation holds: for one output every
  // relaxed point is a fit; for several, look for rational output weights
  // r (u_jo = r_jo z_j at the relaxed point, read off active samples) and
  // solve the exact LP in (z, c) with r fixed.
  bool recover_weights(const CaseState& cs, const std::vector<mpq_class>& point) {
    const SignCase& sc = cs.signs;
    const size_t c0 = sc.bias_index(dz_);
    std::vector<std::vector<mpq_class>> a(m_, std::vector<mpq_class>(k_));
    for (uint32_t j = 0; j < m_; ++j) a[j][sc.lead[j]] = sc.sign(j, sc.lead[j]);
    if (sc.blocks.empty()) return accept(a, point, c0);
    // Candidate values of r_jo (DESIGN.md 2.6 b), most trusted first:
    // (1) directions of a_j read off the data: on a group G of samples where
    //     every other neuron has one status, any kappa with sum kappa_i = 0
    //     (kills c; not needed without output bias) and sum kappa_i x~_i = 0
    //     (kills the affine other neurons active on G; not needed when none
    //     is) gives sum kappa_i y_i = a_j * (scalar), parallel to a_j;
    // (2) u_jo . x~_i / z_j . x~_i at the relaxed point.
    std::vector<std::vector<mpq_class>> candidates(sc.blocks.size());
    auto add = [&](size_t b, const mpq_class& r) {
      const int want = sc.sign(sc.blocks[b].first, sc.blocks[b].second);
      if (sgn(r) != want) return;
      auto& list = candidates[b];
      if (list.size() < 8 && std::find(list.begin(), list.end(), r) == list.end()) list.push_back(r);
    };
    for (size_t b = 0; b < sc.blocks.size(); ++b) {
      const auto [j, o] = sc.blocks[b];
      const uint32_t e = sc.lead[j];
      for (const Direction& d : data_directions(cs, j))
        if (sgn(d.y[e]) != 0) add(b, sc.sign(j, e) * d.y[o] / d.y[e]);
      for (size_t s = 0; s < cs.path.size(); ++s) {
        if (cs.path[s][j] != '1') continue;
        mpq_class zx = 0, ux = 0;
        for (uint32_t t = 0; t < dz_; ++t) {
          zx += point[j * dz_ + t] * xt_[order(cs)[s]][t];
          ux += point[(m_ + b) * dz_ + t] * xt_[order(cs)[s]][t];
        }
        if (sgn(zx) != 0) add(b, ux / zx);
      }
      if (candidates[b].empty()) candidates[b].push_back(mpq_class(sc.sign(j, o)));
    }
    // The first candidate everywhere, then each block's alternatives alone.
    std::vector<size_t> pick(sc.blocks.size(), 0);
    std::vector<std::vector<size_t>> trials = {pick};
    for (size_t b = 0; b < sc.blocks.size(); ++b)
      for (size_t alt = 1; alt < candidates[b].size(); ++alt) {
        auto t = pick;
        t[b] = alt;
        trials.push_back(t);
      }
    for (const auto& trial : trials) {
      for (size_t b = 0; b < sc.blocks.size(); ++b) {
        const auto [j, o] = sc.blocks[b];
        a[j][o] = candidates[b][trial[b]];
      }
      if (solve_fixed_output_weights(cs, a)) return true;
    }
    // Floating point guides a last attempt: alternating least squares on the
    // bilinear equations from each candidate start; the free output weights
    // are then fixed one at a time to a nearby simple rational (re-fitting
    // the others after each), and the exact LP decides.
    for (size_t start = 0; start < 3; ++start) {
      std::vector<double> r(sc.blocks.size());
      for (size_t b = 0; b < sc.blocks.size(); ++b)
        r[b] = candidates[b][std::min(start, candidates[b].size() - 1)].get_d();
      std::vector<bool> fixed(sc.blocks.size(), false);
      bool converged = true;
      for (size_t b = 0; b < sc.blocks.size() && converged; ++b) {
        converged = alternating_least_squares(cs, fixed, &r);
        const auto [j, o] = sc.blocks[b];
        a[j][o] = simple_rational_near(r[b]);
        r[b] = a[j][o].get_d();
        fixed[b] = true;
      }
      if (!converged) continue;
      if (solve_fixed_output_weights(cs, a)) return true;
    }
    return false;
  }

  // DESIGN.md 2.6 c, at a complete pattern where no rational output weights
  // were found: float guides from alternating least squares, then the exact
  // algebraic step (algebra/algebraic.h). On failure *step says why.
  bool algebraic_weights(const CaseState& cs, std::string* step) {
    const SignCase& sc = cs.signs;
    if (sc.blocks.empty()) {
      *step = "no free output weights";
      return false;
    }
    PatternSystem ps;
    ps.m = m_;
    ps.k = k_;
    ps.dz = dz_;
    ps.output_bias = p_.output_bias;
    ps.xt = xt_;
    ps.y = p_.y;
    ps.act.assign(p_.num_samples(), std::string());
    for (size_t s = 0; s < cs.path.size(); ++s) ps.act[order(cs)[s]] = cs.path[s];
    ps.tau = sc.tau;
    ps.lead = sc.lead;
    ps.blocks = sc.blocks;
    *step = "alternating least squares found no float solution of the pattern";
    // Starts: every free output weight at 1, 1/2, 2, 1/4, 4 (with the case's
    // sign), then 11 mixed starts from a fixed pseudo-random sequence: the
    // equations of a pattern can have several real solutions, of which
    // only some keep the pattern's signs.
    std::mt19937 rng(12345);
    std::uniform_real_distribution<double> mag(-2.0, 2.0);
    for (int start = 0; start < 16; ++start) {
      std::vector<double> r(sc.blocks.size());
      for (size_t b = 0; b < sc.blocks.size(); ++b) {
        const double m = start < 5 ? std::ldexp(1.0, (start + 1) / 2 * (start % 2 ? -1 : 1))
                                   : std::exp2(mag(rng));
        r[b] = sc.sign(sc.blocks[b].first, sc.blocks[b].second) * m;
      }
      std::vector<double> zc;
      std::vector<bool> fixed(sc.blocks.size(), false);
      // A stalled run still hands its point on: the algebraic step polishes it.
      alternating_least_squares(cs, fixed, &r, &zc);
      if (zc.empty()) continue;
      auto fit = fit_algebraic(ps, r, zc, step);
      if (!fit) continue;
      algebraic_fit_ = std::move(*fit);
      return true;
    }
    return false;
  }

  // The fraction with the smallest denominator (up to 10^4) within 1e-9 of
  // v, else the closest one with denominator at most 12: where v is pinned
  // that recovers it, where it is free any simple value will do. A guide
  // only: every result is checked exactly.
  static mpq_class simple_rational_near(double v) {
    for (long q = 1; q <= 10000; ++q) {
      const long p = std::lround(v * static_cast<double>(q));
      if (std::fabs(v - static_cast<double>(p) / static_cast<double>(q)) < 1e-9 * std::max(1.0, std::fabs(v))) {
        mpq_class out(p, q);
        out.canonicalize();
        return out;
      }
    }
    mpq_class best(std::lround(v));
    for (long q = 2; q <= 12; ++q) {
      mpq_class cand(std::lround(v * static_cast<double>(q)), q);
      cand.canonicalize();
      if (std::fabs(v - cand.get_d()) < std::fabs(v - best.get_d())) best = cand;
    }
    return best;
  }

  // Minimises the squared residual of the pattern's equations over (z, c)
  // and the free output weights r in turn. Returns whether it converged to
  // a near-exact fit; *r holds the final output weights.
  bool alternating_least_squares(const CaseState& cs, const std::vector<bool>& fixed,
                                 std::vector<double>* r, std::vector<double>* zc = nullptr) const {
    const SignCase& sc = cs.signs;
    const size_t n = cs.path.size(), nz = m_ * dz_ + (p_.output_bias ? k_ : 0);
    std::vector<std::vector<double>> xt(n), y(n);
    for (size_t s = 0; s < n; ++s) {
      for (const auto& v : xt_[order(cs)[s]]) xt[s].push_back(v.get_d());
      for (const auto& v : p_.y[order(cs)[s]]) y[s].push_back(v.get_d());
    }
    auto weight = [&](uint32_t j, uint32_t o) -> double {
      if (o == sc.lead[j]) return sc.sign(j, o);
      int b = sc.block_of(j, o);
      return b < 0 ? 0.0 : (*r)[static_cast<size_t>(b)];
    };
    std::vector<double> v(nz, 0.0);
    double residual = 0;
    for (int iter = 0; iter < 2000; ++iter) {
      // (z, c) given r: normal equations of the n k equations.
      std::vector<double> ata(nz * nz, 0.0), atb(nz, 0.0), row(nz);
      for (size_t s = 0; s < n; ++s)
        for (uint32_t o = 0; o < k_; ++o) {
          std::fill(row.begin(), row.end(), 0.0);
          for (uint32_t j = 0; j < m_; ++j)
            if (cs.path[s][j] == '1')
              for (uint32_t t = 0; t < dz_; ++t) row[j * dz_ + t] = weight(j, o) * xt[s][t];
          if (p_.output_bias) row[m_ * dz_ + o] = 1;
          for (size_t a = 0; a < nz; ++a) {
            if (row[a] == 0) continue;
            atb[a] += row[a] * y[s][o];
            for (size_t b = 0; b < nz; ++b) ata[a * nz + b] += row[a] * row[b];
          }
        }
      for (size_t a = 0; a < nz; ++a) ata[a * nz + a] += 1e-12;
      if (!solve_dense(ata, atb, nz)) return false;
      v = atb;
      // r given (z, c): each block's weight in its own output, least squares.
      residual = 0;
      for (uint32_t o = 0; o < k_; ++o) {
        std::vector<size_t> bl;
        for (size_t b = 0; b < sc.blocks.size(); ++b)
          if (sc.blocks[b].second == o && !fixed[b]) bl.push_back(b);
        const size_t q = bl.size();
        std::vector<double> g(q * q, 0.0), h(q, 0.0), feat(q);
        for (size_t s = 0; s < n; ++s) {
          double rest = y[s][o] - (p_.output_bias ? v[m_ * dz_ + o] : 0.0);
          for (uint32_t j = 0; j < m_; ++j) {
            if (cs.path[s][j] != '1') continue;
            double pre = 0;
            for (uint32_t t = 0; t < dz_; ++t) pre += v[j * dz_ + t] * xt[s][t];
            if (o == sc.lead[j]) rest -= sc.sign(j, o) * pre;
            if (int b = sc.block_of(j, o); b >= 0 && fixed[static_cast<size_t>(b)])
              rest -= (*r)[static_cast<size_t>(b)] * pre;
            for (size_t x = 0; x < q; ++x)
              if (sc.blocks[bl[x]].first == j) feat[x] = pre;
          }
          for (size_t x = 0; x < q; ++x) {
            const uint32_t j = sc.blocks[bl[x]].first;
            if (cs.path[s][j] != '1') feat[x] = 0;
          }
          for (size_t x = 0; x < q; ++x) {
            h[x] += feat[x] * rest;
            for (size_t z = 0; z < q; ++z) g[x * q + z] += feat[x] * feat[z];
          }
          double fit = 0;
          for (size_t x = 0; x < q; ++x) fit += feat[x] * (*r)[bl[x]];
          residual += (rest - fit) * (rest - fit);
          std::fill(feat.begin(), feat.end(), 0.0);
        }
        if (q == 0) {
          residual += 0;  // nothing free in this output; its residual is counted below
        }
        if (q == 0) continue;
        for (size_t x = 0; x < q; ++x) g[x * q + x] += 1e-12;
        if (!solve_dense(g, h, q)) return false;
        for (size_t x = 0; x < q; ++x) {
          const auto [j, oo] = sc.blocks[bl[x]];
          // Keep the case's sign; a vanishing weight belongs to another case.
          (*r)[bl[x]] = sc.sign(j, oo) * std::max(1e-9, sc.sign(j, oo) * h[x]);
        }
      }
      if (residual < 1e-20) break;
    }
    if (zc) *zc = v;
    return residual < 1e-10;
  }

  // Gaussian elimination with partial pivoting on a dense n x n system;
  // the solution replaces b.
  static bool solve_dense(std::vector<double>& a, std::vector<double>& b, size_t n) {
    for (size_t col = 0; col < n; ++col) {
      size_t p = col;
      for (size_t i = col + 1; i < n; ++i)
        if (std::fabs(a[i * n + col]) > std::fabs(a[p * n + col])) p = i;
      if (std::fabs(a[p * n + col]) < 1e-300) return false;
      if (p != col) {
        for (size_t j = 0; j < n; ++j) std::swap(a[p * n + j], a[col * n + j]);
        std::swap(b[p], b[col]);
      }
      for (size_t i = col + 1; i < n; ++i) {
        const double f = a[i * n + col] / a[col * n + col];
        if (f == 0) continue;
        for (size_t j = col; j < n; ++j) a[i * n + j] -= f * a[col * n + j];
        b[i] -= f * b[col];
      }
    }
    for (size_t i = n; i-- > 0;) {
      for (size_t j = i + 1; j < n; ++j) b[i] -= a[i * n + j] * b[j];
      b[i] /= a[i * n + i];
    }
    return true;
  }

  // The exact LP in (z, c) for the current pattern with output weights a.
  bool solve_fixed_output_weights(const CaseState& cs, const std::vector<std::vector<mpq_class>>& a) {
    const size_t nv = m_ * dz_ + (p_.output_bias ? k_ : 0);
    std::vector<LpRow> rows;
    for (size_t s = 0; s < cs.path.size(); ++s) {
      const uint32_t i = order(cs)[s];
      const std::string& act = cs.path[s];
      for (uint32_t o = 0; o < k_; ++o) {
        LpRow eq;
        eq.coeffs.assign(nv, mpq_class(0));
        eq.sense = RowSense::kEqual;
        eq.rhs = p_.y[i][o];
        for (uint32_t j = 0; j < m_; ++j)
          if (act[j] == '1' && sgn(a[j][o]) != 0)
            for (uint32_t t = 0; t < dz_; ++t) eq.coeffs[j * dz_ + t] = a[j][o] * xt_[i][t];
        if (p_.output_bias) eq.coeffs[m_ * dz_ + o] = 1;
        rows.push_back(std::move(eq));
      }
      for (uint32_t j = 0; j < m_; ++j) {
        LpRow g;
        g.coeffs.assign(nv, mpq_class(0));
        g.sense = RowSense::kGreaterEqual;
        for (uint32_t t = 0; t < dz_; ++t) g.coeffs[j * dz_ + t] = (act[j] == '1' ? 1 : -1) * xt_[i][t];
        rows.push_back(std::move(g));
      }
    }
    LpResult res = solve_lp_feasibility(rows, nv, nullptr);
    ++stats_->lps_solved;
    if (!res.feasible) return false;
    return accept(a, res.point, m_ * dz_);
  }

  // Records weights: a (m x k), z blocks at the front of `point`, c at c0.
  bool accept(const std::vector<std::vector<mpq_class>>& a, const std::vector<mpq_class>& point,
              size_t c0) {
    solution_a_ = a;
    solution_w_.assign(m_, {});
    solution_b_.assign(m_, mpq_class(0));
    for (uint32_t j = 0; j < m_; ++j) {
      for (uint32_t t = 0; t < p_.input_dim; ++t) solution_w_[j].push_back(point[j * dz_ + t]);
      if (p_.hidden_bias) solution_b_[j] = point[j * dz_ + p_.input_dim];
    }
    solution_c_.clear();
    if (p_.output_bias)
      for (uint32_t o = 0; o < k_; ++o) solution_c_.push_back(point[c0 + o]);
    return true;
  }

  const Problem& p_;
  const SearchControl& control_;
  SolveStats* stats_;
  uint32_t m_ = 0, k_ = 0, dz_ = 0;
  std::vector<std::vector<uint32_t>> orders_;  // sample orders, by attempt
  uint64_t next_guide_nodes_ = kGuideAfterNodes;  // when the float guide runs next
  uint32_t guide_calls_ = 0;
  bool guide_done_ = false;                       // a float fit was found
  // Realizability memo per sample order: column over the decided samples ->
  // Farkas vector (empty when realizable).
  std::vector<std::unordered_map<std::string, std::vector<mpq_class>>> memos_;
  std::vector<std::vector<mpq_class>> xt_;
  std::vector<std::vector<mpq_class>> solution_a_, solution_w_;
  std::optional<AlgebraicFit> algebraic_fit_;
  std::vector<mpq_class> solution_b_, solution_c_;
  std::string stop_reason_;
  std::chrono::steady_clock::time_point last_progress_;
};

}  // namespace

uint64_t count_sign_cases(uint32_t m, uint32_t k) {
  const uint64_t cap = uint64_t{1} << 40;
  uint64_t types = 1;
  for (uint32_t o = 0; o < k; ++o) {
    types *= 3;
    if (types > cap) return cap;
  }
  types -= 1;
  // binomial(types + m - 1, m), saturating at cap.
  unsigned __int128 r = 1;
  for (uint64_t i = 1; i <= m; ++i) {
    r = r * (types + i - 1) / i;
    if (r > cap) return cap;
  }
  return static_cast<uint64_t>(r);
}

SearchOutcome search_patterns(const Problem& problem, const SearchControl& control,
                              SolveStats* stats) {
  const uint64_t cases = count_sign_cases(problem.hidden_width, problem.output_dim);
  if (cases > kMaxSignCases) {
    SearchOutcome out;
    out.verdict = Verdict::kUnknown;
    out.reason = "the sign-case split is too large (" +
                 (cases >= (uint64_t{1} << 40) ? std::string("over 10^12") : std::to_string(cases)) +
                 " cases for width " + std::to_string(problem.hidden_width) + " and " +
                 std::to_string(problem.output_dim) + " outputs; at most " +
                 std::to_string(kMaxSignCases) + " are searched)";
    return out;
  }
  PatternSearch search(problem, control, stats);
  return search.run();
}

}  // namespace relufit
