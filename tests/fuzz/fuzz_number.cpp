// libFuzzer: the exact-number parser (number.h) on any text, and its
// renderings; an accepted number must survive a round trip through
// rational_to_string. Algebraic "root(...)" texts are split and joined only
// (their rendering runs on solver output, not on client input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "algebra/number.h"

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
  } else if (error.empty()) {
    std::abort();  // a refusal always says why
  }
  if (auto parts = relufit::split_algebraic_text(text)) (void)relufit::join_algebraic_text(*parts);
  return 0;
}
