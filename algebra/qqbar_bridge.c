// Calcium (qqbar) calls for the solver; see qqbar_bridge.h.
#include "algebra/qqbar_bridge.h"

#include <arb.h>
#include <calcium/qqbar.h>
#include <flint/fmpq.h>
#include <flint/fmpz_poly.h>
#include <stdlib.h>
#include <string.h>

struct rf_alg {
  qqbar_t v;
};

static rf_alg* alloc_alg(void) {
  rf_alg* x = (rf_alg*)malloc(sizeof(rf_alg));
  qqbar_init(x->v);
  return x;
}

rf_alg* rf_alg_new_mpq(const mpq_t value) {
  rf_alg* x = alloc_alg();
  fmpq_t q;
  fmpq_init(q);
  fmpq_set_mpq(q, value);
  qqbar_set_fmpq(x->v, q);
  fmpq_clear(q);
  return x;
}

rf_alg* rf_alg_copy(const rf_alg* x) {
  rf_alg* y = alloc_alg();
  qqbar_set(y->v, x->v);
  return y;
}

void rf_alg_free(rf_alg* x) {
  if (!x) return;
  qqbar_clear(x->v);
  free(x);
}

void rf_alg_add(rf_alg* res, const rf_alg* x, const rf_alg* y) { qqbar_add(res->v, x->v, y->v); }
void rf_alg_sub(rf_alg* res, const rf_alg* x, const rf_alg* y) { qqbar_sub(res->v, x->v, y->v); }
void rf_alg_mul(rf_alg* res, const rf_alg* x, const rf_alg* y) { qqbar_mul(res->v, x->v, y->v); }
int rf_alg_div(rf_alg* res, const rf_alg* x, const rf_alg* y) {
  if (qqbar_is_zero(y->v)) return 0;
  qqbar_div(res->v, x->v, y->v);
  return 1;
}

int rf_alg_sgn(const rf_alg* x) { return qqbar_sgn_re(x->v); }
int rf_alg_is_rational(const rf_alg* x) { return qqbar_is_rational(x->v); }
int rf_alg_degree(const rf_alg* x) { return (int)qqbar_degree(x->v); }

void rf_alg_get_mpq(mpq_t res, const rf_alg* x) {
  fmpq_t q;
  fmpq_init(q);
  qqbar_get_fmpq(q, x->v);
  fmpq_get_mpq(res, q);
  fmpq_clear(q);
}

double rf_alg_get_d(const rf_alg* x) {
  arb_t a;
  arb_init(a);
  qqbar_get_arb(a, x->v, 64);
  double d = arf_get_d(arb_midref(a), ARF_RND_NEAR);
  arb_clear(a);
  return d;
}

rf_alg* rf_alg_guess(const char* decimal, long accuracy_bits, int max_deg, int max_bits) {
  acb_t z;
  acb_init(z);
  const slong prec = accuracy_bits + 64;
  rf_alg* out = NULL;
  if (arb_set_str(acb_realref(z), decimal, prec) == 0) {
    arb_add_error_2exp_si(acb_realref(z), -accuracy_bits);
    rf_alg* x = alloc_alg();
    if (qqbar_guess(x->v, z, max_deg, max_bits, 0, accuracy_bits) && qqbar_is_real(x->v))
      out = x;
    else
      rf_alg_free(x);
  }
  acb_clear(z);
  return out;
}

static char* dup_str(const char* s) {
  char* out = (char*)malloc(strlen(s) + 1);
  strcpy(out, s);
  return out;
}

void rf_alg_free_str(char* s) { free(s); }

// Appends src to the growing buffer *buf (capacity *cap).
static void append(char** buf, size_t* len, size_t* cap, const char* src) {
  size_t n = strlen(src);
  if (*len + n + 1 > *cap) {
    *cap = 2 * (*len + n + 1);
    *buf = (char*)realloc(*buf, *cap);
  }
  memcpy(*buf + *len, src, n + 1);
  *len += n;
}

// Whether lo < x < hi and no other real root of x's polynomial lies in [lo, hi].
static int isolates(const qqbar_t x, qqbar_srcptr roots, slong nroots, const fmpq_t lo,
                    const fmpq_t hi) {
  qqbar_t l, h;
  qqbar_init(l);
  qqbar_init(h);
  qqbar_set_fmpq(l, lo);
  qqbar_set_fmpq(h, hi);
  int ok = qqbar_cmp_re(l, x) < 0 && qqbar_cmp_re(x, h) < 0;
  for (slong i = 0; ok && i < nroots; ++i) {
    if (!qqbar_is_real(roots + i) || qqbar_equal(roots + i, x)) continue;
    if (qqbar_cmp_re(roots + i, l) >= 0 && qqbar_cmp_re(roots + i, h) <= 0) ok = 0;
  }
  qqbar_clear(l);
  qqbar_clear(h);
  return ok;
}

char* rf_alg_text(const rf_alg* x) {
  if (qqbar_is_rational(x->v)) {
    fmpq_t q;
    fmpq_init(q);
    qqbar_get_fmpq(q, x->v);
    char* s = fmpq_get_str(NULL, 10, q);
    char* out = dup_str(s);
    flint_free(s);
    fmpq_clear(q);
    return out;
  }
  const fmpz_poly_struct* poly = QQBAR_POLY(x->v);
  const slong d = fmpz_poly_degree(poly);
  qqbar_ptr roots = _qqbar_vec_init(d);
  qqbar_roots_fmpz_poly(roots, poly, QQBAR_ROOTS_IRREDUCIBLE);
  fmpq_t lo, hi, step;
  fmpq_init(lo);
  fmpq_init(hi);
  fmpq_init(step);
  fmpz_t ten_e, fl;
  fmpz_init(ten_e);
  fmpz_init(fl);
  arb_t a;
  arb_init(a);
  int found = 0;
  for (ulong e = 0; e <= 200 && !found; ++e) {
    fmpz_ui_pow_ui(ten_e, 10, e);
    qqbar_get_arb(a, x->v, (slong)(4 * e + 64));
    arb_mul_fmpz(a, a, ten_e, (slong)(4 * e + 64));
    arf_get_fmpz(fl, arb_midref(a), ARF_RND_FLOOR);
    for (int shift = -1; shift <= 1 && !found; ++shift) {
      fmpq_set_fmpz_frac(lo, fl, ten_e);
      fmpq_set_si(step, shift, 1);
      fmpq_div_fmpz(step, step, ten_e);
      fmpq_add(lo, lo, step);
      fmpq_set_si(step, 1, 1);
      fmpq_div_fmpz(step, step, ten_e);
      fmpq_add(hi, lo, step);
      found = isolates(x->v, roots, d, lo, hi);
    }
  }
  char* buf = NULL;
  size_t len = 0, cap = 0;
  append(&buf, &len, &cap, "root(");
  for (slong i = 0; i <= d; ++i) {
    fmpz_t c;
    fmpz_init(c);
    fmpz_poly_get_coeff_fmpz(c, poly, i);
    char* s = fmpz_get_str(NULL, 10, c);
    if (i) append(&buf, &len, &cap, ",");
    append(&buf, &len, &cap, s);
    flint_free(s);
    fmpz_clear(c);
  }
  append(&buf, &len, &cap, ";");
  char* s = fmpq_get_str(NULL, 10, lo);
  append(&buf, &len, &cap, s);
  flint_free(s);
  append(&buf, &len, &cap, ",");
  s = fmpq_get_str(NULL, 10, hi);
  append(&buf, &len, &cap, s);
  flint_free(s);
  append(&buf, &len, &cap, ")");
  arb_clear(a);
  fmpz_clear(fl);
  fmpz_clear(ten_e);
  fmpq_clear(step);
  fmpq_clear(hi);
  fmpq_clear(lo);
  _qqbar_vec_clear(roots, d);
  if (!found) {  // cannot happen for an irrational real root; be loud rather than wrong
    free(buf);
    return dup_str("root(?)");
  }
  return buf;
}

rf_alg* rf_alg_from_text(const char* text) {
  if (strncmp(text, "root(", 5) != 0) {
    fmpq_t q;
    fmpq_init(q);
    rf_alg* out = NULL;
    if (fmpq_set_str(q, text, 10) == 0 && !fmpz_is_zero(fmpq_denref(q))) {
      fmpq_canonicalise(q);
      out = alloc_alg();
      qqbar_set_fmpq(out->v, q);
    }
    fmpq_clear(q);
    return out;
  }
  const char* semi = strchr(text, ';');
  const char* close = strrchr(text, ')');
  if (!semi || !close || close < semi) return NULL;
  fmpz_poly_t poly;
  fmpz_poly_init(poly);
  fmpz_t c;
  fmpz_init(c);
  rf_alg* out = NULL;
  int ok = 1;
  slong i = 0;
  const char* p = text + 5;
  while (ok && p < semi) {
    const char* end = p;
    while (end < semi && *end != ',') ++end;
    char tmp[4096];
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= sizeof tmp) {
      ok = 0;
      break;
    }
    memcpy(tmp, p, n);
    tmp[n] = 0;
    if (fmpz_set_str(c, tmp, 10) != 0) ok = 0;
    fmpz_poly_set_coeff_fmpz(poly, i++, c);
    p = end + 1;
  }
  fmpq_t lo, hi;
  fmpq_init(lo);
  fmpq_init(hi);
  const char* comma = strchr(semi, ',');
  if (ok && comma && comma < close) {
    char tmp[4096];
    size_t n1 = (size_t)(comma - semi - 1), n2 = (size_t)(close - comma - 1);
    if (n1 && n1 < sizeof tmp && n2 && n2 < sizeof tmp) {
      memcpy(tmp, semi + 1, n1);
      tmp[n1] = 0;
      ok = fmpq_set_str(lo, tmp, 10) == 0 && !fmpz_is_zero(fmpq_denref(lo));
      memcpy(tmp, comma + 1, n2);
      tmp[n2] = 0;
      ok = ok && fmpq_set_str(hi, tmp, 10) == 0 && !fmpz_is_zero(fmpq_denref(hi));
      if (ok) {
        fmpq_canonicalise(lo);
        fmpq_canonicalise(hi);
      }
    } else {
      ok = 0;
    }
  } else {
    ok = 0;
  }
  const slong d = fmpz_poly_degree(poly);
  if (ok && d >= 1 && d <= 64) {
    qqbar_ptr roots = _qqbar_vec_init(d);
    qqbar_roots_fmpz_poly(roots, poly, 0);
    qqbar_t l, h;
    qqbar_init(l);
    qqbar_init(h);
    qqbar_set_fmpq(l, lo);
    qqbar_set_fmpq(h, hi);
    for (slong r = 0; r < d && !out; ++r)
      if (qqbar_is_real(roots + r) && qqbar_cmp_re(roots + r, l) >= 0 &&
          qqbar_cmp_re(roots + r, h) <= 0) {
        out = alloc_alg();
        qqbar_set(out->v, roots + r);
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

char* rf_alg_decimal(const rf_alg* x, long digits) {
  if (digits < 1) digits = 1;
  arb_t a;
  arb_init(a);
  qqbar_get_arb(a, x->v, (slong)(digits * 34 / 10 + 40));
  char* s = arb_get_str(a, digits, ARB_STR_NO_RADIUS);
  char* out = dup_str(s);
  flint_free(s);
  arb_clear(a);
  return out;
}
