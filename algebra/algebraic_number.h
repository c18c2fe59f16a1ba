// Exact real algebraic numbers (Calcium's qqbar behind qqbar_bridge.h) with
// value semantics, and the rendering of their API text. Plain numbers, no
// solving: used by number.cpp's decimal rendering (and so by the proto
// conversion the client links) as well as by the algebraic step
// (algebraic.h).
#pragma once

#include <gmpxx.h>

#include <optional>
#include <string>

struct rf_alg;

namespace relufit {

// A real algebraic number (Calcium qqbar), value semantics.
class Alg {
 public:
  Alg();  // zero
  explicit Alg(const mpq_class& q);
  Alg(const Alg& other);
  Alg(Alg&& other) noexcept;
  Alg& operator=(const Alg& other);
  Alg& operator=(Alg&& other) noexcept;
  ~Alg();

  static std::optional<Alg> from_text(const std::string& text);
  // An integer-relation guess for a value known to `accuracy_bits`.
  static std::optional<Alg> guess(const std::string& decimal, long accuracy_bits, int max_degree,
                                  int max_bits);

  Alg operator+(const Alg& o) const;
  Alg operator-(const Alg& o) const;
  Alg operator*(const Alg& o) const;
  Alg operator/(const Alg& o) const;  // o must be nonzero
  int sign() const;
  bool is_rational() const;
  int degree() const;
  double approx() const;
  // "p/q", or "root(c0,...,cd;lo,hi)" (see proto AlgebraicNumber).
  std::string text() const;
  std::string decimal(unsigned digits) const;

 private:
  explicit Alg(rf_alg* raw) : v_(raw) {}
  rf_alg* v_;
};

// Whether an exact-number string is in the algebraic text form "root(...)".
bool is_algebraic_text(const std::string& text);

// Decimal rendering of an algebraic text ("" when malformed).
std::string algebraic_decimal(const std::string& text, unsigned digits);

}  // namespace relufit
