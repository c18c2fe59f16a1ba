// The search as a function of (problem, subtree) and on several threads:
// subtrees decided apart merge into one checked proof, the verdict does not
// depend on the thread count, the primal heuristic's fits are exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "algebra/checker.h"
#include "algebra/float_guide.h"
#include "algebra/number.h"
#include "algebra/primal.h"
#include "algebra/search_subtree.h"
#include "algebra/solver.h"

namespace relufit {
namespace {

// n distinct integer inputs; labels of a random width-m network (planted) or
// random integers (planted = false), k outputs; asked at `width`.
RequestData instance(std::mt19937& rng, uint32_t n, uint32_t d, uint32_t m, uint32_t k,
                     uint32_t width, bool planted) {
  std::uniform_int_distribution<int> coord(-5, 5), w(-4, 4), a(-3, 3), label(-4, 4);
  std::vector<std::vector<int>> xs;
  while (xs.size() < n) {
    std::vector<int> x(d);
    for (auto& v : x) v = coord(rng);
    if (std::find(xs.begin(), xs.end(), x) == xs.end()) xs.push_back(x);
  }
  std::vector<std::vector<int>> W(m, std::vector<int>(d)), A(m, std::vector<int>(k));
  std::vector<int> B(m);
  for (uint32_t j = 0; j < m; ++j) {
    for (auto& v : W[j]) v = w(rng);
    B[j] = w(rng);
    for (auto& v : A[j]) do v = a(rng); while (v == 0);
  }
  RequestData r;
  r.input_dim = d;
  r.hidden_width = width;
  r.output_dim = k;
  for (const auto& x : xs) {
    std::vector<std::string> xt, yt;
    for (int v : x) xt.push_back(std::to_string(v));
    for (uint32_t o = 0; o < k; ++o) {
      long y = 1;
      if (planted) {
        for (uint32_t j = 0; j < m; ++j) {
          long pre = B[j];
          for (uint32_t t = 0; t < d; ++t) pre += W[j][t] * x[t];
          if (pre > 0) y += A[j][o] * pre;
        }
      } else {
        y = label(rng);
      }
      yt.push_back(std::to_string(y));
    }
    r.x.push_back(xt);
    r.y.push_back(yt);
  }
  return r;
}

AnswerData solve_with(const RequestData& r, unsigned threads, bool heuristic = true) {
  Problem p;
  EXPECT_TRUE(build_problem(r, {}, &p).ok());
  SolveSettings settings;
  settings.control.threads = threads;
  settings.control.options.primal_heuristic = heuristic;
  settings.control.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  return solve_problem(p, settings);
}

TEST(SearchParallel, ThreadCountDoesNotChangeTheVerdict) {
  std::mt19937 rng(77);
  int infeasible = 0, feasible = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const uint32_t k = trial % 4 == 3 ? 2 : 1, m = 1 + trial % 3;
    const bool planted = trial % 2 == 0;
    RequestData r = instance(rng, 8 + trial % 5, 2, m, k, planted ? m : std::max(1u, m - 1), planted);
    const AnswerData one = solve_with(r, 1);
    ASSERT_NE(one.verdict, Verdict::kUnknown) << "trial " << trial << ": " << one.reason;
    (one.verdict == Verdict::kInfeasible ? infeasible : feasible)++;
    EXPECT_TRUE(check_answer(r, one).valid) << "trial " << trial;
    for (unsigned threads : {2u, 4u}) {
      const AnswerData many = solve_with(r, threads);
      EXPECT_EQ(many.verdict, one.verdict) << "trial " << trial << ", " << threads << " threads";
      const CheckResult c = check_answer(r, many);
      EXPECT_TRUE(c.valid) << "trial " << trial << ", " << threads << " threads: " << c.message;
    }
  }
  // The suite must exercise both verdicts.
  EXPECT_GT(infeasible, 3);
  EXPECT_GT(feasible, 3);
}

// Decides each sign case's root with a tiny node budget, decides every open
// node separately, splices the parts: the checker must accept the merged
// tree, and reject it with a part left out.
TEST(SearchParallel, SubtreesDecidedApartMergeIntoACheckedProof) {
  std::mt19937 rng(5);
  RequestData r;
  Problem p;
  // Random labels at width 1: find one the full search calls INFEASIBLE.
  for (int tries = 0; tries < 50; ++tries) {
    r = instance(rng, 10, 2, 1, 1, 1, false);
    if (solve_with(r, 1).verdict == Verdict::kInfeasible) break;
  }
  ASSERT_EQ(solve_with(r, 1).verdict, Verdict::kInfeasible);
  ASSERT_TRUE(build_problem(r, {}, &p).ok());
  SearchContext ctx(p, SearchOptions{});
  SearchCounters counters;
  AnswerData answer;
  answer.verdict = Verdict::kInfeasible;
  answer.certificate.kind = CertificateData::Kind::kCaseTree;
  size_t opened = 0;
  for (SignCase& sc : enumerate_sign_cases(p.hidden_width, p.output_dim)) {
    auto spec = std::make_shared<CaseSpec>();
    spec->signs = sc;
    spec->order = choose_sample_order(p);
    SubtreeResult root = decide_subtree(ctx, spec, SubtreeRoot{}, 4, &counters);
    ASSERT_FALSE(root.fit);
    std::unordered_map<uint64_t, std::vector<ProofItem>> parts;
    parts[1000] = root.proof;  // its references are 0, 1, ... (the open nodes)
    for (size_t id = 0; id < root.open.size(); ++id) {
      SubtreeResult part = decide_subtree(ctx, spec, root.open[id], 1u << 30, &counters);
      ASSERT_FALSE(part.fit);
      ASSERT_TRUE(part.open.empty());
      parts[id] = part.proof;
    }
    opened += root.open.size();
    SignCaseData out;
    out.output_signs = sc.strings();
    out.sample_order = spec->order;
    out.nodes = splice_proof(1000, &parts);
    answer.certificate.case_tree.cases.push_back(out);
  }
  EXPECT_GT(opened, 0u);  // the budget really split the trees
  const CheckResult c = check_answer(r, answer);
  EXPECT_TRUE(c.valid) << c.message;

  // Left out: a spliced tree without one of its parts is no proof.
  AnswerData broken = answer;
  for (auto& sc : broken.certificate.case_tree.cases)
    if (sc.nodes.size() > 2) {
      sc.nodes.pop_back();
      break;
    }
  EXPECT_FALSE(check_answer(r, broken).valid);
}

TEST(SearchParallel, FloatPatternsGiveExactCheckedFits) {
  std::mt19937 rng(9);
  int fitted = 0;
  for (int trial = 0; trial < 6; ++trial) {
    RequestData r = instance(rng, 40, 2, 3, 1, 3, true);
    Problem p;
    ASSERT_TRUE(build_problem(r, {}, &p).ok());
    SearchContext ctx(p, SearchOptions{});
    SearchCounters counters;
    auto ffit = float_fit(p, std::chrono::steady_clock::now() + std::chrono::seconds(2), 1);
    if (!ffit) continue;
    std::optional<ExactFit> fit = try_float_pattern(ctx, *ffit, &counters);
    if (!fit) continue;
    ++fitted;
    AnswerData a;
    a.verdict = Verdict::kFeasible;
    for (uint32_t j = 0; j < p.hidden_width; ++j) {
      NeuronData nd;
      for (const auto& v : fit->w[j]) nd.input_weights.push_back(rational_to_string(v));
      nd.bias = rational_to_string(fit->b[j]);
      for (const auto& v : fit->a[j]) nd.output_weights.push_back(rational_to_string(v));
      a.network.neurons.push_back(nd);
    }
    for (const auto& v : fit->c) a.network.output_bias.push_back(rational_to_string(v));
    const CheckResult c = check_answer(r, a);
    EXPECT_TRUE(c.valid) << "trial " << trial << ": " << c.message;
  }
  EXPECT_GE(fitted, 4);
}

TEST(SearchParallel, InvalidOptionsAreUnknownWithTheReason) {
  std::mt19937 rng(1);
  RequestData r = instance(rng, 6, 2, 1, 1, 1, true);
  Problem p;
  ASSERT_TRUE(build_problem(r, {}, &p).ok());
  SolveSettings settings;
  settings.control.options.near_tie = 2;
  AnswerData a = solve_problem(p, settings);
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_NE(a.reason.find("near_tie"), std::string::npos) << a.reason;
}

// An exception inside the search (here from the caller's progress callback)
// ends the solve in UNKNOWN naming it, on one thread or several, and never
// takes the process down.
TEST(SearchParallel, AnExceptionInTheSearchIsUnknownNotACrash) {
  std::mt19937 rng(3);
  RequestData r = instance(rng, 30, 2, 3, 1, 2, true);
  Problem p;
  ASSERT_TRUE(build_problem(r, {}, &p).ok());
  for (unsigned threads : {1u, 2u}) {
    SolveSettings settings;
    settings.control.threads = threads;
    settings.control.options.primal_heuristic = false;
    settings.control.options.progress_seconds = 1e-9;
    settings.control.progress = [](const SolveStats&) { throw std::runtime_error("boom"); };
    AnswerData a = solve_problem(p, settings);
    EXPECT_EQ(a.verdict, Verdict::kUnknown) << threads << " threads";
    EXPECT_NE(a.reason.find("boom"), std::string::npos) << a.reason;
  }
}

}  // namespace
}  // namespace relufit
