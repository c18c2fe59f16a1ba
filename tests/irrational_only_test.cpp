// Instances whose EVERY exact fit needs an irrational weight (issue 3).
//
//   tests/golden/irrational_only_m4_k2_sqrt2.json   d = 2, m = 4, k = 2, no biases, 20 samples
//   tests/golden/irrational_only_m4_k2_sqrt11.json  the same shape with output bias, 21 samples
//                                                   (sample 0 is x = 0 with label 0)
//   tests/golden/irrational_only_m3_k2_sqrt2.json   the first data at width 3: INFEASIBLE
//
// Each test below (1) checks in exact rational arithmetic that the data meet
// the hypotheses H1-H5 of the theorem proved in this comment, and computes
// the quadratic the theorem reduces every fit to; (2) solves the instance
// and asserts FEASIBLE, the checker's acceptance, and that every irrational
// weight relufit returns has a quadratic minimal polynomial over the field
// the theorem predicts. The hypotheses are checked, not assumed: change a
// label and the test fails.
//
// ---------------------------------------------------------------------------
// Setting. f(x) = sum_{j=1..4} a_j relu(w_j . x), x in R^2, a_j in R^2, no
// hidden bias, no output bias. Write P_j = a_j w_j^T (a 2x2 matrix of rank
// one when a_j != 0 and w_j != 0; such a neuron is "effective", the others
// contribute nothing). An effective neuron's line {w_j . x = 0} meets the
// unit circle in two antipodal "ray directions". On a closed angular sector
// whose interior meets no ray direction, every w_j . x has one sign, so f is
// linear there: f(x) = M x with M = sum of P_j over the neurons with
// w_j . x >= 0 on the sector. Crossing the ray direction of a single neuron
// j changes M by +-P_j, a rank-one matrix whose kernel is that neuron's line.
//
// Data. Four cones C_1..C_4 of five samples each, s_1 < ... < s_5 by angle
// inside each cone, the cones in counterclockwise order, and
//   H1 (one turn, antipodal) C_3 = -C_1 and C_4 = -C_2 sample by sample, and
//      the ten samples of C_1, C_2 turn counterclockwise by less than pi;
//   H2 (linear labels) y = M_c x for every sample of C_c, M_c rational;
//   H3 (adjacent cones differ in rank 2) det(M_{c+1} - M_c) != 0, c cyclic;
//   H4 det M_c != 0 for c = 1..4;
//   H5 the three linear equations in T in R^{2x2}
//        det(D) + tr(adj(D) T) = 0,  det(M_1) - tr(adj(M_1) T) = 0,
//        det(M_4) - tr(adj(M_4) T) = 0           (D = M_2 - M_1)
//      are independent, so T = T_0 + s E on a rational line, and
//      q(s) = det(T_0 + s E) has degree 2 and a discriminant that is not a
//      rational square.
// (For 2x2 matrices det(N + T) = det N + tr(adj(N) T) + det T.)
//
// Theorem. Under H1-H5 every fit of width <= 4 has four effective neurons and
// a neuron with P_j = T_0 + s E, s a root of q; so P_j, hence a_j or w_j, is
// irrational. No fit has all weights rational. Width <= 3: no fit at all.
//
// Proof. Let m_c be the middle sample s_3 of C_c and W_c the open angular
// window (m_c, m_{c+1}). Each W_c has angle < pi (H1) and holds the samples
// s_4, s_5 of C_c and s_1, s_2 of C_{c+1}; W_1 and W_3 = -W_1 are antipodal,
// as are W_2 and W_4. Two facts, from H2 and H3:
//   (F1) f is linear, f = M x, on a closed sector (angle < pi) whose
//        interior meets no ray direction; if the sector holds two samples of
//        C_c (linearly independent: distinct directions less than pi apart,
//        H1) then M = M_c, and it holds no sample p of C_{c+1} or C_{c-1}:
//        M_c p != M_{c+1} p because M_{c+1} - M_c is invertible (H3);
//   (F2) M_c and M_{c+1} never differ by a matrix of rank <= 1 (H3).
// Step 1: each W_c holds ray directions of at least two distinct lines. If it
// held none, f would be linear on [m_c, m_{c+1}], whose samples include
// s_3, s_4 of C_c and s_1 of C_{c+1} (F1). If all its ray directions lay on
// one line rho, the matrices on the two sides of rho would differ by a sum
// of P_j with parallel w_j, of rank <= 1; then either one side holds s_3,
// s_4 of C_c and the other s_2, s_3 of C_{c+1} (F2), or one side holds two
// samples of one cone and a sample of the other (F1).
// Step 2: the four windows are disjoint and four neurons give at most eight
// ray directions, so there are exactly eight: all four neurons effective,
// their four lines distinct, exactly two directions r_1 < r_2 in each W_c,
// none at a middle sample. (With width <= 3 there are at most six, so no fit
// exists: the width-3 instance is INFEASIBLE.) A line's two directions are
// antipodal, so two neurons A, B have their lines through W_1 and W_3, and
// two neurons C, D through W_2 and W_4.
// Step 3: in W_c, let L = [m_c, r_1], Mid = [r_1, r_2], R = [r_2, m_{c+1}].
// L holds only samples of C_c (if it held s_1 of C_{c+1} it would hold
// s_3..s_5 of C_c too: F1), R only samples of C_{c+1}.
//   (a) If L holds s_3, s_4 and R holds s_2, s_3 of C_{c+1}: M_L = M_c,
//       M_R = M_{c+1}. A sample p of C_c inside Mid, off r_1, would need
//       (M_c +- P_j) p = M_c p with P_j's kernel on r_1: impossible. So s_5
//       of C_c lies in L and likewise s_1 of C_{c+1} lies in R.
//   (b) If L holds only s_3 (r_1 < s_4): s_4, s_5 lie in Mid, so Mid has
//       matrix M_c and, by F1, s_1..s_3 of C_{c+1} lie in R \ Mid, whose
//       matrix is M_{c+1}; these differ by the single P_j across r_2 (F2).
//   (c) If R holds only s_3 of C_{c+1}: the mirror image of (b).
// So both lines of W_c pass between s_5 of C_c and s_1 of C_{c+1} (possibly
// through one of these two samples), every cone lies in one closed sector,
// and f(x) = M_c x there is the sum of P_j over the neurons active on C_c.
// Step 4: the lines of A and B separate C_1 and C_4 from C_2 and C_3; those
// of C and D separate C_1 and C_2 from C_3 and C_4. With U (resp. V) the sum
// of P_j over A, B (resp. C, D) active on C_1, and U' = P_A + P_B - U,
// V' = P_C + P_D - V:  M_1 = U + V, M_2 = U' + V, M_3 = U' + V', M_4 = U + V'.
// Put T = U. Then U' = T + D, V = M_1 - T, V' = M_4 - T. Each of U, V is 0,
// one P_j (the other P then being U', V') or a sum of two (U' or V' = 0).
// Since V + V' = P_C + P_D and each of C, D is in exactly one of them, at
// least one of V, V' is 0 or of rank one (likewise U, U'):
//   U = 0:  T = 0, V = M_1, V' = M_4, so M_1 or M_4 is singular: H4 forbids;
//   U' = 0: T = -D, V = M_2, V' = M_3, so M_2 or M_3 is singular: H4 forbids;
//   U rank one, V or V' = 0: T = M_1 or T = M_4 of rank one: H4 forbids.
// Left: U, U', V, V' all of rank one, i.e. det T = det(T + D) = det(M_1 - T)
// = det(M_4 - T) = 0. With det T = 0 the last three are the linear equations
// of H5, so T = T_0 + s E with q(s) = det T = 0, and s is irrational (H5),
// hence so is T (T_0, E rational, E != 0). T = P_A = a_A w_A^T for the one
// neuron of A, B active on C_1, so a_A or w_A has an irrational entry.  QED
//
// With output bias (the sqrt 11 instance), the sample x = 0 with label 0
// gives c = f(0) = 0 (relu(w . 0) = 0), which reduces it to the case above.
// Both instances have a fit, planted in Q(sqrt 2) and Q(sqrt 11) by solving
// the system above (the sqrt 2 one is the network of
// irrational_pattern_m4_k2.json, with five samples in each of its sectors);
// relufit finds one and the checker verifies it, which the tests assert.
// Review: a second reader checked every step and, independently, enumerated
// all activation patterns of these data exactly (Groebner bases for the
// rank-one conditions): at width 3 none has a fit; at width 4 only the
// pattern of this proof does, with a unique irrational fit up to permuting
// and rescaling neurons.
// ---------------------------------------------------------------------------
#include <gmpxx.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <array>
#include <sstream>

#include "algebra/checker.h"
#include "tests/golden_util.h"

namespace relufit {
namespace {

using Mat = std::array<mpq_class, 4>;  // [0 1; 2 3], row-major

mpq_class det(const Mat& m) { return m[0] * m[3] - m[1] * m[2]; }
Mat sub(const Mat& a, const Mat& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]}; }
Mat add(const Mat& a, const Mat& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]}; }
// Coefficients of tr(adj(N) T) in T's entries (t00, t01, t10, t11).
Mat adj_trace(const Mat& n) { return {n[3], -n[2], -n[1], n[0]}; }
mpq_class dot(const Mat& a, const Mat& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]; }

struct Vec2 {
  mpq_class x, y;
};
mpq_class cross(const Vec2& a, const Vec2& b) { return a.x * b.y - a.y * b.x; }

// The squarefree integer r with disc = r * (rational square), or 1 if disc
// is a square (trial division: these discriminants are small).
mpz_class squarefree_class(const mpq_class& disc) {
  mpz_class v = disc.get_num() * disc.get_den();
  mpz_class r = v < 0 ? -1 : 1;
  if (v < 0) v = -v;
  for (mpz_class p = 2; p * p <= v; ++p) {
    int e = 0;
    while (v % p == 0) {
      v /= p;
      ++e;
    }
    if (e % 2) r *= p;
  }
  return r * v;
}

// Checks H1-H5 on the twenty cone samples starting at `first` and returns
// the squarefree class of q's discriminant (0 after a failed assertion).
mpz_class check_hypotheses(const RequestData& r, size_t first) {
  EXPECT_EQ(r.input_dim, 2u);
  EXPECT_EQ(r.output_dim, 2u);
  EXPECT_FALSE(r.hidden_bias);
  EXPECT_EQ(r.x.size(), first + 20);
  if (r.x.size() != first + 20) return 0;
  std::vector<Vec2> x, y;
  for (size_t i = first; i < r.x.size(); ++i) {
    x.push_back({mpq_class(r.x[i][0]), mpq_class(r.x[i][1])});
    y.push_back({mpq_class(r.y[i][0]), mpq_class(r.y[i][1])});
    x.back().x.canonicalize(), x.back().y.canonicalize(), y.back().x.canonicalize(), y.back().y.canonicalize();
  }
  for (size_t i = 0; i < first; ++i) {  // x = 0 with label 0 pins c = 0
    EXPECT_TRUE(r.output_bias);
    for (int t = 0; t < 2; ++t) {
      EXPECT_EQ(mpq_class(r.x[i][t]), 0);
      EXPECT_EQ(mpq_class(r.y[i][t]), 0);
    }
  }
  // H1: C_3 = -C_1, C_4 = -C_2; the first ten samples turn counterclockwise
  // by less than pi (so the twenty go once around in cone order).
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(x[i + 10].x, -x[i].x) << "sample " << first + i + 10;
    EXPECT_EQ(x[i + 10].y, -x[i].y) << "sample " << first + i + 10;
  }
  for (size_t i = 1; i < 10; ++i) {
    EXPECT_GT(sgn(cross(x[i - 1], x[i])), 0) << "samples out of angular order at " << first + i;
    EXPECT_GT(sgn(cross(x[0], x[i])), 0) << "more than half a turn at " << first + i;
  }
  // H2: one matrix per cone, from its first two samples, fits all five.
  std::array<Mat, 4> M;
  for (size_t c = 0; c < 4; ++c) {
    const Vec2 &p = x[5 * c], &q = x[5 * c + 1], &fp = y[5 * c], &fq = y[5 * c + 1];
    const mpq_class d = cross(p, q);  // M [p q] = [fp fq], M = [fp fq] [p q]^-1
    M[c] = {(fp.x * q.y - fq.x * p.y) / d, (fq.x * p.x - fp.x * q.x) / d,
            (fp.y * q.y - fq.y * p.y) / d, (fq.y * p.x - fp.y * q.x) / d};
    for (size_t i = 5 * c; i < 5 * c + 5; ++i) {
      EXPECT_EQ(M[c][0] * x[i].x + M[c][1] * x[i].y, y[i].x) << "sample " << first + i;
      EXPECT_EQ(M[c][2] * x[i].x + M[c][3] * x[i].y, y[i].y) << "sample " << first + i;
    }
  }
  // The planted fit also needs M_1 + M_3 = M_2 + M_4 (f(x) - f(-x) is linear).
  EXPECT_EQ(add(M[0], M[2]), add(M[1], M[3]));
  // H3, H4.
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_NE(sgn(det(sub(M[(c + 1) % 4], M[c]))), 0) << "H3 fails between cones " << c + 1 << ", " << (c + 1) % 4 + 1;
    EXPECT_NE(sgn(det(M[c])), 0) << "H4 fails at cone " << c + 1;
  }
  // H5: rows (a, rhs) with a . t = rhs.
  const Mat D = sub(M[1], M[0]);
  std::vector<std::pair<Mat, mpq_class>> rows = {
      {adj_trace(D), -det(D)}, {adj_trace(M[0]), det(M[0])}, {adj_trace(M[3]), det(M[3])}};
  // Gauss-Jordan on the 3 x 4 system; a missing pivot means dependence.
  std::array<int, 3> pivot{};
  for (size_t i = 0; i < 3; ++i) {
    int col = -1;
    for (int t = 0; t < 4 && col < 0; ++t)
      for (size_t k = i; k < 3 && col < 0; ++k)
        if (sgn(rows[k].first[t]) != 0) {
          std::swap(rows[i], rows[k]);
          col = t;
        }
    EXPECT_GE(col, 0) << "H5: the three linear equations are dependent";
    if (col < 0) return 0;
    pivot[i] = col;
    const mpq_class inv = 1 / rows[i].first[col];
    for (auto& v : rows[i].first) v *= inv;
    rows[i].second *= inv;
    for (size_t k = 0; k < 3; ++k) {
      if (k == i || sgn(rows[k].first[col]) == 0) continue;
      const mpq_class f = rows[k].first[col];
      for (int t = 0; t < 4; ++t) rows[k].first[t] -= f * rows[i].first[t];
      rows[k].second -= f * rows[i].second;
    }
  }
  int free_col = 0 + 1 + 2 + 3 - pivot[0] - pivot[1] - pivot[2];
  Mat T0{}, E{};
  E[free_col] = 1;
  for (size_t i = 0; i < 3; ++i) {
    T0[pivot[i]] = rows[i].second;
    E[pivot[i]] = -rows[i].first[free_col];
  }
  // q(s) = det(E) s^2 + tr(adj(T0) E) s + det(T0).
  const mpq_class qa = det(E), qb = dot(adj_trace(T0), E), qc = det(T0);
  EXPECT_NE(sgn(qa), 0) << "H5: q has degree < 2";
  const mpq_class disc = qb * qb - 4 * qa * qc;
  EXPECT_GT(sgn(disc), 0) << "q has no real root: no fit of this kind";
  const mpz_class cls = squarefree_class(disc);
  EXPECT_NE(cls, 1) << "H5: q's discriminant " << disc << " is a square: its roots are rational";
  return cls;
}

// Parses "root(c0,c1,...,cd;lo,hi)" into its coefficients (empty if not one).
std::vector<mpz_class> root_coefficients(const std::string& s) {
  if (s.rfind("root(", 0) != 0) return {};
  std::vector<mpz_class> out;
  std::stringstream ss(s.substr(5, s.find(';') - 5));
  std::string part;
  while (std::getline(ss, part, ',')) out.emplace_back(part);
  return out;
}

// Solves `name` and checks the answer: FEASIBLE, accepted by the checker, and
// every irrational weight quadratic over Q(sqrt(cls)).
void expect_irrational_fit(const std::string& name, const mpz_class& cls) {
  RequestData r = load_request(name);
  AnswerData a = solve(r);
  ASSERT_EQ(a.verdict, Verdict::kFeasible) << name << ": " << a.reason;
  CheckResult c = check_answer(r, a);
  ASSERT_TRUE(c.valid) << c.message;
  size_t algebraic = 0;
  auto expect_in_field = [&](const std::string& v) {
    std::vector<mpz_class> p = root_coefficients(v);
    if (p.empty()) return;  // a rational weight
    ++algebraic;
    ASSERT_EQ(p.size(), 3u) << v << ": expected a quadratic minimal polynomial";
    const mpz_class disc = p[1] * p[1] - 4 * p[2] * p[0];
    EXPECT_EQ(squarefree_class(mpq_class(disc)), cls) << v << " is not in Q(sqrt " << cls << ")";
  };
  for (const auto& n : a.network.neurons) {
    for (const auto& v : n.input_weights) expect_in_field(v);
    for (const auto& v : n.output_weights) expect_in_field(v);
  }
  // By the theorem some weight must be irrational; a rational answer would
  // contradict it (and could only be a bug somewhere).
  EXPECT_GT(algebraic, 0u) << name << ": the theorem says no rational fit exists";
}

// The whole claim for one instance: hypotheses, then the solver's answer.
void expect_irrational_only(const std::string& name, bool output_bias, size_t first, long cls) {
  RequestData r = load_request(name);
  EXPECT_EQ(r.output_bias, output_bias);
  ASSERT_EQ(check_hypotheses(r, first), cls);
  expect_irrational_fit(name, mpz_class(cls));
}

TEST(IrrationalOnly, Sqrt2NoBiases) { expect_irrational_only("irrational_only_m4_k2_sqrt2", false, 0, 2); }

TEST(IrrationalOnly, Sqrt11WithOutputBias) {
  expect_irrational_only("irrational_only_m4_k2_sqrt11", true, 1, 11);
}

// The hypotheses really are checked: one changed label breaks H2.
TEST(IrrationalOnly, HypothesisCheckFailsOnChangedLabel) {
  RequestData r = load_request("irrational_only_m4_k2_sqrt2");
  r.y[3][1] = "1000";
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    check_hypotheses(r, 0);
  }
  EXPECT_GT(failures.size(), 0);
}

// Width 3, same data: Step 2 of the proof needs eight ray directions and
// three neurons give six, so there is no fit; relufit must prove it.
TEST(IrrationalOnly, Sqrt2AtWidthThreeIsInfeasible) {
  RequestData r = load_request("irrational_only_m3_k2_sqrt2");
  ASSERT_EQ(r.hidden_width, 3u);
  EXPECT_EQ(check_hypotheses(r, 0), 2);
  AnswerData a = solve(r);
  ASSERT_EQ(a.verdict, Verdict::kInfeasible) << a.reason;
  CheckResult c = check_answer(r, a);
  EXPECT_TRUE(c.valid) << c.message;
}

}  // namespace
}  // namespace relufit
