// The float guide only orders the search; these tests pin down what it
// reports, so that a broken guide shows here and not as a slow search.
#include "algebra/float_guide.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace relufit {
namespace {

// f(x) = (1, 2) relu(x) + (-1, 1) relu(x - 1) on x = 0..4, no output bias.
Problem two_hinges() {
  Problem p;
  p.input_dim = 1;
  p.hidden_width = 2;
  p.output_dim = 2;
  p.output_bias = false;
  for (int x = 0; x <= 4; ++x) {
    const int h2 = std::max(0, x - 1);
    p.x.push_back({mpq_class(x)});
    p.y.push_back({mpq_class(x - h2), mpq_class(2 * x + h2)});
  }
  return p;
}

// The fit reproduces the labels, and the reported sign vector of every
// neuron that carries weight on the data is the signs of its output weights.
// (Fits are not unique: a neuron barely active at one sample may take any
// signs, so the test checks the report against the fit, not a fixed answer.)
TEST(FloatGuide, ReportsTheSignVectorsOfAFit) {
  const Problem p = two_hinges();
  std::optional<FloatFit> fit = float_fit(p, std::chrono::steady_clock::now() + std::chrono::seconds(5), 1);
  ASSERT_TRUE(fit);
  for (size_t i = 0; i < p.num_samples(); ++i)
    for (size_t o = 0; o < 2; ++o) {
      double f = 0;
      for (size_t j = 0; j < 2; ++j) f += fit->a[j][o] * std::max(0.0, fit->pre[i][j]);
      EXPECT_NEAR(f, p.y[i][o].get_d(), 1e-5) << "sample " << i << " output " << o;
    }
  const std::vector<std::string> signs = float_fit_signs(p, *fit);
  ASSERT_EQ(signs.size(), 2u);
  int carrying = 0;
  for (size_t j = 0; j < 2; ++j) {
    double amax = 0, premax = 0;
    for (size_t o = 0; o < 2; ++o) amax = std::max(amax, std::fabs(fit->a[j][o]));
    for (size_t i = 0; i < p.num_samples(); ++i) premax = std::max(premax, fit->pre[i][j]);
    if (amax * premax < 1e-3) continue;
    ++carrying;
    std::string want;
    for (size_t o = 0; o < 2; ++o)
      want.push_back(std::fabs(fit->a[j][o]) <= 1e-6 * amax ? '0' : fit->a[j][o] > 0 ? '+' : '-');
    EXPECT_EQ(signs[j], want) << "neuron " << j;
  }
  EXPECT_GE(carrying, 1);
  // The same through the deadline form.
  EXPECT_EQ(float_fit_signs(p, std::chrono::steady_clock::now() + std::chrono::seconds(5)).size(), 2u);
}

TEST(FloatGuide, ReportsNothingWithoutAFit) {
  // One neuron: all labels lie on a line through c; (0,0), (1,0), (0,1) do not.
  Problem p;
  p.input_dim = 1;
  p.hidden_width = 1;
  p.output_dim = 2;
  p.x = {{mpq_class(0)}, {mpq_class(1)}, {mpq_class(2)}};
  p.y = {{mpq_class(0), mpq_class(0)}, {mpq_class(1), mpq_class(0)}, {mpq_class(0), mpq_class(1)}};
  EXPECT_TRUE(float_fit_signs(p, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)).empty());
}

TEST(FloatGuide, StopsAtItsDeadline) {
  Problem p = two_hinges();
  p.hidden_width = 1;  // no fit: it must give up when the time is up
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(float_fit_signs(p, start + std::chrono::milliseconds(100)).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace relufit
