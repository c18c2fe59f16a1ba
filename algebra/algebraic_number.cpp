#include "algebra/algebraic_number.h"

#include <cstdlib>
#include <utility>

#include "algebra/qqbar_bridge.h"

namespace relufit {

// ---- Alg -------------------------------------------------------------------

Alg::Alg() {
  mpq_class zero(0);
  v_ = rf_alg_new_mpq(zero.get_mpq_t());
}
Alg::Alg(const mpq_class& q) : v_(rf_alg_new_mpq(q.get_mpq_t())) {}
Alg::Alg(const Alg& other) : v_(rf_alg_copy(other.v_)) {}
Alg::Alg(Alg&& other) noexcept : v_(other.v_) { other.v_ = nullptr; }
Alg& Alg::operator=(const Alg& other) {
  if (this != &other) {
    rf_alg_free(v_);
    v_ = rf_alg_copy(other.v_);
  }
  return *this;
}
Alg& Alg::operator=(Alg&& other) noexcept {
  std::swap(v_, other.v_);
  return *this;
}
Alg::~Alg() { rf_alg_free(v_); }

std::optional<Alg> Alg::from_text(const std::string& text) {
  rf_alg* raw = rf_alg_from_text(text.c_str());
  if (!raw) return std::nullopt;
  return Alg(raw);
}

std::optional<Alg> Alg::guess(const std::string& decimal, long accuracy_bits, int max_degree,
                              int max_bits) {
  rf_alg* raw = rf_alg_guess(decimal.c_str(), accuracy_bits, max_degree, max_bits);
  if (!raw) return std::nullopt;
  return Alg(raw);
}

Alg Alg::operator+(const Alg& o) const {
  Alg r;
  rf_alg_add(r.v_, v_, o.v_);
  return r;
}
Alg Alg::operator-(const Alg& o) const {
  Alg r;
  rf_alg_sub(r.v_, v_, o.v_);
  return r;
}
Alg Alg::operator*(const Alg& o) const {
  Alg r;
  rf_alg_mul(r.v_, v_, o.v_);
  return r;
}
Alg Alg::operator/(const Alg& o) const {
  Alg r;
  if (!rf_alg_div(r.v_, v_, o.v_)) std::abort();  // callers divide by pivots only
  return r;
}
int Alg::sign() const { return rf_alg_sgn(v_); }
bool Alg::is_rational() const { return rf_alg_is_rational(v_) != 0; }
int Alg::degree() const { return rf_alg_degree(v_); }
double Alg::approx() const { return rf_alg_get_d(v_); }

std::string Alg::text() const {
  char* s = rf_alg_text(v_);
  std::string out(s);
  rf_alg_free_str(s);
  return out;
}

std::string Alg::decimal(unsigned digits) const {
  char* s = rf_alg_decimal(v_, static_cast<long>(digits));
  std::string out(s);
  rf_alg_free_str(s);
  return out;
}

bool is_algebraic_text(const std::string& text) { return text.rfind("root(", 0) == 0; }

std::string algebraic_decimal(const std::string& text, unsigned digits) {
  auto v = Alg::from_text(text);
  return v ? v->decimal(digits) : std::string();
}

}  // namespace relufit
