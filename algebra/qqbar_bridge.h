// The solver's door to Calcium's exact real algebraic numbers (qqbar).
// Calcium's headers are C only, so the calls live in qqbar_bridge.c behind
// this plain C interface; algebraic.h wraps it for C++. The checker has its
// own, separate bridge (checker_qqbar.h).
#pragma once

#include <gmp.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_alg rf_alg;  // one real algebraic number (a qqbar_t)

rf_alg* rf_alg_new_mpq(const mpq_t value);
rf_alg* rf_alg_copy(const rf_alg* x);
void rf_alg_free(rf_alg* x);

// res = x op y; returns 0 (and leaves res unchanged) on division by zero.
void rf_alg_add(rf_alg* res, const rf_alg* x, const rf_alg* y);
void rf_alg_sub(rf_alg* res, const rf_alg* x, const rf_alg* y);
void rf_alg_mul(rf_alg* res, const rf_alg* x, const rf_alg* y);
int rf_alg_div(rf_alg* res, const rf_alg* x, const rf_alg* y);

int rf_alg_sgn(const rf_alg* x);  // -1, 0, +1 (the numbers are real)
int rf_alg_is_rational(const rf_alg* x);
int rf_alg_degree(const rf_alg* x);
void rf_alg_get_mpq(mpq_t res, const rf_alg* x);  // only when rational
double rf_alg_get_d(const rf_alg* x);

// Identifies the real number given by `decimal` (accurate to about
// 2^-accuracy_bits) as an algebraic number of degree <= max_deg whose minimal
// polynomial has coefficients of at most max_bits bits (integer relation
// search). A guess only, to be verified exactly by the caller; NULL when none
// is found or the candidate is not real.
rf_alg* rf_alg_guess(const char* decimal, long accuracy_bits, int max_deg, int max_bits);

// The API's text of x: "p/q" (or "p") when rational, else
// "root(c0,c1,...,cd;lo,hi)": the unique real root in [lo, hi] of the
// minimal polynomial c0 + c1 t + ... + cd t^d (primitive, cd > 0), lo and
// hi rationals with short decimal expansions. Free with rf_alg_free_str.
char* rf_alg_text(const rf_alg* x);
void rf_alg_free_str(char* s);

// Parses the text form above (no validation beyond what is needed to pick
// the root); NULL on malformed text. For rendering only: the checker does
// its own strict parsing.
rf_alg* rf_alg_from_text(const char* text);

// Decimal rendering with `digits` significant digits. Free with rf_alg_free_str.
char* rf_alg_decimal(const rf_alg* x, long digits);

#ifdef __cplusplus
}
#endif
