// The checker's exact rational (an RAII owner of one FLINT fmpq) and its
// number parser, shared by checker.cpp and checker_erm.cpp (the checker's own arithmetic: the solver
// uses GMP's mpq_class and shares none of this).
#pragma once

#include <flint/fmpq.h>
#include <flint/fmpz.h>

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

namespace relufit {
namespace checker_internal {

class Q {
 public:
  Q() { fmpq_init(v_); }
  explicit Q(long n) {
    fmpq_init(v_);
    fmpq_set_si(v_, n, 1);
  }
  Q(const Q& o) {
    fmpq_init(v_);
    fmpq_set(v_, o.v_);
  }
  Q& operator=(const Q& o) {
    if (this != &o) fmpq_set(v_, o.v_);
    return *this;
  }
  ~Q() { fmpq_clear(v_); }
  fmpq* get() { return v_; }
  const fmpq* get() const { return v_; }
  int sign() const { return fmpq_sgn(v_); }
  int cmp(const Q& o) const { return fmpq_cmp(v_, o.v_); }
  bool operator==(const Q& o) const { return fmpq_equal(v_, o.v_); }
  bool operator!=(const Q& o) const { return !(*this == o); }
  void add_mul(const Q& a, const Q& b) { fmpq_addmul(v_, a.v_, b.v_); }
  void add(const Q& a) { fmpq_add(v_, v_, a.v_); }
  void sub(const Q& a) { fmpq_sub(v_, v_, a.v_); }
  void mul(const Q& a) { fmpq_mul(v_, v_, a.v_); }
  void neg() { fmpq_neg(v_, v_); }
  Q abs() const {
    Q r(*this);
    fmpq_abs(r.v_, r.v_);
    return r;
  }
  std::string str() const {
    char* s = fmpq_get_str(nullptr, 10, v_);
    std::string out(s);
    flint_free(s);
    return out;
  }
  // Size in bits (numerator and denominator): what the memory budget counts.
  uint64_t bits() const { return fmpz_bits(fmpq_numref(v_)) + fmpz_bits(fmpq_denref(v_)); }

 private:
  fmpq_t v_;
};


// Largest decimal exponent read, so that "1e999999" cannot make the checker
// build a million-digit number.
constexpr long kMaxExponent = 10000;

inline bool digits_only(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The API's number syntax (integer, "p/q", finite decimal with exponent),
// parsed independently of the solver's parser. Texts longer than max_chars
// are refused before any arithmetic.
inline std::optional<Q> parse_rational(const std::string& text, size_t max_chars) {
  if (text.size() > max_chars) return std::nullopt;
  std::string s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  Q out;
  fmpz_t num, den;
  fmpz_init(num);
  fmpz_init(den);
  bool ok = true;
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    std::string a = s.substr(0, slash), b = s.substr(slash + 1);
    ok = digits_only(a) && digits_only(b);
    if (ok) {
      fmpz_set_str(num, a.c_str(), 10);
      fmpz_set_str(den, b.c_str(), 10);
      ok = !fmpz_is_zero(den);
    }
  } else {
    long exponent = 0;
    std::string mant = s;
    size_t e = s.find_first_of("eE");
    if (e != std::string::npos) {
      mant = s.substr(0, e);
      std::string ex = s.substr(e + 1);
      bool eneg = false;
      if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) {
        eneg = ex[0] == '-';
        ex = ex.substr(1);
      }
      ok = digits_only(ex) && ex.size() <= 6;
      if (ok) exponent = std::stol(ex) * (eneg ? -1 : 1);
      ok = ok && exponent <= kMaxExponent && exponent >= -kMaxExponent;
    }
    size_t dot = mant.find('.');
    std::string ip = mant, fp;
    if (dot != std::string::npos) {
      ip = mant.substr(0, dot);
      fp = mant.substr(dot + 1);
    }
    ok = ok && !(ip.empty() && fp.empty()) && (ip.empty() || digits_only(ip)) &&
         (fp.empty() || digits_only(fp));
    if (ok) {
      fmpz_set_str(num, (ip + fp).c_str(), 10);
      exponent -= static_cast<long>(fp.size());
      fmpz_one(den);
      fmpz_t ten;
      fmpz_init_set_ui(ten, 10);
      if (exponent >= 0) {
        fmpz_pow_ui(ten, ten, static_cast<ulong>(exponent));
        fmpz_mul(num, num, ten);
      } else {
        fmpz_pow_ui(den, ten, static_cast<ulong>(-exponent));
      }
      fmpz_clear(ten);
    }
  }
  if (ok) {
    fmpq_set_fmpz_frac(out.get(), num, den);
    if (neg) out.neg();
  }
  fmpz_clear(num);
  fmpz_clear(den);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace checker_internal
}  // namespace relufit
