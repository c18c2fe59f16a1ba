// Exact empirical risk minimisation, the error budget and the smallest
// width (algebra/erm.h, min_width.h) with their checker (checker_erm.h):
// hand-derived optima asserted AND their certificates checked; tampered
// certificates rejected.
#include "algebra/erm.h"

#include <gtest/gtest.h>

#include "algebra/checker.h"
#include "algebra/checker_erm.h"
#include "algebra/min_width.h"
#include "algebra/number.h"

namespace relufit {
namespace {

RequestData request(uint32_t d, uint32_t m, const std::vector<std::vector<std::string>>& x,
                    const std::vector<std::string>& y) {
  RequestData r;
  r.input_dim = d;
  r.hidden_width = m;
  r.output_dim = 1;
  r.x = x;
  for (const auto& v : y) r.y.push_back({v});
  return r;
}

// XOR on the unit square, both biases.
RequestData xor_request(uint32_t m) {
  return request(2, m, {{"0", "0"}, {"1", "1"}, {"1", "0"}, {"0", "1"}}, {"0", "0", "1", "1"});
}

Problem problem_of(const RequestData& r) {
  Problem p;
  EXPECT_TRUE(build_problem(r, ProblemLimits{}, &p).ok());
  return p;
}

MinimizeAnswerData minimize_checked(const RequestData& r, Loss loss) {
  MinimizeAnswerData a = solve_minimize(problem_of(r), loss, SolveSettings{});
  CheckResult c = check_minimize_answer(r, a);
  EXPECT_TRUE(c.valid) << c.message;
  return a;
}

// XOR, one neuron. f = c + a max(0, l) with l affine is max(c, L) (a = +1,
// L = c + l) or min(c, L) (a = -1). L affine gives L00 + L11 = L01 + L10.
// Linf: error e < 1/2 needs f00, f11 < 1/2 < f01, f10. For max(c, L): c <
// 1/2, so f01 = L01 > 1/2 and f10 = L10 > 1/2, while L00, L11 <= f00, f11
// < 1/2: L00 + L11 < 1 < L01 + L10, impossible; min(c, L) is symmetric.
// So the least Linf error is 1/2 (the constant 1/2 reaches it).
TEST(Erm, XorOneNeuronLinfIsOneHalf) {
  const auto a = minimize_checked(xor_request(1), Loss::kLinf);
  ASSERT_EQ(a.status, MinimizeAnswerData::Status::kOptimal) << a.reason;
  EXPECT_EQ(a.optimal_error, "1/2");
}

// L1: with u = f00, v = f11, p = f01, q = f10 the error is |u| + |v| +
// |1 - p| + |1 - q|. For max(c, L): if p = L01 and q = L10 then p + q =
// L00 + L11 <= u + v and the error is >= u + v + 2 - p - q >= 2; if p = c
// then u, v >= c = p and the error >= u + 1 - p >= 1 (q likewise). min(c,
// L) is symmetric (u = c gives p, q <= u). f = 1 - max(0, 1 - x1 - x2) is
// off by 1 only at (1, 1): the least L1 error is 1.
TEST(Erm, XorOneNeuronL1IsOne) {
  const auto a = minimize_checked(xor_request(1), Loss::kL1);
  ASSERT_EQ(a.status, MinimizeAnswerData::Status::kOptimal) << a.reason;
  EXPECT_EQ(a.optimal_error, "1");
}

TEST(Erm, XorTwoNeuronsFitsExactly) {
  for (Loss loss : {Loss::kLinf, Loss::kL1, Loss::kL2}) {
    const auto a = minimize_checked(xor_request(2), loss);
    ASSERT_EQ(a.status, MinimizeAnswerData::Status::kOptimal) << a.reason;
    EXPECT_EQ(a.optimal_error, "0") << loss_name(loss);
  }
}

// Squared L2: 2/3. Reached by f = min(2/3, (2/3)(x1 + x2)) (residuals
// 0, -1/3, -1/3, 2/3). Lower bound for max(c, L), with u, v, p, q as above:
// if p = L01 and q = L10 then p + q <= u + v and u^2 + v^2 + (1-p)^2 +
// (1-q)^2 >= 1 (its least value under p + q <= u + v, at all four = 1/2);
// if p = c then u, v >= c = p and the error is >= 2 p^2 + (1 - p)^2 >= 2/3
// (least at p = 1/3); q likewise. y -> 1 - y, f -> 1 - f swaps max(c, L)
// and min(c, L) and keeps XOR's labels as a set, so the concave case is the
// same. Hence 2/3.
TEST(Erm, XorOneNeuronL2IsTwoThirds) {
  const auto a = minimize_checked(xor_request(1), Loss::kL2);
  ASSERT_EQ(a.status, MinimizeAnswerData::Status::kOptimal) << a.reason;
  EXPECT_EQ(a.optimal_error, "2/3");
}

// |x| at x = -1, 0, 1 (labels 1, 0, 1) with one neuron and both biases:
// f = c + a max(0, w x + b) is monotone, so f(-1) <= f(0) or f(0) >= f(1)
// (by symmetry take f(-1) <= f(0) = v, f(-1) = u). L-inf: 1 - u <= e and
// v <= e with u <= v give e >= 1/2 (the constant 1/2 reaches it). L1:
// |1 - u| + |v| >= 1 - u + v >= 1, reached by f = max(0, x). Squared L2:
// (1 - u)^2 + v^2 >= 1/2 for u <= v (least at u = v = 1/2), reached by
// f = 1/2 + max(0, x) / 2.
TEST(Erm, AbsoluteValueOneNeuron) {
  const RequestData r = request(1, 1, {{"-1"}, {"0"}, {"1"}}, {"1", "0", "1"});
  for (auto [loss, want] : {std::pair{Loss::kLinf, "1/2"}, std::pair{Loss::kL1, "1"}, std::pair{Loss::kL2, "1/2"}}) {
    const auto a = minimize_checked(r, loss);
    ASSERT_EQ(a.status, MinimizeAnswerData::Status::kOptimal) << a.reason;
    EXPECT_EQ(a.optimal_error, want) << loss_name(loss);
  }
  // Two neurons fit |x| exactly: the optimum is 0 for every loss.
  const RequestData r2 = request(1, 2, {{"-1"}, {"0"}, {"1"}}, {"1", "0", "1"});
  for (Loss loss : {Loss::kLinf, Loss::kL1, Loss::kL2}) EXPECT_EQ(minimize_checked(r2, loss).optimal_error, "0");
}

// Scaling the labels by 3 scales every network's residuals by 3 (scale a and
// c), so the L-inf optimum becomes 3/2 and the squared L2 one 9/2.
TEST(Erm, ScaledLabelsScaleTheOptimum) {
  RequestData r = request(1, 1, {{"-1"}, {"0"}, {"1"}}, {"3", "0", "3"});
  EXPECT_EQ(minimize_checked(r, Loss::kLinf).optimal_error, "3/2");
  EXPECT_EQ(minimize_checked(r, Loss::kL2).optimal_error, "9/2");
}

// Two outputs, XOR and 1 - XOR, one neuron, L1: each output alone needs
// error >= 1 (the XOR argument above; 1 - XOR is XOR with f -> 1 - f), so
// every network has error >= 2; the shared neuron of output 0's optimum with
// a_1 = -a_0, c_1 = 1 - c_0 reaches 2 for both: the optimum is exactly 2.
TEST(Erm, TwoOutputsBoundAndNetwork) {
  RequestData r = xor_request(1);
  r.output_dim = 2;
  for (auto& y : r.y) y.push_back(y[0] == "0" ? "1" : "0");
  const auto a = solve_minimize(problem_of(r), Loss::kL1, SolveSettings{});
  ASSERT_EQ(a.status, MinimizeAnswerData::Status::kOptimal) << a.reason;
  EXPECT_EQ(a.lower_bound, "2");
  EXPECT_EQ(a.optimal_error, "2");
  CheckResult c = check_minimize_answer(r, a);
  EXPECT_TRUE(c.valid) << c.message;
  MinimizeAnswerData wrong = a;
  wrong.lower_bound = "5/2";
  EXPECT_FALSE(check_minimize_answer(r, wrong).valid);
  MinimizeAnswerData missing = a;
  missing.output_proofs.pop_back();
  EXPECT_FALSE(check_minimize_answer(r, missing).valid);
  // L-inf: each output's optimum is 1/2, combined by max.
  const auto b = solve_minimize(problem_of(r), Loss::kLinf, SolveSettings{});
  EXPECT_EQ(b.lower_bound, "1/2");
  EXPECT_TRUE(check_minimize_answer(r, b).valid);
}

TEST(Erm, NodeLimitGivesUnknownWithTheBestNetwork) {
  const RequestData r = xor_request(1);
  SolveSettings s;
  s.control.node_limit = 3;
  const auto a = solve_minimize(problem_of(r), Loss::kL1, s);
  EXPECT_EQ(a.status, MinimizeAnswerData::Status::kUnknown);
  EXPECT_EQ(a.reason, "node limit");
  EXPECT_FALSE(a.best_error.empty());
  CheckResult c = check_minimize_answer(r, a);
  EXPECT_TRUE(c.valid) << c.message;
  MinimizeAnswerData wrong = a;
  wrong.best_error = "0";
  EXPECT_FALSE(check_minimize_answer(r, wrong).valid);
}

TEST(Erm, TamperedOptimumIsRejected) {
  const RequestData r = xor_request(1);
  MinimizeAnswerData a = solve_minimize(problem_of(r), Loss::kLinf, SolveSettings{});
  ASSERT_TRUE(check_minimize_answer(r, a).valid);
  MinimizeAnswerData lower = a;
  lower.optimal_error = "1/3";  // not the network's error
  EXPECT_FALSE(check_minimize_answer(r, lower).valid);
  // A leaf's stated bound changed.
  MinimizeAnswerData bent = a;
  bool changed = false;
  for (auto& c : bent.proof.cases)
    for (auto& nd : c.nodes)
      if (!changed && nd.kind == ProofNodeKind::kErmBound && !nd.farkas.empty()) {
        nd.farkas[0].value = "7";
        changed = true;
      }
  ASSERT_TRUE(changed);
  EXPECT_FALSE(check_minimize_answer(r, bent).valid);
  // A missing branch.
  MinimizeAnswerData cut = a;
  cut.proof.cases[0].nodes.pop_back();
  EXPECT_FALSE(check_minimize_answer(r, cut).valid);
  // The same proof claimed for another loss.
  MinimizeAnswerData other = a;
  other.loss = Loss::kL1;
  EXPECT_FALSE(check_minimize_answer(r, other).valid);
}

TEST(Erm, ErrorBudgetAroundTheOptimum) {
  for (auto [loss, below, at] : {std::tuple{Loss::kLinf, "0.49", "1/2"}, std::tuple{Loss::kL1, "99/100", "1"}}) {
    RequestData r = xor_request(1);
    r.loss = loss;
    r.max_error = below;
    SolveSettings s;
    AnswerData no = solve_problem(problem_of(r), s);
    ASSERT_EQ(no.verdict, Verdict::kInfeasible) << no.reason;
    EXPECT_EQ(no.certificate.kind, CertificateData::Kind::kErmTree);
    CheckResult c = check_answer(r, no);
    EXPECT_TRUE(c.valid) << c.message;
    // The proof at the lower budget does not prove the optimum infeasible.
    RequestData r2 = r;
    r2.max_error = at;
    EXPECT_FALSE(check_answer(r2, no).valid);
    AnswerData yes = solve_problem(problem_of(r2), s);
    ASSERT_EQ(yes.verdict, Verdict::kFeasible) << yes.reason;
    c = check_answer(r2, yes);
    EXPECT_TRUE(c.valid) << c.message;
    EXPECT_FALSE(check_answer(r, yes).valid);  // its error is above the lower budget
  }
}

TEST(Erm, ZeroBudgetKeepsTheZeroErrorSearch) {
  RequestData r = xor_request(1);
  r.loss = Loss::kL1;
  r.max_error = "0";
  AnswerData a = solve_problem(problem_of(r), SolveSettings{});
  ASSERT_EQ(a.verdict, Verdict::kInfeasible);
  EXPECT_EQ(a.certificate.kind, CertificateData::Kind::kCaseTree);
  EXPECT_TRUE(check_answer(r, a).valid);
}

TEST(MinWidth, XorNeedsTwo) {
  const RequestData r = xor_request(1);
  MinWidthAnswerData a = find_min_width(problem_of(r), 4, SolveSettings{});
  ASSERT_EQ(a.verdict, Verdict::kFeasible) << a.reason;
  EXPECT_EQ(a.width, 2u);
  EXPECT_EQ(a.below.verdict, Verdict::kInfeasible);
  CheckResult c = check_min_width_answer(r, a);
  EXPECT_TRUE(c.valid) << c.message;
  MinWidthAnswerData wrong = a;
  wrong.width = 3;  // the fit is of width 2
  EXPECT_FALSE(check_min_width_answer(r, wrong).valid);
  MinWidthAnswerData no_proof = a;
  no_proof.below = AnswerData{};
  EXPECT_FALSE(check_min_width_answer(r, no_proof).valid);
}

// Zigzag 0,1,0,1,0 at x = 0..4: the slopes 1, -1, 1, -1 change sign at
// every interior point, p* = 3, so width 2 falls to the breakpoint bound
// (no search) and width 3 = p* needs a fit (knots may sit anywhere inside
// the windows; the solver finds one, the checker evaluates it).
TEST(MinWidth, OneInputStartsAtTheBreakpointBound) {
  const RequestData r = request(1, 1, {{"0"}, {"1"}, {"2"}, {"3"}, {"4"}},
                                {"0", "1", "0", "1", "0"});
  MinWidthAnswerData a = find_min_width(problem_of(r), 8, SolveSettings{});
  ASSERT_EQ(a.verdict, Verdict::kFeasible) << a.reason;
  EXPECT_EQ(a.width, 3u) << a.tried;
  EXPECT_EQ(a.lower_bound, 3u);
  EXPECT_EQ(a.tried, "2:INFEASIBLE 3:FEASIBLE");
  EXPECT_EQ(a.below.certificate.kind, CertificateData::Kind::kBreakpointBound);
  CheckResult c = check_min_width_answer(r, a);
  EXPECT_TRUE(c.valid) << c.message;
}

TEST(MinWidth, ConflictRefutesEveryWidth) {
  const RequestData r = request(1, 1, {{"0"}, {"0"}}, {"0", "1"});
  MinWidthAnswerData a = find_min_width(problem_of(r), 3, SolveSettings{});
  ASSERT_EQ(a.verdict, Verdict::kInfeasible) << a.reason;
  EXPECT_EQ(a.width, 3u);
  EXPECT_TRUE(check_min_width_answer(r, a).valid);
}

}  // namespace
}  // namespace relufit
