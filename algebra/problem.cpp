#include "algebra/problem.h"

#include "algebra/number.h"

namespace relufit {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kFeasible: return "FEASIBLE";
    case Verdict::kInfeasible: return "INFEASIBLE";
    case Verdict::kUnknown: return "UNKNOWN";
    default: return "UNSPECIFIED";
  }
}

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::kLinf: return "linf";
    case Loss::kL1: return "l1";
    case Loss::kL2: return "l2";
    default: return "unspecified";
  }
}

namespace {

ValidationError invalid(std::string message) {
  return {ValidationError::Code::kInvalidArgument, std::move(message)};
}
ValidationError exhausted(std::string message) {
  return {ValidationError::Code::kResourceExhausted, std::move(message)};
}

}  // namespace

ValidationError build_problem(const RequestData& r, const ProblemLimits& limits,
                              Problem* out) {
  if (r.input_dim == 0) return invalid("architecture.input_dim: must be at least 1");
  if (r.hidden_width == 0) return invalid("architecture.hidden_width: must be at least 1");
  if (r.output_dim == 0) return invalid("architecture.output_dim: must be at least 1");
  if (r.x.empty()) return invalid("dataset.samples: empty dataset, need at least one sample");
  if (r.input_dim > limits.max_input_dim)
    return exhausted("architecture.input_dim: " + std::to_string(r.input_dim) +
                     " exceeds the server limit " + std::to_string(limits.max_input_dim));
  if (r.hidden_width > limits.max_hidden_width)
    return exhausted("architecture.hidden_width: " + std::to_string(r.hidden_width) +
                     " exceeds the server limit " + std::to_string(limits.max_hidden_width));
  if (r.output_dim > limits.max_output_dim)
    return exhausted("architecture.output_dim: " + std::to_string(r.output_dim) +
                     " exceeds the server limit " + std::to_string(limits.max_output_dim));
  if (r.x.size() > limits.max_samples)
    return exhausted("dataset.samples: " + std::to_string(r.x.size()) +
                     " samples exceed the server limit " + std::to_string(limits.max_samples));

  Problem p;
  p.input_dim = r.input_dim;
  p.hidden_width = r.hidden_width;
  p.output_dim = r.output_dim;
  p.hidden_bias = r.hidden_bias;
  p.output_bias = r.output_bias;
  const size_t n = r.x.size();
  p.x.resize(n);
  p.y.resize(n);
  auto parse_list = [&](size_t i, const char* field, const std::vector<std::string>& values,
                        uint32_t expected, std::vector<mpq_class>* dest) -> ValidationError {
    const std::string where = "dataset.samples[" + std::to_string(i) + "]." + field;
    if (values.size() != expected)
      return invalid(where + ": has " + std::to_string(values.size()) +
                     " coordinates, the architecture needs " + std::to_string(expected));
    dest->reserve(expected);
    for (size_t c = 0; c < values.size(); ++c) {
      const std::string at = where + "[" + std::to_string(c) + "]";
      if (count_digits(values[c]) > limits.max_digits)
        return exhausted(at + ": more than " + std::to_string(limits.max_digits) +
                         " digits (server limit)");
      std::string why;
      auto v = parse_exact_number(values[c], &why);
      if (!v) {
        std::string shown = values[c].size() > 40 ? values[c].substr(0, 40) + "..." : values[c];
        return invalid(at + ": " + why + " in \"" + shown + "\"");
      }
      // Exponents can make a short string a long number: limit the value too.
      if (mpz_sizeinbase(v->get_num_mpz_t(), 10) > limits.max_digits + 1 ||
          mpz_sizeinbase(v->get_den_mpz_t(), 10) > limits.max_digits + 1)
        return exhausted(at + ": more than " + std::to_string(limits.max_digits) +
                         " digits (server limit)");
      dest->push_back(*v);
    }
    return {};
  };
  for (size_t i = 0; i < n; ++i) {
    if (i >= r.y.size()) return invalid("dataset.samples[" + std::to_string(i) + "].y: missing");
    auto e = parse_list(i, "x", r.x[i], r.input_dim, &p.x[i]);
    if (!e.ok()) return e;
    e = parse_list(i, "y", r.y[i], r.output_dim, &p.y[i]);
    if (!e.ok()) return e;
  }
  p.loss = r.loss;
  if (!r.max_error.empty()) {
    std::string why;
    auto v = count_digits(r.max_error) > limits.max_digits ? std::nullopt
                                                           : parse_exact_number(r.max_error, &why);
    if (!v) return invalid("options.max_error: " + (why.empty() ? "too many digits" : why) + " in \"" +
                           r.max_error.substr(0, 40) + "\"");
    if (sgn(*v) < 0) return invalid("options.max_error: must be >= 0");
    p.max_error = *v;
  }
  if (sgn(p.max_error) > 0 && p.loss == Loss::kUnspecified) p.loss = Loss::kLinf;
  *out = std::move(p);
  return {};
}

}  // namespace relufit
