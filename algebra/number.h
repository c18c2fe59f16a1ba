// Exact rational numbers as the API writes them: parsing of "int", "p/q" and
// finite decimals ("-0.125", "1.5e-3") without any binary float, and
// rendering as "p/q" and as rounded decimals.
#pragma once

#include <gmpxx.h>

#include <optional>
#include <string>
#include <vector>

namespace relufit {

// Largest decimal exponent accepted ("1e10000"), so a short string cannot
// stand for a number with millions of digits.
constexpr long kMaxDecimalExponent = 10000;

// Parses an exact number. On failure returns nullopt and sets *error to a
// short description ("not a number", "zero denominator", ...).
std::optional<mpq_class> parse_exact_number(const std::string& text,
                                            std::string* error);

// Number of decimal digits in the text (used for the server's size limits).
size_t count_digits(const std::string& text);

// "p/q" in lowest terms, or "p" when the denominator is 1.
std::string rational_to_string(const mpq_class& value);

// Decimal rendering rounded to `significant` significant digits
// (round half away from zero), e.g. "0.333333", "-12.5", "1.25e-40".
std::string rational_to_decimal(const mpq_class& value, unsigned significant);

// The decimal rendering of an exact number string (as in answers: "p/q" or
// an algebraic "root(...)" text); the text itself when it is not a number.
std::string render_decimal(const std::string& exact, unsigned significant);

// The text form of a real algebraic number inside relufit (answers, the
// checker, the command line): "root(c0,c1,...,cd;lo,hi)", the unique real
// root in [lo, hi] of c0 + c1 t + ... + cd t^d. The API carries the parts
// as proto AlgebraicNumber {min_poly, lower, upper}.
struct AlgebraicParts {
  std::vector<std::string> min_poly;  // constant term first
  std::string lower, upper;
};

// Splits a "root(...)" text into its parts; nullopt when it is not one.
std::optional<AlgebraicParts> split_algebraic_text(const std::string& text);

// Joins parts into the text form. A part with characters other than digits,
// sign and '/' yields "root(?)", which the checker rejects, so that a
// crafted part cannot smuggle separators into the text.
std::string join_algebraic_text(const AlgebraicParts& parts);

// A fraction near v: the first continued-fraction convergent within tol of
// v (or the last one tried). Floats only guide: callers check exactly.
mpq_class rational_near(double v, double tol);

// Exact Gauss-Jordan elimination in place: brings the first `cols` columns
// of `rows` to reduced row echelon form (pivots 1, leftmost first; further
// columns, such as a right-hand side, are carried along) and returns the
// pivot column of each of the first rank rows.
std::vector<size_t> reduce_rows(std::vector<std::vector<mpq_class>>* rows, size_t cols);

}  // namespace relufit
