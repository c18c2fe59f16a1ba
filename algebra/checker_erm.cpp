// See checker_erm.h. The certificates (proto ErmTree, ProofNode
// KIND_ERM_BOUND) are re-derived here from the request alone: the node's
// sample rows f_s = sum over active j of tau_j (z_j . x~_i) + c and sign rows
// sigma_ij (z_j . x~_i) >= 0, in the canonical order of CaseTree.
#include "algebra/checker_erm.h"
#include "algebra/checker_rational.h"

#include <flint/fmpq.h>
#include <flint/fmpz.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace relufit {
namespace {

using checker_internal::parse_rational;  // algebra/checker_rational.h
using checker_internal::Q;

CheckResult ok(std::string m) { return {true, false, std::move(m)}; }
CheckResult bad(std::string m) { return {false, false, std::move(m)}; }

struct Request {
  size_t n = 0, d = 0, m = 0, k = 0, dz = 0;
  bool hb = true, ob = true;
  std::vector<std::vector<Q>> xt;  // x, then 1 with hidden bias
  std::vector<std::vector<Q>> y;
  Loss loss = Loss::kUnspecified;
  Q max_error;
};

std::optional<std::string> read(const RequestData& r, const CheckLimits& limits, Request* out) {
  out->n = r.x.size();
  out->d = r.input_dim;
  out->m = r.hidden_width;
  out->k = r.output_dim;
  out->hb = r.hidden_bias;
  out->ob = r.output_bias;
  out->dz = out->d + (out->hb ? 1 : 0);
  out->loss = r.loss;
  if (out->n == 0 || out->d == 0 || out->m == 0 || out->k == 0 || r.y.size() != out->n)
    return "request is malformed (empty dataset or zero dimension)";
  for (size_t i = 0; i < out->n; ++i) {
    if (r.x[i].size() != out->d || r.y[i].size() != out->k)
      return "request sample " + std::to_string(i) + " has the wrong number of coordinates";
    std::vector<Q> xt, y;
    for (const auto& s : r.x[i]) {
      auto v = parse_rational(s, limits.max_number_chars);
      if (!v) return "request sample " + std::to_string(i) + ": bad number";
      xt.push_back(*v);
    }
    if (out->hb) xt.push_back(Q(1));
    for (const auto& s : r.y[i]) {
      auto v = parse_rational(s, limits.max_number_chars);
      if (!v) return "request sample " + std::to_string(i) + ": bad number";
      y.push_back(*v);
    }
    out->xt.push_back(std::move(xt));
    out->y.push_back(std::move(y));
  }
  if (!r.max_error.empty()) {
    auto v = parse_rational(r.max_error, limits.max_number_chars);
    if (!v || v->sign() < 0) return "request max_error is not a number >= 0";
    out->max_error = *v;
  }
  if (out->loss == Loss::kUnspecified) out->loss = Loss::kLinf;
  return std::nullopt;
}

// The exact training error of rational weights; nullopt (and *why) when a
// weight is not a rational number or the shape is wrong.
std::optional<Q> network_error(const Request& q, const NetworkData& net, const CheckLimits& limits,
                               std::string* why) {
  if (net.neurons.size() != q.m) {
    *why = "network has " + std::to_string(net.neurons.size()) + " neurons, architecture " +
           std::to_string(q.m);
    return std::nullopt;
  }
  auto num = [&](const std::string& s) { return parse_rational(s, limits.max_number_chars); };
  std::vector<std::vector<Q>> z(q.m), a(q.m);
  for (size_t j = 0; j < q.m; ++j) {
    const NeuronData& nd = net.neurons[j];
    if (nd.input_weights.size() != q.d || nd.output_weights.size() != q.k ||
        nd.bias.empty() != !q.hb) {
      *why = "neuron " + std::to_string(j) + ": wrong number of weights";
      return std::nullopt;
    }
    for (const auto& s : nd.input_weights) {
      auto v = num(s);
      if (!v) {
        *why = "neuron " + std::to_string(j) + ": a weight is not a rational number";
        return std::nullopt;
      }
      z[j].push_back(*v);
    }
    if (q.hb) {
      auto v = num(nd.bias);
      if (!v) {
        *why = "neuron " + std::to_string(j) + ": the bias is not a rational number";
        return std::nullopt;
      }
      z[j].push_back(*v);
    }
    for (const auto& s : nd.output_weights) {
      auto v = num(s);
      if (!v) {
        *why = "neuron " + std::to_string(j) + ": an output weight is not a rational number";
        return std::nullopt;
      }
      a[j].push_back(*v);
    }
  }
  std::vector<Q> c(q.k, Q(0));
  if (net.output_bias.size() != (q.ob ? q.k : 0)) {
    *why = "output bias has the wrong number of entries";
    return std::nullopt;
  }
  for (size_t o = 0; o < net.output_bias.size(); ++o) {
    auto v = num(net.output_bias[o]);
    if (!v) {
      *why = "the output bias is not a rational number";
      return std::nullopt;
    }
    c[o] = *v;
  }
  Q total(0);
  for (size_t i = 0; i < q.n; ++i) {
    std::vector<Q> f = c;
    for (size_t j = 0; j < q.m; ++j) {
      Q pre(0);
      for (size_t t = 0; t < q.dz; ++t) pre.add_mul(z[j][t], q.xt[i][t]);
      if (pre.sign() <= 0) continue;
      for (size_t o = 0; o < q.k; ++o) f[o].add_mul(a[j][o], pre);
    }
    for (size_t o = 0; o < q.k; ++o) {
      Q r = f[o];
      r.sub(q.y[i][o]);
      if (q.loss == Loss::kLinf) {
        if (r.abs().cmp(total) > 0) total = r.abs();
      } else if (q.loss == Loss::kL1) {
        total.add(r.abs());
      } else {
        total.add_mul(r, r);
      }
    }
  }
  return total;
}

// One sign case's tree (k = 1): structure, Lemma 2's children, and every
// leaf (realizability Farkas vector, or dual bound >= / > threshold).
class ErmTreeChecker {
 public:
  ErmTreeChecker(const Request& q, const SignCaseData& sc, Loss loss, const Q& threshold, bool strict,
                 const CheckControl& control)
      : q_(q), sc_(sc), loss_(loss), threshold_(threshold), strict_(strict), control_(control) {
    for (const auto& t : sc.output_signs) tau_.push_back(t == "+" ? 1 : -1);
  }

  std::optional<std::string> run(uint64_t* leaves) {
    if (sc_.nodes.empty()) return std::string("a sign case has no nodes");
    pos_ = 0;
    if (sc_.nodes[0].depth != 0) return std::string("the root must have depth 0");
    if (auto e = subtree()) return e;
    if (pos_ != sc_.nodes.size()) return std::string("nodes after the end of the tree");
    *leaves += leaves_;
    return std::nullopt;
  }

 private:
  bool zero_input(uint32_t i) const {
    if (q_.hb) return false;
    for (const auto& v : q_.xt[i])
      if (v.sign() != 0) return false;
    return true;
  }

  std::set<std::string> admissible(size_t depth) const {
    const size_t m = q_.m;
    std::set<std::string> out;
    if (zero_input(sc_.sample_order[depth])) {
      out.insert(std::string(m, '0'));
      return out;
    }
    for (uint32_t mask = 0; mask < (1u << m); ++mask) {
      std::string act(m, '0');
      for (size_t j = 0; j < m; ++j)
        if (mask & (1u << j)) act[j] = '1';
      bool good = true;
      for (size_t j = 0; j + 1 < m && good; ++j) {
        if (tau_[j] != tau_[j + 1] || act[j] != '0' || act[j + 1] != '1') continue;
        bool same = true;
        for (const auto& p : path_) same = same && p[j] == p[j + 1];
        if (same) good = false;
      }
      if (good) out.insert(act);
    }
    return out;
  }

  std::optional<std::string> subtree() {
    if (control_.cancelled && control_.cancelled()) return std::string("cancelled");
    if (std::chrono::steady_clock::now() >= control_.deadline) return std::string("deadline reached");
    const ProofNodeData& nd = sc_.nodes[pos_++];
    const size_t depth = path_.size();
    const std::string at = "node " + std::to_string(pos_ - 1);
    if (nd.depth != depth) return at + ": wrong depth";
    switch (nd.kind) {
      case ProofNodeKind::kBranch: {
        if (depth >= q_.n) return at + ": a complete pattern cannot branch";
        std::set<std::string> need = admissible(depth), seen;
        while (pos_ < sc_.nodes.size() && sc_.nodes[pos_].depth > depth) {
          const ProofNodeData& kid = sc_.nodes[pos_];
          if (kid.depth != depth + 1) return "node " + std::to_string(pos_) + ": wrong depth";
          if (!need.count(kid.activation) || !seen.insert(kid.activation).second)
            return "node " + std::to_string(pos_) + ": activation \"" + kid.activation.substr(0, 64) +
                   "\" is not an admissible child or repeats";
          path_.push_back(kid.activation);
          auto e = subtree();
          path_.pop_back();
          if (e) return e;
        }
        if (seen.size() != need.size()) return at + ": children missing";
        return std::nullopt;
      }
      case ProofNodeKind::kUnrealizable:
        ++leaves_;
        return unrealizable(nd, at);
      case ProofNodeKind::kErmBound:
        ++leaves_;
        return bound(nd, at);
      default:
        return at + ": not a branch or a leaf of an ErmTree";
    }
  }

  std::optional<std::string> unrealizable(const ProofNodeData& nd, const std::string& at) {
    if (nd.neuron >= q_.m) return at + ": neuron out of range";
    std::vector<Q> sum(q_.dz, Q(0));
    Q active(0);
    std::set<uint32_t> rows;
    for (const auto& e : nd.farkas) {
      if (e.row >= path_.size() || !rows.insert(e.row).second) return at + ": bad Farkas row";
      auto v = parse_rational(e.value, control_.limits.max_number_chars);
      if (!v || v->sign() < 0) return at + ": Farkas value must be a rational >= 0";
      const bool on = path_[e.row][nd.neuron] == '1';
      const auto& xt = q_.xt[sc_.sample_order[e.row]];
      for (size_t t = 0; t < q_.dz; ++t) {
        Q term = *v;
        fmpq_mul(term.get(), term.get(), xt[t].get());
        if (!on) fmpq_neg(term.get(), term.get());
        sum[t].add(term);
      }
      if (on) active.add(*v);
    }
    for (const auto& v : sum)
      if (v.sign() != 0) return at + ": realizability Farkas combination is not zero";
    if (active.sign() <= 0) return at + ": realizability Farkas vector has no weight on active samples";
    return std::nullopt;
  }

  std::optional<std::string> bound(const ProofNodeData& nd, const std::string& at) {
    const size_t m = q_.m, dz = q_.dz, depth = path_.size();
    const size_t nv = m * dz + (q_.ob ? 1 : 0);
    std::vector<Q> form(nv, Q(0));
    std::vector<Q> lambda(depth, Q(0));
    std::set<uint32_t> rows;
    for (const auto& e : nd.farkas) {
      if (e.row >= (m + 1) * depth || !rows.insert(e.row).second) return at + ": bad row in the dual vector";
      auto v = parse_rational(e.value, control_.limits.max_number_chars);
      if (!v) return at + ": dual value is not a rational number";
      const size_t s = e.row / (m + 1), r = e.row % (m + 1);
      const std::string& act = path_[s];
      const auto& xt = q_.xt[sc_.sample_order[s]];
      if (r == 0) {  // sample row: f_s = sum over active j of tau_j z_j . x~ + c
        lambda[s] = *v;
        for (size_t j = 0; j < m; ++j) {
          if (act[j] != '1') continue;
          for (size_t t = 0; t < dz; ++t) {
            Q term = *v;
            fmpq_mul(term.get(), term.get(), xt[t].get());
            if (tau_[j] < 0) fmpq_neg(term.get(), term.get());
            form[j * dz + t].add(term);
          }
        }
        if (q_.ob) form[m * dz].add(*v);
      } else {  // sign row of neuron r - 1: sigma (z . x~) >= 0, multiplier >= 0
        if (v->sign() < 0) return at + ": a sign row's multiplier is negative";
        const size_t j = r - 1;
        for (size_t t = 0; t < dz; ++t) {
          Q term = *v;
          fmpq_mul(term.get(), term.get(), xt[t].get());
          if (act[j] != '1') fmpq_neg(term.get(), term.get());
          form[j * dz + t].add(term);
        }
      }
    }
    for (const auto& v : form)
      if (v.sign() != 0) return at + ": the dual vector's combination of rows is not zero";
    // The bound: with L = sum lambda_s y_s, Linf L / sum|lambda|, L1
    // L / max|lambda|, L2 L^2 / sum lambda^2 (0 when L <= 0).
    Q l(0), norm(0);
    for (size_t s = 0; s < depth; ++s) {
      l.add_mul(lambda[s], q_.y[sc_.sample_order[s]][0]);
      const Q a = lambda[s].abs();
      if (loss_ == Loss::kLinf) norm.add(a);
      else if (loss_ == Loss::kL1) { if (a.cmp(norm) > 0) norm = a; }
      else norm.add_mul(lambda[s], lambda[s]);
    }
    Q b(0);
    if (l.sign() > 0 && norm.sign() > 0) {
      if (loss_ == Loss::kL2) fmpq_mul(l.get(), l.get(), l.get());
      fmpq_div(b.get(), l.get(), norm.get());
    }
    auto claimed = parse_rational(nd.bound, control_.limits.max_number_chars);
    if (!claimed || !(*claimed == b)) return at + ": the stated bound " + nd.bound.substr(0, 64) + " is not the vector's bound " + b.str().substr(0, 64);
    const int c = b.cmp(threshold_);
    if (strict_ ? c <= 0 : c < 0)
      return at + ": bound " + b.str().substr(0, 64) + (strict_ ? " is not above " : " is below ") + threshold_.str().substr(0, 64);
    return std::nullopt;
  }

  const Request& q_;
  const SignCaseData& sc_;
  Loss loss_;
  Q threshold_;
  bool strict_;
  const CheckControl& control_;
  std::vector<int> tau_;
  std::vector<std::string> path_;
  size_t pos_ = 0;
  uint64_t leaves_ = 0;
};

CheckResult check_erm_tree(const Request& q, const CaseTreeData& tree, Loss loss, const Q& threshold,
                           bool strict, const CheckControl& control) {
  if (q.k != 1) return bad("an ErmTree needs output_dim 1");
  if (q.m > 16) return bad("an ErmTree is checked up to width 16");
  if (tree.cases.size() != q.m + 1)
    return bad("the tree needs one sign case per number of positive output weights (" +
               std::to_string(q.m + 1) + "), it has " + std::to_string(tree.cases.size()));
  std::set<size_t> positives;
  uint64_t leaves = 0, nodes = 0;
  for (const SignCaseData& sc : tree.cases) {
    if (sc.output_signs.size() != q.m) return bad("a sign case does not give every neuron's sign");
    size_t p = 0;
    while (p < q.m && sc.output_signs[p] == "+") ++p;
    for (size_t j = p; j < q.m; ++j)
      if (sc.output_signs[j] != "-") return bad("a sign case is not \"+\"s then \"-\"s");
    if (!positives.insert(p).second) return bad("a sign case repeats");
    std::vector<bool> seen(q.n, false);
    if (sc.sample_order.size() != q.n) return bad("sample_order is not a permutation");
    for (uint32_t i : sc.sample_order) {
      if (i >= q.n || seen[i]) return bad("sample_order is not a permutation");
      seen[i] = true;
    }
    ErmTreeChecker checker(q, sc, loss, threshold, strict, control);
    if (auto e = checker.run(&leaves)) return bad("sign case with " + std::to_string(p) + " positive: " + *e);
    nodes += sc.nodes.size();
  }
  return ok("error tree verified (" + std::string(loss_name(loss)) + "): " + std::to_string(q.m + 1) +
            " sign cases, " + std::to_string(nodes) + " nodes, " + std::to_string(leaves) +
            " leaves each proving loss " + (strict ? "> " : ">= ") + threshold.str());
}

// Several outputs: every output's own tree (the request with that output's
// labels, output_dim 1) proves its bound; the bounds combine (max for
// L-infinity, sum otherwise) into lower_bound, which every network's error
// reaches; the network's error is best_error (and equals the bound when
// the answer claims an optimum).
CheckResult check_several_outputs(const Request& q, const MinimizeAnswerData& answer, const Q* err,
                                  const CheckControl& control) {
  using Status = MinimizeAnswerData::Status;
  if (answer.status != Status::kOptimal && answer.status != Status::kBounded) return bad("status unspecified");
  if (!err) return bad("no network");
  auto best = parse_rational(answer.best_error, control.limits.max_number_chars);
  if (!best || !(*best == *err)) return bad("best_error is not the network's training error");
  if (answer.output_proofs.size() != q.k || answer.output_bounds.size() != q.k)
    return bad("one proof and one bound per output are needed");
  Q lower(0);
  uint64_t nodes = 0;
  for (size_t o = 0; o < q.k; ++o) {
    Request qo = q;
    qo.k = 1;
    for (auto& y : qo.y) y = {y[o]};
    auto bound = parse_rational(answer.output_bounds[o], control.limits.max_number_chars);
    if (!bound) return bad("output " + std::to_string(o) + ": bound is not a number");
    CheckResult c = check_erm_tree(qo, answer.output_proofs[o], q.loss, *bound, false, control);
    if (!c.valid) return bad("output " + std::to_string(o) + ": " + c.message);
    for (const auto& sc : answer.output_proofs[o].cases) nodes += sc.nodes.size();
    if (q.loss == Loss::kLinf) {
      if (bound->cmp(lower) > 0) lower = *bound;
    } else {
      lower.add(*bound);
    }
  }
  auto claimed = parse_rational(answer.lower_bound, control.limits.max_number_chars);
  if (!claimed || !(*claimed == lower)) return bad("lower_bound is not the combination of the output bounds");
  if (lower.cmp(*err) > 0) return bad("the lower bound exceeds the network's error");
  if (answer.status == Status::kOptimal) {
    auto opt = parse_rational(answer.optimal_error, control.limits.max_number_chars);
    if (!(lower == *err) || !opt || !(*opt == *err)) return bad("an optimum needs the bound to meet the network's error");
  }
  return ok("network reaches training error " + err->str() + " (" + loss_name(q.loss) + "); every network of width " +
            std::to_string(q.m) + " has error >= " + lower.str() + " (" + std::to_string(q.k) +
            " per-output error trees, " + std::to_string(nodes) + " nodes)");
}

}  // namespace

bool request_has_error_budget(const RequestData& request) {
  if (request.max_error.empty()) return false;
  auto v = parse_rational(request.max_error, 1000000);
  return !v || v->sign() != 0;  // an unreadable budget is refused there, not ignored
}

CheckResult check_error_budget_answer(const RequestData& request, const AnswerData& answer,
                                      const CheckControl& control) {
  Request q;
  if (auto e = read(request, control.limits, &q)) return bad(*e);
  switch (answer.verdict) {
    case Verdict::kFeasible: {
      std::string why;
      auto err = network_error(q, answer.network, control.limits, &why);
      if (!err) return bad(why);
      if (err->cmp(q.max_error) > 0)
        return bad("network's training error " + err->str().substr(0, 64) + " (" + loss_name(q.loss) +
                   ") exceeds max_error " + q.max_error.str());
      return ok("network of width " + std::to_string(q.m) + " has training error " + err->str() + " (" +
                loss_name(q.loss) + ") <= max_error " + q.max_error.str() + " on all " +
                std::to_string(q.n) + " samples");
    }
    case Verdict::kInfeasible: {
      const CertificateData& c = answer.certificate;
      if (c.kind != CertificateData::Kind::kErmTree)
        return bad("INFEASIBLE with an error budget needs an error tree certificate");
      if (c.erm_loss != q.loss) return bad("the certificate's loss is not the request's");
      auto t = parse_rational(c.erm_threshold, control.limits.max_number_chars);
      if (!t || !(*t == q.max_error) || !c.erm_strict)
        return bad("the certificate's threshold is not the request's max_error (strict)");
      return check_erm_tree(q, c.case_tree, q.loss, q.max_error, true, control);
    }
    case Verdict::kUnknown:
      if (answer.reason.empty()) return bad("UNKNOWN without a reason");
      return ok("nothing claimed: " + answer.reason);
    default:
      return bad("verdict unspecified");
  }
}

CheckResult check_minimize_answer(const RequestData& request, const MinimizeAnswerData& answer,
                                  const CheckControl& control) {
  RequestData r = request;
  r.loss = answer.loss;
  r.max_error.clear();
  Request q;
  if (auto e = read(r, control.limits, &q)) return bad(*e);
  if (answer.loss == Loss::kUnspecified) return bad("the answer names no loss");
  const bool has_network = !answer.network.neurons.empty();
  std::optional<Q> err;
  if (has_network) {
    std::string why;
    err = network_error(q, answer.network, control.limits, &why);
    if (!err) return bad(why);
  }
  if (answer.status == MinimizeAnswerData::Status::kUnknown) {
    if (answer.reason.empty()) return bad("UNKNOWN without a reason");
    if (has_network) {
      auto best = parse_rational(answer.best_error, control.limits.max_number_chars);
      if (!best || !(*best == *err)) return bad("best_error is not the network's training error");
      return ok("nothing claimed but a network of training error " + err->str() + ": " + answer.reason);
    }
    return ok("nothing claimed: " + answer.reason);
  }
  if (q.k > 1) return check_several_outputs(q, answer, has_network ? &*err : nullptr, control);
  if (answer.status != MinimizeAnswerData::Status::kOptimal) return bad("status unspecified or not for one output");
  if (!has_network) return bad("an optimum without the network reaching it");
  auto opt = parse_rational(answer.optimal_error, control.limits.max_number_chars);
  if (!opt || !(*opt == *err))
    return bad("optimal_error " + answer.optimal_error.substr(0, 64) + " is not the network's training error " +
               err->str().substr(0, 64));
  CheckResult tree = check_erm_tree(q, answer.proof, q.loss, *opt, false, control);
  if (!tree.valid) return tree;
  return ok("network reaches training error " + err->str() + " (" + loss_name(q.loss) +
            ") and no network of width " + std::to_string(q.m) + " does better: " + tree.message);
}

CheckResult check_min_width_answer(const RequestData& request, const MinWidthAnswerData& answer,
                                   const CheckControl& control) {
  auto at_width = [&](uint32_t w) {
    RequestData r = request;
    r.hidden_width = w;
    return r;
  };
  switch (answer.verdict) {
    case Verdict::kFeasible: {
      if (answer.width == 0 || (answer.max_width && answer.width > answer.max_width))
        return bad("width out of range");
      if (answer.fit.verdict != Verdict::kFeasible) return bad("no fit at the width found");
      CheckResult fit = check_answer(at_width(answer.width), answer.fit, control);
      if (!fit.valid) return bad("fit at width " + std::to_string(answer.width) + ": " + fit.message);
      if (answer.width == 1)
        return ok("width 1 is the smallest width: " + fit.message);
      if (answer.below.verdict != Verdict::kInfeasible)
        return bad("no INFEASIBLE proof at width " + std::to_string(answer.width - 1));
      CheckResult below = check_answer(at_width(answer.width - 1), answer.below, control);
      if (!below.valid)
        return bad("proof at width " + std::to_string(answer.width - 1) + ": " + below.message);
      return ok("smallest width " + std::to_string(answer.width) + ": " + fit.message + "; width " +
                std::to_string(answer.width - 1) + ": " + below.message);
    }
    case Verdict::kInfeasible: {
      if (answer.width == 0 || answer.width != answer.max_width)
        return bad("INFEASIBLE must refute max_width");
      if (answer.below.verdict != Verdict::kInfeasible) return bad("no INFEASIBLE proof at max_width");
      CheckResult below = check_answer(at_width(answer.width), answer.below, control);
      if (!below.valid) return bad("proof at width " + std::to_string(answer.width) + ": " + below.message);
      return ok("no width up to " + std::to_string(answer.width) + " fits (widths are monotone): " +
                below.message);
    }
    case Verdict::kUnknown:
      if (answer.reason.empty()) return bad("UNKNOWN without a reason");
      return ok("nothing claimed: " + answer.reason);
    default:
      return bad("verdict unspecified");
  }
}

}  // namespace relufit
