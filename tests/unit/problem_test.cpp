// Request validation: messages name the field and the sample.
#include "algebra/problem.h"

#include <gtest/gtest.h>

namespace relufit {
namespace {

RequestData small() {
  RequestData r;
  r.input_dim = 2;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.x = {{"0", "1"}, {"1/2", "-3"}};
  r.y = {{"1"}, {"2"}};
  return r;
}

ValidationError check(const RequestData& r, ProblemLimits limits = {}) {
  Problem p;
  return build_problem(r, limits, &p);
}

TEST(Problem, AcceptsAWellFormedRequest) {
  Problem p;
  ASSERT_TRUE(build_problem(small(), {}, &p).ok());
  EXPECT_EQ(p.num_samples(), 2u);
  EXPECT_EQ(p.x[1][0], mpq_class(1, 2));
}

TEST(Problem, NamesFieldAndSample) {
  RequestData r = small();
  r.x[1] = {"1"};
  auto e = check(r);
  EXPECT_EQ(e.code, ValidationError::Code::kInvalidArgument);
  EXPECT_NE(e.message.find("dataset.samples[1].x"), std::string::npos) << e.message;

  r = small();
  r.y[0] = {"1/0"};
  e = check(r);
  EXPECT_NE(e.message.find("dataset.samples[0].y[0]: zero denominator"), std::string::npos) << e.message;

  r = small();
  r.x[1][1] = "two";
  e = check(r);
  EXPECT_NE(e.message.find("dataset.samples[1].x[1]: not a number"), std::string::npos) << e.message;
}

TEST(Problem, RejectsZeroDimensionsAndEmptyData) {
  RequestData r = small();
  r.input_dim = 0;
  EXPECT_NE(check(r).message.find("architecture.input_dim"), std::string::npos);
  r = small();
  r.hidden_width = 0;
  EXPECT_NE(check(r).message.find("architecture.hidden_width"), std::string::npos);
  r = small();
  r.output_dim = 0;
  EXPECT_NE(check(r).message.find("architecture.output_dim"), std::string::npos);
  r = small();
  r.x.clear();
  r.y.clear();
  EXPECT_NE(check(r).message.find("empty dataset"), std::string::npos);
}

TEST(Problem, LimitsAreResourceExhausted) {
  ProblemLimits limits;
  limits.max_samples = 1;
  EXPECT_EQ(check(small(), limits).code, ValidationError::Code::kResourceExhausted);
  limits = {};
  limits.max_digits = 2;
  RequestData r = small();
  r.x[0][0] = "12345";
  auto e = check(r, limits);
  EXPECT_EQ(e.code, ValidationError::Code::kResourceExhausted);
  EXPECT_NE(e.message.find("dataset.samples[0].x[0]"), std::string::npos);
  r.x[0][0] = "1e900";  // three digits of text, 901 of value
  limits.max_digits = 100;
  EXPECT_EQ(check(r, limits).code, ValidationError::Code::kResourceExhausted);
  r.x[0][0] = "1e99999";
  EXPECT_EQ(check(r).code, ValidationError::Code::kInvalidArgument);
  limits = {};
  limits.max_hidden_width = 0;
  EXPECT_EQ(check(small(), limits).code, ValidationError::Code::kResourceExhausted);
}

}  // namespace
}  // namespace relufit
