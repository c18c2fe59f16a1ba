// The single-output search and the solver pipeline, checked end to end by
// the independent checker: random planted instances, limits, cancellation.
#include "algebra/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "algebra/checker.h"
#include "algebra/number.h"
#include "algebra/solver.h"

namespace relufit {
namespace {

// A random network of width m on n distinct integer inputs, as a request.
RequestData planted(std::mt19937& rng, uint32_t n, uint32_t d, uint32_t m, uint32_t width) {
  std::uniform_int_distribution<int> coord(-6, 6), w(-4, 4), a(-3, 3);
  std::vector<std::vector<int>> xs;
  while (xs.size() < n) {
    std::vector<int> x(d);
    for (auto& v : x) v = coord(rng);
    if (std::find(xs.begin(), xs.end(), x) == xs.end()) xs.push_back(x);
  }
  std::vector<std::vector<int>> W(m, std::vector<int>(d));
  std::vector<int> B(m), A(m);
  for (uint32_t j = 0; j < m; ++j) {
    for (auto& v : W[j]) v = w(rng);
    B[j] = w(rng);
    do A[j] = a(rng); while (A[j] == 0);
  }
  RequestData r;
  r.input_dim = d;
  r.hidden_width = width;
  r.output_dim = 1;
  for (const auto& x : xs) {
    mpq_class y(1, 2);
    for (uint32_t j = 0; j < m; ++j) {
      long pre = B[j];
      for (uint32_t t = 0; t < d; ++t) pre += W[j][t] * x[t];
      if (pre > 0) y += mpq_class(A[j] * pre, 3);
    }
    std::vector<std::string> xs_text;
    for (int v : x) xs_text.push_back(std::to_string(v));
    r.x.push_back(xs_text);
    r.y.push_back({rational_to_string(y)});
  }
  return r;
}

AnswerData solve(const RequestData& r, SolveSettings settings = {}) {
  Problem p;
  EXPECT_TRUE(build_problem(r, {}, &p).ok());
  return solve_problem(p, settings);
}

TEST(Search, SampleOrderIsAPermutation) {
  std::mt19937 rng(3);
  Problem p;
  ASSERT_TRUE(build_problem(planted(rng, 15, 2, 2, 2), {}, &p).ok());
  auto order = choose_sample_order(p);
  std::sort(order.begin(), order.end());
  for (uint32_t i = 0; i < 15; ++i) EXPECT_EQ(order[i], i);
}

TEST(Search, PlantedInstancesAreFeasibleAndChecked) {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 30; ++trial) {
    const uint32_t d = 1 + trial % 2, m = 1 + trial % 3;
    RequestData r = planted(rng, 6 + trial % 7, d, m, m);
    AnswerData a = solve(r);
    ASSERT_EQ(a.verdict, Verdict::kFeasible) << "trial " << trial << " " << a.reason;
    CheckResult c = check_answer(r, a);
    EXPECT_TRUE(c.valid) << "trial " << trial << ": " << c.message;
  }
}

TEST(Search, NarrowedInstancesGetCheckedVerdicts) {
  // Asked one neuron narrower than planted: either verdict may be right,
  // but it must be decided and pass the checker.
  std::mt19937 rng(99);
  int infeasible = 0;
  for (int trial = 0; trial < 20; ++trial) {
    RequestData r = planted(rng, 10, 2, 2, 1);
    AnswerData a = solve(r);
    ASSERT_NE(a.verdict, Verdict::kUnknown) << a.reason;
    infeasible += a.verdict == Verdict::kInfeasible;
    CheckResult c = check_answer(r, a);
    EXPECT_TRUE(c.valid) << "trial " << trial << ": " << c.message;
  }
  EXPECT_GT(infeasible, 5);
}

TEST(Search, WithoutBiasesTheTreeStillChecks) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 10; ++trial) {
    RequestData r = planted(rng, 8, 2, 2, 1 + trial % 2);
    r.hidden_bias = trial % 2 == 0;
    r.output_bias = trial % 3 == 0;
    AnswerData a = solve(r);
    ASSERT_NE(a.verdict, Verdict::kUnknown) << a.reason;
    CheckResult c = check_answer(r, a);
    EXPECT_TRUE(c.valid) << "trial " << trial << ": " << c.message;
  }
}

TEST(Search, LimitsEndInUnknownWithAReason) {
  std::mt19937 rng(11);
  RequestData r = planted(rng, 30, 2, 3, 3);
  SolveSettings settings;
  settings.control.node_limit = 5;
  settings.control.options.primal_heuristic = false;  // it could fit before the limit
  AnswerData a = solve(r, settings);
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_NE(a.reason.find("node limit"), std::string::npos) << a.reason;

  settings = {};
  settings.control.deadline = std::chrono::steady_clock::now();
  a = solve(r, settings);
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_EQ(a.reason, "time limit");

  settings = {};
  settings.control.cancelled = [] { return true; };
  a = solve(r, settings);
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_EQ(a.reason, "cancelled");
  EXPECT_TRUE(check_answer(r, a).valid);
}

TEST(Search, SignCasesAreTheSortedSequencesOfSignVectors) {
  EXPECT_EQ(enumerate_sign_cases(3, 1).size(), 4u);   // m + 1
  // Lemma 1's sign vectors for k = 2: ++ +- -+ -- 0+ 0- (no "+0" or "-0":
  // the closed signs after the lead hold a zero weight).
  EXPECT_EQ(enumerate_sign_cases(2, 2).size(), 21u);  // multisets of 2 from 6 types
  EXPECT_EQ(enumerate_sign_cases(1, 3).size(), 14u);  // 2 (2^3 - 1)
  EXPECT_EQ(enumerate_sign_cases(3, 3).size(), 560u);  // multisets of 3 from 14 types
  auto cases = enumerate_sign_cases(2, 2);
  EXPECT_EQ(cases.front().strings(), (std::vector<std::string>{"++", "++"}));
  EXPECT_EQ(cases.back().strings(), (std::vector<std::string>{"0-", "0-"}));
  for (const auto& sc : cases) {
    for (const auto& t : sc.tau) EXPECT_TRUE(is_lemma1_sign_vector(t));
    for (const auto& [j, o] : sc.blocks) EXPECT_GT(o, sc.lead[j]);
    // Every entry after the lead is a block (a u block with a closed sign).
    size_t after_lead = 0;
    for (uint32_t j = 0; j < sc.tau.size(); ++j) after_lead += 1 - sc.lead[j];  // k = 2
    EXPECT_EQ(sc.blocks.size(), after_lead);
  }
  EXPECT_EQ(lemma1_sign_string("+0"), "++");
  EXPECT_EQ(lemma1_sign_string("0-0"), "0-+");
  EXPECT_EQ(lemma1_sign_string("-"), "-");
}

TEST(Search, TooManySignCasesIsUnknownNotAHang) {
  EXPECT_EQ(count_sign_cases(3, 1), 4u);
  EXPECT_EQ(count_sign_cases(2, 2), 21u);
  EXPECT_EQ(count_sign_cases(3, 3), 560u);
  EXPECT_GT(count_sign_cases(12, 32), kMaxSignCases);
  RequestData r;
  r.input_dim = 2;  // d = 1 would be decided by breakpoints, before any sign case
  r.hidden_width = 4;
  r.output_dim = 20;
  r.x = {{"0", "0"}, {"1", "0"}};
  r.y = {std::vector<std::string>(20, "1"), std::vector<std::string>(20, "2")};
  AnswerData a = solve(r);
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_NE(a.reason.find("sign-case split is too large"), std::string::npos) << a.reason;
}

TEST(Search, SeveralOutputsPlantedAndNarrowed) {
  // Two outputs: planted networks are fitted (rational weights), and asked
  // one neuron narrower get checked verdicts.
  std::mt19937 rng(77);
  std::uniform_int_distribution<int> coord(-6, 6), w(-4, 4), a(-3, 3);
  int feasible = 0;
  for (int trial = 0; trial < 6; ++trial) {
    RequestData r;
    r.input_dim = 2;
    r.hidden_width = trial % 2 == 0 ? 2 : 1;
    r.output_dim = 2;
    const int W[2][3] = {{w(rng), w(rng), w(rng)}, {w(rng), w(rng), w(rng)}};
    const int A[2][2] = {{a(rng), a(rng)}, {a(rng), a(rng)}};
    std::vector<std::pair<int, int>> seen;
    while (r.x.size() < 9) {
      std::pair<int, int> x{coord(rng), coord(rng)};
      if (std::find(seen.begin(), seen.end(), x) != seen.end()) continue;
      seen.push_back(x);
      std::vector<std::string> y;
      for (int o = 0; o < 2; ++o) {
        long v = 1;
        for (int j = 0; j < 2; ++j) {
          long pre = W[j][0] * x.first + W[j][1] * x.second + W[j][2];
          if (pre > 0) v += A[j][o] * pre;
        }
        y.push_back(std::to_string(v));
      }
      r.x.push_back({std::to_string(x.first), std::to_string(x.second)});
      r.y.push_back(y);
    }
    AnswerData ans = solve(r);
    if (r.hidden_width == 2) {
      ASSERT_EQ(ans.verdict, Verdict::kFeasible) << "trial " << trial << ": " << ans.reason;
      ++feasible;
    }
    CheckResult c = check_answer(r, ans);
    EXPECT_TRUE(c.valid) << "trial " << trial << ": " << c.message;
  }
  EXPECT_EQ(feasible, 3);
}

TEST(Search, ConflictingSamplesDecideAnyOutputDim) {
  RequestData r;
  r.input_dim = 1;
  r.hidden_width = 1;
  r.output_dim = 2;
  r.x = {{"0"}, {"0"}};
  r.y = {{"0", "1"}, {"1", "0"}};
  AnswerData a = solve(r);
  EXPECT_EQ(a.verdict, Verdict::kInfeasible);
  EXPECT_EQ(a.certificate.kind, CertificateData::Kind::kConflictingPair);
  EXPECT_TRUE(check_answer(r, a).valid);
}

}  // namespace
}  // namespace relufit
