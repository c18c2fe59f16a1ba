#include "algebra/checker.h"

#include <flint/fmpq.h>
#include <flint/fmpz.h>

#include <cctype>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace relufit {
namespace {

// RAII owner of one FLINT rational.
class Q {
 public:
  Q() { fmpq_init(v_); }
  explicit Q(long n) {
    fmpq_init(v_);
    fmpq_set_si(v_, n, 1);
  }
  Q(const Q& o) {
    fmpq_init(v_);
    fmpq_set(v_, o.v_);
  }
  Q& operator=(const Q& o) {
    if (this != &o) fmpq_set(v_, o.v_);
    return *this;
  }
  ~Q() { fmpq_clear(v_); }
  fmpq* get() { return v_; }
  const fmpq* get() const { return v_; }
  int sign() const { return fmpq_sgn(v_); }
  bool operator==(const Q& o) const { return fmpq_equal(v_, o.v_); }
  bool operator!=(const Q& o) const { return !(*this == o); }
  void add_mul(const Q& a, const Q& b) { fmpq_addmul(v_, a.v_, b.v_); }
  void add(const Q& a) { fmpq_add(v_, v_, a.v_); }
  void mul(const Q& a) { fmpq_mul(v_, v_, a.v_); }
  void neg() { fmpq_neg(v_, v_); }

 private:
  fmpq_t v_;
};

bool digits_only(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The API's number syntax, parsed independently of the solver's parser.
std::optional<Q> parse(const std::string& text) {
  std::string s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  Q out;
  fmpz_t num, den;
  fmpz_init(num);
  fmpz_init(den);
  bool ok = true;
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    std::string a = s.substr(0, slash), b = s.substr(slash + 1);
    ok = digits_only(a) && digits_only(b);
    if (ok) {
      fmpz_set_str(num, a.c_str(), 10);
      fmpz_set_str(den, b.c_str(), 10);
      ok = !fmpz_is_zero(den);
    }
  } else {
    long exponent = 0;
    std::string mant = s;
    size_t e = s.find_first_of("eE");
    if (e != std::string::npos) {
      mant = s.substr(0, e);
      std::string ex = s.substr(e + 1);
      bool eneg = false;
      if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) {
        eneg = ex[0] == '-';
        ex = ex.substr(1);
      }
      ok = digits_only(ex) && ex.size() <= 6;
      if (ok) exponent = std::stol(ex) * (eneg ? -1 : 1);
    }
    size_t dot = mant.find('.');
    std::string ip = mant, fp;
    if (dot != std::string::npos) {
      ip = mant.substr(0, dot);
      fp = mant.substr(dot + 1);
    }
    ok = ok && !(ip.empty() && fp.empty()) && (ip.empty() || digits_only(ip)) &&
         (fp.empty() || digits_only(fp));
    if (ok) {
      fmpz_set_str(num, (ip + fp).c_str(), 10);
      exponent -= static_cast<long>(fp.size());
      fmpz_one(den);
      fmpz_t ten;
      fmpz_init_set_ui(ten, 10);
      if (exponent >= 0) {
        fmpz_pow_ui(ten, ten, static_cast<ulong>(exponent));
        fmpz_mul(num, num, ten);
      } else {
        fmpz_pow_ui(den, ten, static_cast<ulong>(-exponent));
      }
      fmpz_clear(ten);
    }
  }
  if (ok) {
    fmpq_set_fmpz_frac(out.get(), num, den);
    if (neg) out.neg();
  }
  fmpz_clear(num);
  fmpz_clear(den);
  if (!ok) return std::nullopt;
  return out;
}


CheckResult pass(std::string message) { return {true, std::move(message)}; }
CheckResult fail(std::string message) { return {false, std::move(message)}; }

// The request in exact form, as the checker reads it.
struct Data {
  size_t n = 0, d = 0, m = 0, k = 0;
  bool hb = true, ob = true;
  std::vector<std::vector<Q>> x, y;
  std::vector<std::vector<Q>> xt;  // x with a trailing 1 when hidden bias
};

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
    if (r.x[i].size() != out->d || r.y[i].size() != out->k)
      return "request sample " + std::to_string(i) + " has the wrong number of coordinates";
    std::vector<Q> xi, yi;
    for (const auto& s : r.x[i]) {
      auto v = parse(s);
      if (!v) return "request sample " + std::to_string(i) + ": bad number \"" + s + "\"";
      xi.push_back(*v);
    }
    for (const auto& s : r.y[i]) {
      auto v = parse(s);
      if (!v) return "request sample " + std::to_string(i) + ": bad number \"" + s + "\"";
      yi.push_back(*v);
    }
    out->xt.push_back(xi);
    if (out->hb) out->xt.back().push_back(Q(1));
    out->x.push_back(std::move(xi));
    out->y.push_back(std::move(yi));
  }
  return std::nullopt;
}

CheckResult check_network(const Data& data, const NetworkData& net) {
  if (net.neurons.size() != data.m)
    return fail("network has " + std::to_string(net.neurons.size()) + " neurons, architecture " +
                std::to_string(data.m));
  std::vector<std::vector<Q>> w(data.m), a(data.m);
  std::vector<Q> b(data.m), c(data.k);
  auto read = [](const std::string& s, const std::string& what, Q* dest) -> std::optional<std::string> {
    auto v = parse(s);
    if (!v) return what + ": not an exact number \"" + s + "\"";
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
    std::vector<Q> out = c;
    for (size_t j = 0; j < data.m; ++j) {
      Q pre = b[j];
      for (size_t t = 0; t < data.d; ++t) pre.add_mul(w[j][t], data.x[i][t]);
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

// Verifies one sign case's preorder tree.
class TreeChecker {
 public:
  TreeChecker(const Data& data, const std::vector<uint32_t>& order, const SignCaseData& sc)
      : data_(data), order_(order), sc_(sc) {}

  std::optional<std::string> run(uint64_t* leaves) {
    if (sc_.nodes.empty()) return "empty tree";
    size_t next = 0;
    if (auto e = node(0, 0, &next)) return e;
    if (next != sc_.nodes.size()) return "nodes after the end of the tree (index " + std::to_string(next) + ")";
    *leaves += leaves_;
    return std::nullopt;
  }

 private:
  int output_sign(size_t j) const { return j < sc_.positive_neurons ? 1 : -1; }

  std::vector<std::string> admissible() const {
    const size_t m = data_.m;
    std::vector<bool> tied(m, false);
    for (size_t j = 0; j + 1 < m; ++j) {
      if (output_sign(j) != output_sign(j + 1)) continue;
      bool same = true;
      for (const auto& act : path_) same = same && act[j] == act[j + 1];
      tied[j] = same;
    }
    std::vector<std::string> out;
    for (unsigned long mask = 0; mask < (1ul << m); ++mask) {
      std::string act(m, '0');
      for (size_t j = 0; j < m; ++j)
        if (mask & (1ul << j)) act[j] = '1';
      bool ok = true;
      for (size_t j = 0; j + 1 < m; ++j)
        if (tied[j] && act[j] == '0' && act[j + 1] == '1') ok = false;
      if (ok) out.push_back(act);
    }
    return out;
  }

  std::optional<std::string> node(size_t idx, size_t depth, size_t* next) {
    const ProofNodeData& nd = sc_.nodes[idx];
    const std::string at = "case " + std::to_string(sc_.positive_neurons) + " node " + std::to_string(idx);
    if (nd.depth != depth) return at + ": depth " + std::to_string(nd.depth) + ", expected " + std::to_string(depth);
    switch (nd.kind) {
      case ProofNodeKind::kBranch: {
        if (depth >= data_.n) return at + ": branch below the last sample";
        std::vector<std::string> allowed = admissible();
        std::set<std::string> wanted(allowed.begin(), allowed.end()), seen;
        size_t i = idx + 1;
        while (i < sc_.nodes.size() && sc_.nodes[i].depth > depth) {
          const std::string& act = sc_.nodes[i].activation;
          if (!wanted.count(act)) return at + ": child activation \"" + act + "\" is not admissible";
          if (!seen.insert(act).second) return at + ": child activation \"" + act + "\" repeated";
          path_.push_back(act);
          auto e = node(i, depth + 1, &i);
          path_.pop_back();
          if (e) return e;
        }
        if (seen.size() != wanted.size()) {
          for (const auto& act : allowed)
            if (!seen.count(act)) return at + ": missing branch for activation \"" + act + "\"";
        }
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
      default:
        return at + ": node kind unspecified";
    }
  }

  std::optional<std::string> read_entries(const ProofNodeData& nd, size_t num_rows,
                                          std::vector<std::pair<size_t, Q>>* out) const {
    long last = -1;
    for (const auto& e : nd.farkas) {
      if (e.row >= num_rows) return "Farkas row " + std::to_string(e.row) + " out of range";
      if (static_cast<long>(e.row) <= last) return "Farkas rows not strictly increasing";
      last = e.row;
      auto v = parse(e.value);
      if (!v) return "Farkas value \"" + e.value + "\" is not an exact number";
      out->emplace_back(e.row, *v);
    }
    return std::nullopt;
  }

  std::optional<std::string> check_lp_leaf(const ProofNodeData& nd) const {
    const size_t m = data_.m, dz = data_.d + (data_.hb ? 1 : 0);
    const size_t nv = m * dz + (data_.ob ? 1 : 0);
    std::vector<std::pair<size_t, Q>> entries;
    if (auto e = read_entries(nd, (m + 1) * path_.size(), &entries)) return e;
    std::vector<Q> combo(nv);
    Q rhs;
    for (const auto& [row, value] : entries) {
      const size_t s = row / (m + 1), r = row % (m + 1);
      const size_t i = order_[s];
      const std::string& act = path_[s];
      if (r == 0) {  // equality: sum_j a_j P_ij (z_j . x~_i) + c = y_i
        for (size_t j = 0; j < m; ++j) {
          if (act[j] != '1') continue;
          Q coef = value;
          if (output_sign(j) < 0) coef.neg();
          for (size_t t = 0; t < dz; ++t) combo[j * dz + t].add_mul(coef, data_.xt[i][t]);
        }
        if (data_.ob) combo[m * dz].add(value);
        rhs.add_mul(value, data_.y[i][0]);
      } else {  // sigma_ij (z_j . x~_i) >= 0
        if (value.sign() < 0) return "negative multiplier on inequality row " + std::to_string(row);
        const size_t j = r - 1;
        Q coef = value;
        if (act[j] != '1') coef.neg();
        for (size_t t = 0; t < dz; ++t) combo[j * dz + t].add_mul(coef, data_.xt[i][t]);
      }
    }
    for (size_t v = 0; v < nv; ++v)
      if (combo[v].sign() != 0) return "Farkas combination is not zero in variable " + std::to_string(v);
    if (rhs.sign() <= 0) return "Farkas combination of the right-hand sides is not positive";
    return std::nullopt;
  }

  std::optional<std::string> check_unrealizable_leaf(const ProofNodeData& nd) const {
    const size_t dz = data_.d + (data_.hb ? 1 : 0);
    if (nd.neuron >= data_.m) return "neuron index out of range";
    std::vector<std::pair<size_t, Q>> entries;
    if (auto e = read_entries(nd, path_.size(), &entries)) return e;
    std::vector<Q> combo(dz);
    Q rhs;
    for (const auto& [s, value] : entries) {
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

  const Data& data_;
  const std::vector<uint32_t>& order_;
  const SignCaseData& sc_;
  std::vector<std::string> path_;
  uint64_t leaves_ = 0;
};

CheckResult check_case_tree(const Data& data, const CaseTreeData& tree) {
  if (data.k != 1) return fail("case trees are defined for output_dim = 1 only");
  if (tree.sample_order.size() != data.n) return fail("sample_order is not a permutation of the samples");
  std::vector<bool> seen(data.n, false);
  for (uint32_t i : tree.sample_order) {
    if (i >= data.n || seen[i]) return fail("sample_order is not a permutation of the samples");
    seen[i] = true;
  }
  if (tree.cases.size() != data.m + 1) return fail("the tree needs one sign case for each p = 0..m");
  std::vector<bool> covered(data.m + 1, false);
  uint64_t leaves = 0, nodes = 0;
  for (const SignCaseData& sc : tree.cases) {
    if (sc.positive_neurons > data.m || covered[sc.positive_neurons])
      return fail("sign cases are not exactly p = 0..m");
    covered[sc.positive_neurons] = true;
    TreeChecker checker(data, tree.sample_order, sc);
    if (auto e = checker.run(&leaves)) return fail(*e);
    nodes += sc.nodes.size();
  }
  return pass("case tree verified: " + std::to_string(data.m + 1) + " sign cases, " +
              std::to_string(nodes) + " nodes, " + std::to_string(leaves) +
              " leaves each with a valid Farkas certificate");
}

}  // namespace

CheckResult check_answer(const RequestData& request, const AnswerData& answer) {
  Data data;
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

}  // namespace relufit
