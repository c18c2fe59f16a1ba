// One-dimensional inputs decided by breakpoints (algebra/breakpoints.h):
// p* on hand-made data, the sparsest interpolant, the constructed fits on
// planted data, the solver's hook, and the checker's verification of the
// breakpoint-bound certificate (tampered certificates are rejected).
#include "algebra/breakpoints.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "algebra/checker.h"
#include "algebra/number.h"
#include "algebra/solver.h"

namespace relufit {
namespace {

// A request with one input, labels given per sample (k = labels[0].size()).
RequestData request_1d(const std::vector<std::string>& xs, const std::vector<std::vector<std::string>>& ys,
                       uint32_t width) {
  RequestData r;
  r.input_dim = 1;
  r.hidden_width = width;
  r.output_dim = static_cast<uint32_t>(ys[0].size());
  for (size_t i = 0; i < xs.size(); ++i) {
    r.x.push_back({xs[i]});
    r.y.push_back(ys[i]);
  }
  return r;
}

// The same with one output and integer data.
RequestData request_1d(const std::vector<int>& xs, const std::vector<int>& ys, uint32_t width) {
  std::vector<std::string> xt;
  std::vector<std::vector<std::string>> yt;
  for (size_t i = 0; i < xs.size(); ++i) {
    xt.push_back(std::to_string(xs[i]));
    yt.push_back({std::to_string(ys[i])});
  }
  return request_1d(xt, yt, width);
}

Problem problem_of(const RequestData& r) {
  Problem p;
  auto e = build_problem(r, {}, &p);
  EXPECT_TRUE(e.ok()) << e.message;
  return p;
}

uint32_t p_star(const RequestData& r, uint32_t o = 0) {
  auto data = sort_data_1d(problem_of(r));
  EXPECT_TRUE(data.has_value());
  return data ? min_breakpoints(*data, o) : 0;
}

AnswerData solve(const RequestData& r, double seconds = 60) {
  SolveSettings settings;
  settings.control.deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  return solve_problem(problem_of(r), settings);
}

// Planted data as bench/run_bench.py draws it, stretched for one input: n
// distinct integer inputs in [-120, 120], hidden weights w in [-5, 5] \ {0},
// biases in [-500, 500] (so that the knots -b/w spread over the inputs),
// output weights in {+-1, +-2, +-3} and output bias in [-5, 5], each halved
// with probability 1/2. Redrawn until every neuron is active on some sample
// and inactive on another and the activation columns differ.
RequestData planted_1d(uint32_t seed, uint32_t n, uint32_t m, uint32_t k, uint32_t width) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> xd(-120, 120), wd(-5, 5), bd(-500, 500), ad(1, 3), cd(-5, 5),
      half(1, 2), coin(0, 1);
  std::vector<int> xs;
  while (xs.size() < n) {
    const int v = xd(rng);
    if (std::find(xs.begin(), xs.end(), v) == xs.end()) xs.push_back(v);
  }
  std::vector<int> w(m), b(m);
  std::vector<std::vector<mpq_class>> a(m, std::vector<mpq_class>(k));
  std::vector<mpq_class> c(k);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    for (uint32_t j = 0; j < m; ++j) {
      do w[j] = wd(rng); while (w[j] == 0);
      b[j] = bd(rng);
      for (auto& v : a[j]) v = mpq_class(ad(rng) * (coin(rng) ? 1 : -1), half(rng));
    }
    for (auto& v : c) v = mpq_class(cd(rng), half(rng));
    for (auto& v : a) for (auto& e : v) e.canonicalize();
    for (auto& v : c) v.canonicalize();
    std::vector<std::vector<bool>> columns;
    bool ok = true;
    for (uint32_t j = 0; j < m && ok; ++j) {
      std::vector<bool> col;
      bool pos = false, neg = false;
      for (int x : xs) {
        const long pre = static_cast<long>(w[j]) * x + b[j];
        col.push_back(pre > 0);
        pos = pos || pre > 0;
        neg = neg || pre < 0;
      }
      ok = pos && neg && std::find(columns.begin(), columns.end(), col) == columns.end();
      columns.push_back(col);
    }
    if (ok) break;
  }
  std::vector<std::string> xt;
  std::vector<std::vector<std::string>> yt;
  for (int x : xs) {
    std::vector<mpq_class> y = c;
    for (uint32_t j = 0; j < m; ++j) {
      const long pre = static_cast<long>(w[j]) * x + b[j];
      if (pre > 0)
        for (uint32_t o = 0; o < k; ++o) y[o] += a[j][o] * pre;
    }
    xt.push_back(std::to_string(x));
    std::vector<std::string> ys;
    for (const auto& v : y) ys.push_back(rational_to_string(v));
    yt.push_back(ys);
  }
  return request_1d(xt, yt, width);
}

TEST(Breakpoints, MinimumOnHandMadeData) {
  // Slopes 0, 1, 2, 3: one convex run of three windows -> 2 knots.
  EXPECT_EQ(p_star(request_1d({0, 1, 2, 3, 4}, {0, 0, 1, 3, 6}, 1)), 2u);
  // Slopes 0, 1, 2: a run of two windows -> 1 knot (between x = 1 and 2).
  EXPECT_EQ(p_star(request_1d({0, 1, 2, 3}, {0, 0, 1, 3}, 1)), 1u);
  // Zigzag, slopes +1 -1 +1 -1 +1: four runs of one window -> 4.
  EXPECT_EQ(p_star(request_1d({0, 1, 2, 3, 4, 5}, {0, 1, 0, 1, 0, 1}, 1)), 4u);
  // Slopes 0, 1, 1, 2: the zero change at x = 2 breaks the run -> 1 + 1.
  EXPECT_EQ(p_star(request_1d({0, 1, 2, 3, 4}, {0, 0, 1, 2, 4}, 1)), 2u);
  // Slopes 0, 1, 2, 1, 0: runs (+, +) and (-, -) -> 1 + 1.
  EXPECT_EQ(p_star(request_1d({0, 1, 2, 3, 4, 5}, {0, 0, 1, 3, 4, 4}, 1)), 2u);
  // Collinear data, and one or two points: no knot.
  EXPECT_EQ(p_star(request_1d({-3, 0, 1, 7}, {-5, 1, 3, 15}, 1)), 0u);
  EXPECT_EQ(p_star(request_1d(std::vector<int>{4}, std::vector<int>{1}, 1)), 0u);
  EXPECT_EQ(p_star(request_1d({4, 5}, {1, 9}, 1)), 0u);
  // Unsorted inputs with a repeated sample (equal labels collapse), rationals.
  EXPECT_EQ(p_star(request_1d({"2", "1/2", "0", "1", "1/2"}, {{"0"}, {"1/2"}, {"0"}, {"1"}, {"1/2"}}, 1)),
            1u);
  // Two outputs are counted separately.
  RequestData two = request_1d({"0", "1", "2", "3"}, {{"0", "0"}, {"1", "1"}, {"0", "2"}, {"1", "3"}}, 1);
  EXPECT_EQ(p_star(two, 0), 2u);
  EXPECT_EQ(p_star(two, 1), 0u);
  // A conflicting pair has no sorted data.
  EXPECT_FALSE(sort_data_1d(problem_of(request_1d({0, 1, 0}, {0, 1, 2}, 1))).has_value());
}

TEST(Breakpoints, SparsestInterpolantHasPStarKnotsAndFitsTheData) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> yd(-4, 4);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int> xs, ys;
    for (int i = 0; i < 12; ++i) {
      xs.push_back(2 * i + (i % 3 == 0));
      ys.push_back(trial % 2 ? yd(rng) : i * i * (trial % 4 == 0 ? 1 : -1) + (yd(rng) == 0));
    }
    auto data = sort_data_1d(problem_of(request_1d(xs, ys, 1)));
    ASSERT_TRUE(data);
    const Interpolant1D g = sparsest_interpolant(*data, 0);
    EXPECT_EQ(g.knots.size(), min_breakpoints(*data, 0));
    for (size_t t = 1; t < g.knots.size(); ++t) EXPECT_LT(g.knots[t - 1].first, g.knots[t].first);
    for (const auto& [t, gamma] : g.knots) EXPECT_NE(sgn(gamma), 0);
    for (size_t i = 0; i < data->x.size(); ++i) {
      mpq_class v = g.alpha + g.beta * data->x[i];
      for (const auto& [t, gamma] : g.knots)
        if (data->x[i] > t) v += gamma * (data->x[i] - t);
      EXPECT_EQ(v, data->y[i][0]) << "trial " << trial << " sample " << i;
    }
  }
}

// Every width around p* on planted data: below p* the bound, from |T| + 1
// on a constructed fit, both verified by the checker through the solver.
void check_widths(const RequestData& base, const char* what) {
  Problem p = problem_of(base);
  auto data = sort_data_1d(p);
  ASSERT_TRUE(data);
  uint32_t need = 0;
  size_t union_size = 0;
  {
    std::vector<mpq_class> ts;
    for (uint32_t o = 0; o < p.output_dim; ++o) {
      need = std::max(need, min_breakpoints(*data, o));
      for (const auto& [t, gamma] : sparsest_interpolant(*data, o).knots) ts.push_back(t);
    }
    std::sort(ts.begin(), ts.end());
    union_size = static_cast<size_t>(std::unique(ts.begin(), ts.end()) - ts.begin());
  }
  for (uint32_t m = std::max<uint32_t>(1, need > 2 ? need - 2 : 1); m <= union_size + 3; ++m) {
    RequestData r = base;
    r.hidden_width = m;
    p.hidden_width = m;
    BreakpointDecision d = decide_by_breakpoints(p, {});
    if (m < need) {
      EXPECT_EQ(d.kind, BreakpointDecision::Kind::kInfeasible) << what << " width " << m;
    } else if (m >= union_size + 1) {
      ASSERT_EQ(d.kind, BreakpointDecision::Kind::kFeasible) << what << " width " << m;
    }
    if (d.kind == BreakpointDecision::Kind::kFeasible) {
      EXPECT_TRUE(fit_1d_is_exact(p, d.fit));
      EXPECT_EQ(d.fit.w.size(), m);
    }
    if (d.kind == BreakpointDecision::Kind::kUndecided) continue;  // the search's job
    AnswerData a = solve(r);
    EXPECT_EQ(a.verdict, d.kind == BreakpointDecision::Kind::kFeasible ? Verdict::kFeasible
                                                                         : Verdict::kInfeasible);
    EXPECT_EQ(a.stats.nodes, 0u) << "decided without the search";
    CheckResult c = check_answer(r, a);
    EXPECT_TRUE(c.valid) << what << " width " << m << ": " << c.message;
  }
}

TEST(Breakpoints, ConstructedFitsOnPlantedDataOneOutput) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    RequestData r = planted_1d(seed, 200, 5, 1, 5);
    check_widths(r, ("k = 1 seed " + std::to_string(seed)).c_str());
  }
}

TEST(Breakpoints, ConstructedFitsOnPlantedDataTwoOutputs) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    RequestData r = planted_1d(100 + seed, 200, 4, 2, 4);
    check_widths(r, ("k = 2 seed " + std::to_string(seed)).c_str());
  }
}

TEST(Breakpoints, WidthEqualToTheKnotCountNeedsFacingNeurons) {
  // |x| at x = -2..2: p* = 1, one knot at 0 with jump gamma = 2, slope
  // beta = -1 on the left; neither facing (beta + 0, beta + 2) cancels the
  // linear part, so width 1 is left to the search (which proves it empty:
  // one neuron gives a monotone function).
  RequestData abs1 = request_1d({-2, -1, 0, 1, 2}, {2, 1, 0, 1, 2}, 1);
  EXPECT_EQ(decide_by_breakpoints(problem_of(abs1), {}).kind, BreakpointDecision::Kind::kUndecided);
  // relu(x) at x = -2..2: beta = 0, one neuron facing right.
  RequestData relu1 = request_1d({-2, -1, 0, 1, 2}, {0, 0, 0, 1, 2}, 1);
  BreakpointDecision d = decide_by_breakpoints(problem_of(relu1), {});
  ASSERT_EQ(d.kind, BreakpointDecision::Kind::kFeasible);
  EXPECT_TRUE(fit_1d_is_exact(problem_of(relu1), d.fit));
  // relu(-x) - relu(x - 2): slopes -1, -1, 0, 0, -1, -1, beta = -1, knots
  // at 0 (gamma 1) and 2 (gamma -1): turning the knot at 0 left gives
  // beta + 1 = 0, so width 2 fits with no neuron for the linear part.
  RequestData two = request_1d({-2, -1, 0, 1, 2, 3, 4}, {2, 1, 0, 0, 0, -1, -2}, 2);
  d = decide_by_breakpoints(problem_of(two), {});
  ASSERT_EQ(d.kind, BreakpointDecision::Kind::kFeasible);
  EXPECT_TRUE(fit_1d_is_exact(problem_of(two), d.fit));
  EXPECT_EQ(d.fit.w[0], -1);
  AnswerData a = solve(two);
  EXPECT_EQ(a.verdict, Verdict::kFeasible);
  EXPECT_TRUE(check_answer(two, a).valid);
  a = solve(abs1);
  EXPECT_EQ(a.verdict, Verdict::kInfeasible);
  EXPECT_TRUE(check_answer(abs1, a).valid);
}

TEST(Breakpoints, WithoutBiasesOnlyTheBoundApplies) {
  RequestData r = request_1d({0, 1, 2, 3, 4, 5}, {0, 1, 0, 1, 0, 1}, 3);
  r.hidden_bias = false;
  BreakpointDecision d = decide_by_breakpoints(problem_of(r), {});
  EXPECT_EQ(d.kind, BreakpointDecision::Kind::kInfeasible);
  EXPECT_EQ(d.min_breakpoints, 4u);
  r.hidden_width = 4;
  EXPECT_EQ(decide_by_breakpoints(problem_of(r), {}).kind, BreakpointDecision::Kind::kUndecided);
  r.hidden_bias = true;
  r.output_bias = false;
  EXPECT_EQ(decide_by_breakpoints(problem_of(r), {}).kind, BreakpointDecision::Kind::kUndecided);
}

TEST(Breakpoints, CheckerRejectsTamperedCertificates) {
  // Zigzag at width 3: p* = 4.
  RequestData r = request_1d({0, 1, 2, 3, 4, 5}, {0, 1, 0, 1, 0, 1}, 3);
  AnswerData a = solve(r);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible);
  ASSERT_EQ(a.certificate.kind, CertificateData::Kind::kBreakpointBound);
  EXPECT_EQ(a.certificate.breakpoint_output, 0u);
  EXPECT_EQ(a.certificate.min_breakpoints, 4u);
  CheckResult c = check_answer(r, a);
  ASSERT_TRUE(c.valid) << c.message;

  AnswerData b = a;
  b.certificate.min_breakpoints = 5;  // wrong p*
  c = check_answer(r, b);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("claims 5"), std::string::npos) << c.message;
  b.certificate.min_breakpoints = 3;  // wrong p*, and not above the width
  EXPECT_FALSE(check_answer(r, b).valid);

  RequestData wide = r;  // p* = 4 <= width 4
  wide.hidden_width = 4;
  c = check_answer(wide, a);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("can make"), std::string::npos) << c.message;

  RequestData plane = r;  // the same numbers as d = 2 data
  plane.input_dim = 2;
  for (auto& x : plane.x) x.push_back("0");
  c = check_answer(plane, a);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("input_dim"), std::string::npos) << c.message;

  // Two outputs: output 0 is the zigzag, output 1 is affine.
  RequestData two = request_1d({"0", "1", "2", "3", "4", "5"},
                               {{"0", "0"}, {"1", "1"}, {"0", "2"}, {"1", "3"}, {"0", "4"}, {"1", "5"}}, 3);
  AnswerData a2 = solve(two);
  ASSERT_EQ(a2.verdict, Verdict::kInfeasible);
  EXPECT_TRUE(check_answer(two, a2).valid);
  b = a2;
  b.certificate.breakpoint_output = 1;  // wrong output: its p* is 0
  EXPECT_FALSE(check_answer(two, b).valid);
  b.certificate.breakpoint_output = 2;  // no such output
  c = check_answer(two, b);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("out of range"), std::string::npos) << c.message;

  // A conflicting pair in the certified output is not a function of x.
  RequestData conflict = r;
  conflict.x.push_back({"2"});
  conflict.y.push_back({"7"});
  EXPECT_FALSE(check_answer(conflict, a).valid);
}

// The checker counts p* with its own code: on random small data it accepts
// exactly the solver's count and rejects the counts next to it.
TEST(Breakpoints, CheckerRecountsLikeTheSolver) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> yd(-2, 2);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int> xs, ys;
    for (int i = 0; i < 9; ++i) {
      xs.push_back(3 * i - (i % 2));
      ys.push_back(yd(rng));
    }
    std::shuffle(xs.begin(), xs.end(), rng);
    RequestData r = request_1d(xs, ys, 1);
    const uint32_t need = p_star(r);
    if (need < 2) continue;
    r.hidden_width = need - 1;
    AnswerData a;
    a.verdict = Verdict::kInfeasible;
    a.certificate.kind = CertificateData::Kind::kBreakpointBound;
    a.certificate.min_breakpoints = need;
    EXPECT_TRUE(check_answer(r, a).valid) << "trial " << trial;
    a.certificate.min_breakpoints = need + 1;
    EXPECT_FALSE(check_answer(r, a).valid) << "trial " << trial;
    a.certificate.min_breakpoints = need - 1;
    EXPECT_FALSE(check_answer(r, a).valid) << "trial " << trial;
    ++checked;
  }
  EXPECT_GT(checked, 200);
}

// The bound against the exact search on its own (no breakpoint hook): on
// small random data the search never fits width p* - 1, and proves it empty.
TEST(Breakpoints, SearchAgreesWithTheBound) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> yd(-2, 2);
  int compared = 0;
  for (int trial = 0; trial < 300 && compared < 40; ++trial) {
    std::vector<int> xs, ys;
    for (int i = 0; i < 8; ++i) {
      xs.push_back(i);
      ys.push_back(yd(rng));
    }
    RequestData r = request_1d(xs, ys, 1);
    const uint32_t need = p_star(r);
    if (need < 2 || need > 4) continue;
    r.hidden_width = need - 1;
    r.hidden_bias = trial % 2 == 0;
    SearchControl control;
    control.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    SolveStats stats;
    SearchOutcome out = search_patterns(problem_of(r), control, &stats);
    EXPECT_EQ(out.verdict, Verdict::kInfeasible) << "trial " << trial << " p* " << need << " " << out.reason;
    ++compared;
  }
  EXPECT_GE(compared, 30);
}

// The measurement asked for in issue 12: planted n = 200, d = 1 data of
// width 5, every width from 1 to 8, through the library (solve_problem and
// the checker). Widths other than p* never reach the search.
TEST(Breakpoints, PlantedN200WidthsOneToEight) {
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    RequestData base = planted_1d(seed, 200, 5, 1, 5);
    const uint32_t need = p_star(base);
    for (uint32_t m = 1; m <= 8; ++m) {
      RequestData r = base;
      r.hidden_width = m;
      const auto start = std::chrono::steady_clock::now();
      AnswerData a = solve(r, 20);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      CheckResult c = check_answer(r, a);
      std::printf("planted n=200 d=1 m=5 seed %u (p* = %u): width %u %s in %.4f s (%llu search nodes)%s\n", seed,
                  need, m, verdict_name(a.verdict), seconds, static_cast<unsigned long long>(a.stats.nodes),
                  c.valid ? "" : " CHECK FAILED");
      EXPECT_TRUE(c.valid) << c.message;
      if (m != need) {
        EXPECT_NE(a.verdict, Verdict::kUnknown) << "width " << m;
        EXPECT_EQ(a.stats.nodes, 0u);
        EXPECT_LT(seconds, 1.0) << "width " << m;
      }
      if (m < need) {
        EXPECT_EQ(a.verdict, Verdict::kInfeasible);
      } else if (m > need) {
        EXPECT_EQ(a.verdict, Verdict::kFeasible);
      }
    }
  }
}

}  // namespace
}  // namespace relufit
