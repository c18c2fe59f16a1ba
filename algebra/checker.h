// The independent checker. It shares no solving code with the solver: it
// parses the request's numbers itself, does its arithmetic with FLINT's
// fmpq (the solver uses GMP's mpq_class), rebuilds every LP row of a proof
// from the request and the node's path alone, and evaluates networks
// directly with max(0, .). Every answer passes through it before the server
// returns it; the Verify RPC and `relufit verify` expose it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "algebra/answer.h"

namespace relufit {

// Bounds on the checker's work and memory, so that no request or certificate
// can keep it busy for long or make FLINT abort on a failed allocation. Each
// is checked before the work it bounds; an answer past a bound is rejected
// (valid = false) with a message naming the bound, never checked partly.
struct CheckLimits {
  // Characters in one rational number of a request or an answer (weights,
  // Farkas and kappa values, interval ends).
  size_t max_number_chars = 1000000;
  // Bits of any rational the checker computes (numerator plus denominator):
  // sums of many fractions can grow past their inputs. 2^26 bits = 8 MiB.
  uint64_t max_rational_bits = uint64_t{1} << 26;
  // An algebraic weight's minimal polynomial: degree, and decimal digits of
  // each coefficient and interval end. Read from the text before any
  // factoring (the solver's algebraic step guesses degree <= 8).
  uint32_t max_algebraic_degree = 16;
  size_t max_algebraic_digits = 300;
  // One step of exact algebraic arithmetic (x + y or x * y goes through a
  // resultant of degree deg(x) deg(y), factored): the product of the
  // operands' degrees and the sum of their height bits. About 0.5 s per step
  // at worst on the 2-core development machine.
  uint32_t max_step_degree = 64;
  uint32_t max_step_height_bits = 2048;
};

// When to stop: the check ends early with stopped = true once the deadline
// has passed or `cancelled` returns true (polled every 8 steps, and before
// each costly one: an algebraic step, a number of more than 10^4 characters;
// one step is bounded by CheckLimits).
struct CheckControl {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<bool()> cancelled;  // may be empty
  CheckLimits limits;
};

struct CheckResult {
  bool valid = false;
  bool stopped = false;  // the deadline or a cancellation ended the check (valid is false)
  std::string message;   // what was verified, the first failure, or why it stopped
};

// Checks that `answer` is a correct answer to `request`: FEASIBLE weights
// fit every sample exactly; INFEASIBLE certificates prove emptiness;
// UNKNOWN is accepted (nothing is claimed) when it carries a reason.
CheckResult check_answer(const RequestData& request, const AnswerData& answer,
                         const CheckControl& control = {});

}  // namespace relufit
