// See checker_qqbar.h.
#include "algebra/checker_qqbar.h"

#include <calcium/qqbar.h>
#include <flint/fmpz_poly.h>
#include <flint/fmpz_poly_factor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rfc_num {
  qqbar_t v;
};

static rfc_num* make(void) {
  rfc_num* x = (rfc_num*)malloc(sizeof(rfc_num));
  qqbar_init(x->v);
  return x;
}

rfc_num* rfc_from_fmpq(const fmpq_t value) {
  rfc_num* x = make();
  qqbar_set_fmpq(x->v, value);
  return x;
}

void rfc_free(rfc_num* x) {
  if (!x) return;
  qqbar_clear(x->v);
  free(x);
}

int rfc_addmul(rfc_num* acc, const rfc_num* a, const rfc_num* b, long deg_limit, long bits_limit) {
  if (!qqbar_binop_within_limits(a->v, b->v, deg_limit, bits_limit)) return 0;
  qqbar_t t;
  qqbar_init(t);
  qqbar_mul(t, a->v, b->v);
  int ok = qqbar_binop_within_limits(acc->v, t, deg_limit, bits_limit);
  if (ok) qqbar_add(acc->v, acc->v, t);
  qqbar_clear(t);
  return ok;
}

int rfc_sgn(const rfc_num* x) { return qqbar_sgn_re(x->v); }

int rfc_equal_fmpq(const rfc_num* x, const fmpq_t q) {
  qqbar_t t;
  qqbar_init(t);
  qqbar_set_fmpq(t, q);
  int eq = qqbar_equal(x->v, t);
  qqbar_clear(t);
  return eq;
}

// An optionally signed run of decimal digits, nothing else.
static int is_integer(const char* s, size_t n) {
  size_t i = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  if (i == n) return 0;
  for (; i < n; ++i)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

static int parse_fmpz(fmpz_t out, const char* s, size_t n) {
  if (n == 0 || n > 4000 || !is_integer(s, n)) return 0;
  char buf[4002];
  memcpy(buf, s[0] == '+' ? s + 1 : s, s[0] == '+' ? n - 1 : n);
  buf[s[0] == '+' ? n - 1 : n] = 0;
  return fmpz_set_str(out, buf, 10) == 0;
}

// "p" or "p/q" with q > 0.
static int parse_fmpq(fmpq_t out, const char* s, size_t n) {
  const char* slash = memchr(s, '/', n);
  if (!slash) {
    if (!parse_fmpz(fmpq_numref(out), s, n)) return 0;
    fmpz_one(fmpq_denref(out));
    return 1;
  }
  size_t n1 = (size_t)(slash - s);
  if (!parse_fmpz(fmpq_numref(out), s, n1)) return 0;
  if (!parse_fmpz(fmpq_denref(out), slash + 1, n - n1 - 1)) return 0;
  if (fmpz_sgn(fmpq_denref(out)) <= 0) return 0;
  fmpq_canonicalise(out);
  return 1;
}

rfc_num* rfc_from_root_text(const char* text, long max_degree, char* err, size_t errlen) {
  if (max_degree > 64) max_degree = 64;
  const size_t len = strlen(text);
  if (len < 7 || strncmp(text, "root(", 5) != 0 || text[len - 1] != ')') {
    snprintf(err, errlen, "not of the form root(c0,...,cd;lo,hi)");
    return NULL;
  }
  const char* body = text + 5;
  const char* end = text + len - 1;
  const char* semi = memchr(body, ';', (size_t)(end - body));
  if (!semi) {
    snprintf(err, errlen, "no ';' between the coefficients and the interval");
    return NULL;
  }
  fmpz_poly_t poly;
  fmpz_poly_init(poly);
  fmpz_t c;
  fmpz_init(c);
  fmpq_t lo, hi;
  fmpq_init(lo);
  fmpq_init(hi);
  rfc_num* out = NULL;
  slong deg = -1;
  int ok = 1;
  const char* p = body;
  while (ok) {
    const char* comma = memchr(p, ',', (size_t)(semi - p));
    const char* stop = comma ? comma : semi;
    if (++deg > max_degree || !parse_fmpz(c, p, (size_t)(stop - p))) {
      if (deg > max_degree)
        snprintf(err, errlen, "degree above %ld", max_degree);
      else
        snprintf(err, errlen, "coefficient %ld is not an integer", (long)deg);
      ok = 0;
      break;
    }
    fmpz_poly_set_coeff_fmpz(poly, deg, c);
    if (!comma) break;
    p = comma + 1;
  }
  if (ok) {
    const char* comma = memchr(semi + 1, ',', (size_t)(end - semi - 1));
    if (!comma || !parse_fmpq(lo, semi + 1, (size_t)(comma - semi - 1)) ||
        !parse_fmpq(hi, comma + 1, (size_t)(end - comma - 1))) {
      snprintf(err, errlen, "the interval ends are not rationals p/q");
      ok = 0;
    } else if (fmpq_cmp(lo, hi) > 0) {
      snprintf(err, errlen, "the interval is empty (lo > hi)");
      ok = 0;
    }
  }
  if (ok) {
    const slong d = fmpz_poly_degree(poly);
    fmpz_poly_content(c, poly);
    if (d != deg || d < 2) {
      snprintf(err, errlen, d < 2 ? "degree below 2 (a rational number must be written p/q)"
                                  : "leading coefficient is zero");
      ok = 0;
    } else if (fmpz_sgn(poly->coeffs + d) <= 0) {
      snprintf(err, errlen, "leading coefficient is not positive");
      ok = 0;
    } else if (!fmpz_is_one(c)) {
      snprintf(err, errlen, "the coefficients have a common factor");
      ok = 0;
    } else {
      fmpz_poly_factor_t fac;
      fmpz_poly_factor_init(fac);
      fmpz_poly_factor(fac, poly);
      if (fac->num != 1 || fac->exp[0] != 1) {
        snprintf(err, errlen, "the polynomial is reducible, so not a minimal polynomial");
        ok = 0;
      }
      fmpz_poly_factor_clear(fac);
    }
  }
  if (ok) {
    const slong d = fmpz_poly_degree(poly);
    qqbar_ptr roots = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(roots, poly, QQBAR_ROOTS_IRREDUCIBLE);
    qqbar_t l, h;
    qqbar_init(l);
    qqbar_init(h);
    qqbar_set_fmpq(l, lo);
    qqbar_set_fmpq(h, hi);
    slong inside = 0, which = -1;
    for (slong r = 0; r < d; ++r)
      if (qqbar_is_real(roots + r) && qqbar_cmp_re(roots + r, l) >= 0 &&
          qqbar_cmp_re(roots + r, h) <= 0) {
        ++inside;
        which = r;
      }
    if (inside != 1) {
      snprintf(err, errlen, "the interval holds %ld real roots of the polynomial, not exactly one",
               (long)inside);
    } else {
      out = make();
      qqbar_set(out->v, roots + which);
    }
    qqbar_clear(l);
    qqbar_clear(h);
    _qqbar_vec_clear(roots, d);
  }
  fmpq_clear(lo);
  fmpq_clear(hi);
  fmpz_clear(c);
  fmpz_poly_clear(poly);
  return out;
}
