// The float guide only orders the search; these tests pin down what it
// reports, so that a broken guide shows here and not as a slow search.
#include "algebra/float_guide.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace relufit {
namespace {

// f(x) = (1, 2) relu(x) + (-1, 1) relu(x - 1) on x = 0..4, no output bias:
// the first slope and the slope change at x = 1 fix the two sign vectors.
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

TEST(FloatGuide, ReportsTheSignVectorsOfAFit) {
  std::vector<std::string> signs =
      float_fit_signs(two_hinges(), std::chrono::steady_clock::now() + std::chrono::seconds(5));
  std::sort(signs.begin(), signs.end());
  EXPECT_EQ(signs, (std::vector<std::string>{"++", "-+"}));
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
