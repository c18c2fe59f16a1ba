#include "algebra/number.h"

#include "algebra/algebraic_number.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace relufit {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char ch : s)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
  return true;
}

mpz_class pow10(unsigned long e) {
  mpz_class r;
  mpz_ui_pow_ui(r.get_mpz_t(), 10, e);
  return r;
}

}  // namespace

size_t count_digits(const std::string& text) {
  size_t n = 0;
  for (char ch : text)
    if (std::isdigit(static_cast<unsigned char>(ch))) ++n;
  return n;
}

std::optional<mpq_class> parse_exact_number(const std::string& text,
                                            std::string* error) {
  auto fail = [&](const char* why) -> std::optional<mpq_class> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty string, expected a number");
  std::string s = text;
  bool negative = false;
  size_t pos = 0;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    pos = 1;
  }
  std::string body = s.substr(pos);
  size_t slash = body.find('/');
  mpq_class value;
  if (slash != std::string::npos) {
    std::string num = body.substr(0, slash), den = body.substr(slash + 1);
    if (!all_digits(num) || !all_digits(den))
      return fail("not a number (expected integer, p/q or decimal)");
    mpz_class q(den, 10);
    if (q == 0) return fail("zero denominator");
    value = mpq_class(mpz_class(num, 10), q);
    value.canonicalize();
  } else {
    std::string mantissa = body;
    long exponent = 0;
    size_t e = body.find_first_of("eE");
    if (e != std::string::npos) {
      mantissa = body.substr(0, e);
      std::string exp_text = body.substr(e + 1);
      bool exp_negative = false;
      if (!exp_text.empty() && (exp_text[0] == '-' || exp_text[0] == '+')) {
        exp_negative = exp_text[0] == '-';
        exp_text = exp_text.substr(1);
      }
      if (!all_digits(exp_text) || exp_text.size() > 6)
        return fail("not a number (bad exponent)");
      exponent = std::stol(exp_text) * (exp_negative ? -1 : 1);
      if (exponent > kMaxDecimalExponent || exponent < -kMaxDecimalExponent)
        return fail("exponent out of range (at most 10000 in magnitude)");
    }
    size_t dot = mantissa.find('.');
    std::string int_part = mantissa, frac_part;
    if (dot != std::string::npos) {
      int_part = mantissa.substr(0, dot);
      frac_part = mantissa.substr(dot + 1);
    }
    if (int_part.empty() && frac_part.empty())
      return fail("not a number (expected integer, p/q or decimal)");
    if ((!int_part.empty() && !all_digits(int_part)) ||
        (!frac_part.empty() && !all_digits(frac_part)) ||
        (dot != std::string::npos && frac_part.empty() && int_part.empty()))
      return fail("not a number (expected integer, p/q or decimal)");
    mpz_class digits(int_part + frac_part, 10);
    exponent -= static_cast<long>(frac_part.size());
    if (exponent >= 0) {
      value = mpq_class(digits * pow10(static_cast<unsigned long>(exponent)));
    } else {
      value = mpq_class(digits, pow10(static_cast<unsigned long>(-exponent)));
      value.canonicalize();
    }
  }
  if (negative) value = -value;
  return value;
}

std::string rational_to_string(const mpq_class& value) {
  if (value.get_den() == 1) return value.get_num().get_str(10);
  return value.get_num().get_str(10) + "/" + value.get_den().get_str(10);
}

std::string rational_to_decimal(const mpq_class& value, unsigned significant) {
  if (significant == 0) significant = 1;
  if (value == 0) return "0";
  mpq_class a = abs(value);
  // Find e with 10^(significant-1) <= a * 10^(-e) < 10^significant.
  long e = static_cast<long>(mpz_sizeinbase(a.get_num().get_mpz_t(), 10)) -
           static_cast<long>(mpz_sizeinbase(a.get_den().get_mpz_t(), 10)) -
           static_cast<long>(significant) + 1;
  mpz_class scaled;
  const mpz_class low = pow10(significant - 1), high = pow10(significant);
  for (int attempt = 0; attempt < 4; ++attempt) {
    mpq_class s = a;
    if (e >= 0)
      s /= pow10(static_cast<unsigned long>(e));
    else
      s *= pow10(static_cast<unsigned long>(-e));
    // Round half away from zero.
    mpz_class twice = (2 * s.get_num() + s.get_den()) / (2 * s.get_den());
    scaled = twice;
    if (scaled >= high) {
      ++e;
      continue;
    }
    if (scaled < low) {
      --e;
      continue;
    }
    break;
  }
  std::string digits = scaled.get_str(10);
  // Trim trailing zeros into the exponent.
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++e;
  }
  long point = static_cast<long>(digits.size()) + e;  // digits before the point
  std::string out;
  if (e >= 0 && point <= 30) {
    out = digits + std::string(static_cast<size_t>(e), '0');
  } else if (point > 0 && point <= 30) {
    out = digits.substr(0, static_cast<size_t>(point)) + "." +
          digits.substr(static_cast<size_t>(point));
  } else if (point <= 0 && point > -6) {
    out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += "e" + std::to_string(point - 1);
  }
  return (value < 0 ? "-" : "") + out;
}

std::string render_decimal(const std::string& exact, unsigned significant) {
  if (is_algebraic_text(exact)) {
    std::string d = algebraic_decimal(exact, significant);
    return d.empty() ? exact : d;
  }
  auto v = parse_exact_number(exact, nullptr);
  return v ? rational_to_decimal(*v, significant) : exact;
}

std::optional<AlgebraicParts> split_algebraic_text(const std::string& text) {
  if (text.rfind("root(", 0) != 0 || text.back() != ')') return std::nullopt;
  const std::string body = text.substr(5, text.size() - 6);
  const size_t semi = body.find(';');
  if (semi == std::string::npos) return std::nullopt;
  AlgebraicParts parts;
  size_t start = 0;
  const std::string coeffs = body.substr(0, semi);
  while (true) {
    const size_t comma = coeffs.find(',', start);
    parts.min_poly.push_back(coeffs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const std::string interval = body.substr(semi + 1);
  const size_t comma = interval.find(',');
  if (comma == std::string::npos) return std::nullopt;
  parts.lower = interval.substr(0, comma);
  parts.upper = interval.substr(comma + 1);
  return parts;
}

std::string join_algebraic_text(const AlgebraicParts& parts) {
  auto clean = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789+-/") == std::string::npos;
  };
  bool ok = !parts.min_poly.empty() && clean(parts.lower) && clean(parts.upper);
  std::string out = "root(";
  for (size_t i = 0; i < parts.min_poly.size(); ++i) {
    ok = ok && clean(parts.min_poly[i]);
    out += (i ? "," : "") + parts.min_poly[i];
  }
  if (!ok) return "root(?)";
  return out + ";" + parts.lower + "," + parts.upper + ")";
}

mpq_class rational_near(double v, double tol) {
  long p0 = 0, q0 = 1, p1 = 1, q1 = 0;
  double x = v;
  for (int it = 0; it < 40; ++it) {
    const double a = std::floor(x);
    // Stop before a convergent could overflow a long.
    if (std::fabs(a) > 1e15 || (std::fabs(a) + 1) * static_cast<double>(std::max(std::labs(p1), q1)) > 1e18) break;
    const long ai = static_cast<long>(a);
    const long p2 = ai * p1 + p0, q2 = ai * q1 + q0;
    p0 = p1;
    q0 = q1;
    p1 = p2;
    q1 = q2;
    if (std::fabs(v - static_cast<double>(p1) / static_cast<double>(q1)) <= tol) break;
    if (x - a < 1e-300) break;
    x = 1.0 / (x - a);
  }
  mpq_class out(p1, q1 == 0 ? 1 : q1);
  out.canonicalize();
  return out;
}

std::vector<size_t> reduce_rows(std::vector<std::vector<mpq_class>>* rows, size_t cols) {
  auto& a = *rows;
  std::vector<size_t> pivots;
  size_t r = 0;
  for (size_t c = 0; c < cols && r < a.size(); ++c) {
    size_t p = r;
    while (p < a.size() && sgn(a[p][c]) == 0) ++p;
    if (p == a.size()) continue;
    std::swap(a[p], a[r]);
    const mpq_class piv = a[r][c];
    for (auto& v : a[r]) v /= piv;
    for (size_t i = 0; i < a.size(); ++i) {
      if (i == r || sgn(a[i][c]) == 0) continue;
      const mpq_class f = a[i][c];
      for (size_t t = c; t < a[i].size(); ++t)
        if (sgn(a[r][t]) != 0) a[i][t] -= f * a[r][t];
    }
    pivots.push_back(c);
    ++r;
  }
  return pivots;
}

}  // namespace relufit
