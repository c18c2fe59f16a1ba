#include "algebra/export.h"

#include <sstream>

#include "algebra/number.h"

namespace relufit {
namespace {

std::string smt_number(const mpq_class& q) {
  if (sgn(q) < 0) return "(- " + smt_number(-q) + ")";
  if (q.get_den() == 1) return q.get_num().get_str();
  return "(/ " + q.get_num().get_str() + " " + q.get_den().get_str() + ")";
}

std::string smt_sum(const std::vector<std::string>& terms) {
  if (terms.empty()) return "0";
  if (terms.size() == 1) return terms[0];
  std::string s = "(+";
  for (const auto& t : terms) s += " " + t;
  return s + ")";
}

// w_j . x_i + b_j with the sample's exact coefficients, zero terms left out.
std::string smt_preactivation(const Problem& p, size_t i, uint32_t j) {
  std::vector<std::string> terms;
  for (uint32_t t = 0; t < p.input_dim; ++t) {
    const mpq_class& x = p.x[i][t];
    if (sgn(x) == 0) continue;
    const std::string var = "w_" + std::to_string(j) + "_" + std::to_string(t);
    terms.push_back(x == 1 ? var : "(* " + smt_number(x) + " " + var + ")");
  }
  if (p.hidden_bias) terms.push_back("b_" + std::to_string(j));
  return smt_sum(terms);
}

std::string text_linear(const Problem& p, size_t i, uint32_t j) {
  std::string s;
  for (uint32_t t = 0; t < p.input_dim; ++t) {
    if (!s.empty()) s += " + ";
    s += "(" + rational_to_string(p.x[i][t]) + ")*w" + std::to_string(j) + "_" + std::to_string(t);
  }
  if (p.hidden_bias) s += " + b" + std::to_string(j);
  return s;
}

}  // namespace

std::string export_smtlib(const Problem& p) {
  std::ostringstream out;
  out << "; relufit training problem: n=" << p.num_samples() << " d=" << p.input_dim
      << " m=" << p.hidden_width << " k=" << p.output_dim
      << " hidden_bias=" << (p.hidden_bias ? "true" : "false")
      << " output_bias=" << (p.output_bias ? "true" : "false") << "\n"
      << "; f(x) = sum_j a_j * max(0, w_j . x + b_j) + c;  h_i_j = max(0, w_j . x_i + b_j)\n"
      << "; sat iff real weights fit every sample exactly\n"
      << "(set-logic QF_NRA)\n";
  for (uint32_t j = 0; j < p.hidden_width; ++j) {
    for (uint32_t t = 0; t < p.input_dim; ++t) out << "(declare-fun w_" << j << "_" << t << " () Real)\n";
    if (p.hidden_bias) out << "(declare-fun b_" << j << " () Real)\n";
    for (uint32_t o = 0; o < p.output_dim; ++o) out << "(declare-fun a_" << j << "_" << o << " () Real)\n";
  }
  if (p.output_bias)
    for (uint32_t o = 0; o < p.output_dim; ++o) out << "(declare-fun c_" << o << " () Real)\n";
  for (size_t i = 0; i < p.num_samples(); ++i) {
    out << "; sample " << i << "\n";
    for (uint32_t j = 0; j < p.hidden_width; ++j) {
      const std::string h = "h_" + std::to_string(i) + "_" + std::to_string(j);
      const std::string pre = smt_preactivation(p, i, j);
      out << "(declare-fun " << h << " () Real)\n"
          << "(assert (>= " << h << " 0))\n"
          << "(assert (>= " << h << " " << pre << "))\n"
          << "(assert (or (= " << h << " 0) (= " << h << " " << pre << ")))\n";
    }
    for (uint32_t o = 0; o < p.output_dim; ++o) {
      std::vector<std::string> terms;
      for (uint32_t j = 0; j < p.hidden_width; ++j)
        terms.push_back("(* a_" + std::to_string(j) + "_" + std::to_string(o) + " h_" +
                        std::to_string(i) + "_" + std::to_string(j) + ")");
      if (p.output_bias) terms.push_back("c_" + std::to_string(o));
      out << "(assert (= " << smt_sum(terms) << " " << smt_number(p.y[i][o]) << "))\n";
    }
  }
  out << "(check-sat)\n(get-model)\n";
  return out.str();
}

std::string export_text(const Problem& p) {
  std::ostringstream out;
  const uint32_t m = p.hidden_width;
  out << "# relufit training problem (DESIGN.md 2.2)\n"
      << "# n = " << p.num_samples() << " samples, d = " << p.input_dim << ", m = " << m
      << ", k = " << p.output_dim << ", hidden bias " << (p.hidden_bias ? "on" : "off")
      << ", output bias " << (p.output_bias ? "on" : "off") << "\n#\n"
      << "# unknowns: w<j>_<t>, " << (p.hidden_bias ? "b<j>, " : "") << "a<j>_<o>"
      << (p.output_bias ? ", c<o>" : "") << " (real); P<i>_<j> in {0, 1} (activation)\n"
      << "# z_j . x~_i below stands for the affine form in brackets.\n\n"
      << "## Bilinear system: for every sample i, output o and neuron j\n"
      << "##   sum_j P<i>_<j> * [z_j . x~_i] * a<j>_<o> " << (p.output_bias ? "+ c<o> " : "")
      << "= y_i,o\n"
      << "##   [z_j . x~_i] >= 0 if P<i>_<j> = 1,  [z_j . x~_i] <= 0 if P<i>_<j> = 0\n\n";
  for (size_t i = 0; i < p.num_samples(); ++i) {
    out << "sample " << i << ":\n";
    for (uint32_t o = 0; o < p.output_dim; ++o) {
      out << "  ";
      for (uint32_t j = 0; j < m; ++j)
        out << (j ? " + " : "") << "P" << i << "_" << j << " * [" << text_linear(p, i, j) << "] * a" << j << "_" << o;
      if (p.output_bias) out << " + c" << o;
      out << " = " << rational_to_string(p.y[i][o]) << "\n";
    }
    for (uint32_t j = 0; j < m; ++j)
      out << "  (2*P" << i << "_" << j << " - 1) * [" << text_linear(p, i, j) << "] >= 0\n";
  }
  if (p.output_dim == 1) {
    out << "\n## Pattern families for one output (DESIGN.md facts 1-3)\n"
        << "## Scaling each neuron by s > 0 lets a<j>_0 be +1 or -1, so there are m + 1 sign\n"
        << "## cases (p = number of +1 neurons, first). For a fixed pattern P every case is a\n"
        << "## linear system in (w, b, c):\n";
    for (uint32_t pos = 0; pos <= m; ++pos) {
      out << "case p = " << pos << ":";
      for (size_t i = 0; i < p.num_samples(); ++i) {
        out << "\n  sample " << i << ": ";
        for (uint32_t j = 0; j < m; ++j)
          out << (j ? " " : "") << (j < pos ? "+" : "-") << "P" << i << "_" << j << "[z" << j << ".x~" << i << "]";
        if (p.output_bias) out << " + c0";
        out << " = " << rational_to_string(p.y[i][0]);
      }
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace relufit
