// Labels spanning as many dimensions as the network can (algebra/feature_span.h):
// the decision agrees with the search wherever the search decides, planted
// data gets a checked fit, and the checker rejects tampered certificates.
#include "algebra/feature_span.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>

#include "algebra/checker.h"
#include "algebra/number.h"
#include "algebra/solver.h"

namespace relufit {
namespace {

// Random data of the issue-11 class: n distinct integer points in
// [-5, 5]^d, integer labels in [-4, 4]^k drawn independently.
RequestData random_data(std::mt19937& rng, uint32_t n, uint32_t d, uint32_t m, uint32_t k,
                        bool hidden_bias = true, bool output_bias = true) {
  std::uniform_int_distribution<int> coord(-5, 5), label(-4, 4);
  RequestData r;
  r.input_dim = d;
  r.hidden_width = m;
  r.output_dim = k;
  r.hidden_bias = hidden_bias;
  r.output_bias = output_bias;
  std::vector<std::vector<int>> xs;
  while (xs.size() < n) {
    std::vector<int> x(d);
    for (auto& v : x) v = coord(rng);
    if (std::find(xs.begin(), xs.end(), x) == xs.end()) xs.push_back(x);
  }
  for (const auto& x : xs) {
    std::vector<std::string> xt, yt;
    for (int v : x) xt.push_back(std::to_string(v));
    for (uint32_t o = 0; o < k; ++o) yt.push_back(std::to_string(label(rng)));
    r.x.push_back(xt);
    r.y.push_back(yt);
  }
  return r;
}

// Labels of a random integer network of width m (so a fit exists).
RequestData planted(std::mt19937& rng, uint32_t n, uint32_t d, uint32_t m, uint32_t k) {
  RequestData r = random_data(rng, n, d, m, k);
  std::uniform_int_distribution<int> wd(-4, 4), ad(-3, 3);
  std::vector<std::vector<int>> w(m, std::vector<int>(d + 1)), a(m, std::vector<int>(k));
  std::vector<int> c(k);
  for (auto& row : w)
    for (auto& v : row) v = wd(rng);
  for (auto& row : a)
    for (auto& v : row) v = ad(rng);
  for (auto& v : c) v = ad(rng);
  for (size_t i = 0; i < r.x.size(); ++i)
    for (uint32_t o = 0; o < k; ++o) {
      long y = c[o];
      for (uint32_t j = 0; j < m; ++j) {
        long pre = w[j][d];
        for (uint32_t t = 0; t < d; ++t) pre += w[j][t] * std::stol(r.x[i][t]);
        if (pre > 0) y += a[j][o] * pre;
      }
      r.y[i][o] = std::to_string(y);
    }
  return r;
}

Problem problem_of(const RequestData& r) {
  Problem p;
  auto e = build_problem(r, {}, &p);
  EXPECT_TRUE(e.ok()) << e.message;
  return p;
}

AnswerData solve(const RequestData& r, bool feature_span, double seconds = 30) {
  SolveSettings settings;
  settings.control.options.feature_span = feature_span;
  settings.control.deadline = std::chrono::steady_clock::now() +
                              std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  return solve_problem(problem_of(r), settings);
}

bool decided_by_span(const AnswerData& a) {
  return a.stats.nodes == 0 && (a.verdict == Verdict::kFeasible ||
                                a.certificate.kind == CertificateData::Kind::kFeatureSpan);
}

// Where the labels' rank is m' the span decides every instance, and where
// the search (the span method off) decides too, the verdicts agree; every
// answer of both is accepted by the checker.
TEST(FeatureSpan, AgreesWithTheSearch) {
  std::mt19937 rng(11);
  struct Shape {
    uint32_t n, d, m, k;
    bool hb, ob;
  };
  const std::vector<Shape> shapes = {
      {5, 2, 2, 2, true, true},  {6, 2, 2, 2, true, true}, {7, 2, 2, 2, true, true},
      {5, 2, 1, 2, true, true},  {6, 3, 2, 2, true, true}, {6, 2, 2, 2, false, true},
      {6, 2, 2, 2, true, false}, {5, 2, 3, 3, true, true}, {6, 2, 2, 3, true, false},
  };
  int span_decided = 0, compared = 0, feasible = 0, infeasible = 0;
  for (int trial = 0; trial < 36; ++trial) {
    const Shape& s = shapes[trial % shapes.size()];
    RequestData r = random_data(rng, s.n, s.d, s.m, s.k, s.hb, s.ob);
    const std::string what = "trial " + std::to_string(trial);
    AnswerData a = solve(r, true);
    CheckResult ca = check_answer(r, a);
    ASSERT_TRUE(ca.valid) << what << ": " << ca.message;
    FeatureSpanDecision fs = decide_by_feature_span(problem_of(r), {});
    if (fs.rank < s.m + (s.ob ? 1 : 0)) continue;  // the bilinear case: not this method's
    ASSERT_TRUE(decided_by_span(a)) << what << ": " << verdict_name(a.verdict) << " " << a.reason;
    ++span_decided;
    (a.verdict == Verdict::kFeasible ? feasible : infeasible)++;
    // The search may need long on width 3 with three outputs: UNKNOWN there is skipped.
    AnswerData b = solve(r, false, s.m == 3 ? 2 : 10);
    CheckResult cb = check_answer(r, b);
    ASSERT_TRUE(cb.valid) << what << " (search): " << cb.message;
    if (b.verdict == Verdict::kUnknown) continue;
    EXPECT_EQ(a.verdict, b.verdict) << what;
    ++compared;
  }
  EXPECT_GE(span_decided, 30);
  EXPECT_GE(compared, 25);
  // Both verdicts occur, so neither side of the method goes untested.
  EXPECT_GE(feasible, 3);
  EXPECT_GE(infeasible, 3);
}

TEST(FeatureSpan, PlantedNetworksGetRationalFits) {
  std::mt19937 rng(5);
  int decided = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const uint32_t m = 1 + trial % 3, k = m, n = m + 4 + trial % 3;
    RequestData r = planted(rng, n, 2, m, k);
    FeatureSpanDecision fs = decide_by_feature_span(problem_of(r), {});
    if (fs.rank != m + 1) continue;  // a degenerate draw (a neuron never active, ...)
    ASSERT_EQ(fs.kind, FeatureSpanDecision::Kind::kFeasible) << "trial " << trial << " " << fs.why;
    AnswerData a = solve(r, true);
    ASSERT_EQ(a.verdict, Verdict::kFeasible) << "trial " << trial;
    CheckResult c = check_answer(r, a);
    EXPECT_TRUE(c.valid) << "trial " << trial << ": " << c.message;
    ++decided;
  }
  EXPECT_GE(decided, 12);
}

TEST(FeatureSpan, RankAloneAndTheBilinearCase) {
  std::mt19937 rng(3);
  // Width 2, three outputs: rank 4 > 3 for generic labels.
  RequestData wide = random_data(rng, 6, 2, 2, 3);
  AnswerData a = solve(wide, true);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible);
  ASSERT_EQ(a.certificate.kind, CertificateData::Kind::kFeatureSpan);
  EXPECT_TRUE(a.certificate.feature_span.lambda.empty());
  CheckResult c = check_answer(wide, a);
  EXPECT_TRUE(c.valid) << c.message;
  // The same empty certificate for width 3 (rank 4 = m'): rejected.
  RequestData same = wide;
  same.hidden_width = 3;
  c = check_answer(same, a);
  EXPECT_FALSE(c.valid);
  // Width 3, two outputs: rank 3 < 4, the bilinear case, left to the search.
  RequestData narrow = random_data(rng, 6, 2, 3, 2);
  FeatureSpanDecision fs = decide_by_feature_span(problem_of(narrow), {});
  EXPECT_EQ(fs.kind, FeatureSpanDecision::Kind::kUndecided);
  EXPECT_NE(fs.why.find("fewer"), std::string::npos) << fs.why;
  // Any certificate is rejected there.
  c = check_answer(narrow, a);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("rank"), std::string::npos) << c.message;
}

// An INFEASIBLE instance with a full certificate (width 3, three outputs).
AnswerData infeasible_full(RequestData* r) {
  std::mt19937 rng(17);
  for (int tries = 0; tries < 100; ++tries) {
    *r = random_data(rng, 6, 2, 3, 3);
    AnswerData a = solve(*r, true);
    if (a.verdict == Verdict::kInfeasible && !a.certificate.feature_span.lambda.empty()) return a;
  }
  ADD_FAILURE() << "no infeasible instance drawn";
  return {};
}

TEST(FeatureSpan, CheckerRejectsTamperedCertificates) {
  RequestData r;
  const AnswerData a = infeasible_full(&r);
  ASSERT_EQ(a.certificate.kind, CertificateData::Kind::kFeatureSpan);
  const FeatureSpanData& fs = a.certificate.feature_span;
  ASSERT_EQ(fs.patterns.size(), 64u);
  CheckResult ok = check_answer(r, a);
  ASSERT_TRUE(ok.valid) << ok.message;
  auto rejects = [&](const std::string& what, const std::function<void(FeatureSpanData*)>& change) {
    AnswerData b = a;
    change(&b.certificate.feature_span);
    CheckResult c = check_answer(r, b);
    EXPECT_FALSE(c.valid) << what << " was accepted: " << c.message;
  };
  // A pattern whose multipliers are not all empty, and one entry of it.
  size_t busy = 0;
  while (busy < fs.patterns.size() && fs.patterns[busy].mu_up.empty()) ++busy;
  ASSERT_LT(busy, fs.patterns.size());
  size_t with_eta = 0;
  while (with_eta < fs.patterns.size() && fs.patterns[with_eta].eta_down.empty()) ++with_eta;
  ASSERT_LT(with_eta, fs.patterns.size());
  rejects("a changed lambda", [](FeatureSpanData* f) {
    f->lambda[0] = rational_to_string(mpq_class(f->lambda[0]) + 1);
  });
  rejects("lambda all zero", [](FeatureSpanData* f) {
    for (auto& v : f->lambda) v = "0";
  });
  rejects("lambda scaled in one entry", [](FeatureSpanData* f) {
    f->lambda.back() = rational_to_string(mpq_class(f->lambda.back()) * 2 + 1);
  });
  rejects("a dropped pattern", [](FeatureSpanData* f) { f->patterns.pop_back(); });
  rejects("an emptied multiplier list",
          [&](FeatureSpanData* f) { f->patterns[busy].mu_up.clear(); });
  rejects("a changed multiplier", [&](FeatureSpanData* f) {
    auto& e = f->patterns[busy].mu_up[0];
    e.value = rational_to_string(mpq_class(e.value) * 3 / 2);
  });
  rejects("a negated multiplier", [&](FeatureSpanData* f) {
    auto& e = f->patterns[busy].mu_up[0];
    e.value = rational_to_string(-mpq_class(e.value));
  });
  rejects("mu and eta of one side swapped with the other", [&](FeatureSpanData* f) {
    std::swap(f->patterns[busy].mu_up, f->patterns[busy].mu_down);
  });
  rejects("a changed eta (no longer orthogonal to the labels)", [&](FeatureSpanData* f) {
    auto& e = f->patterns[with_eta].eta_down[0];
    e.value = rational_to_string(mpq_class(e.value) + 1);
  });
  rejects("a row out of range",
          [&](FeatureSpanData* f) { f->patterns[busy].mu_up.back().row = 6; });
  rejects("rows not increasing", [&](FeatureSpanData* f) {
    auto& v = f->patterns[busy].mu_up;
    v.push_back(v.front());
  });
  rejects("a bad number", [](FeatureSpanData* f) { f->lambda[1] = "x"; });
  rejects("a lambda too few", [](FeatureSpanData* f) { f->lambda.pop_back(); });
  rejects("the rank-only form", [](FeatureSpanData* f) {
    f->lambda.clear();
    f->patterns.clear();
  });
  // Changed data: the same certificate for another input of a sample that
  // lambda weighs.
  size_t i = 0;
  while (i < fs.lambda.size() && mpq_class(fs.lambda[i]) == 0) ++i;
  ASSERT_LT(i, fs.lambda.size());
  RequestData other = r;
  other.x[i][0] = rational_to_string(mpq_class(other.x[i][0]) + 1);
  EXPECT_FALSE(check_answer(other, a).valid);
}

}  // namespace
}  // namespace relufit
