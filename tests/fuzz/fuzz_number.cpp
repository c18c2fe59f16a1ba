// libFuzzer: the exact-number parser (number.h) on any text, and its
// renderings; an accepted number must survive a round trip through
// rational_to_string, and the checker's independent parser must agree. Algebraic "root(...)" texts are split and joined only
// (their rendering runs on solver output, not on client input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "algebra/checker.h"
#include "algebra/number.h"

namespace {

// Differential with the checker's own parser (as in
// tests/unit/parser_differential_test.cpp): one sample x = 0 labelled TEXT,
// a zero network whose output bias is the solver's reading. The checker
// must accept exactly when the solver reads TEXT, and read the same value.
void compare_with_checker(const std::string& text, const std::string* solver_value) {
  relufit::RequestData r;
  r.input_dim = 1;
  r.hidden_width = 1;
  r.output_dim = 1;
  r.x = {{"0"}};
  r.y = {{text}};
  relufit::AnswerData a;
  a.verdict = relufit::Verdict::kFeasible;
  a.network.neurons = {relufit::NeuronData{{"0"}, "0", {"0"}}};
  a.network.output_bias = {solver_value ? *solver_value : "0"};
  a.network.activation = {"0"};
  const relufit::CheckResult c = relufit::check_answer(r, a);
  const bool refused = !c.valid && c.message.find("request sample 0: bad number") != std::string::npos;
  if (solver_value ? !c.valid : !refused) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  (void)relufit::count_digits(text);
  if (auto v = relufit::parse_exact_number(text, &error)) {
    const std::string p = relufit::rational_to_string(*v);
    auto back = relufit::parse_exact_number(p, &error);
    if (!back || *back != *v) std::abort();  // "p/q" must read back exactly
    (void)relufit::rational_to_decimal(*v, 1 + static_cast<unsigned>(size % 40));
    compare_with_checker(text, &p);
  } else {
    if (error.empty()) std::abort();  // a refusal always says why
    compare_with_checker(text, nullptr);
  }
  if (auto parts = relufit::split_algebraic_text(text)) (void)relufit::join_algebraic_text(*parts);
  return 0;
}
