#include "algebra/checker.h"

#include <flint/fmpq.h>
#include <flint/fmpq_mat.h>
#include <flint/fmpz.h>

#include "algebra/checker_erm.h"
#include "algebra/checker_rational.h"
#include "algebra/checker_qqbar.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace relufit {
namespace {

using checker_internal::parse_rational;  // algebra/checker_rational.h
using checker_internal::Q;

// The check's clock, cancellation and size limits (CheckControl), shared by
// every part of one check. stop() is cheap enough for inner loops: it looks
// at the clock and the cancellation callback every 8th call.
class Budget {
 public:
  explicit Budget(const CheckControl& control) : control_(control) {}
  const CheckLimits& limits() const { return control_.limits; }
  bool stop() {
    if (stopped_) return true;
    if ((++ticks_ & 7) != 0) return false;
    return poll();
  }
  // Looks now (before and after each costly step).
  // The cancellation callback at most every 10 ms: in the server it asks
  // gRPC (a lock the call's poller also takes), and asked at every 8th
  // node it made checks of large proofs several times slower.
  bool poll() {
    if (stopped_) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= control_.deadline) {
      stopped_ = true;
      why_ = "deadline reached";
    } else if (control_.cancelled && now >= next_cancel_check_) {
      next_cancel_check_ = now + std::chrono::milliseconds(10);
      if (control_.cancelled()) {
        stopped_ = true;
        why_ = "cancelled";
      }
    }
    return stopped_;
  }
  bool stopped() const { return stopped_; }
  const std::string& why() const { return why_; }
  bool too_big(const Q& q) const { return q.bits() > control_.limits.max_rational_bits; }
  std::string too_big_message() const {
    return "a number in the check grows past the checker's limit of " +
           std::to_string(control_.limits.max_rational_bits) + " bits";
  }

 private:
  const CheckControl& control_;
  uint64_t ticks_ = 0;
  std::chrono::steady_clock::time_point next_cancel_check_{};
  bool stopped_ = false;
  std::string why_;
};

CheckResult pass(std::string message) { return {true, false, std::move(message)}; }
CheckResult fail(std::string message) { return {false, false, std::move(message)}; }

// The request in exact form, as the checker reads it.
struct Data {
  size_t n = 0, d = 0, m = 0, k = 0;
  bool hb = true, ob = true;
  std::vector<std::vector<Q>> x, y;
  std::vector<std::vector<Q>> xt;  // x with a trailing 1 when hidden bias
  Budget* budget = nullptr;         // never null inside check_answer
  std::optional<Q> number(const std::string& s) const {
    return parse_rational(s, budget->limits().max_number_chars);
  }
};

// A number's text, shortened for messages (a 1 MB text must not be echoed).
std::string shown(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 40)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > 40) out += "... (" + std::to_string(s.size()) + " characters)";
  return out;
}

std::optional<std::string> read_request(const RequestData& r, Data* out) {
  out->n = r.x.size();
  out->d = r.input_dim;
  out->m = r.hidden_width;
  out->k = r.output_dim;
  out->hb = r.hidden_bias;
  out->ob = r.output_bias;
  if (out->n == 0 || out->d == 0 || out->m == 0 || out->k == 0 || r.y.size() != out->n)
    return "request is malformed (empty dataset or zero dimension)";
  for (size_t i = 0; i < out->n; ++i) {
    if (out->budget->stop()) return "stopped";
    if (r.x[i].size() != out->d || r.y[i].size() != out->k)
      return "request sample " + std::to_string(i) + " has the wrong number of coordinates";
    std::vector<Q> xi, yi;
    for (const auto& s : r.x[i]) {
      auto v = out->number(s);
      if (!v) return "request sample " + std::to_string(i) + ": bad number \"" + shown(s) + "\"";
      xi.push_back(*v);
    }
    for (const auto& s : r.y[i]) {
      auto v = out->number(s);
      if (!v) return "request sample " + std::to_string(i) + ": bad number \"" + shown(s) + "\"";
      yi.push_back(*v);
    }
    out->xt.push_back(xi);
    if (out->hb) out->xt.back().push_back(Q(1));
    out->x.push_back(std::move(xi));
    out->y.push_back(std::move(yi));
  }
  return std::nullopt;
}

// A real algebraic number of the checker's own bridge, owned.
class AN {
 public:
  explicit AN(rfc_num* v) : v_(v) {}
  explicit AN(Q q) : v_(rfc_from_fmpq(q.get())) {}
  AN(const AN&) = delete;
  AN& operator=(const AN&) = delete;
  AN(AN&& o) noexcept : v_(o.v_) { o.v_ = nullptr; }
  ~AN() { rfc_free(v_); }
  rfc_num* get() const { return v_; }

 private:
  rfc_num* v_;
};

bool is_root_text(const std::string& s) { return s.rfind("root(", 0) == 0; }

// The cheap look at a weight's text before any algebra (issue 13: a
// min_poly of degree 64 must be refused before it is factored): the number
// of coefficients, the length of each coefficient and interval end, and of
// a rational. Returns the reason to refuse, if any.
std::optional<std::string> precheck_number(const std::string& s, const CheckLimits& limits) {
  if (s.find('\0') != std::string::npos) return "a number contains a NUL character";
  if (!is_root_text(s)) {
    if (s.size() > limits.max_number_chars)
      return "a number of " + std::to_string(s.size()) + " characters (the checker's limit is " +
             std::to_string(limits.max_number_chars) + ")";
    return std::nullopt;
  }
  const size_t semi = s.find(';');
  if (semi == std::string::npos) return "bad algebraic number \"" + shown(s) + "\": no ';'";
  const size_t degree = static_cast<size_t>(std::count(s.begin(), s.begin() + semi, ','));
  if (degree > limits.max_algebraic_degree)
    return "algebraic number of degree " + std::to_string(degree) +
           " (min_poly has " + std::to_string(degree + 1) +
           " coefficients); the checker accepts degree at most " +
           std::to_string(limits.max_algebraic_degree);
  // Every part between separators: at most max_algebraic_digits digits
  // (plus a sign; interval ends may be p/q).
  size_t part = 0;
  for (size_t i = 5; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ',' || c == ';' || c == ')' || c == '/') {
      part = 0;
      continue;
    }
    if (++part > limits.max_algebraic_digits + 1)
      return "algebraic number with a coefficient or interval end of more than " +
             std::to_string(limits.max_algebraic_digits) + " digits";
  }
  return std::nullopt;
}

// A weight as an algebraic number: the API's rationals or root(...) texts,
// prechecked by precheck_number.
std::optional<AN> read_algebraic(const std::string& s, const Data& data, std::string* error) {
  if (is_root_text(s)) {
    char err[200] = {0};
    rfc_num* v = rfc_from_root_text(s.c_str(), data.budget->limits().max_algebraic_degree, err,
                                    sizeof err);
    if (!v) {
      *error = std::string("bad algebraic number \"") + shown(s) + "\": " + err;
      return std::nullopt;
    }
    return AN(v);
  }
  auto q = data.number(s);
  if (!q) {
    *error = "not an exact number \"" + shown(s) + "\"";
    return std::nullopt;
  }
  return AN(*q);
}

bool network_has_algebraic(const NetworkData& net) {
  for (const auto& nd : net.neurons) {
    for (const auto& s : nd.input_weights) if (is_root_text(s)) return true;
    for (const auto& s : nd.output_weights) if (is_root_text(s)) return true;
    if (is_root_text(nd.bias)) return true;
  }
  for (const auto& s : net.output_bias) if (is_root_text(s)) return true;
  return false;
}

// The same evaluation as check_network, in exact real algebraic arithmetic:
// every algebraic weight is rebuilt from its minimal polynomial and
// isolating interval (which must isolate exactly one real root). Order of
// work: shapes, then the cheap text limits of every weight, then the field
// degree bound, and only then any factoring or arithmetic, each step within
// CheckLimits' step bounds and between polls of the clock.
CheckResult check_network_algebraic(const Data& data, const NetworkData& net) {
  Budget& budget = *data.budget;
  const CheckLimits& limits = budget.limits();
  for (size_t j = 0; j < data.m; ++j) {
    const NeuronData& nd = net.neurons[j];
    if (nd.input_weights.size() != data.d || nd.output_weights.size() != data.k)
      return fail("neuron " + std::to_string(j) + ": wrong number of weights");
    if (!data.hb && !nd.bias.empty())
      return fail("neuron " + std::to_string(j) + ": has a bias but the architecture has none");
  }
  if (net.output_bias.size() != (data.ob ? data.k : 0))
    return fail("output bias has the wrong number of entries");
  {
    auto precheck = [&](const std::string& s, const std::string& what) -> std::optional<std::string> {
      if (auto e = precheck_number(s, limits)) return what + ": " + *e;
      return std::nullopt;
    };
    for (size_t j = 0; j < data.m; ++j) {
      const NeuronData& nd = net.neurons[j];
      const std::string where = "neuron " + std::to_string(j);
      for (const auto& s : nd.input_weights)
        if (auto e = precheck(s, where + " input weight")) return fail(*e);
      for (const auto& s : nd.output_weights)
        if (auto e = precheck(s, where + " output weight")) return fail(*e);
      if (auto e = precheck(nd.bias, where + " bias")) return fail(*e);
    }
    for (const auto& s : net.output_bias)
      if (auto e = precheck(s, "output bias")) return fail(*e);
  }
  // Exact sums of algebraic numbers live in the compositum of their fields,
  // whose degree is at most the product of the distinct minimal polynomials'
  // degrees: past kMaxFieldDegree the check would be too costly to run.
  {
    std::set<std::string> polys;
    auto note = [&](const std::string& s) {
      if (is_root_text(s)) polys.insert(s.substr(0, s.find(';')));
    };
    for (const auto& nd : net.neurons) {
      for (const auto& s : nd.input_weights) note(s);
      for (const auto& s : nd.output_weights) note(s);
      note(nd.bias);
    }
    for (const auto& s : net.output_bias) note(s);
    constexpr uint64_t kMaxFieldDegree = 4096;
    uint64_t degree = 1;
    for (const auto& p : polys) {
      const uint64_t d = static_cast<uint64_t>(std::count(p.begin(), p.end(), ','));
      degree *= std::max<uint64_t>(d, 1);
      if (degree > kMaxFieldDegree)
        return fail("the algebraic weights are too complex to check (the product of the degrees "
                    "of their distinct minimal polynomials exceeds " +
                    std::to_string(kMaxFieldDegree) + ")");
    }
  }
  std::vector<std::vector<AN>> w(data.m), a(data.m);
  std::vector<AN> b, c;
  std::string error;
  size_t irrational = 0;
  auto read = [&](const std::string& s, const std::string& what, std::vector<AN>* dest) {
    if (budget.poll()) return false;
    auto v = read_algebraic(s, data, &error);
    if (budget.poll()) return false;
    if (!v) {
      error = what + ": " + error;
      return false;
    }
    irrational += is_root_text(s);
    dest->push_back(std::move(*v));
    return true;
  };
  for (size_t j = 0; j < data.m; ++j) {
    const NeuronData& nd = net.neurons[j];
    const std::string where = "neuron " + std::to_string(j);
    for (size_t t = 0; t < data.d; ++t)
      if (!read(nd.input_weights[t], where + " input weight", &w[j])) return fail(error);
    for (size_t o = 0; o < data.k; ++o)
      if (!read(nd.output_weights[o], where + " output weight", &a[j])) return fail(error);
    if (!read(data.hb ? nd.bias : std::string("0"), where + " bias", &b)) return fail(error);
  }
  for (size_t o = 0; o < data.k; ++o)
    if (!read(data.ob ? net.output_bias[o] : std::string("0"), "output bias", &c)) return fail(error);
  // acc += x y within the step limits, polling the clock around each step.
  size_t sample = 0;
  auto addmul = [&](AN& acc, const AN& x, const AN& y) {
    if (budget.poll()) return false;
    if (!rfc_addmul(acc.get(), x.get(), y.get(), limits.max_step_degree,
                    limits.max_step_height_bits)) {
      error = "the algebraic weights are too complex to check: evaluating the network at sample " +
              std::to_string(sample) +
              " needs a step past the checker's limits (product of the operands' degrees at "
              "most " + std::to_string(limits.max_step_degree) + ", sum of their height bits at most " +
              std::to_string(limits.max_step_height_bits) + ")";
      return false;
    }
    return !budget.poll();
  };
  const AN one{Q(1)};
  for (size_t i = 0; i < data.n; ++i) {
    sample = i;
    std::vector<AN> out;
    for (size_t o = 0; o < data.k; ++o) {
      out.emplace_back(Q(0));
      if (!addmul(out.back(), c[o], one)) return fail(error);
    }
    for (size_t j = 0; j < data.m; ++j) {
      AN pre{Q(0)};
      if (!addmul(pre, b[j], one)) return fail(error);
      for (size_t t = 0; t < data.d; ++t) {
        AN xv{data.x[i][t]};
        if (!addmul(pre, w[j][t], xv)) return fail(error);
      }
      const int sign = rfc_sgn(pre.get());
      if (budget.poll()) return fail("stopped");
      if (sign <= 0) continue;
      for (size_t o = 0; o < data.k; ++o)
        if (!addmul(out[o], a[j][o], pre)) return fail(error);
    }
    for (size_t o = 0; o < data.k; ++o) {
      Q label = data.y[i][o];
      const bool equal = rfc_equal_fmpq(out[o].get(), label.get());
      if (budget.poll()) return fail("stopped");
      if (!equal)
        return fail("network output differs from the label at sample " + std::to_string(i) +
                    ", output " + std::to_string(o) + " (exact algebraic evaluation)");
    }
  }
  return pass("network of width " + std::to_string(data.m) + " with " + std::to_string(irrational) +
              " irrational algebraic weights fits all " + std::to_string(data.n) +
              " samples exactly (each weight rebuilt from its minimal polynomial and isolating "
              "interval)");
}

CheckResult check_network(const Data& data, const NetworkData& net) {
  if (net.neurons.size() != data.m)
    return fail("network has " + std::to_string(net.neurons.size()) + " neurons, architecture " +
                std::to_string(data.m));
  if (network_has_algebraic(net)) return check_network_algebraic(data, net);
  std::vector<std::vector<Q>> w(data.m), a(data.m);
  std::vector<Q> b(data.m), c(data.k);
  auto read = [&data](const std::string& s, const std::string& what, Q* dest) -> std::optional<std::string> {
    if (auto e = precheck_number(s, data.budget->limits())) return what + ": " + *e;
    auto v = data.number(s);
    if (!v) return what + ": not an exact number \"" + shown(s) + "\"";
    *dest = *v;
    return std::nullopt;
  };
  for (size_t j = 0; j < data.m; ++j) {
    const NeuronData& nd = net.neurons[j];
    const std::string where = "neuron " + std::to_string(j);
    if (nd.input_weights.size() != data.d || nd.output_weights.size() != data.k)
      return fail(where + ": wrong number of weights");
    w[j].resize(data.d);
    a[j].resize(data.k);
    for (size_t t = 0; t < data.d; ++t)
      if (auto e = read(nd.input_weights[t], where + " input weight", &w[j][t])) return fail(*e);
    for (size_t o = 0; o < data.k; ++o)
      if (auto e = read(nd.output_weights[o], where + " output weight", &a[j][o])) return fail(*e);
    if (data.hb) {
      if (auto e = read(nd.bias, where + " bias", &b[j])) return fail(*e);
    } else if (!nd.bias.empty()) {
      return fail(where + ": has a bias but the architecture has none");
    }
  }
  if (net.output_bias.size() != (data.ob ? data.k : 0))
    return fail("output bias has the wrong number of entries");
  for (size_t o = 0; o < net.output_bias.size(); ++o)
    if (auto e = read(net.output_bias[o], "output bias", &c[o])) return fail(*e);
  for (size_t i = 0; i < data.n; ++i) {
    if (data.budget->stop()) return fail("stopped");
    std::vector<Q> out = c;
    for (size_t j = 0; j < data.m; ++j) {
      Q pre = b[j];
      for (size_t t = 0; t < data.d; ++t) pre.add_mul(w[j][t], data.x[i][t]);
      if (data.budget->too_big(pre)) return fail(data.budget->too_big_message());
      if (pre.sign() <= 0) continue;
      for (size_t o = 0; o < data.k; ++o) out[o].add_mul(a[j][o], pre);
    }
    for (size_t o = 0; o < data.k; ++o)
      if (out[o] != data.y[i][o])
        return fail("network output differs from the label at sample " + std::to_string(i) +
                    ", output " + std::to_string(o));
  }
  return pass("network of width " + std::to_string(data.m) + " fits all " +
              std::to_string(data.n) + " samples exactly");
}

CheckResult check_conflict(const Data& data, uint32_t first, uint32_t second) {
  if (first >= data.n || second >= data.n || first == second)
    return fail("conflicting pair: indices out of range or equal");
  for (size_t t = 0; t < data.d; ++t)
    if (data.x[first][t] != data.x[second][t])
      return fail("conflicting pair: samples " + std::to_string(first) + " and " +
                  std::to_string(second) + " have different inputs");
  for (size_t o = 0; o < data.k; ++o)
    if (data.y[first][o] != data.y[second][o])
      return pass("samples " + std::to_string(first) + " and " + std::to_string(second) +
                  " have equal inputs and different labels");
  return fail("conflicting pair: samples have equal labels");
}

// BreakpointBound (the lemma is on the message in relufit.proto): p* of
// output `output`, recomputed here from the request alone, must equal the
// claim and exceed the width.
CheckResult check_breakpoint_bound(const Data& data, uint32_t output, uint32_t claimed) {
  if (data.d != 1) return fail("breakpoint bound: input_dim is " + std::to_string(data.d) + ", not 1");
  if (output >= data.k) return fail("breakpoint bound: output " + std::to_string(output) + " out of range");
  std::vector<size_t> order(data.n);
  for (size_t i = 0; i < data.n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return fmpq_cmp(data.x[a][0].get(), data.x[b][0].get()) < 0;
  });
  // The distinct inputs in increasing order with output `output`'s labels.
  std::vector<Q> xs, ys;
  for (size_t i : order) {
    if (!xs.empty() && xs.back() == data.x[i][0]) {
      if (ys.back() != data.y[i][output])
        return fail("breakpoint bound: two samples with equal input have different labels of output " +
                    std::to_string(output));
      continue;
    }
    xs.push_back(data.x[i][0]);
    ys.push_back(data.y[i][output]);
  }
  // Slopes, signs of their changes, and the runs of equal nonzero signs.
  std::vector<Q> slope(xs.size() > 0 ? xs.size() - 1 : 0);
  for (size_t i = 0; i + 1 < xs.size(); ++i) {
    Q dy, dx;
    fmpq_sub(dy.get(), ys[i + 1].get(), ys[i].get());
    fmpq_sub(dx.get(), xs[i + 1].get(), xs[i].get());
    fmpq_div(slope[i].get(), dy.get(), dx.get());
  }
  uint64_t p = 0, run = 0;
  int previous = 0;
  for (size_t i = 1; i < slope.size(); ++i) {
    const int e = fmpq_cmp(slope[i].get(), slope[i - 1].get());
    const int sign = e > 0 ? 1 : e < 0 ? -1 : 0;
    if (sign != 0 && sign == previous) {
      ++run;
    } else {
      p += (run + 1) / 2;
      run = sign != 0 ? 1 : 0;
    }
    previous = sign;
  }
  p += (run + 1) / 2;
  if (p != claimed)
    return fail("breakpoint bound: output " + std::to_string(output) + " needs " + std::to_string(p) +
                " slope changes, the certificate claims " + std::to_string(claimed));
  if (p <= data.m)
    return fail("breakpoint bound: output " + std::to_string(output) + " needs " + std::to_string(p) +
                " slope changes, which width " + std::to_string(data.m) + " can make");
  return pass("breakpoint bound: output " + std::to_string(output) + " needs at least " +
              std::to_string(p) + " slope changes (recomputed from the " + std::to_string(xs.size()) +
              " distinct inputs), width " + std::to_string(data.m) + " gives at most " +
              std::to_string(data.m));
}

// Verifies one sign case's preorder tree.
// A sparse multiplier list (Farkas vector, feature-span mu or eta) read
// exactly: rows below num_rows and strictly increasing, numbers prechecked.
// Messages start with `what` ("Farkas row 7 out of range").
std::optional<std::string> read_sparse(const Data& data, const std::vector<FarkasEntryData>& entries,
                                       size_t num_rows, const std::string& what,
                                       std::vector<std::pair<size_t, Q>>* out) {
  long last = -1;
  for (const auto& e : entries) {
    if (e.row >= num_rows) return what + " row " + std::to_string(e.row) + " out of range";
    if (static_cast<long>(e.row) <= last) return what + " rows not strictly increasing";
    last = e.row;
    // A long number costs milliseconds to read: look at the clock before each.
    if (e.value.size() > 10000 ? data.budget->poll() : data.budget->stop()) return std::string("stopped");
    if (auto e2 = precheck_number(e.value, data.budget->limits())) return what + " value: " + *e2;
    auto v = data.number(e.value);
    if (!v) return what + " value \"" + shown(e.value) + "\" is not an exact number";
    out->emplace_back(e.row, *v);
  }
  return std::nullopt;
}

class TreeChecker {
 public:
  TreeChecker(const Data& data, const SignCaseData& sc, std::string name)
      : data_(data), order_(sc.sample_order), sc_(sc), name_(std::move(name)) {
    // The case's layout, rebuilt from its sign strings (validated by the caller).
    for (size_t j = 0; j < data_.m; ++j) {
      size_t e = 0;
      while (sc_.output_signs[j][e] == '0') ++e;
      lead_.push_back(e);
      for (size_t o = e + 1; o < data_.k; ++o)
        if (sc_.output_signs[j][o] != '0') blocks_.emplace_back(j, o);
    }
    dz_ = data_.d + (data_.hb ? 1 : 0);
    rows_per_sample_ = data_.k + data_.m + blocks_.size();
    c0_ = (data_.m + blocks_.size()) * dz_;
    nv_ = c0_ + (data_.ob ? data_.k : 0);
  }

  std::optional<std::string> run(uint64_t* leaves) {
    if (sc_.nodes.empty()) return "empty tree";
    size_t next = 0;
    if (auto e = node(0, 0, &next)) return e;
    if (next != sc_.nodes.size()) return "nodes after the end of the tree (index " + std::to_string(next) + ")";
    *leaves += leaves_;
    return std::nullopt;
  }

 private:
  int tau(size_t j, size_t o) const {
    const char c = sc_.output_signs[j][o];
    return c == '+' ? 1 : c == '-' ? -1 : 0;
  }

  // tied[j]: neurons j and j+1 have equal sign vectors and agree on every
  // decided sample, so Lemma 2 forbids j inactive with j+1 active.
  std::vector<bool> tied_pairs() const {
    const size_t m = data_.m;
    std::vector<bool> tied(m, false);
    for (size_t j = 0; j + 1 < m; ++j) {
      if (sc_.output_signs[j] != sc_.output_signs[j + 1]) continue;
      bool same = true;
      for (const auto& act : path_) same = same && act[j] == act[j + 1];
      tied[j] = same;
    }
    return tied;
  }

  // Whether the sample decided at `depth` has x~ = 0 (x = 0 without hidden
  // bias): Lemma 2's canonical pattern then has every neuron inactive there.
  bool zero_input(size_t depth) const {
    for (const auto& v : data_.xt[order_[depth]])
      if (v.sign() != 0) return false;
    return true;
  }

  // Whether `act` is an admissible activation of the next sample.
  bool admissible(const std::string& act, const std::vector<bool>& tied, bool zero) const {
    if (act.size() != data_.m || act.find_first_not_of("01") != std::string::npos) return false;
    if (zero) return act.find('1') == std::string::npos;
    for (size_t j = 0; j + 1 < data_.m; ++j)
      if (tied[j] && act[j] == '0' && act[j + 1] == '1') return false;
    return true;
  }

  // How many activations are admissible: a maximal run of L neurons joined
  // by tied pairs allows the L + 1 non-increasing 0/1 vectors, independently
  // of the other runs. Saturates at 2^62 (no tree has that many nodes).
  uint64_t admissible_count(const std::vector<bool>& tied, bool zero) const {
    if (zero) return 1;
    const uint64_t cap = uint64_t{1} << 62;
    uint64_t count = 1, run = 1;
    for (size_t j = 0; j < data_.m; ++j) {
      if (j + 1 < data_.m && tied[j]) {
        ++run;
        continue;
      }
      count = count > cap / (run + 1) ? cap : count * (run + 1);
      run = 1;
    }
    return count;
  }

  std::optional<std::string> node(size_t idx, size_t depth, size_t* next) {
    const ProofNodeData& nd = sc_.nodes[idx];
    if (data_.budget->stop()) return std::string("stopped");
    const std::string at = "case " + name_ + " node " + std::to_string(idx);
    if (nd.depth != depth) return at + ": depth " + std::to_string(nd.depth) + ", expected " + std::to_string(depth);
    switch (nd.kind) {
      case ProofNodeKind::kBranch: {
        if (depth >= data_.n) return at + ": branch below the last sample";
        // Every child is admissible and distinct, and there are as many as
        // admissible activations: so every admissible activation has its child.
        const std::vector<bool> tied = tied_pairs();
        const bool zero = zero_input(depth);
        std::set<std::string> seen;
        size_t i = idx + 1;
        while (i < sc_.nodes.size() && sc_.nodes[i].depth > depth) {
          const std::string& act = sc_.nodes[i].activation;
          if (!admissible(act, tied, zero)) return at + ": child activation \"" + act + "\" is not admissible";
          if (!seen.insert(act).second) return at + ": child activation \"" + act + "\" repeated";
          path_.push_back(act);
          auto e = node(i, depth + 1, &i);
          path_.pop_back();
          if (e) return e;
        }
        const uint64_t wanted = admissible_count(tied, zero);
        if (seen.size() != wanted)
          return at + ": missing branch: " + std::to_string(seen.size()) + " of " +
                 std::to_string(wanted) + " admissible activations have a child";
        *next = i;
        return std::nullopt;
      }
      case ProofNodeKind::kLpInfeasible:
        if (auto e = check_lp_leaf(nd)) return at + ": " + *e;
        ++leaves_;
        *next = idx + 1;
        return std::nullopt;
      case ProofNodeKind::kUnrealizable:
        if (auto e = check_unrealizable_leaf(nd)) return at + ": " + *e;
        ++leaves_;
        *next = idx + 1;
        return std::nullopt;
      case ProofNodeKind::kPinnedDirection:
        if (auto e = check_pinned_leaf(nd)) return at + ": " + *e;
        ++leaves_;
        *next = idx + 1;
        return std::nullopt;
      case ProofNodeKind::kProducts:
        if (auto e = check_products_leaf(nd)) return at + ": " + *e;
        ++leaves_;
        ++product_leaves_;
        *next = idx + 1;
        return std::nullopt;
      case ProofNodeKind::kRatioBoxes:
        if (auto e = check_ratio_boxes_leaf(nd)) return at + ": " + *e;
        ++leaves_;
        ++ratio_box_leaves_;
        *next = idx + 1;
        return std::nullopt;
      default:
        return at + ": node kind unspecified";
    }
  }

  std::optional<std::string> read_entries(const std::vector<FarkasEntryData>& farkas, size_t num_rows,
                                          std::vector<std::pair<size_t, Q>>* out) const {
    return read_sparse(data_, farkas, num_rows, "Farkas", out);
  }

  // An extra row with right-hand side 0 after the node's rows: an equality
  // (pinned direction, free multiplier) or an inequality (ratio box,
  // multiplier >= 0).
  struct ExtraRow {
    std::vector<std::pair<size_t, Q>> coeffs;  // variable index, coefficient
    bool inequality = false;
  };

  std::optional<std::string> check_lp_leaf(const ProofNodeData& nd,
                                           const std::vector<ExtraRow>& extra = {}) const {
    return check_farkas(nd.farkas, extra);
  }

  // A Farkas vector over the node's rows followed by `extra`.
  std::optional<std::string> check_farkas(const std::vector<FarkasEntryData>& farkas,
                                          const std::vector<ExtraRow>& extra) const {
    const size_t R = rows_per_sample_;
    std::vector<std::pair<size_t, Q>> entries;
    if (auto e = read_entries(farkas, R * path_.size() + extra.size(), &entries)) return e;
    std::vector<Q> combo(nv_);
    Q rhs;
    bool too_big = false;
    for (const auto& [row, value] : entries) {
      if (too_big || data_.budget->too_big(rhs)) return data_.budget->too_big_message();
      if (data_.budget->stop()) return std::string("stopped");
      if (row >= R * path_.size()) {  // extra row, right-hand side 0
        const ExtraRow& x = extra[row - R * path_.size()];
        if (x.inequality && value.sign() < 0) return "negative multiplier on inequality row " + std::to_string(row);
        for (const auto& [var, coef] : x.coeffs) {
          combo[var].add_mul(value, coef);
          too_big = too_big || data_.budget->too_big(combo[var]);
        }
        continue;
      }
      if (!is_equality_row(row) && value.sign() < 0)
        return "negative multiplier on inequality row " + std::to_string(row);
      add_row(row, value, &combo, &rhs, &too_big);
    }
    for (size_t v = 0; v < nv_; ++v)
      if (combo[v].sign() != 0) return "Farkas combination is not zero in variable " + std::to_string(v);
    if (rhs.sign() <= 0) return "Farkas combination of the right-hand sides is not positive";
    return std::nullopt;
  }

  // KIND_PINNED_DIRECTION: the dependency kappa makes sum kappa_s y parallel
  // to a_j in every fit with this path's pattern (see the proto).
  std::optional<std::string> check_pinned_leaf(const ProofNodeData& nd) const {
    const size_t m = data_.m, k = data_.k, j = nd.neuron;
    if (j >= m) return "neuron index out of range";
    std::vector<std::pair<size_t, Q>> kappa;
    long last = -1;
    for (const auto& e : nd.kappa) {
      if (e.row >= path_.size()) return "kappa position out of range";
      if (static_cast<long>(e.row) <= last) return "kappa positions not strictly increasing";
      last = e.row;
      if (data_.budget->stop()) return std::string("stopped");
      if (auto e2 = precheck_number(e.value, data_.budget->limits())) return "kappa value: " + *e2;
      auto v = data_.number(e.value);
      if (!v || v->sign() == 0) return "kappa value \"" + shown(e.value) + "\" is not a nonzero exact number";
      kappa.emplace_back(e.row, *v);
    }
    if (kappa.empty()) return "empty kappa";
    // Every other neuron keeps one status on the support.
    bool other_active = false;
    for (size_t jj = 0; jj < m; ++jj) {
      if (jj == j) continue;
      const char status = path_[kappa.front().first][jj];
      for (const auto& [s, v] : kappa)
        if (path_[s][jj] != status) return "another neuron changes status on kappa's samples";
      other_active = other_active || status == '1';
    }
    Q total;
    std::vector<Q> sx(data_.d), y(k);
    for (const auto& [s, v] : kappa) {
      total.add(v);
      const size_t i = order_[s];
      for (size_t t = 0; t < data_.d; ++t) sx[t].add_mul(v, data_.x[i][t]);
      for (size_t o = 0; o < k; ++o) y[o].add_mul(v, data_.y[i][o]);
    }
    if (total.sign() != 0) return "kappa does not sum to 0";
    if (other_active)
      for (size_t t = 0; t < data_.d; ++t)
        if (sx[t].sign() != 0) return "kappa is not an affine dependency of the inputs";
    bool zero = true;
    for (const auto& v : y) zero = zero && v.sign() == 0;
    if (zero) return "sum kappa y is zero: it pins nothing";
    const size_t e = lead_[j];
    if (y[e].sign() == 0) return std::nullopt;  // a_j,e = +-1 would need Y_e != 0
    // a_jo = tau_je Y_o / Y_e; Lemma 1 needs a_jo = 0 where tau_jo = 0 (before
    // the lead) and tau_jo a_jo >= 0 elsewhere: else a contradiction.
    std::vector<Q> a(k);
    bool contradiction = false;
    for (size_t o = 0; o < k; ++o) {
      fmpq_div(a[o].get(), y[o].get(), y[e].get());
      if (tau(j, e) < 0) a[o].neg();
      if (tau(j, o) == 0 ? a[o].sign() != 0 : a[o].sign() * tau(j, o) < 0) contradiction = true;
    }
    if (contradiction) return std::nullopt;
    std::vector<ExtraRow> extra;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      if (blocks_[b].first != j) continue;
      const size_t o = blocks_[b].second;
      for (size_t t = 0; t < dz_; ++t) {
        ExtraRow row;
        Q minus_a = a[o];
        minus_a.neg();
        row.coeffs.emplace_back((m + b) * dz_ + t, Q(1));
        row.coeffs.emplace_back(j * dz_ + t, minus_a);
        extra.push_back(std::move(row));
      }
    }
    return check_lp_leaf(nd, extra);
  }

  // KIND_RATIO_BOXES (proto: "Ratio boxes" on CaseTree): the split tree
  // covers every ratio vector, and each leaf's Farkas vector refutes the
  // node's rows plus the rows of its box.
  std::optional<std::string> check_ratio_boxes_leaf(const ProofNodeData& nd) const {
    const size_t nb = blocks_.size();
    if (nb == 0) return std::string("ratio boxes in a sign case without u blocks");
    if (nd.boxes.empty()) return std::string("ratio boxes: empty split tree");
    std::vector<Q> lo(nb);
    std::vector<std::optional<Q>> hi(nb);
    size_t next = 0;
    if (auto e = ratio_box(nd.boxes, 0, &lo, &hi, &next)) return e;
    if (next != nd.boxes.size()) return "ratio boxes: entries after the end of the tree (index " + std::to_string(next) + ")";
    return std::nullopt;
  }

  std::optional<std::string> ratio_box(const std::vector<RatioBoxData>& boxes, size_t idx, std::vector<Q>* lo,
                                       std::vector<std::optional<Q>>* hi, size_t* next) const {
    // Preorder with an explicit stack: the tree may be deep.
    struct Pending {
      size_t block;
      std::optional<Q> old_hi;  // restore after the lower half
      Q old_lo;                 // restore after the upper half
      Q t;
      int stage;  // 0: lower half running, 1: upper half running
    };
    std::vector<Pending> stack;
    size_t i = idx;
    while (true) {
      if (data_.budget->stop()) return std::string("stopped");
      if (i >= boxes.size()) return std::string("ratio boxes: the split tree ends early");
      const RatioBoxData& b = boxes[i];
      const std::string at = "ratio box " + std::to_string(i) + ": ";
      if (b.split) {
        if (b.block >= blocks_.size()) return at + "block out of range";
        if (!b.farkas.empty()) return at + "a split with a Farkas vector";
        if (auto e = precheck_number(b.threshold, data_.budget->limits())) return at + "threshold: " + *e;
        auto t = data_.number(b.threshold);
        if (!t) return at + "threshold \"" + shown(b.threshold) + "\" is not an exact number";
        if (fmpq_cmp(t->get(), (*lo)[b.block].get()) <= 0 ||
            ((*hi)[b.block] && fmpq_cmp(t->get(), (*hi)[b.block]->get()) >= 0))
          return at + "threshold not strictly inside the box's interval of block " + std::to_string(b.block);
        Pending p{b.block, (*hi)[b.block], (*lo)[b.block], *t, 0};
        (*hi)[b.block] = *t;
        stack.push_back(std::move(p));
        ++i;
        continue;
      }
      if (auto e = check_farkas(b.farkas, ratio_rows(*lo, *hi))) return at + *e;
      ++i;
      // Finished a subtree: climb to the first split whose upper half is next.
      while (!stack.empty() && stack.back().stage == 1) {
        Pending& p = stack.back();
        (*lo)[p.block] = p.old_lo;
        stack.pop_back();
      }
      if (stack.empty()) break;
      Pending& p = stack.back();
      (*hi)[p.block] = p.old_hi;
      (*lo)[p.block] = p.t;
      p.stage = 1;
    }
    *next = i;
    return std::nullopt;
  }

  // The rows of a ratio box, in the proto's order.
  std::vector<ExtraRow> ratio_rows(const std::vector<Q>& lo, const std::vector<std::optional<Q>>& hi) const {
    std::vector<ExtraRow> rows;
    auto add = [&](size_t b, const Q& zf, int uf) {
      const auto [j, o] = blocks_[b];
      for (size_t s = 0; s < path_.size(); ++s) {
        const int sigma = path_[s][j] == '1' ? 1 : -1;
        const auto& xt = data_.xt[order_[s]];
        ExtraRow r;
        r.inequality = true;
        for (size_t t = 0; t < dz_; ++t) {
          Q cz;
          cz.add_mul(zf, xt[t]);
          if (sigma < 0) cz.neg();
          Q cu = xt[t];
          if (sigma * uf * tau(j, o) < 0) cu.neg();
          r.coeffs.emplace_back(j * dz_ + t, cz);
          r.coeffs.emplace_back((data_.m + b) * dz_ + t, cu);
        }
        rows.push_back(std::move(r));
      }
    };
    for (size_t b = 0; b < blocks_.size(); ++b) {
      if (lo[b].sign() > 0) {
        Q minus = lo[b];
        minus.neg();
        add(b, minus, 1);
      }
      if (hi[b]) add(b, *hi[b], -1);
    }
    return rows;
  }

  std::optional<std::string> check_unrealizable_leaf(const ProofNodeData& nd) const {
    const size_t dz = data_.d + (data_.hb ? 1 : 0);
    if (nd.neuron >= data_.m) return "neuron index out of range";
    std::vector<std::pair<size_t, Q>> entries;
    if (auto e = read_entries(nd.farkas, path_.size(), &entries)) return e;
    std::vector<Q> combo(dz);
    Q rhs;
    for (const auto& [s, value] : entries) {
      if (data_.budget->stop()) return std::string("stopped");
      if (value.sign() < 0) return "negative multiplier on row " + std::to_string(s);
      const bool active = path_[s][nd.neuron] == '1';
      Q coef = value;
      if (!active) coef.neg();
      for (size_t t = 0; t < dz; ++t) combo[t].add_mul(coef, data_.xt[order_[s]][t]);
      if (active) rhs.add(value);
    }
    for (size_t t = 0; t < dz; ++t)
      if (combo[t].sign() != 0) return "realizability combination is not zero";
    if (rhs.sign() <= 0) return "realizability combination has no positive weight on active rows";
    return std::nullopt;
  }

  // Adds coef times node row `row` (canonical order, proto CaseTree: the
  // row rebuilt from the request and the path) to the linear form *combo and
  // coef times its right-hand side to *rhs; *too_big is set when an entry it
  // touched grows past the checker's size limit.
  void add_row(size_t row, const Q& coef, std::vector<Q>* combo, Q* rhs, bool* too_big) const {
    const size_t m = data_.m, k = data_.k, R = rows_per_sample_;
    const size_t s = row / R, r = row % R;
    const size_t i = order_[s];
    const std::string& act = path_[s];
    // Adds factor * coef * x~_i to the variable block `block`.
    auto add_block = [&](size_t block, int factor) {
      Q c = coef;
      if (factor < 0) c.neg();
      for (size_t t = 0; t < dz_; ++t) {
        (*combo)[block * dz_ + t].add_mul(c, data_.xt[i][t]);
        *too_big = *too_big || data_.budget->too_big((*combo)[block * dz_ + t]);
      }
    };
    if (r < k) {  // equality of output o = r
      for (size_t j = 0; j < m; ++j) {
        if (act[j] != '1') continue;
        if (r == lead_[j]) {
          add_block(j, tau(j, r));
        } else {
          for (size_t b = 0; b < blocks_.size(); ++b)
            if (blocks_[b].first == j && blocks_[b].second == r) add_block(m + b, 1);
        }
      }
      if (data_.ob) (*combo)[c0_ + r].add(coef);
      rhs->add_mul(coef, data_.y[i][r]);
    } else if (r < k + m) {  // sigma_ij (z_j . x~_i) >= 0
      add_block(r - k, act[r - k] == '1' ? 1 : -1);
    } else {  // tau_jo sigma_ij (u_jo . x~_i) >= 0
      const auto [j, o] = blocks_[r - k - m];
      add_block(m + (r - k - m), (act[j] == '1') == (tau(j, o) > 0) ? 1 : -1);
    }
  }

  // Node row `row` alone, as the affine form Q_r = coeffs . v - rhs.
  void row_form(size_t row, std::vector<Q>* coeffs, Q* rhs) const {
    coeffs->assign(nv_, Q());
    *rhs = Q();
    bool ignored = false;
    add_row(row, Q(1), coeffs, rhs, &ignored);
  }

  bool is_equality_row(size_t row) const { return row % rows_per_sample_ < data_.k; }

  // An affine function lin . w + c of the free variables w of the node's
  // equality rows.
  struct Aff {
    std::vector<Q> lin;
    Q c;
  };

  // KIND_PRODUCTS: sum of coefficient * term, restricted to the solution
  // set of the node's equality rows, must be a negative constant (proto:
  // "Product certificates" on CaseTree).
  std::optional<std::string> check_products_leaf(const ProofNodeData& nd) const {
    const size_t m = data_.m, num_rows = rows_per_sample_ * path_.size();
    if (nd.products.empty()) return std::string("no product terms");
    if (blocks_.empty()) return std::string("product certificate in a sign case without u blocks");
    // Reduced row echelon form of the equality rows [coeffs | rhs].
    std::vector<std::vector<Q>> eq;
    std::vector<Q> form;
    Q rhs, f, tmp;
    for (size_t row = 0; row < num_rows; ++row) {
      if (!is_equality_row(row)) continue;
      row_form(row, &form, &rhs);
      form.push_back(rhs);
      eq.push_back(form);
    }
    std::vector<long> pivot_row(nv_, -1);
    size_t rank = 0;
    for (size_t col = 0; col < nv_ && rank < eq.size(); ++col) {
      if (data_.budget->stop()) return std::string("stopped");
      size_t p = rank;
      while (p < eq.size() && eq[p][col].sign() == 0) ++p;
      if (p == eq.size()) continue;
      std::swap(eq[p], eq[rank]);
      Q inv;
      fmpq_inv(inv.get(), eq[rank][col].get());
      for (auto& v : eq[rank]) v.mul(inv);
      for (size_t i = 0; i < eq.size(); ++i) {
        if (i == rank || eq[i][col].sign() == 0) continue;
        f = eq[i][col];
        f.neg();
        for (size_t t = col; t <= nv_; ++t) eq[i][t].add_mul(f, eq[rank][t]);
      }
      pivot_row[col] = static_cast<long>(rank++);
    }
    for (size_t i = rank; i < eq.size(); ++i)
      if (eq[i][nv_].sign() != 0) return std::nullopt;  // S is empty
    std::vector<size_t> w_of(nv_, 0);
    size_t nw = 0;
    for (size_t col = 0; col < nv_; ++col)
      if (pivot_row[col] < 0) w_of[col] = nw++;
    std::vector<Aff> var(nv_);
    for (size_t col = 0; col < nv_; ++col) {
      var[col].lin.assign(nw, Q());
      if (pivot_row[col] < 0) {
        var[col].lin[w_of[col]] = Q(1);
        continue;
      }
      const auto& row = eq[pivot_row[col]];
      var[col].c = row[nv_];
      for (size_t c2 = 0; c2 < nv_; ++c2)
        if (pivot_row[c2] < 0 && row[c2].sign() != 0) {
          var[col].lin[w_of[c2]] = row[c2];
          var[col].lin[w_of[c2]].neg();
        }
    }
    // Inequality row `row` as an affine function of w.
    auto row_aff = [&](size_t row, Aff* out) {
      row_form(row, &form, &rhs);
      out->lin.assign(nw, Q());
      out->c = rhs;
      out->c.neg();
      for (size_t i = 0; i < nv_; ++i) {
        if (form[i].sign() == 0) continue;
        out->c.add_mul(form[i], var[i].c);
        for (size_t w = 0; w < nw; ++w) out->lin[w].add_mul(form[i], var[i].lin[w]);
      }
    };
    // The sum, densely: [0] constant, [1 + i] w_i, then w_i w_j (i <= j).
    std::vector<Q> sum(1 + nw + nw * (nw + 1) / 2);
    auto add_product = [&](const Aff& g, const Aff& h, const Q& scale) {
      tmp = g.c;
      tmp.mul(h.c);
      sum[0].add_mul(scale, tmp);
      for (size_t i = 0; i < nw; ++i) {
        tmp = g.lin[i];
        tmp.mul(h.c);
        tmp.add_mul(h.lin[i], g.c);
        sum[1 + i].add_mul(scale, tmp);
      }
      for (size_t i = 0; i < nw; ++i) {
        if (g.lin[i].sign() == 0) continue;
        for (size_t j = 0; j < nw; ++j) {
          if (h.lin[j].sign() == 0) continue;
          tmp = g.lin[i];
          tmp.mul(h.lin[j]);
          const size_t lo = std::min(i, j), hi = std::max(i, j);
          sum[1 + nw + hi * (hi + 1) / 2 + lo].add_mul(scale, tmp);
        }
      }
    };
    auto neuron_of = [&](size_t block) { return block < m ? block : blocks_[block - m].first; };
    Aff ga, gb, one;
    one.lin.assign(nw, Q());
    one.c = Q(1);
    for (size_t idx = 0; idx < nd.products.size(); ++idx) {
      const ProductTermData& term = nd.products[idx];
      const std::string at = "product term " + std::to_string(idx) + ": ";
      if (data_.budget->stop()) return std::string("stopped");
      if (auto e = precheck_number(term.coefficient, data_.budget->limits())) return at + "coefficient: " + *e;
      auto coef = data_.number(term.coefficient);
      if (!coef || coef->sign() == 0) return at + "coefficient \"" + shown(term.coefficient) + "\" is not a nonzero exact number";
      if (term.kind != ProductKind::kMinor && coef->sign() < 0)
        return at + "negative coefficient on a term that is only >= 0";
      switch (term.kind) {
        case ProductKind::kRow:
          if (term.a >= num_rows || is_equality_row(term.a)) return at + "not an inequality row";
          row_aff(term.a, &ga);
          add_product(ga, one, *coef);
          break;
        case ProductKind::kRowProduct:
          if (term.a > term.b || term.b >= num_rows) return at + "rows out of range or not ordered";
          if (is_equality_row(term.a) || is_equality_row(term.b)) return at + "product of an equality row";
          row_aff(term.a, &ga);
          row_aff(term.b, &gb);
          add_product(ga, gb, *coef);
          break;
        case ProductKind::kMinor: {
          if (term.a >= term.b || term.b >= m + blocks_.size()) return at + "vector blocks out of range or not ordered";
          if (neuron_of(term.a) != neuron_of(term.b)) return at + "vector blocks of different neurons";
          if (term.c >= term.d || term.d >= dz_) return at + "coordinates out of range or not ordered";
          add_product(var[term.a * dz_ + term.c], var[term.b * dz_ + term.d], *coef);
          tmp = *coef;
          tmp.neg();
          const Q minus = tmp;
          add_product(var[term.a * dz_ + term.d], var[term.b * dz_ + term.c], minus);
          break;
        }
        case ProductKind::kSquare:
          if (term.a >= nv_) return at + "variable out of range";
          add_product(var[term.a], var[term.a], *coef);
          break;
        case ProductKind::kAligned: {
          if (term.a >= blocks_.size() || term.b >= dz_) return at + "block or coordinate out of range";
          const auto [j, o] = blocks_[term.a];
          Q scale = *coef;
          if (tau(j, o) < 0) scale.neg();
          add_product(var[(m + term.a) * dz_ + term.b], var[j * dz_ + term.b], scale);
          break;
        }
        default:
          return at + "unknown kind " + std::to_string(static_cast<int>(term.kind));
      }
    }
    for (size_t i = 1; i < sum.size(); ++i) {
      if (data_.budget->too_big(sum[i])) return data_.budget->too_big_message();
      if (sum[i].sign() != 0)
        return "product combination, on the equality rows' solutions, is not constant (monomial " +
               std::to_string(i) + ")";
    }
    if (sum[0].sign() >= 0) return std::string("product combination is not a negative constant");
    return std::nullopt;
  }

  const Data& data_;
  const std::vector<uint32_t>& order_;
  const SignCaseData& sc_;
  std::string name_;
  std::vector<size_t> lead_;
  std::vector<std::pair<size_t, size_t>> blocks_;
  size_t dz_ = 0, rows_per_sample_ = 0, c0_ = 0, nv_ = 0;
  std::vector<std::string> path_;
  uint64_t leaves_ = 0;
  uint64_t product_leaves_ = 0;
  uint64_t ratio_box_leaves_ = 0;

 public:
  uint64_t product_leaves() const { return product_leaves_; }
  uint64_t ratio_box_leaves() const { return ratio_box_leaves_; }
};

// Rank of a sign character in the case order: '+' < '-' < '0'.
int sign_rank(char c) { return c == '+' ? 0 : c == '-' ? 1 : 2; }

bool sign_less(const std::string& a, const std::string& b) {
  for (size_t o = 0; o < a.size(); ++o)
    if (a[o] != b[o]) return sign_rank(a[o]) < sign_rank(b[o]);
  return false;
}

// Number of non-decreasing sequences of length m over t symbols:
// binomial(t + m - 1, m), or nullopt when it exceeds 2^62.
std::optional<uint64_t> multisets(uint64_t t, uint64_t m) {
  unsigned __int128 r = 1;
  for (uint64_t i = 1; i <= m; ++i) {
    r = r * (t + i - 1) / i;
    if (r > (static_cast<unsigned __int128>(1) << 62)) return std::nullopt;
  }
  return static_cast<uint64_t>(r);
}

bool is_permutation(const std::vector<uint32_t>& order, size_t n) {
  if (order.size() != n) return false;
  std::vector<bool> seen(n, false);
  for (uint32_t i : order) {
    if (i >= n || seen[i]) return false;
    seen[i] = true;
  }
  return true;
}

CheckResult check_case_tree(const Data& data, const CaseTreeData& tree) {
  // Every case is a valid non-decreasing sequence of m sign vectors of
  // Lemma 1 (zeros, the lead, then only + or -: 2 (2^k - 1) of them), no
  // case repeats, and there are as many cases as such sequences: so all
  // occur.
  uint64_t types = 1;
  for (size_t o = 0; o < data.k; ++o) {
    if (types > (uint64_t{1} << 60)) return fail("too many sign cases to check (output_dim too large)");
    types *= 2;
  }
  const auto expected = multisets(2 * (types - 1), data.m);
  if (!expected || tree.cases.size() != *expected)
    return fail("the tree needs one sign case for each sorted sequence of sign vectors (" +
                (expected ? std::to_string(*expected) : std::string("too many")) + "), it has " +
                std::to_string(tree.cases.size()));
  std::set<std::vector<std::string>> distinct;
  uint64_t leaves = 0, nodes = 0, product_leaves = 0, ratio_box_leaves = 0;
  for (const SignCaseData& sc : tree.cases) {
    if (sc.output_signs.size() != data.m) return fail("a sign case does not give every neuron's signs");
    std::string name;
    for (size_t j = 0; j < data.m; ++j) {
      const std::string& t = sc.output_signs[j];
      if (t.size() != data.k || t.find_first_not_of("+-0") != std::string::npos ||
          t.find_first_not_of('0') == std::string::npos)
        return fail("sign case: \"" + t + "\" is not a nonzero sign vector of length " + std::to_string(data.k));
      if (t.find('0', t.find_first_not_of('0')) != std::string::npos)
        return fail("sign case: \"" + t + "\" has a 0 after its first nonzero sign (Lemma 1: + or - there)");
      if (j > 0 && sign_less(t, sc.output_signs[j - 1])) return fail("sign case not in sorted order");
      name += (j ? " " : "") + t;
    }
    if (!distinct.insert(sc.output_signs).second) return fail("sign case (" + name + ") repeated");
    if (!is_permutation(sc.sample_order, data.n))
      return fail("sign case (" + name + "): sample_order is not a permutation of the samples");
    TreeChecker checker(data, sc, "(" + name + ")");
    if (auto e = checker.run(&leaves)) return fail(*e);
    nodes += sc.nodes.size();
    product_leaves += checker.product_leaves();
    ratio_box_leaves += checker.ratio_box_leaves();
  }
  return pass("case tree verified: " + std::to_string(tree.cases.size()) + " sign cases, " +
              std::to_string(nodes) + " nodes, " + std::to_string(leaves) +
              " leaves each with a valid Farkas certificate" +
              (product_leaves ? " (" + std::to_string(product_leaves) +
                                    " of them degree-2 product certificates, multiplied out)"
                              : std::string()) +
              (ratio_box_leaves ? " (" + std::to_string(ratio_box_leaves) +
                                      " of them ratio-box split trees, each box with its own Farkas vector)"
                                : std::string()));
}

// FeatureSpan (the lemma is on the message in relufit.proto), with the
// checker's own arithmetic: the labels' rank by FLINT, every identity
// multiplied out exactly.
CheckResult check_feature_span(const Data& data, const FeatureSpanData& fs) {
  const size_t n = data.n, k = data.k;
  const size_t dx = data.xt[0].size();
  const size_t mp = data.m + (data.ob ? 1 : 0);
  const size_t cols = k + (data.ob ? 1 : 0);
  // Column c of Z: output c's labels, or (c = k, output bias) ones.
  auto zc = [&](size_t i, size_t c) { return c < k ? data.y[i][c] : Q(1); };
  fmpq_mat_t z;
  fmpq_mat_init(z, static_cast<slong>(n), static_cast<slong>(cols));
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < cols; ++c)
      fmpq_set(fmpq_mat_entry(z, static_cast<slong>(i), static_cast<slong>(c)), zc(i, c).get());
  fmpq_mat_t reduced;
  fmpq_mat_init(reduced, static_cast<slong>(n), static_cast<slong>(cols));
  const size_t r = static_cast<size_t>(fmpq_mat_rref(reduced, z));
  fmpq_mat_clear(reduced);
  fmpq_mat_clear(z);
  const std::string dims = "the labels" + std::string(data.ob ? " and a column of ones" : "") +
                           " have rank " + std::to_string(r) + ", the network's outputs span at most " +
                           std::to_string(mp);
  if (r > mp) {
    if (!fs.lambda.empty() || !fs.patterns.empty())
      return fail("feature span: " + dims + ", which alone proves it; lambda and patterns must be empty");
    return pass("feature span verified: " + dims + " dimensions");
  }
  if (r < mp) return fail("feature span: " + dims + "; the lemma needs rank " + std::to_string(mp));
  if (n > 16) return fail("feature span: " + std::to_string(n) + " samples; the certificate allows at most 16");
  if (fs.lambda.size() != n)
    return fail("feature span: " + std::to_string(fs.lambda.size()) + " lambda values for " +
                std::to_string(n) + " samples");
  const size_t num_sets = size_t{1} << n;
  if (fs.patterns.size() != num_sets)
    return fail("feature span: " + std::to_string(fs.patterns.size()) + " patterns, not 2^" +
                std::to_string(n) + " = " + std::to_string(num_sets));
  const CheckLimits& limits = data.budget->limits();
  std::vector<Q> lambda;
  for (size_t i = 0; i < n; ++i) {
    if (auto e = precheck_number(fs.lambda[i], limits)) return fail("feature span: lambda " + std::to_string(i) + ": " + *e);
    auto v = data.number(fs.lambda[i]);
    if (!v) return fail("feature span: lambda " + std::to_string(i) + " \"" + shown(fs.lambda[i]) + "\" is not an exact number");
    lambda.push_back(*v);
  }
  // lambda . z for each column of Z: 0 on the ones, not 0 on some output.
  bool off_u = false;
  for (size_t c = 0; c < cols; ++c) {
    Q s;
    for (size_t i = 0; i < n; ++i) s.add_mul(lambda[i], zc(i, c));
    if (c == k && s.sign() != 0) return fail("feature span: lambda . 1 = " + shown(s.str()) + ", not 0");
    if (c < k && s.sign() != 0) off_u = true;
  }
  if (!off_u) return fail("feature span: lambda is orthogonal to every output's labels");
  size_t identities = 0;
  for (size_t set = 0; set < num_sets; ++set) {
    if (data.budget->poll()) return fail("stopped");
    auto in = [&](size_t i) { return ((set >> i) & 1u) != 0; };
    std::vector<Q> g(dx);
    for (size_t i = 0; i < n; ++i)
      if (in(i))
        for (size_t t = 0; t < dx; ++t) g[t].add_mul(lambda[i], data.xt[i][t]);
    const FeatureSpanPatternData& pd = fs.patterns[set];
    for (int sigma : {1, -1}) {
      const std::string at = "feature span: pattern " + std::to_string(set) + (sigma > 0 ? " up" : " down");
      std::vector<std::pair<size_t, Q>> mu, eta;
      if (auto e = read_sparse(data, sigma > 0 ? pd.mu_up : pd.mu_down, n, at + " mu", &mu)) return fail(*e);
      if (auto e = read_sparse(data, sigma > 0 ? pd.eta_up : pd.eta_down, n, at + " eta", &eta))
        return fail(*e);
      for (const auto& [i, v] : mu)
        if (v.sign() < 0) return fail(at + ": mu " + std::to_string(i) + " is negative");
      for (size_t c = 0; c < cols; ++c) {
        Q s;
        for (const auto& [i, v] : eta) s.add_mul(v, zc(i, c));
        if (s.sign() != 0)
          return fail(at + ": eta is not orthogonal to " +
                      (c < k ? "output " + std::to_string(c) + "'s labels" : std::string("the ones")));
      }
      // sigma g = sum_i mu_i s_i x~_i + sum_{i in P} eta_i x~_i, coordinate by coordinate.
      for (size_t t = 0; t < dx; ++t) {
        Q s;
        for (const auto& [i, v] : mu) {
          Q term(v);
          term.mul(data.xt[i][t]);
          if (in(i))
            s.add(term);
          else
            s.sub(term);
        }
        for (const auto& [i, v] : eta)
          if (in(i)) s.add_mul(v, data.xt[i][t]);
        Q want(g[t]);
        if (sigma < 0) want.neg();
        if (s != want) return fail(at + ": the identity fails in coordinate " + std::to_string(t));
      }
      ++identities;
    }
  }
  return pass("feature span verified: " + dims + "; lambda is orthogonal to the features of all " +
              std::to_string(num_sets) + " activation sets (" + std::to_string(identities) +
              " identities multiplied out)");
}

CheckResult check_with_budget(const RequestData& request, const AnswerData& answer, Budget* budget) {
  Data data;
  data.budget = budget;
  if (auto e = read_request(request, &data)) return fail(*e);
  switch (answer.verdict) {
    case Verdict::kFeasible:
      return check_network(data, answer.network);
    case Verdict::kInfeasible:
      switch (answer.certificate.kind) {
        case CertificateData::Kind::kConflictingPair:
          return check_conflict(data, answer.certificate.first, answer.certificate.second);
        case CertificateData::Kind::kCaseTree:
          return check_case_tree(data, answer.certificate.case_tree);
        case CertificateData::Kind::kBreakpointBound:
          return check_breakpoint_bound(data, answer.certificate.breakpoint_output,
                                        answer.certificate.min_breakpoints);
        case CertificateData::Kind::kFeatureSpan:
          return check_feature_span(data, answer.certificate.feature_span);
        default:
          return fail("INFEASIBLE without a certificate");
      }
    case Verdict::kUnknown:
      if (answer.reason.empty()) return fail("UNKNOWN without a reason");
      return pass("nothing claimed: " + answer.reason);
    default:
      return fail("verdict unspecified");
  }
}

}  // namespace

CheckResult check_answer(const RequestData& request, const AnswerData& answer,
                         const CheckControl& control) {
  // Beyond zero error (loss, max_error > 0): checker_erm.cpp.
  if (request_has_error_budget(request)) return check_error_budget_answer(request, answer, control);
  Budget budget(control);
  CheckResult result = check_with_budget(request, answer, &budget);
  if (budget.stopped()) {
    result.valid = false;
    result.stopped = true;
    result.message = "check not finished: " + budget.why();
  }
  return result;
}

}  // namespace relufit
