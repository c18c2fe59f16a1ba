// The checker's exact rational: an RAII owner of one FLINT fmpq, shared by
// checker.cpp and checker_erm.cpp (the checker's own arithmetic: the solver
// uses GMP's mpq_class and shares none of this).
#pragma once

#include <flint/fmpq.h>
#include <flint/fmpz.h>

#include <cstdint>
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

}  // namespace checker_internal
}  // namespace relufit
