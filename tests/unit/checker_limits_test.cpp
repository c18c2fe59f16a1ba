// The checker's bounds (issue 13): cheap size and degree checks before any
// factoring, a step limit on exact algebraic arithmetic, a size budget on
// rationals, and a deadline and cancellation that end a check early. Each
// test is timed: a refusal that comes after the expensive work is a failure.
#include <gtest/gtest.h>

#include <gmpxx.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "algebra/checker.h"
#include "algebra/problem.h"
#include "algebra/solver.h"

namespace relufit {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// root(-c, 0, ..., 0, 1; lo, hi): the real root of t^deg - c in [lo, hi].
std::string binomial_root(int deg, const std::string& c, const std::string& lo,
                          const std::string& hi) {
  std::string t = "root(-" + c;
  for (int i = 1; i < deg; ++i) t += ",0";
  return t + ",1;" + lo + "," + hi + ")";
}

// One sample x = (1, ..., 1) in d dimensions, label 1; one neuron, no biases.
RequestData one_sample(uint32_t d) {
  RequestData r;
  r.input_dim = d;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.hidden_bias = false;
  r.output_bias = false;
  r.x = {std::vector<std::string>(d, "1")};
  r.y = {{"1"}};
  return r;
}

AnswerData network_of(const std::vector<std::string>& w) {
  AnswerData a;
  a.verdict = Verdict::kFeasible;
  NeuronData n;
  n.input_weights = w;
  n.output_weights = {"1"};
  a.network.neurons = {n};
  a.network.activation = {"1"};
  return a;
}

// XOR with one neuron: infeasible, proved by a case tree.
RequestData xor_request() {
  RequestData r;
  r.input_dim = 2;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.x = {{"0", "0"}, {"1", "1"}, {"1", "0"}, {"0", "1"}};
  r.y = {{"0"}, {"0"}, {"1"}, {"1"}};
  return r;
}

AnswerData solved(const RequestData& r) {
  Problem p;
  EXPECT_TRUE(build_problem(r, {}, &p).ok());
  SolveSettings settings;
  settings.control.deadline = Clock::now() + std::chrono::seconds(60);
  return solve_problem(p, settings);
}

TEST(CheckerLimits, IssueExampleDegree64IsRefusedBeforeFactoring) {
  // Issue 13: roots of t^64 - 2 and t^64 - 3 kept a core busy for 146 s.
  const auto start = Clock::now();
  CheckResult c = check_answer(one_sample(2), network_of({binomial_root(64, "2", "1", "2"),
                                                          binomial_root(64, "3", "1", "2")}));
  EXPECT_LT(seconds_since(start), 0.1);
  EXPECT_FALSE(c.valid);
  EXPECT_FALSE(c.stopped);
  EXPECT_NE(c.message.find("neuron 0 input weight: algebraic number of degree 64"), std::string::npos)
      << c.message;
}

TEST(CheckerLimits, ManyHighDegreeWeightsAreRefusedFast) {
  // The 39 KB response that crashed the server: many degree-64 weights.
  std::vector<std::string> w;
  for (int i = 0; i < 64; ++i) w.push_back(binomial_root(64, std::to_string(i + 2), "0", "2"));
  const auto start = Clock::now();
  CheckResult c = check_answer(one_sample(64), network_of(w));
  EXPECT_LT(seconds_since(start), 0.1);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("degree at most 16"), std::string::npos) << c.message;
}

TEST(CheckerLimits, HugeCoefficientIsRefusedBeforeFactoring) {
  const std::string huge(5000, '7');
  const auto start = Clock::now();
  CheckResult c = check_answer(one_sample(1), network_of({binomial_root(2, huge, "1", "2")}));
  EXPECT_LT(seconds_since(start), 0.1);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("more than 300 digits"), std::string::npos) << c.message;
}

TEST(CheckerLimits, StepLimitRefusesArithmeticInAHugeField) {
  // Degree 16 each (allowed), but adding two of them means factoring a
  // resultant of degree 256: refused by the step limit, not attempted.
  const auto start = Clock::now();
  CheckResult c = check_answer(one_sample(2), network_of({binomial_root(16, "2", "1", "2"),
                                                          binomial_root(16, "3", "1", "2")}));
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("too complex to check"), std::string::npos) << c.message;
}

TEST(CheckerLimits, WorstCaseSingleWeightWithinLimitsIsQuick) {
  // Degree 16 with 300-digit coefficients: the most a weight may be; the
  // polynomial's factoring and root isolation must stay fast.
  std::string t = "root(-" + std::string(300, '9');
  for (int i = 1; i < 16; ++i) t += "," + std::string(299, '3');
  t += ",1;1,10)";  // holds the one positive root, near 3
  const auto start = Clock::now();
  CheckResult c = check_answer(one_sample(1), network_of({t}));
  EXPECT_LT(seconds_since(start), 5.0);
  EXPECT_FALSE(c.valid);
  // Rebuilt (factored, roots isolated) and evaluated: the value is not 1.
  EXPECT_NE(c.message.find("differs from the label"), std::string::npos) << c.message;
}

TEST(CheckerLimits, LongNumberTextIsRefusedWithItsLength) {
  RequestData r = xor_request();
  AnswerData a = solved(r);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible);
  bool changed = false;
  for (auto& sc : a.certificate.case_tree.cases)
    for (auto& n : sc.nodes)
      if (!changed && !n.farkas.empty()) {
        n.farkas[0].value = std::string(2000000, '1');
        changed = true;
      }
  ASSERT_TRUE(changed);
  CheckResult c = check_answer(r, a);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("2000000 characters"), std::string::npos) << c.message.substr(0, 300);
  EXPECT_LT(c.message.size(), 400u);  // the number itself is not echoed
}

TEST(CheckerLimits, RationalSizeBudgetIsEnforced) {
  RequestData r = xor_request();
  AnswerData a = solved(r);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible);
  EXPECT_TRUE(check_answer(r, a).valid);
  CheckControl tight;
  tight.limits.max_rational_bits = 2;
  CheckResult c = check_answer(r, a, tight);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("grows past the checker's limit of 2 bits"), std::string::npos) << c.message;
}

TEST(CheckerLimits, PassedDeadlineStopsTheCheck) {
  RequestData r = xor_request();
  AnswerData a = solved(r);
  CheckControl control;
  control.deadline = Clock::now() - std::chrono::seconds(1);
  // The budget looks at the clock every 8 steps or before costly steps:
  // a small tree may finish first, so use a network of many samples too.
  CheckResult c = check_answer(r, a, control);
  if (!c.stopped) {
    EXPECT_TRUE(c.valid);  // finished within its first 8 steps
  }
  RequestData big;
  big.input_dim = 1;
  big.hidden_width = 1;
  big.output_dim = 1;
  for (int i = 0; i < 1000; ++i) {
    big.x.push_back({std::to_string(i)});
    big.y.push_back({std::to_string(2 * i)});
  }
  AnswerData fit;
  fit.verdict = Verdict::kFeasible;
  fit.network.neurons = {NeuronData{{"1"}, "0", {"2"}}};
  fit.network.output_bias = {"0"};
  ASSERT_TRUE(check_answer(big, fit).valid);
  c = check_answer(big, fit, control);
  EXPECT_TRUE(c.stopped);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("deadline"), std::string::npos) << c.message;
}

TEST(CheckerLimits, HugeFarkasNumbersHonourTheDeadline) {
  // Every Farkas value written as p 10^400000 / q 10^400000: the same
  // numbers, each text 800 kB, each read and reduced in milliseconds.
  RequestData r = xor_request();
  AnswerData a = solved(r);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible);
  const std::string zeros(400000, '0');
  size_t entries = 0;
  for (auto& sc : a.certificate.case_tree.cases)
    for (auto& n : sc.nodes)
      for (auto& e : n.farkas) {
        const size_t slash = e.value.find('/');
        e.value = slash == std::string::npos
                      ? e.value + zeros + "/1" + zeros
                      : e.value.substr(0, slash) + zeros + "/" + e.value.substr(slash + 1) + zeros;
        ++entries;
      }
  auto start = Clock::now();
  CheckResult full = check_answer(r, a);
  const double full_seconds = seconds_since(start);
  EXPECT_TRUE(full.valid) << full.message.substr(0, 200);
  CheckControl control;
  control.deadline = Clock::now() + std::chrono::milliseconds(100);
  start = Clock::now();
  CheckResult c = check_answer(r, a, control);
  const double took = seconds_since(start);
  std::printf("%zu Farkas values of 800 kB: full check %.2f s, with a 0.1 s deadline %.2f s\n", entries,
              full_seconds, took);
  if (full_seconds > 0.5) {
    EXPECT_TRUE(c.stopped);
    EXPECT_LT(took, 0.1 + std::max(0.3, full_seconds / entries * 3));
  }
}

TEST(CheckerLimits, CancellationStopsTheCheck) {
  RequestData big;
  big.input_dim = 1;
  big.hidden_width = 1;
  big.output_dim = 1;
  for (int i = 0; i < 1000; ++i) {
    big.x.push_back({std::to_string(i)});
    big.y.push_back({std::to_string(2 * i)});
  }
  AnswerData fit;
  fit.verdict = Verdict::kFeasible;
  fit.network.neurons = {NeuronData{{"1"}, "0", {"2"}}};
  fit.network.output_bias = {"0"};
  CheckControl control;
  int polls = 0;
  bool cancel = false;
  control.cancelled = [&polls, &cancel] {
    ++polls;
    return cancel;
  };
  // The checker asks the callback at most every 10 ms (in the server it
  // takes a gRPC lock), and at once when it starts.
  const auto start = std::chrono::steady_clock::now();
  CheckResult c = check_answer(big, fit, control);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(c.valid) << c.message;
  EXPECT_GE(polls, 1);
  EXPECT_LE(polls, 1 + static_cast<int>(ms / 10) + 1);
  // A callback that says "cancelled" stops the check at its first ask.
  cancel = true;
  c = check_answer(big, fit, control);
  EXPECT_TRUE(c.stopped);
  EXPECT_FALSE(c.valid);
  EXPECT_NE(c.message.find("cancelled"), std::string::npos) << c.message;
}

// A network whose exact evaluation takes many seconds although every step
// is within the limits: 6 neurons with 64 inputs each, the weights alpha,
// alpha + 1, alpha + 2, alpha + 3 for a root alpha of t^8 - (2^800 + 1),
// all in one field of degree 8 (each step factors a resultant of degree 64).
AnswerData slow_network(RequestData* r) {
  const int d = 64, m = 6, deg = 8;
  *r = one_sample(d);
  r->hidden_width = m;
  for (int t = 0; t < d; ++t) r->x[0][t] = std::to_string(t + 1);
  // Binomial coefficients of (t - k)^8 for k = 0..3, minus c.
  mpz_class c = (mpz_class(1) << 800) + 1;
  const long binom[9] = {1, 8, 28, 56, 70, 56, 28, 8, 1};
  // alpha ~ 2^100, so alpha + k lies in [2^100 + k - 1, 2^100 + k + 1].
  const mpz_class center = mpz_class(1) << 100;
  std::vector<std::string> texts;
  for (int k = 0; k < 4; ++k) {
    std::string t = "root(";
    for (int i = 0; i <= deg; ++i) {
      mpz_class coef = binom[i];
      mpz_class power;
      mpz_pow_ui(power.get_mpz_t(), mpz_class(-k).get_mpz_t(), static_cast<unsigned long>(deg - i));
      coef *= power;
      if (i == 0) coef -= c;
      t += (i ? "," : "") + coef.get_str();
    }
    t += ";" + mpz_class(center + k - 1).get_str() + "," + mpz_class(center + k + 1).get_str() + ")";
    texts.push_back(t);
  }
  AnswerData a;
  a.verdict = Verdict::kFeasible;
  for (int j = 0; j < m; ++j) {
    NeuronData n;
    for (int t = 0; t < d; ++t) n.input_weights.push_back(texts[t % 4]);
    n.output_weights = {"1"};
    a.network.neurons.push_back(n);
  }
  a.network.activation = {std::string(m, '1')};
  return a;
}

TEST(CheckerLimits, SlowAlgebraicCheckHonoursItsDeadline) {
  RequestData r;
  AnswerData a = slow_network(&r);
  CheckControl control;
  control.deadline = Clock::now() + std::chrono::milliseconds(500);
  const auto start = Clock::now();
  CheckResult c = check_answer(r, a, control);
  const double took = seconds_since(start);
  EXPECT_TRUE(c.stopped) << c.message;  // the whole check takes ~18 s
  EXPECT_FALSE(c.valid);
  EXPECT_LT(took, 1.5) << "one step overran the deadline by " << took - 0.5 << " s";
}

}  // namespace
}  // namespace relufit
