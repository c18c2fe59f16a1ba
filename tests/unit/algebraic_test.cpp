// Real algebraic numbers: the solver's Alg type and text form, and the
// checker's rebuilding of algebraic weights, including tampered ones (wrong
// polynomial, an interval with two roots or none, non-minimal polynomials).
#include "algebra/algebraic.h"

#include <gtest/gtest.h>

#include <cmath>

#include "algebra/checker.h"
#include "algebra/number.h"

namespace relufit {
namespace {

TEST(Alg, SqrtTwoHasMinimalPolynomialAndDecimalInterval) {
  auto two = Alg(mpq_class(2));
  auto r = Alg::guess("1.41421356237309504880168872420969807856967187537694807317667973799", 200, 4, 16);
  ASSERT_TRUE(r.has_value());
  // The shortest decimal interval that isolates the root.
  EXPECT_EQ(r->text(), "root(-2,0,1;1,2)");
  EXPECT_EQ((*r * *r - two).sign(), 0);
  EXPECT_EQ(r->decimal(30), "1.41421356237309504880168872421");
  auto back = Alg::from_text(r->text());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ((*back - *r).sign(), 0);
  // Rationals stay p/q.
  EXPECT_EQ(Alg(mpq_class(-3, 4)).text(), "-3/4");
  EXPECT_EQ((*r * *r).text(), "2");
}

TEST(Alg, GuessFindsAQuarticAndRejectsNoise) {
  // 1 + sqrt 2 + sqrt 3 ~ 4.146264369941972342329135065715...: degree 4.
  auto s = Alg::guess("4.14626436994197234232913506571557044551247712918732870123249", 180, 8, 24);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->degree(), 4);
  // A value that is no small algebraic number.
  EXPECT_FALSE(Alg::guess("0.12837461982736419827364198273641982736419872364198237641982736", 180, 4, 8)
                   .has_value());
}

TEST(AlgebraicText, SplitAndJoin) {
  auto parts = split_algebraic_text("root(-2,0,1;141/100,71/50)");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->min_poly, (std::vector<std::string>{"-2", "0", "1"}));
  EXPECT_EQ(parts->lower, "141/100");
  EXPECT_EQ(parts->upper, "71/50");
  EXPECT_EQ(join_algebraic_text(*parts), "root(-2,0,1;141/100,71/50)");
  // A crafted part cannot smuggle separators in.
  parts->min_poly = {"-2,0", "1"};
  EXPECT_EQ(join_algebraic_text(*parts), "root(?)");
  EXPECT_FALSE(split_algebraic_text("3/4").has_value());
  EXPECT_EQ(render_decimal("root(-2,0,1;141/100,71/50)", 5), "1.4142");
}

// f(x) = a max(0, w x) with w = sqrt 2 and a = 1/sqrt 2 (root of 2t^2 - 1):
// f(x) = x for x > 0 and 0 otherwise, which fits the samples below.
RequestData identity_request() {
  RequestData r;
  r.input_dim = 1;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.hidden_bias = false;
  r.output_bias = false;
  r.x = {{"1"}, {"2"}, {"-1"}, {"1/3"}};
  r.y = {{"1"}, {"2"}, {"0"}, {"1/3"}};
  return r;
}

AnswerData network(const std::string& w, const std::string& a) {
  AnswerData ans;
  ans.verdict = Verdict::kFeasible;
  NeuronData n;
  n.input_weights = {w};
  n.output_weights = {a};
  ans.network.neurons = {n};
  return ans;
}

const char* kSqrt2 = "root(-2,0,1;141/100,71/50)";
const char* kInvSqrt2 = "root(-1,0,2;7/10,71/100)";

TEST(CheckerAlgebraic, AcceptsAnExactIrrationalFit) {
  CheckResult res = check_answer(identity_request(), network(kSqrt2, kInvSqrt2));
  EXPECT_TRUE(res.valid) << res.message;
  EXPECT_NE(res.message.find("2 irrational"), std::string::npos) << res.message;
  // Mixed with rationals: w = 2, a = 1/2 is a rational fit; w = 2 sqrt 2,
  // a = 1/(2 sqrt 2) = root of 8t^2 - 1 also fits.
  EXPECT_TRUE(check_answer(identity_request(), network("root(-8,0,1;28/10,29/10)",
                                                       "root(-1,0,8;35/100,36/100)")).valid);
}

TEST(CheckerAlgebraic, RejectsTamperedNumbers) {
  const RequestData req = identity_request();
  struct Case {
    const char* w;
    const char* a;
    const char* why;  // expected in the message
  } cases[] = {
      // Wrong polynomial: sqrt 3 * 1/sqrt 2 != 1.
      {"root(-3,0,1;17/10,18/10)", kInvSqrt2, "differs from the label"},
      // The interval holds both roots of t^2 - 2.
      {"root(-2,0,1;-2,2)", kInvSqrt2, "2 real roots"},
      // The interval holds no root.
      {"root(-2,0,1;1,14/10)", kInvSqrt2, "0 real roots"},
      // The other root: -sqrt 2.
      {"root(-2,0,1;-142/100,-141/100)", kInvSqrt2, "differs from the label"},
      // Not minimal: (t^2 - 2)(t - 5), reducible.
      {"root(10,-2,-5,1;141/100,71/50)", kInvSqrt2, "reducible"},
      // Not primitive.
      {"root(-4,0,2;141/100,71/50)", kInvSqrt2, "common factor"},
      // Negative leading coefficient.
      {"root(2,0,-1;141/100,71/50)", kInvSqrt2, "not positive"},
      // Degree 1 (a rational must be p/q).
      {"root(-2,1;1,3)", "1/2", "degree below 2"},
      // Malformed texts.
      {"root(-2,0,1)", kInvSqrt2, "no ';'"},
      {"root(-2,x,1;1,2)", kInvSqrt2, "not an integer"},
      {"root(-2,0,1;1.4,1.5)", kInvSqrt2, "not rationals"},
      {"root(-2,0,1;2,1)", kInvSqrt2, "empty"},
      {"root(?)", kInvSqrt2, "no ';'"},
  };
  for (const Case& c : cases) {
    CheckResult res = check_answer(req, network(c.w, c.a));
    EXPECT_FALSE(res.valid) << c.w;
    EXPECT_NE(res.message.find(c.why), std::string::npos) << c.w << ": " << res.message;
  }
  // A NUL inside the text (review finding): rejected, not cut short.
  std::string nul = std::string(kSqrt2) + std::string(1, '\0') + "garbage)";
  EXPECT_FALSE(check_answer(req, network(nul, kInvSqrt2)).valid);
}

// Review finding: degree-64 weights in three inputs made the exact sums'
// field degree explode (16 GB, no answer). The checker refuses up front.
TEST(CheckerAlgebraic, RefusesWeightsTooComplexToCheck) {
  RequestData r;
  r.input_dim = 3;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.hidden_bias = false;
  r.output_bias = false;
  r.x = {{"1", "1", "1"}};
  r.y = {{"1"}};
  auto root64 = [](int c) {
    std::string t = "root(" + std::to_string(-c);
    for (int i = 1; i < 64; ++i) t += ",0";
    return t + ",1;1,2)";
  };
  AnswerData ans;
  ans.verdict = Verdict::kFeasible;
  NeuronData n;
  n.input_weights = {root64(2), root64(3), root64(5)};
  n.output_weights = {"1"};
  ans.network.neurons = {n};
  CheckResult res = check_answer(r, ans);
  EXPECT_FALSE(res.valid);
  // Refused by the degree cap (CheckLimits) before any factoring.
  EXPECT_NE(res.message.find("degree at most"), std::string::npos) << res.message;
}

}  // namespace
}  // namespace relufit

namespace relufit {
namespace {

// The algebraic step on one pattern whose only solutions are irrational:
// width 4, two outputs, no biases (data from tests/golden/
// irrational_pattern_m4_k2.json). On this pattern each pair of neurons active
// together on two independent sample directions pins a sum P_j + P_j' of
// rank-one matrices P_j = a_j w_j^T; the three rank-one conditions then put
// P_1 on a line that det P_1 = 0 cuts in two conjugate points
// [[+-sqrt 2, 2], [1, +-sqrt 2]]: no rational solution on this pattern.
TEST(FitAlgebraic, FindsTheIrrationalSolutionOfAPattern) {
  const double s = std::sqrt(2.0);
  PatternSystem ps;
  ps.m = 4;
  ps.k = 2;
  ps.dz = 2;
  ps.output_bias = false;
  const int xs[6][2] = {{4, 3}, {3, 4}, {-1, 2}, {-1, 1}, {1, -2}, {1, -1}};
  const int ys[6][2] = {{-1, 3}, {1, 4}, {6, -3}, {3, -3}, {5, -4}, {2, -3}};
  for (int i = 0; i < 6; ++i) {
    ps.xt.push_back({mpq_class(xs[i][0]), mpq_class(xs[i][1])});
    ps.y.push_back({mpq_class(ys[i][0]), mpq_class(ys[i][1])});
  }
  ps.act = {"0110", "0110", "1100", "1100", "0011", "0011"};
  ps.tau = {{1, -1}, {1, 1}, {-1, -1}, {1, -1}};
  ps.lead = {0, 0, 0, 0};
  ps.blocks = {{0, 1}, {1, 1}, {2, 1}, {3, 1}};
  // A float guide near the fit (a_j with first entry +-1, w_j).
  std::vector<double> r0 = {-s + 1e-7, s / 2, 1 - s - 1e-7, -s / 2};
  std::vector<double> v0 = {-s, 1, s, 2 + 1e-7, 1 + s, 1, s, -2};
  std::string why;
  auto fit = fit_algebraic(ps, r0, v0, &why);
  ASSERT_TRUE(fit.has_value()) << why;
  EXPECT_EQ(fit->a[0][1], "root(-2,0,1;-2,-1)");  // -sqrt 2
  // The checker agrees, with its own arithmetic.
  RequestData req;
  req.input_dim = 2;
  req.hidden_width = 4;
  req.output_dim = 2;
  req.hidden_bias = false;
  req.output_bias = false;
  for (int i = 0; i < 6; ++i) {
    req.x.push_back({std::to_string(xs[i][0]), std::to_string(xs[i][1])});
    req.y.push_back({std::to_string(ys[i][0]), std::to_string(ys[i][1])});
  }
  AnswerData ans;
  ans.verdict = Verdict::kFeasible;
  for (uint32_t j = 0; j < 4; ++j) {
    NeuronData n;
    n.input_weights = fit->z[j];
    n.output_weights = fit->a[j];
    ans.network.neurons.push_back(n);
  }
  CheckResult res = check_answer(req, ans);
  EXPECT_TRUE(res.valid) << res.message;
  EXPECT_EQ(fit->activation, ps.act);
}

}  // namespace
}  // namespace relufit
