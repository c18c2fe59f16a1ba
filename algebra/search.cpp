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
    const uint32_t cases = m_ + 1;
    std::vector<bool> done(cases, false);
    std::vector<SignCaseData> proofs(cases);
    uint64_t budget = 256;
    // Round-robin over the sign cases with doubling node budgets, so a
    // feasible case is not starved by an exhaustive one.
    while (true) {
      bool all_done = true;
      for (uint32_t pcase = 0; pcase < cases; ++pcase) {
        if (done[pcase]) continue;
        positive_ = pcase;
        nodes_.clear();
        path_.clear();
        rows_.clear();
        budget_left_ = budget;
        std::vector<mpq_class> origin(nvars_, mpq_class(0));
        Status st = explore(0, "", origin);
        if (st == Status::kFound) {
          fill_weights(&out);
          out.verdict = Verdict::kFeasible;
          return out;
        }
        if (st == Status::kStopped) {
          out.verdict = Verdict::kUnknown;
          out.reason = stop_reason_;
          return out;
        }
        if (st == Status::kExhausted) {
          done[pcase] = true;
          proofs[pcase].positive_neurons = pcase;
          proofs[pcase].nodes = std::move(nodes_);
        } else {
          all_done = false;
        }
      }
      if (all_done) break;
      budget *= 2;
    }
    out.verdict = Verdict::kInfeasible;
    out.proof.sample_order = order_;
    out.proof.cases = std::move(proofs);
    return out;
  }

 private:
  int sign_of(uint32_t j) const { return j < positive_ ? 1 : -1; }

  // Rows of the decided sample at path position s with activation `act`.
  void append_rows(size_t s, const std::string& act) {
    const uint32_t i = order_[s];
    LpRow eq;
    eq.coeffs.assign(nvars_, mpq_class(0));
    eq.sense = RowSense::kEqual;
    eq.rhs = p_.y[i][0];
    for (uint32_t j = 0; j < m_; ++j)
      if (act[j] == '1')
        for (uint32_t t = 0; t < dz_; ++t) eq.coeffs[j * dz_ + t] = sign_of(j) * xt_[i][t];
    if (p_.output_bias) eq.coeffs[m_ * dz_] = 1;
    rows_.push_back(std::move(eq));
    for (uint32_t j = 0; j < m_; ++j) {
      LpRow g;
      g.coeffs.assign(nvars_, mpq_class(0));
      g.sense = RowSense::kGreaterEqual;
      const int sigma = act[j] == '1' ? 1 : -1;
      for (uint32_t t = 0; t < dz_; ++t) g.coeffs[j * dz_ + t] = sigma * xt_[i][t];
      rows_.push_back(std::move(g));
    }
  }

  // Farkas vector (over decided samples) when the column of neuron j is not
  // an open half-space dichotomy; empty when it is realizable.
  const std::vector<mpq_class>& realizability(uint32_t j) {
    std::string key;
    key.reserve(path_.size());
    for (const auto& act : path_) key.push_back(act[j]);
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
  std::vector<std::string> children(size_t depth, const std::vector<mpq_class>& point) {
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
      if (sign_of(j) != sign_of(j + 1)) continue;
      bool same = true;
      for (const auto& act : path_)
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

  Status explore(size_t depth, const std::string& act, const std::vector<mpq_class>& parent_point) {
    if (stop_requested()) return Status::kStopped;
    if (budget_left_ == 0) return Status::kBudget;
    --budget_left_;
    ++stats_->nodes;
    stats_->max_depth = std::max<uint32_t>(stats_->max_depth, static_cast<uint32_t>(depth));
    const size_t node_index = nodes_.size();
    nodes_.push_back({static_cast<uint32_t>(depth), act, ProofNodeKind::kBranch, 0, {}});
    std::vector<mpq_class> point = parent_point;
    if (depth > 0) {
      for (uint32_t j = 0; j < m_; ++j) {
        const auto& farkas = realizability(j);
        if (!farkas.empty()) {
          nodes_[node_index].kind = ProofNodeKind::kUnrealizable;
          nodes_[node_index].neuron = j;
          nodes_[node_index].farkas = sparse(farkas);
          return Status::kExhausted;
        }
      }
      const size_t first_new = rows_.size() - (m_ + 1);
      std::vector<LpRow> fresh(rows_.begin() + static_cast<long>(first_new), rows_.end());
      if (!point_satisfies(fresh, point)) {
        LpResult res = solve_lp_feasibility(rows_, nvars_, &lp_);
        ++stats_->lps_solved;
        if (!res.feasible) {
          nodes_[node_index].kind = ProofNodeKind::kLpInfeasible;
          nodes_[node_index].farkas = sparse(res.farkas);
          return Status::kExhausted;
        }
        point = std::move(res.point);
      }
    }
    if (depth == p_.num_samples()) {
      solution_ = point;
      return Status::kFound;
    }
    for (const std::string& child : children(depth, point)) {
      path_.push_back(child);
      append_rows(depth, child);
      Status st = explore(depth + 1, child, point);
      rows_.resize(rows_.size() - (m_ + 1));
      path_.pop_back();
      if (st != Status::kExhausted) return st;
    }
    return Status::kExhausted;
  }

  void fill_weights(SearchOutcome* out) const {
    out->a.resize(m_);
    out->w.assign(m_, {});
    out->b.assign(m_, mpq_class(0));
    for (uint32_t j = 0; j < m_; ++j) {
      out->a[j] = sign_of(j);
      for (uint32_t t = 0; t < p_.input_dim; ++t) out->w[j].push_back(solution_[j * dz_ + t]);
      if (p_.hidden_bias) out->b[j] = solution_[j * dz_ + p_.input_dim];
    }
    if (p_.output_bias) out->c.push_back(solution_[m_ * dz_]);
  }

  const Problem& p_;
  const SearchControl& control_;
  SolveStats* stats_;
  uint32_t m_ = 0, dz_ = 0, nvars_ = 0, positive_ = 0;
  std::vector<uint32_t> order_;
  std::vector<std::vector<mpq_class>> xt_;
  std::vector<std::string> path_;  // activation per decided sample
  std::vector<LpRow> rows_;        // LP rows of the decided samples, canonical order
  std::vector<ProofNodeData> nodes_;
  std::unordered_map<std::string, std::vector<mpq_class>> realizable_memo_;
  std::vector<mpq_class> solution_;
  LpCounters lp_;
  uint64_t budget_left_ = 0;
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
