// Exact number parsing and rendering.
#include "algebra/number.h"

#include <gtest/gtest.h>

namespace relufit {
namespace {

mpq_class parse_ok(const std::string& s) {
  std::string error;
  auto v = parse_exact_number(s, &error);
  EXPECT_TRUE(v.has_value()) << s << ": " << error;
  return v.value_or(mpq_class(0));
}

TEST(Number, ParsesIntegersFractionsAndDecimalsExactly) {
  EXPECT_EQ(parse_ok("42"), mpq_class(42));
  EXPECT_EQ(parse_ok("-7"), mpq_class(-7));
  EXPECT_EQ(parse_ok("+3"), mpq_class(3));
  EXPECT_EQ(parse_ok("6/4"), mpq_class(3, 2));
  EXPECT_EQ(parse_ok("-1/3"), mpq_class(-1, 3));
  EXPECT_EQ(parse_ok("-0.125"), mpq_class(-1, 8));
  EXPECT_EQ(parse_ok("0.1"), mpq_class(1, 10));  // not the binary double 0.1
  EXPECT_EQ(parse_ok("1.5e-3"), mpq_class(3, 2000));
  EXPECT_EQ(parse_ok("2.5E2"), mpq_class(250));
  EXPECT_EQ(parse_ok(".5"), mpq_class(1, 2));
  EXPECT_EQ(parse_ok("5."), mpq_class(5));
  EXPECT_EQ(parse_ok("123456789012345678901234567890"),
            mpq_class(mpz_class("123456789012345678901234567890")));
}

TEST(Number, RejectsMalformedInputWithAReason) {
  for (const char* bad : {"", "abc", "1/0", "1/", "/2", "1.2.3", "1e", "--1", "1/2/3", "0x10",
                          " 1", "1e9999999", "nan", "inf", "."}) {
    std::string error;
    EXPECT_FALSE(parse_exact_number(bad, &error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  parse_exact_number("3/0", &error);
  EXPECT_EQ(error, "zero denominator");
}

TEST(Number, RendersRationalsAndDecimals) {
  mpq_class six_quarters(6, 4);
  six_quarters.canonicalize();  // mpq_class values are kept canonical
  EXPECT_EQ(rational_to_string(six_quarters), "3/2");
  EXPECT_EQ(rational_to_string(mpq_class(-5)), "-5");
  EXPECT_EQ(rational_to_decimal(mpq_class(1, 3), 6), "0.333333");
  EXPECT_EQ(rational_to_decimal(mpq_class(2, 3), 6), "0.666667");
  EXPECT_EQ(rational_to_decimal(mpq_class(-25, 2), 30), "-12.5");
  EXPECT_EQ(rational_to_decimal(mpq_class(0), 30), "0");
  EXPECT_EQ(rational_to_decimal(mpq_class(1, 8000), 30), "0.000125");
  EXPECT_EQ(rational_to_decimal(mpq_class(999999, 1000000), 3), "1");
  EXPECT_EQ(rational_to_decimal(mpq_class(mpz_class("1"), mpz_class("1" + std::string(40, '0'))), 5), "1e-40");
}

TEST(Number, DecimalRenderingRoundTripsWithinHalfAnUlp) {
  // Property: |render(q) - q| <= 10^-(digits) * |q| for many q.
  gmp_randclass rng(gmp_randinit_default);
  rng.seed(7);
  for (int trial = 0; trial < 500; ++trial) {
    mpq_class q(rng.get_z_bits(40) - mpz_class(1) * rng.get_z_bits(39), rng.get_z_bits(30) + 1);
    q.canonicalize();
    if (q == 0) continue;
    for (unsigned digits : {1u, 5u, 30u}) {
      auto back = parse_exact_number(rational_to_decimal(q, digits), nullptr);
      ASSERT_TRUE(back.has_value()) << q << " " << rational_to_decimal(q, digits);
      mpq_class err = abs(*back - q), bound = abs(q);
      for (unsigned i = 0; i + 1 < digits; ++i) bound /= 10;
      EXPECT_LE(err, bound) << q << " -> " << rational_to_decimal(q, digits);
    }
  }
}

}  // namespace
}  // namespace relufit
