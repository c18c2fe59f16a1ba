// Differential test of the two number parsers (issue 13): the solver's
// (number.h, GMP) and the checker's own (checker.cpp, FLINT) must accept the
// same texts and read the same values. The checker's parser is private, so
// it is reached through check_answer: one sample x = 0 with label TEXT, and
// a network of zero weights whose output bias is the solver's reading of
// TEXT as "p/q". The checker accepts exactly when it reads TEXT as the same
// number; it refuses the request when it cannot read TEXT at all.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "algebra/checker.h"
#include "algebra/number.h"

namespace relufit {
namespace {

// "accept VALUE" or "reject" from the checker's side.
std::string checker_reading(const std::string& text, const std::string& solver_value) {
  RequestData r;
  r.input_dim = 1;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.x = {{"0"}};
  r.y = {{text}};
  AnswerData a;
  a.verdict = Verdict::kFeasible;
  a.network.neurons = {NeuronData{{"0"}, "0", {"0"}}};
  a.network.output_bias = {solver_value.empty() ? "0" : solver_value};
  a.network.activation = {"0"};
  const CheckResult c = check_answer(r, a);
  if (c.valid) return "accept";
  if (c.message.find("request sample 0: bad number") != std::string::npos) return "reject";
  return "differ: " + c.message;
}

void expect_same(const std::string& text) {
  std::string error;
  auto v = parse_exact_number(text, &error);
  const std::string solver = v ? rational_to_string(*v) : "";
  const std::string checker = checker_reading(text, solver);
  if (v)
    EXPECT_EQ(checker, "accept") << "\"" << text << "\": the solver reads " << solver;
  else
    EXPECT_EQ(checker, "reject") << "\"" << text << "\": the solver refuses it (" << error << ")";
}

TEST(ParserDifferential, EdgeCases) {
  for (const char* t :
       {"0", "-0", "+0", "1", "-1", "+1", "007", "1/2", "-3/6", "+4/8", "0/5", "1/0", "0/0", "1/-2",
        "-1/-2", "1//2", "/2", "2/", "1.5", "-0.125", ".5", "5.", ".", "-.5", "+.5", "1.2.3", "1e5",
        "1E5", "1e+5", "1e-5", "1.5e-3", "-2.5E1", "1e", "e5", "1e5.5", "1e999999", "1e1000000",
        "1e10000", "1e10001", "1e-10000", "1e-10001", "1.e3", ".e3", "1/2e3", "1.5/2", "--1", "+-1",
        "-+1", "", " 1", "1 ", "0x10", "1,5", "١", "1\t", "inf", "nan", "NaN", "-", "+", "/",
        "0000000000000000000000000000000000001/0000000000003", "123456789012345678901234567890"})
    expect_same(t);
}

TEST(ParserDifferential, TwentyThousandRandomTexts) {
  std::mt19937_64 rng(13);
  const std::string alphabet = "0123456789-+./eE";
  const std::string digits = "0123456789";
  auto pick = [&](const std::string& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  for (int trial = 0; trial < 20000; ++trial) {
    std::string t;
    const int len = std::uniform_int_distribution<int>(0, 12)(rng);
    // Half the texts are built from number-like pieces, half are noise.
    if (trial % 2 == 0) {
      if (rng() % 3 == 0) t += pick("-+");
      for (int i = 0; i < len % 6; ++i) t += pick(digits);
      switch (rng() % 4) {
        case 0: t += "/"; for (int i = 0; i < len % 4; ++i) t += pick(digits); break;
        case 1: t += "."; for (int i = 0; i < len % 5; ++i) t += pick(digits); break;
        default: break;
      }
      if (rng() % 3 == 0) {
        t += pick("eE");
        if (rng() % 2) t += pick("-+");
        for (int i = 0; i < len % 8; ++i) t += pick(digits);
      }
    } else {
      for (int i = 0; i < len; ++i) t += pick(alphabet);
    }
    expect_same(t);
    if (HasFailure()) {
      ADD_FAILURE() << "stopped at trial " << trial;
      return;
    }
  }
}

}  // namespace
}  // namespace relufit
