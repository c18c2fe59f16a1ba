// The exact LP: every answer is a verified point or Farkas vector, and the
// two kinds agree with the construction of the instance.
#include "algebra/lp.h"

#include <gtest/gtest.h>

#include <random>

namespace relufit {
namespace {

LpRow row(std::vector<long> coeffs, RowSense sense, mpq_class rhs) {
  LpRow r;
  for (long c : coeffs) r.coeffs.emplace_back(c);
  r.sense = sense;
  r.rhs = rhs;
  return r;
}

TEST(Lp, SimpleFeasibleAndInfeasible) {
  // x >= 1, -x >= -3: feasible.
  std::vector<LpRow> rows = {row({1}, RowSense::kGreaterEqual, 1), row({-1}, RowSense::kGreaterEqual, -3)};
  LpResult r = solve_lp_feasibility(rows, 1);
  ASSERT_TRUE(r.feasible);
  EXPECT_TRUE(point_satisfies(rows, r.point));
  // x >= 2, -x >= -1: infeasible.
  rows = {row({1}, RowSense::kGreaterEqual, 2), row({-1}, RowSense::kGreaterEqual, -1)};
  r = solve_lp_feasibility(rows, 1);
  ASSERT_FALSE(r.feasible);
  EXPECT_TRUE(farkas_proves_infeasible(rows, 1, r.farkas));
  // x + y = 1, x + y = 2: infeasible through equalities only.
  rows = {row({1, 1}, RowSense::kEqual, 1), row({1, 1}, RowSense::kEqual, 2)};
  r = solve_lp_feasibility(rows, 2);
  ASSERT_FALSE(r.feasible);
  EXPECT_TRUE(farkas_proves_infeasible(rows, 2, r.farkas));
}

TEST(Lp, NoRowsIsFeasible) {
  LpResult r = solve_lp_feasibility({}, 3);
  ASSERT_TRUE(r.feasible);
  EXPECT_EQ(r.point.size(), 3u);
}

TEST(Lp, RejectsWrongCertificates) {
  std::vector<LpRow> rows = {row({1}, RowSense::kGreaterEqual, 2), row({-1}, RowSense::kGreaterEqual, -1)};
  EXPECT_FALSE(farkas_proves_infeasible(rows, 1, {mpq_class(1), mpq_class(2)}));   // combination not zero
  EXPECT_FALSE(farkas_proves_infeasible(rows, 1, {mpq_class(-1), mpq_class(-1)}));  // negative on >=
  EXPECT_TRUE(farkas_proves_infeasible(rows, 1, {mpq_class(1), mpq_class(1)}));
  EXPECT_FALSE(point_satisfies(rows, {mpq_class(3, 2)}));
}

// Property: systems built around a planted point are always reported
// feasible; every answer, feasible or not, verifies exactly.
TEST(Lp, RandomSystemsAreDecidedWithVerifiedAnswers) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> coef(-5, 5), nvars_d(1, 8), nrows_d(1, 40);
  int feasible = 0, infeasible = 0;
  LpCounters counters;
  for (int trial = 0; trial < 400; ++trial) {
    const size_t nv = static_cast<size_t>(nvars_d(rng)), nr = static_cast<size_t>(nrows_d(rng));
    const bool planted = trial % 2 == 0;
    std::vector<mpq_class> x0(nv);
    for (auto& v : x0) v = mpq_class(coef(rng), 1 + std::abs(coef(rng)));
    std::vector<LpRow> rows;
    for (size_t r = 0; r < nr; ++r) {
      LpRow lr;
      mpq_class at = 0;
      for (size_t i = 0; i < nv; ++i) {
        lr.coeffs.emplace_back(coef(rng));
        at += lr.coeffs.back() * x0[i];
      }
      lr.sense = r % 4 == 0 ? RowSense::kEqual : RowSense::kGreaterEqual;
      lr.rhs = planted ? (lr.sense == RowSense::kEqual ? at : at - std::abs(coef(rng)))
                       : mpq_class(coef(rng));
      rows.push_back(std::move(lr));
    }
    LpResult res = solve_lp_feasibility(rows, nv, &counters);
    if (res.feasible) {
      ++feasible;
      ASSERT_TRUE(point_satisfies(rows, res.point)) << "trial " << trial;
    } else {
      ++infeasible;
      ASSERT_FALSE(planted) << "planted system reported infeasible, trial " << trial;
      ASSERT_TRUE(farkas_proves_infeasible(rows, nv, res.farkas)) << "trial " << trial;
    }
  }
  EXPECT_GT(feasible, 200);
  EXPECT_GT(infeasible, 20);
  // Both the rounded double answer and the exact rebuild get used (so both
  // paths are covered by the checks above), and every call is accounted for.
  EXPECT_GT(counters.rounded, 0u);
  EXPECT_GT(counters.guided + counters.exact_fallback, 0u);
  EXPECT_EQ(counters.solved, counters.rounded + counters.guided + counters.exact_fallback);
}

}  // namespace
}  // namespace relufit

namespace relufit {
namespace {

// x >= 1 + 10^-30, -x >= -1: infeasible, but in double precision the rows
// read x >= 1, x <= 1, so the double-precision answer fails its exact check
// and the exact simplex decides.
std::vector<LpRow> misleading_rows() {
  mpq_class tiny(1);
  for (int i = 0; i < 30; ++i) tiny /= 10;
  return {row({1, 0}, RowSense::kGreaterEqual, 1 + tiny), row({-1, 0}, RowSense::kGreaterEqual, -1),
          row({0, 1}, RowSense::kGreaterEqual, 0)};
}

TEST(LpStop, TheExactSimplexStopsWithoutAnAnswer) {
  const auto rows = misleading_rows();
  LpCounters counters;
  LpResult r = solve_lp_feasibility(rows, 2, &counters);
  ASSERT_EQ(counters.exact_fallback, 1u) << "the instance no longer reaches the exact simplex";
  ASSERT_FALSE(r.feasible);
  EXPECT_TRUE(farkas_proves_infeasible(rows, 2, r.farkas));

  // The third outcome: no answer at all (never an unproved infeasible).
  LpStop past;
  past.deadline = std::chrono::steady_clock::now();
  {
    LpStopScope scope(&past);
    try {
      solve_lp_feasibility(rows, 2);
      ADD_FAILURE() << "a past deadline did not stop the exact simplex";
    } catch (const LpStopped& e) {
      EXPECT_STREQ(e.what(), "time limit");
    }
  }
  std::atomic<bool> abort{true};
  LpStop aborted;
  aborted.abort = &abort;
  {
    LpStopScope scope(&aborted);
    EXPECT_THROW(solve_lp_feasibility(rows, 2), LpStopped);
  }
  LpStop cancelled;
  cancelled.cancelled = [] { return true; };
  {
    LpStopScope scope(&cancelled);
    EXPECT_THROW(solve_lp_feasibility(rows, 2), LpStopped);
  }
  // The scope ends with its block: the same LP is decided again.
  r = solve_lp_feasibility(rows, 2);
  EXPECT_FALSE(r.feasible);
  EXPECT_TRUE(farkas_proves_infeasible(rows, 2, r.farkas));
  // A stop that does not fire changes nothing.
  LpStop later;
  later.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  LpStopScope scope(&later);
  r = solve_lp_feasibility(rows, 2);
  EXPECT_FALSE(r.feasible);
  EXPECT_TRUE(farkas_proves_infeasible(rows, 2, r.farkas));
}

}  // namespace
}  // namespace relufit
