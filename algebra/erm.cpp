#include "algebra/erm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <map>

#include "algebra/erm_qp.h"
#include "algebra/lp.h"
#include "algebra/number.h"
#include "algebra/search_pattern.h"
#include "algebra/search_rows.h"

namespace relufit {

mpq_class training_error(const Problem& p, Loss loss, const ExactFit& fit) {
  std::vector<mpq_class> r;
  for (size_t i = 0; i < p.num_samples(); ++i) {
    for (uint32_t o = 0; o < p.output_dim; ++o) {
      mpq_class f = fit.c.empty() ? mpq_class(0) : fit.c[o];
      for (uint32_t j = 0; j < p.hidden_width; ++j) {
        mpq_class pre = fit.b[j];
        for (uint32_t t = 0; t < p.input_dim; ++t) pre += fit.w[j][t] * p.x[i][t];
        if (sgn(pre) > 0) f += fit.a[j][o] * pre;
      }
      r.push_back(f - p.y[i][o]);
    }
  }
  return loss_of_residuals(loss, r);
}

namespace {

enum class Mode { kMinimize, kBudget };

class ErmSearch {
 public:
  ErmSearch(const Problem& p, Loss loss, Mode mode, const mpq_class& threshold,
            const SearchControl& control, SolveStats* stats)
      : p_(p), ctx_(p, control.options), loss_(loss), mode_(mode), threshold_(threshold),
        control_(control), stats_(stats) {}

  ErmResult run();

 private:
  enum class Step { kGo, kFit, kStop };

  Step visit(const SignCase& sc, std::vector<SignCaseData>* out);
  Step node(const SignCase& sc, std::vector<ProofNodeData>* nodes, const std::vector<mpq_class>& parent_point);
  Step branch(const SignCase& sc, std::vector<ProofNodeData>* nodes, const std::vector<mpq_class>& point);
  struct QuickTest {
    enum class Kind { kNone, kBound, kPoint };
    Kind kind = Kind::kNone;
    std::vector<mpq_class> point, lambda, mu;
    mpq_class loss, bound;
  };
  QuickTest quick_test(const SignCase& sc) const;
  std::optional<ExactFit> float_incumbent() const;
  void leaf_with_bound(const std::vector<mpq_class>& lambda, const std::vector<mpq_class>& mu,
                       const mpq_class& bound, ProofNodeData* nd) const;
  std::optional<mpq_class> loss_at(const SignCase& sc, const std::vector<mpq_class>& point) const;
  std::vector<std::string> children(const SignCase& sc, size_t depth, const std::vector<mpq_class>& point) const;
  const std::vector<mpq_class>& realizability(uint32_t j);
  NodeProgram program(const SignCase& sc) const;
  ExactFit fit_from_point(const SignCase& sc, const std::vector<mpq_class>& point) const;
  bool stop();

  const Problem& p_;
  SearchContext ctx_;
  Loss loss_;
  Mode mode_;
  mpq_class threshold_;  // budget: gamma; minimise: the incumbent's error
  const SearchControl& control_;
  SolveStats* stats_;
  std::vector<uint32_t> order_;
  std::vector<std::string> path_;
  std::map<std::string, std::vector<mpq_class>> memo_;  // column -> Farkas (empty: realizable)
  std::optional<ExactFit> fit_;
  std::string reason_;
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};

bool ErmSearch::stop() {
  if (control_.node_limit && stats_->nodes >= control_.node_limit) {
    reason_ = "node limit";
    return true;
  }
  if ((stats_->nodes & 15) == 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= control_.deadline) {
      reason_ = "time limit";
      return true;
    }
    if (control_.cancelled && control_.cancelled()) {
      reason_ = "cancelled";
      return true;
    }
    if (control_.progress && now - last_progress_ > std::chrono::milliseconds(500)) {
      last_progress_ = now;
      control_.progress(*stats_);
    }
  }
  return false;
}

const std::vector<mpq_class>& ErmSearch::realizability(uint32_t j) {
  std::string key;
  for (const auto& act : path_) key.push_back(act[j]);
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second;
  std::vector<mpq_class> farkas;
  if (key.find('1') != std::string::npos) {
    LpResult res = solve_lp_feasibility(column_rows(ctx_, order_, key), ctx_.dz, nullptr);
    ++stats_->lps_solved;
    if (!res.feasible) farkas = std::move(res.farkas);
  }
  return memo_.emplace(std::move(key), std::move(farkas)).first->second;
}

// The node program of path_ in (z_0 .. z_{m-1}, c): sample rows, then the
// sign rows of each decided sample in (position, neuron) order.
NodeProgram ErmSearch::program(const SignCase& sc) const {
  NodeProgram np;
  np.loss = loss_;
  const uint32_t m = ctx_.m, dz = ctx_.dz;
  np.num_vars = m * dz + (p_.output_bias ? 1 : 0);
  for (size_t s = 0; s < path_.size(); ++s) {
    const uint32_t i = order_[s];
    std::vector<mpq_class> f(np.num_vars, mpq_class(0));
    for (uint32_t j = 0; j < m; ++j)
      if (path_[s][j] == '1')
        for (uint32_t t = 0; t < dz; ++t) f[j * dz + t] = sc.sign(j, 0) * ctx_.xt[i][t];
    if (p_.output_bias) f[m * dz] = 1;
    np.residual_rows.push_back(std::move(f));
    np.labels.push_back(p_.y[i][0]);
  }
  for (size_t s = 0; s < path_.size(); ++s) {
    const uint32_t i = order_[s];
    for (uint32_t j = 0; j < m; ++j) {
      std::vector<mpq_class> g(np.num_vars, mpq_class(0));
      const int sigma = path_[s][j] == '1' ? 1 : -1;
      for (uint32_t t = 0; t < dz; ++t) g[j * dz + t] = sigma * ctx_.xt[i][t];
      np.sign_rows.push_back(std::move(g));
    }
  }
  return np;
}

ExactFit ErmSearch::fit_from_point(const SignCase& sc, const std::vector<mpq_class>& point) const {
  ExactFit fit;
  const uint32_t m = ctx_.m, d = p_.input_dim, dz = ctx_.dz;
  for (uint32_t j = 0; j < m; ++j) {
    fit.a.push_back({mpq_class(sc.sign(j, 0))});
    fit.w.emplace_back(point.begin() + j * dz, point.begin() + j * dz + d);
    fit.b.push_back(p_.hidden_bias ? point[j * dz + d] : mpq_class(0));
  }
  if (p_.output_bias) fit.c.push_back(point[m * dz]);
  return fit;
}

// As the zero-error search (proto: Lemma 2).
std::vector<std::string> ErmSearch::children(const SignCase& sc, size_t depth,
                                             const std::vector<mpq_class>& point) const {
  return admissible_children(ctx_, sc, order_[depth], path_, point);
}

// Visits the node of path_ and (when it branches) its subtree, appending to
// `nodes` in preorder.
ErmSearch::Step ErmSearch::node(const SignCase& sc, std::vector<ProofNodeData>* nodes,
                                const std::vector<mpq_class>& parent_point) {
  if (stop()) return Step::kStop;
  ++stats_->nodes;
  const size_t depth = path_.size();
  stats_->max_depth = std::max<uint32_t>(stats_->max_depth, static_cast<uint32_t>(depth));
  ProofNodeData nd;
  nd.depth = static_cast<uint32_t>(depth);
  if (depth > 0) nd.activation = path_.back();
  nd.kind = ProofNodeKind::kBranch;
  std::vector<mpq_class> point = parent_point;
  if (depth > 0) {
    for (uint32_t j = 0; j < ctx_.m; ++j) {
      const auto& farkas = realizability(j);
      if (!farkas.empty()) {
        nd.kind = ProofNodeKind::kUnrealizable;
        nd.neuron = j;
        nd.farkas = sparse_farkas(farkas);
        nodes->push_back(std::move(nd));
        return Step::kGo;
      }
    }
    // An inner node that a known point (the parent's) shows to have loss
    // below the incumbent (minimise) or within gamma (budget) cannot be
    // pruned, and needs no certificate: branch without solving.
    if (depth < p_.num_samples() && !parent_point.empty()) {
      if (auto loss = loss_at(sc, parent_point)) {
        if (mode_ == Mode::kBudget ? *loss <= threshold_ : *loss < threshold_) {
          nodes->push_back(std::move(nd));
          return branch(sc, nodes, point);
        }
      }
    }
    // L-infinity and L1: the node LP with the loss fixed at the threshold
    // (erm.h) is a feasibility LP for the fast exact solver (lp.h). If it is
    // empty its Farkas vector is a dual bound above the threshold: a leaf.
    // If it has a point of loss below the threshold (minimise) or within it
    // (budget), the node cannot be pruned: branch, or at a complete node in
    // budget mode, that point is the fit.
    if (loss_ != Loss::kL2) {
      QuickTest q = quick_test(sc);
      ++stats_->lps_solved;
      if (q.kind == QuickTest::Kind::kBound) {
        leaf_with_bound(q.lambda, q.mu, q.bound, &nd);
        nodes->push_back(std::move(nd));
        return Step::kGo;
      }
      if (q.kind == QuickTest::Kind::kPoint) {
        const bool below = mode_ == Mode::kBudget ? q.loss <= threshold_ : q.loss < threshold_;
        if (below && depth < p_.num_samples()) {
          nodes->push_back(std::move(nd));
          return branch(sc, nodes, q.point);
        }
        if (below && mode_ == Mode::kBudget) {
          fit_ = fit_from_point(sc, q.point);
          threshold_ = training_error(p_, loss_, *fit_);
          return Step::kFit;
        }
      }
    }
    NodeSolution sol = solve_node_program(program(sc));
    ++stats_->lps_solved;
    if (!sol.ok) {
      reason_ = "internal: " + sol.error;
      return Step::kStop;
    }
    const bool prune = mode_ == Mode::kBudget ? sol.bound > threshold_ : sol.bound >= threshold_;
    const bool complete = depth == p_.num_samples();
    if (!prune && complete) {
      ExactFit fit = fit_from_point(sc, sol.point);
      const mpq_class err = training_error(p_, loss_, fit);
      if (mode_ == Mode::kBudget) {
        if (err <= threshold_) {
          fit_ = std::move(fit);
          threshold_ = err;  // the fit's error
          return Step::kFit;
        }
        reason_ = "internal: a complete pattern's optimum " + rational_to_string(err) +
                  " exceeds gamma but its dual bound does not";
        return Step::kStop;
      }
      if (err < threshold_) {
        threshold_ = err;
        fit_ = std::move(fit);
      }
      if (sol.bound < threshold_) {
        reason_ = "internal: a complete pattern's dual bound is below its optimum";
        return Step::kStop;
      }
    }
    if (prune || complete) {
      leaf_with_bound(sol.lambda, sol.mu, sol.bound, &nd);
      nodes->push_back(std::move(nd));
      return Step::kGo;
    }
    point = std::move(sol.point);
  }
  nodes->push_back(std::move(nd));
  return branch(sc, nodes, point);
}

void ErmSearch::leaf_with_bound(const std::vector<mpq_class>& lambda, const std::vector<mpq_class>& mu,
                                const mpq_class& bound, ProofNodeData* nd) const {
  nd->kind = ProofNodeKind::kErmBound;
  const uint32_t rows = ctx_.m + 1;
  for (size_t s = 0; s < path_.size(); ++s) {
    if (sgn(lambda[s]) != 0) nd->farkas.push_back({static_cast<uint32_t>(rows * s), rational_to_string(lambda[s])});
    for (uint32_t j = 0; j < ctx_.m; ++j)
      if (sgn(mu[s * ctx_.m + j]) != 0)
        nd->farkas.push_back({static_cast<uint32_t>(rows * s + 1 + j), rational_to_string(mu[s * ctx_.m + j])});
  }
  nd->bound = rational_to_string(bound);
}

// The node LP with the loss fixed at threshold_ (L-infinity: f_s >= y - t,
// -f_s >= -y - t; L1: f_s + e_s >= y, -f_s + e_s >= -y, -sum e_s >= -t; then
// the sign rows), by the fast exact feasibility solver. Its Farkas vector
// (alpha, beta on the two sample rows, mu on the sign rows) gives lambda_s =
// alpha_s - beta_s with sum lambda_s y_s > t ||lambda||_*, i.e. a dual bound
// above t; it is verified exactly here and used only if it is.
ErmSearch::QuickTest ErmSearch::quick_test(const SignCase& sc) const {
  QuickTest out;
  const NodeProgram np = program(sc);
  const size_t nb = np.num_vars, ns = np.residual_rows.size();
  const bool l1 = loss_ == Loss::kL1;
  const size_t nv = nb + (l1 ? ns : 0);
  std::vector<LpRow> rows;
  for (size_t s = 0; s < ns; ++s) {
    for (int sign : {1, -1}) {
      LpRow r;
      r.coeffs.assign(nv, mpq_class(0));
      for (size_t j = 0; j < nb; ++j) r.coeffs[j] = sign * np.residual_rows[s][j];
      if (l1) {
        r.coeffs[nb + s] = 1;
        r.rhs = sign * np.labels[s];
      } else {
        r.rhs = sign * np.labels[s] - threshold_;
      }
      rows.push_back(std::move(r));
    }
  }
  for (const auto& g : np.sign_rows) {
    LpRow r;
    r.coeffs.assign(nv, mpq_class(0));
    for (size_t j = 0; j < nb; ++j) r.coeffs[j] = g[j];
    rows.push_back(std::move(r));
  }
  if (l1) {
    LpRow r;
    r.coeffs.assign(nv, mpq_class(0));
    for (size_t s = 0; s < ns; ++s) r.coeffs[nb + s] = -1;
    r.rhs = -threshold_;
    rows.push_back(std::move(r));
  }
  LpResult res = solve_lp_feasibility(rows, nv, nullptr);
  if (res.feasible) {
    out.kind = QuickTest::Kind::kPoint;
    out.point.assign(res.point.begin(), res.point.begin() + static_cast<long>(nb));
    std::vector<mpq_class> r(ns);
    for (size_t s = 0; s < ns; ++s) {
      mpq_class f = 0;
      for (size_t j = 0; j < nb; ++j) f += np.residual_rows[s][j] * out.point[j];
      r[s] = f - np.labels[s];
    }
    out.loss = loss_of_residuals(loss_, r);
    return out;
  }
  out.lambda.resize(ns);
  for (size_t s = 0; s < ns; ++s) out.lambda[s] = res.farkas[2 * s] - res.farkas[2 * s + 1];
  out.mu.assign(res.farkas.begin() + static_cast<long>(2 * ns),
                res.farkas.begin() + static_cast<long>(2 * ns + np.sign_rows.size()));
  // The identity sum lambda_s f_s + sum mu_q g_q = 0 and mu >= 0, exactly.
  for (const auto& v : out.mu)
    if (sgn(v) < 0) return out;
  for (size_t j = 0; j < nb; ++j) {
    mpq_class sum = 0;
    for (size_t s = 0; s < ns; ++s) sum += out.lambda[s] * np.residual_rows[s][j];
    for (size_t q = 0; q < np.sign_rows.size(); ++q) sum += out.mu[q] * np.sign_rows[q][j];
    if (sgn(sum) != 0) return out;
  }
  out.bound = dual_bound(loss_, out.lambda, np.labels);
  if (out.bound > threshold_) out.kind = QuickTest::Kind::kBound;
  return out;
}

// The primal heuristic of branch and bound (DESIGN.md 7): least-squares
// fits in double precision (Levenberg-Marquardt from a few seeded random
// starts) name activation patterns and output signs; each pattern's exact
// node program over all samples gives an exact network, the best of which is
// the first incumbent. Floats only choose the patterns.
std::optional<ExactFit> ErmSearch::float_incumbent() const {
  const uint32_t m = ctx_.m, dz = ctx_.dz;
  const size_t n = p_.num_samples();
  const bool ob = p_.output_bias;
  const size_t np = m * dz + m + (ob ? 1 : 0);
  std::vector<std::vector<double>> xt(n, std::vector<double>(dz));
  std::vector<double> y(n);
  double scale = 1;
  for (size_t i = 0; i < n; ++i) {
    for (uint32_t t = 0; t < dz; ++t) xt[i][t] = ctx_.xt[i][t].get_d();
    y[i] = p_.y[i][0].get_d();
    scale = std::max(scale, std::abs(y[i]));
  }
  std::mt19937 rng(1);
  std::normal_distribution<double> normal(0, 1);
  std::optional<ExactFit> best;
  mpq_class best_error;
  const auto until = std::min(control_.deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
  for (int start = 0; start < 8 && std::chrono::steady_clock::now() < until; ++start) {
    std::vector<double> th(np);
    for (auto& v : th) v = normal(rng);
    for (uint32_t j = 0; j < m; ++j) th[m * dz + j] *= scale / 4;
    auto residuals = [&](const std::vector<double>& t, std::vector<std::vector<double>>* jac) {
      std::vector<double> r(n);
      if (jac) jac->assign(n, std::vector<double>(np, 0));
      for (size_t i = 0; i < n; ++i) {
        double f = ob ? t[np - 1] : 0;
        for (uint32_t j = 0; j < m; ++j) {
          double pre = 0;
          for (uint32_t q = 0; q < dz; ++q) pre += t[j * dz + q] * xt[i][q];
          if (pre > 0) {
            f += t[m * dz + j] * pre;
            if (jac) {
              for (uint32_t q = 0; q < dz; ++q) (*jac)[i][j * dz + q] = t[m * dz + j] * xt[i][q];
              (*jac)[i][m * dz + j] = pre;
            }
          }
        }
        if (jac && ob) (*jac)[i][np - 1] = 1;
        r[i] = f - y[i];
      }
      return r;
    };
    double mu = 1e-3;
    std::vector<std::vector<double>> J;
    std::vector<double> r = residuals(th, &J);
    double e = 0;
    for (double v : r) e += v * v;
    for (int it = 0; it < 200; ++it) {
      std::vector<std::vector<double>> A(np, std::vector<double>(np + 1, 0));
      for (size_t a = 0; a < np; ++a) {
        for (size_t b = 0; b < np; ++b)
          for (size_t i = 0; i < n; ++i) A[a][b] += J[i][a] * J[i][b];
        A[a][a] += mu * (1 + A[a][a]);
        for (size_t i = 0; i < n; ++i) A[a][np] -= J[i][a] * r[i];
      }
      bool singular = false;
      for (size_t c = 0; c < np && !singular; ++c) {  // Gauss-Jordan with partial pivoting
        size_t piv = c;
        for (size_t a = c + 1; a < np; ++a)
          if (std::abs(A[a][c]) > std::abs(A[piv][c])) piv = a;
        if (std::abs(A[piv][c]) < 1e-300) {
          singular = true;
          break;
        }
        std::swap(A[c], A[piv]);
        for (size_t a = 0; a < np; ++a) {
          if (a == c) continue;
          const double f = A[a][c] / A[c][c];
          for (size_t b = c; b <= np; ++b) A[a][b] -= f * A[c][b];
        }
      }
      if (singular) break;
      std::vector<double> cand(th);
      for (size_t a = 0; a < np; ++a) cand[a] += A[a][np] / A[a][a];
      std::vector<std::vector<double>> Jc;
      std::vector<double> rc = residuals(cand, &Jc);
      double ec = 0;
      for (double v : rc) ec += v * v;
      if (std::isfinite(ec) && ec < e) {
        th = std::move(cand);
        r = std::move(rc);
        J = std::move(Jc);
        e = ec;
        mu = std::max(mu / 3, 1e-12);
      } else {
        mu *= 4;
        if (mu > 1e10) break;
      }
    }
    // The fit's pattern and output signs, decided exactly.
    NodeProgram prog;
    prog.loss = loss_;
    prog.num_vars = m * dz + (ob ? 1 : 0);
    std::vector<int> tau(m);
    for (uint32_t j = 0; j < m; ++j) tau[j] = th[m * dz + j] < 0 ? -1 : 1;
    for (size_t i = 0; i < n; ++i) {
      std::vector<mpq_class> f(prog.num_vars, mpq_class(0));
      for (uint32_t j = 0; j < m; ++j) {
        double pre = 0;
        for (uint32_t q = 0; q < dz; ++q) pre += th[j * dz + q] * xt[i][q];
        const bool active = pre > 0;
        std::vector<mpq_class> g(prog.num_vars, mpq_class(0));
        for (uint32_t q = 0; q < dz; ++q) {
          if (active) f[j * dz + q] = tau[j] * ctx_.xt[i][q];
          g[j * dz + q] = (active ? 1 : -1) * ctx_.xt[i][q];
        }
        prog.sign_rows.push_back(std::move(g));
      }
      if (ob) f[m * dz] = 1;
      prog.residual_rows.push_back(std::move(f));
      prog.labels.push_back(p_.y[i][0]);
    }
    NodeSolution sol = solve_node_program(prog);
    if (!sol.ok) continue;
    ExactFit fit;
    for (uint32_t j = 0; j < m; ++j) {
      fit.a.push_back({mpq_class(tau[j])});
      fit.w.emplace_back(sol.point.begin() + j * dz, sol.point.begin() + j * dz + p_.input_dim);
      fit.b.push_back(p_.hidden_bias ? sol.point[j * dz + p_.input_dim] : mpq_class(0));
    }
    if (ob) fit.c.push_back(sol.point[m * dz]);
    const mpq_class err = training_error(p_, loss_, fit);
    if (!best || err < best_error) {
      best_error = err;
      best = std::move(fit);
    }
  }
  return best;
}

ErmSearch::Step ErmSearch::branch(const SignCase& sc, std::vector<ProofNodeData>* nodes,
                                  const std::vector<mpq_class>& point) {
  for (const std::string& kid : children(sc, path_.size(), point)) {
    path_.push_back(kid);
    const Step st = node(sc, nodes, point);
    path_.pop_back();
    if (st != Step::kGo) return st;
  }
  return Step::kGo;
}

// The loss over the decided samples of `point` when it satisfies the sign
// rows of the newest decided sample (the parent's point satisfies the
// others); nullopt when it does not.
std::optional<mpq_class> ErmSearch::loss_at(const SignCase& sc, const std::vector<mpq_class>& point) const {
  const uint32_t m = ctx_.m, dz = ctx_.dz;
  const size_t last = path_.size() - 1;
  std::vector<mpq_class> r;
  for (size_t s = 0; s < path_.size(); ++s) {
    const auto& xt = ctx_.xt[order_[s]];
    mpq_class f = p_.output_bias ? point[m * dz] : mpq_class(0);
    for (uint32_t j = 0; j < m; ++j) {
      mpq_class pre = 0;
      for (uint32_t t = 0; t < dz; ++t) pre += point[j * dz + t] * xt[t];
      const bool active = path_[s][j] == '1';
      if (s == last && (active ? sgn(pre) < 0 : sgn(pre) > 0)) return std::nullopt;
      if (active) f += sc.sign(j, 0) * pre;
    }
    r.push_back(f - p_.y[order_[s]][0]);
  }
  return loss_of_residuals(loss_, r);
}

ErmResult ErmSearch::run() {
  ErmResult result;
  if (p_.output_dim != 1) {
    result.reason = "training error for several outputs not yet supported (output_dim 1 only)";
    return result;
  }
  if (loss_ == Loss::kUnspecified) loss_ = Loss::kLinf;
  order_ = choose_sample_order(p_);
  LpStop stop;
  stop.deadline = control_.deadline;
  stop.cancelled = control_.cancelled;
  LpStopScope stop_scope(&stop);
  if (mode_ == Mode::kMinimize) {
    // Incumbent: the best constant network (every neuron zero).
    ExactFit fit;
    const uint32_t m = p_.hidden_width;
    fit.a.assign(m, {mpq_class(1)});
    fit.w.assign(m, std::vector<mpq_class>(p_.input_dim, mpq_class(0)));
    fit.b.assign(m, mpq_class(0));
    if (p_.output_bias) {
      std::vector<mpq_class> y;
      for (const auto& v : p_.y) y.push_back(v[0]);
      std::sort(y.begin(), y.end());
      mpq_class c = 0;
      if (loss_ == Loss::kLinf) c = (y.front() + y.back()) / 2;
      else if (loss_ == Loss::kL1) c = y[y.size() / 2];
      else {
        for (const auto& v : y) c += v;
        c /= static_cast<long>(y.size());
      }
      fit.c.push_back(c);
    }
    threshold_ = training_error(p_, loss_, fit);
    fit_ = std::move(fit);
  }
  if (auto fit = float_incumbent()) {
    const mpq_class err = training_error(p_, loss_, *fit);
    if (mode_ == Mode::kBudget && err <= threshold_) {
      result.status = ErmResult::Status::kFeasible;
      result.error = err;
      result.fit = std::move(fit);
      return result;
    }
    if (mode_ == Mode::kMinimize && err < threshold_) {
      threshold_ = err;
      fit_ = std::move(fit);
    }
  }
  for (const SignCase& sc : enumerate_sign_cases(p_.hidden_width, 1)) {
    SignCaseData data;
    data.output_signs = sc.strings();
    data.sample_order = order_;
    path_.clear();
    Step st = Step::kStop;
    try {
      st = node(sc, &data.nodes, {});
    } catch (const LpStopped& e) {
      reason_ = e.what();
    }
    if (st == Step::kFit) {
      result.status = ErmResult::Status::kFeasible;
      result.error = threshold_;
      result.fit = std::move(fit_);
      return result;
    }
    if (st == Step::kStop) {
      result.reason = reason_;
      if (mode_ == Mode::kMinimize) {  // the best network found so far
        result.error = threshold_;
        result.fit = std::move(fit_);
      }
      return result;
    }
    result.proof.cases.push_back(std::move(data));
  }
  if (mode_ == Mode::kBudget) {
    result.status = ErmResult::Status::kInfeasible;
    return result;
  }
  // Leaves pruned early carry bounds >= the incumbent of their time, which
  // only decreased since: every leaf proves loss >= the final incumbent.
  for (const auto& c : result.proof.cases)
    for (const auto& nd : c.nodes)
      if (nd.kind == ProofNodeKind::kErmBound && mpq_class(nd.bound) < threshold_) {
        result.reason = "internal: a leaf's bound is below the optimum";
        return result;
      }
  result.status = ErmResult::Status::kOptimal;
  result.error = threshold_;
  result.fit = std::move(fit_);
  return result;
}

}  // namespace

ErmResult minimize_training_error(const Problem& problem, Loss loss, const SearchControl& control,
                                  SolveStats* stats) {
  return ErmSearch(problem, loss, Mode::kMinimize, 0, control, stats).run();
}

AnswerData solve_with_error_budget(const Problem& p, const SolveSettings& settings) {
  AnswerData answer;
  ErmResult r = decide_error_budget(p, p.loss, p.max_error, settings.control, &answer.stats);
  const SolveStats stats = answer.stats;
  if (r.status == ErmResult::Status::kFeasible) {
    answer = answer_from_fit(p, std::move(*r.fit));
    answer.stats = stats;
  } else if (r.status == ErmResult::Status::kInfeasible) {
    answer.verdict = Verdict::kInfeasible;
    answer.certificate.kind = CertificateData::Kind::kErmTree;
    answer.certificate.case_tree = std::move(r.proof);
    answer.certificate.erm_loss = p.loss == Loss::kUnspecified ? Loss::kLinf : p.loss;
    answer.certificate.erm_threshold = rational_to_string(p.max_error);
    answer.certificate.erm_strict = true;
  } else {
    answer.verdict = Verdict::kUnknown;
    answer.reason = r.reason;
  }
  return answer;
}

namespace {

// Several outputs: each output alone is a single-output problem of the same
// width (the joint network restricted to output o is one), so its optimum
// bounds the joint error from below (max for L-infinity, sum for L1 and L2).
// The best network found: for each output's optimal hidden layer, the best
// output weights and biases of every output for those fixed features (a
// convex program per output, no sign rows), the best combination kept.
void minimize_several_outputs(const Problem& p, const SolveSettings& settings, MinimizeAnswerData* answer) {
  const uint32_t k = p.output_dim, m = p.hidden_width;
  std::vector<mpq_class> bounds;
  std::vector<ExactFit> fits;
  for (uint32_t o = 0; o < k; ++o) {
    Problem po = p;
    po.output_dim = 1;
    for (size_t i = 0; i < p.num_samples(); ++i) po.y[i] = {p.y[i][o]};
    ErmResult r = minimize_training_error(po, answer->loss, settings.control, &answer->stats);
    if (r.status != ErmResult::Status::kOptimal) {
      answer->status = MinimizeAnswerData::Status::kUnknown;
      answer->reason = "output " + std::to_string(o) + " alone: " + r.reason;
      return;
    }
    bounds.push_back(r.error);
    fits.push_back(std::move(*r.fit));
    answer->output_proofs.push_back(std::move(r.proof));
    answer->output_bounds.push_back(rational_to_string(r.error));
  }
  mpq_class lower = 0;
  for (const auto& b : bounds) lower = answer->loss == Loss::kLinf ? std::max(lower, b) : mpq_class(lower + b);
  answer->lower_bound = rational_to_string(lower);
  std::optional<ExactFit> best;
  mpq_class best_error;
  for (const ExactFit& hidden : fits) {
    ExactFit joint;
    joint.w = hidden.w;
    joint.b = hidden.b;
    joint.a.assign(m, std::vector<mpq_class>(k, mpq_class(0)));
    if (p.output_bias) joint.c.assign(k, mpq_class(0));
    bool ok = true;
    for (uint32_t o = 0; o < k && ok; ++o) {
      NodeProgram np;
      np.loss = answer->loss;
      np.num_vars = m + (p.output_bias ? 1 : 0);
      for (size_t i = 0; i < p.num_samples(); ++i) {
        std::vector<mpq_class> row(np.num_vars, mpq_class(0));
        for (uint32_t j = 0; j < m; ++j) {
          mpq_class pre = hidden.b[j];
          for (uint32_t t = 0; t < p.input_dim; ++t) pre += hidden.w[j][t] * p.x[i][t];
          if (sgn(pre) > 0) row[j] = pre;
        }
        if (p.output_bias) row[m] = 1;
        np.residual_rows.push_back(std::move(row));
        np.labels.push_back(p.y[i][o]);
      }
      NodeSolution sol = solve_node_program(np);
      ++answer->stats.lps_solved;
      if (!sol.ok) {
        ok = false;
        break;
      }
      for (uint32_t j = 0; j < m; ++j) joint.a[j][o] = sol.point[j];
      if (p.output_bias) joint.c[o] = sol.point[m];
    }
    if (!ok) continue;
    const mpq_class err = training_error(p, answer->loss, joint);
    if (!best || err < best_error) {
      best_error = err;
      best = std::move(joint);
    }
  }
  if (!best) {
    answer->status = MinimizeAnswerData::Status::kUnknown;
    answer->reason = "internal: no network for several outputs";
    return;
  }
  answer->network = answer_from_fit(p, std::move(*best)).network;
  answer->best_error = rational_to_string(best_error);
  if (best_error == lower) {
    answer->status = MinimizeAnswerData::Status::kOptimal;
    answer->optimal_error = answer->best_error;
  } else {
    answer->status = MinimizeAnswerData::Status::kBounded;
    answer->reason = "several outputs: the least error lies in [" + answer->lower_bound + ", " +
                     answer->best_error + "] (per-output bounds proved, the best network found)";
  }
}

}  // namespace

MinimizeAnswerData solve_minimize(const Problem& p, Loss loss, const SolveSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  MinimizeAnswerData answer;
  answer.loss = loss == Loss::kUnspecified ? Loss::kLinf : loss;
  if (p.output_dim > 1) {
    minimize_several_outputs(p, settings, &answer);
    answer.stats.solve_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return answer;
  }
  ErmResult r = minimize_training_error(p, answer.loss, settings.control, &answer.stats);
  if (r.fit) answer.network = answer_from_fit(p, std::move(*r.fit)).network;
  if (r.status == ErmResult::Status::kOptimal) {
    answer.status = MinimizeAnswerData::Status::kOptimal;
    answer.optimal_error = rational_to_string(r.error);
    answer.best_error = answer.optimal_error;
    answer.proof = std::move(r.proof);
  } else {
    answer.status = MinimizeAnswerData::Status::kUnknown;
    answer.reason = r.reason;
    if (!answer.network.neurons.empty()) answer.best_error = rational_to_string(r.error);
  }
  answer.stats.solve_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return answer;
}

ErmResult decide_error_budget(const Problem& problem, Loss loss, const mpq_class& gamma,
                              const SearchControl& control, SolveStats* stats) {
  return ErmSearch(problem, loss, Mode::kBudget, gamma, control, stats).run();
}

}  // namespace relufit
