// The checker's own door to Calcium (qqbar): it rebuilds algebraic weights
// from their text and does the arithmetic of a network evaluation. Separate
// from the solver's bridge (qqbar_bridge.h) on purpose: the checker shares
// no code with the solver. C interface because Calcium's headers are C only.
#pragma once

#include <stddef.h>

#include <flint/fmpq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rfc_num rfc_num;

rfc_num* rfc_from_fmpq(const fmpq_t value);
void rfc_free(rfc_num* x);

// Rebuilds "root(c0,c1,...,cd;lo,hi)" and validates it: integer
// coefficients, constant term first, degree 2..max_degree (at most 64),
// leading coefficient > 0,
// content 1, irreducible over Q (so it is THE minimal polynomial), rational
// ends lo <= hi, and exactly one real root of the polynomial in [lo, hi].
// Returns NULL and writes the reason into err (NUL-terminated) otherwise.
rfc_num* rfc_from_root_text(const char* text, long max_degree, char* err, size_t errlen);

// acc += a b, unless an operand pair exceeds the limits: Calcium computes a
// sum or product through a resultant of degree deg(x) deg(y) that it then
// factors, so the product of the degrees (deg_limit) and the sum of the
// height bits (bits_limit) bound the cost of one step. Returns 1 when done,
// 0 (acc unchanged) when refused.
int rfc_addmul(rfc_num* acc, const rfc_num* a, const rfc_num* b, long deg_limit, long bits_limit);
int rfc_sgn(const rfc_num* x);
int rfc_equal_fmpq(const rfc_num* x, const fmpq_t q);

#ifdef __cplusplus
}
#endif
