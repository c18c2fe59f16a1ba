// Random tampering (issue 13): at least 10,000 mutated certificates of golden
// answers, none accepted wrongly. Every mutation of a case tree below breaks
// the proof by construction (the lemma is on each operator); a mutated
// network is accepted only if an independent exact evaluation (GMP, the
// solver's number parser, not the checker's FLINT code) says it still fits.
// Seeded: a failure prints the seed, operator and what was changed.
#include <gtest/gtest.h>

#include <gmpxx.h>

#include <chrono>
#include <random>
#include <set>

#include "algebra/checker.h"
#include "algebra/number.h"
#include "tests/golden_util.h"

namespace relufit {
namespace {

// A random nonzero rational p/q with |p| <= 50, 1 <= q <= 9.
std::string random_delta(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> p(1, 50), q(1, 9), sign(0, 1);
  return (sign(rng) ? "-" : "") + std::to_string(p(rng)) + "/" + std::to_string(q(rng));
}

std::string add_exact(const std::string& value, const std::string& delta) {
  auto a = parse_exact_number(value, nullptr);
  auto b = parse_exact_number(delta, nullptr);
  return rational_to_string(*a + *b);
}

// Whether a rational network fits every sample, evaluated with GMP.
bool fits_independently(const RequestData& r, const NetworkData& net) {
  auto q = [](const std::string& s, mpq_class* out) {
    auto v = parse_exact_number(s, nullptr);
    if (!v) return false;
    *out = *v;
    return true;
  };
  if (net.neurons.size() != r.hidden_width) return false;
  for (size_t i = 0; i < r.x.size(); ++i) {
    std::vector<mpq_class> out(r.output_dim, 0);
    if (r.output_bias) {
      if (net.output_bias.size() != r.output_dim) return false;
      for (size_t o = 0; o < r.output_dim; ++o)
        if (!q(net.output_bias[o], &out[o])) return false;
    }
    for (const auto& n : net.neurons) {
      if (n.input_weights.size() != r.input_dim || n.output_weights.size() != r.output_dim) return false;
      mpq_class pre = 0, v, x;
      if (r.hidden_bias && !q(n.bias, &pre)) return false;
      for (size_t t = 0; t < r.input_dim; ++t) {
        if (!q(n.input_weights[t], &v) || !q(r.x[i][t], &x)) return false;
        pre += v * x;
      }
      if (pre <= 0) continue;
      for (size_t o = 0; o < r.output_dim; ++o) {
        if (!q(n.output_weights[o], &v)) return false;
        out[o] += v * pre;
      }
    }
    for (size_t o = 0; o < r.output_dim; ++o) {
      mpq_class y;
      if (!q(r.y[i][o], &y) || out[o] != y) return false;
    }
  }
  return true;
}

// One random change to a number's text: a digit changed, a digit added or
// removed, the sign flipped, or a nonzero rational added.
std::string mutate_text(const std::string& s, std::mt19937_64& rng) {
  std::string t = s;
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0: {  // change a digit
      std::vector<size_t> digits;
      for (size_t i = 0; i < t.size(); ++i)
        if (std::isdigit(static_cast<unsigned char>(t[i]))) digits.push_back(i);
      if (digits.empty()) return t + "1";
      size_t i = digits[std::uniform_int_distribution<size_t>(0, digits.size() - 1)(rng)];
      t[i] = static_cast<char>('0' + (t[i] - '0' + std::uniform_int_distribution<int>(1, 9)(rng)) % 10);
      return t;
    }
    case 1:
      return t + std::to_string(std::uniform_int_distribution<int>(0, 9)(rng));
    case 2:
      return t[0] == '-' ? t.substr(1) : "-" + t;
    default:
      return add_exact(t, random_delta(rng));
  }
}

struct Tally {
  size_t tried = 0, rejected = 0, accepted_and_correct = 0;
};

// Rational FEASIBLE answers: any weight, any change; accepted only if the
// GMP evaluation agrees that the changed network fits.
void tamper_network(const std::string& name, size_t trials, uint64_t seed, Tally* tally) {
  RequestData r = load_request(name);
  AnswerData a = solve(r);
  ASSERT_EQ(a.verdict, Verdict::kFeasible) << name;
  ASSERT_TRUE(check_answer(r, a).valid) << name;
  std::mt19937_64 rng(seed);
  for (size_t trial = 0; trial < trials; ++trial) {
    AnswerData b = a;
    std::vector<std::string*> slots;
    for (auto& n : b.network.neurons) {
      for (auto& w : n.input_weights) slots.push_back(&w);
      for (auto& w : n.output_weights) slots.push_back(&w);
      if (r.hidden_bias) slots.push_back(&n.bias);
    }
    for (auto& c : b.network.output_bias) slots.push_back(&c);
    std::string* slot = slots[std::uniform_int_distribution<size_t>(0, slots.size() - 1)(rng)];
    const std::string before = *slot;
    *slot = mutate_text(before, rng);
    if (*slot == before) continue;
    ++tally->tried;
    const CheckResult c = check_answer(r, b);
    if (!c.valid) {
      ++tally->rejected;
      continue;
    }
    ASSERT_TRUE(fits_independently(r, b.network))
        << name << " seed " << seed << " trial " << trial << ": weight \"" << before << "\" -> \""
        << *slot << "\" accepted but the network does not fit: " << c.message;
    ++tally->accepted_and_correct;
  }
}

// Positions of the nodes of a case's preorder list with a property.
template <class P>
std::vector<std::pair<size_t, size_t>> nodes_where(const CaseTreeData& tree, P pred) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t c = 0; c < tree.cases.size(); ++c)
    for (size_t i = 0; i < tree.cases[c].nodes.size(); ++i)
      if (pred(tree.cases[c].nodes[i], i)) out.emplace_back(c, i);
  return out;
}

// INFEASIBLE case trees. The instances have hidden bias, so every LP row
// has a nonzero coefficient vector (x~ ends in 1; equality rows contain c or
// a block with x~), and every operator breaks the proof:
//  - Farkas value + delta (delta != 0): the combination moves by delta times
//    a nonzero row, so it is no longer zero;
//  - a Farkas entry dropped from a leaf with several: the same, by -value;
//  - a kappa value + delta: kappa no longer sums to 0;
//  - a subtree removed: its parent misses an admissible activation;
//  - one bit of a child's activation flipped: every admissible activation
//    already has its child, so the flip repeats a sibling or is inadmissible;
//  - a node's depth changed: depths are checked against the path;
//  - a sign case removed: one sort of sign vectors is then uncovered;
//  - the verdict changed to FEASIBLE: there is no network;
//  - a product term of a kind that is >= 0 given a negative coefficient:
//    the sign rule rejects it;
//  - every coefficient of a product leaf negated: the sum becomes +1.
//  (Adding to one coefficient or dropping one term is not such an
//  operator: a term that is a positive constant on the equality rows'
//  solutions can be dropped or grown and the sum stays negative, a valid
//  proof. Tamper.ProductLeavesAreChecked covers those on fixed terms.)
void tamper_tree(const std::string& name, size_t trials, uint64_t seed, Tally* tally) {
  RequestData r = load_request(name);
  ASSERT_TRUE(r.hidden_bias) << name << ": the operators' lemma needs hidden bias";
  SearchOptions search_only;  // case trees, even where the feature span decides
  search_only.feature_span = false;
  AnswerData a = solve(r, search_only);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible) << name;
  ASSERT_EQ(a.certificate.kind, CertificateData::Kind::kCaseTree) << name;
  ASSERT_TRUE(check_answer(r, a).valid) << name;
  const CaseTreeData& tree = a.certificate.case_tree;
  const auto with_farkas = nodes_where(tree, [](const ProofNodeData& n, size_t) { return !n.farkas.empty(); });
  const auto with_two = nodes_where(tree, [](const ProofNodeData& n, size_t) { return n.farkas.size() >= 2; });
  const auto with_kappa = nodes_where(tree, [](const ProofNodeData& n, size_t) { return !n.kappa.empty(); });
  const auto children = nodes_where(tree, [](const ProofNodeData& n, size_t i) { return i > 0 && n.depth > 0; });
  const auto with_products = nodes_where(tree, [](const ProofNodeData& n, size_t) { return !n.products.empty(); });
  std::mt19937_64 rng(seed);
  auto pick = [&rng](const auto& v) { return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)]; };
  for (size_t trial = 0; trial < trials; ++trial) {
    AnswerData b = a;
    auto& cases = b.certificate.case_tree.cases;
    std::string what;
    const int op = std::uniform_int_distribution<int>(0, 9)(rng);
    if (op == 0 && !with_farkas.empty()) {
      auto [c, i] = pick(with_farkas);
      auto& e = cases[c].nodes[i].farkas[std::uniform_int_distribution<size_t>(0, cases[c].nodes[i].farkas.size() - 1)(rng)];
      const std::string delta = random_delta(rng);
      what = "Farkas value " + e.value + " + " + delta;
      e.value = add_exact(e.value, delta);
    } else if (op == 1 && !with_two.empty()) {
      auto [c, i] = pick(with_two);
      auto& f = cases[c].nodes[i].farkas;
      const size_t k = std::uniform_int_distribution<size_t>(0, f.size() - 1)(rng);
      what = "Farkas entry " + std::to_string(f[k].row) + " dropped";
      f.erase(f.begin() + static_cast<long>(k));
    } else if (op == 2 && !with_kappa.empty()) {
      auto [c, i] = pick(with_kappa);
      auto& e = cases[c].nodes[i].kappa[std::uniform_int_distribution<size_t>(0, cases[c].nodes[i].kappa.size() - 1)(rng)];
      const std::string delta = random_delta(rng);
      what = "kappa value " + e.value + " + " + delta;
      e.value = add_exact(e.value, delta);
    } else if (op == 3 && !children.empty()) {
      auto [c, i] = pick(children);
      auto& nodes = cases[c].nodes;
      size_t end = i + 1;
      while (end < nodes.size() && nodes[end].depth > nodes[i].depth) ++end;
      what = "subtree at node " + std::to_string(i) + " removed";
      nodes.erase(nodes.begin() + static_cast<long>(i), nodes.begin() + static_cast<long>(end));
    } else if (op == 4 && !children.empty()) {
      auto [c, i] = pick(children);
      std::string& act = cases[c].nodes[i].activation;
      const size_t bit = std::uniform_int_distribution<size_t>(0, act.size() - 1)(rng);
      act[bit] = act[bit] == '1' ? '0' : '1';
      what = "activation bit " + std::to_string(bit) + " of node " + std::to_string(i) + " flipped";
    } else if (op == 5) {
      const size_t c = std::uniform_int_distribution<size_t>(0, cases.size() - 1)(rng);
      const size_t i = std::uniform_int_distribution<size_t>(0, cases[c].nodes.size() - 1)(rng);
      auto& depth = cases[c].nodes[i].depth;
      depth = depth == 0 || std::uniform_int_distribution<int>(0, 1)(rng) ? depth + 1 : depth - 1;
      what = "depth of node " + std::to_string(i) + " changed";
    } else if (op == 6) {
      const size_t c = std::uniform_int_distribution<size_t>(0, cases.size() - 1)(rng);
      cases.erase(cases.begin() + static_cast<long>(c));
      what = "sign case " + std::to_string(c) + " removed";
    } else if (op == 7) {
      b.verdict = Verdict::kFeasible;
      what = "verdict changed to FEASIBLE";
    } else if (op == 8 && !with_products.empty()) {
      auto [c, i] = pick(with_products);
      auto& terms = cases[c].nodes[i].products;
      std::vector<size_t> nonneg;
      for (size_t t = 0; t < terms.size(); ++t)
        if (terms[t].kind != ProductKind::kMinor) nonneg.push_back(t);
      if (nonneg.empty()) continue;
      auto& t = terms[pick(nonneg)];
      const std::string delta = random_delta(rng);
      // -(|coefficient| + |delta|) < 0
      t.coefficient = "-" + add_exact(t.coefficient, delta[0] == '-' ? delta.substr(1) : delta);
      what = "product coefficient made negative: " + t.coefficient;
    } else if (op == 9 && !with_products.empty()) {
      auto [c, i] = pick(with_products);
      for (auto& t : cases[c].nodes[i].products)
        t.coefficient = t.coefficient[0] == '-' ? t.coefficient.substr(1) : "-" + t.coefficient;
      what = "product leaf " + std::to_string(i) + " negated";
    } else {
      continue;  // the operator does not apply to this tree
    }
    ++tally->tried;
    const CheckResult c = check_answer(r, b);
    ASSERT_FALSE(c.valid) << name << " seed " << seed << " trial " << trial << ": " << what
                          << " was accepted: " << c.message;
    ++tally->rejected;
  }
}

// INFEASIBLE feature-span certificates (FeatureSpan). The instances have
// hidden and output bias, so x~_i ends in 1 and every operator breaks the
// proof:
//  - lambda_i + delta: lambda . 1 moves by delta, no longer 0;
//  - mu_i + delta, or a mu entry dropped: the identity moves by a nonzero
//    multiple of x~_i (eta is unchanged);
//  - eta_i + delta, or an eta entry dropped: eta . 1 moves, so eta is no
//    longer orthogonal to the ones;
//  - a pattern removed: 2^n entries are required;
//  - the verdict changed to FEASIBLE: there is no network.
void tamper_span(const std::string& name, size_t trials, uint64_t seed, Tally* tally) {
  RequestData r = load_request(name);
  ASSERT_TRUE(r.hidden_bias && r.output_bias) << name << ": the operators' lemma needs both biases";
  AnswerData a = solve(r);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible) << name;
  ASSERT_EQ(a.certificate.kind, CertificateData::Kind::kFeatureSpan) << name;
  ASSERT_FALSE(a.certificate.feature_span.lambda.empty()) << name;
  ASSERT_TRUE(check_answer(r, a).valid) << name;
  std::mt19937_64 rng(seed);
  auto index = [&rng](size_t size) { return std::uniform_int_distribution<size_t>(0, size - 1)(rng); };
  const size_t sets = a.certificate.feature_span.patterns.size();
  for (size_t trial = 0; trial < trials; ++trial) {
    AnswerData b = a;
    FeatureSpanData& fs = b.certificate.feature_span;
    FeatureSpanPatternData& pd = fs.patterns[index(sets)];
    std::vector<FarkasEntryData>* lists[] = {&pd.mu_up, &pd.eta_up, &pd.mu_down, &pd.eta_down};
    const size_t which = index(4);
    std::vector<FarkasEntryData>& list = *lists[which];
    const std::string side = (which == 0 || which == 2 ? "mu" : "eta") + std::string(which < 2 ? " up" : " down");
    std::string what;
    const int op = std::uniform_int_distribution<int>(0, 4)(rng);
    if (op == 0) {
      const size_t i = index(fs.lambda.size());
      const std::string delta = random_delta(rng);
      what = "lambda " + std::to_string(i) + " + " + delta;
      fs.lambda[i] = add_exact(fs.lambda[i], delta);
    } else if (op == 1 && !list.empty()) {
      auto& e = list[index(list.size())];
      const std::string delta = random_delta(rng);
      what = side + " entry " + std::to_string(e.row) + " + " + delta;
      e.value = add_exact(e.value, delta);
    } else if (op == 2 && !list.empty()) {
      const size_t i = index(list.size());
      what = side + " entry " + std::to_string(list[i].row) + " dropped";
      list.erase(list.begin() + static_cast<long>(i));
    } else if (op == 3) {
      const size_t i = index(sets);
      what = "pattern " + std::to_string(i) + " removed";
      fs.patterns.erase(fs.patterns.begin() + static_cast<long>(i));
    } else if (op == 4) {
      b.verdict = Verdict::kFeasible;
      what = "verdict changed to FEASIBLE";
    } else {
      continue;  // an empty list: the operator does not apply
    }
    ++tally->tried;
    const CheckResult c = check_answer(r, b);
    ASSERT_FALSE(c.valid) << name << " seed " << seed << " trial " << trial << ": " << what
                          << " was accepted: " << c.message;
    ++tally->rejected;
  }
}

TEST(TamperRandom, TenThousandMutatedCertificatesNoneAcceptedWrongly) {
  const auto start = std::chrono::steady_clock::now();
  Tally nets, trees;
  tamper_network("shared/planted_n10_d2_m2_k1", 3000, 1, &nets);
  tamper_network("planted_n12_d2_m2_k2_s2", 3000, 2, &nets);
  tamper_network("hat_m2", 2000, 3, &nets);
  tamper_tree("shared/xor_m1", 5000, 4, &trees);
  tamper_tree("hat_m1", 4000, 5, &trees);
  tamper_tree("narrowed_n12_d2_m1_k2_s1", 4000, 6, &trees);
  tamper_tree("pinned_direction_m2_k2", 2000, 7, &trees);
  tamper_tree("narrowed_n12_d2_m1_k1_s2", 3000, 8, &trees);
  tamper_tree("products_random_n5_m2_k2", 1000, 9, &trees);
  tamper_span("products_random_n5_m2_k2", 1500, 10, &trees);
  tamper_span("random_infeasible_n8_m3_k3", 1500, 11, &trees);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tamper: %zu network mutations (%zu rejected, %zu accepted and confirmed to fit by GMP); "
              "%zu case-tree and feature-span mutations (%zu rejected) in %.1f s\n",
              nets.tried, nets.rejected, nets.accepted_and_correct, trees.tried, trees.rejected, seconds);
  EXPECT_GE(nets.tried + trees.tried, 10000u);
  EXPECT_EQ(trees.rejected, trees.tried);
}

}  // namespace
}  // namespace relufit
