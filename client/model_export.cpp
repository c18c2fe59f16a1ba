#include "client/model_export.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "algebra/algebraic_number.h"
#include "algebra/number.h"
#include "algebra/problem.h"
#include "onnx_subset.pb.h"
#include "server/convert.h"

namespace relufit {
namespace {

struct Model {
  Problem problem;
  NetworkData net;  // exact strings: "p/q" or "root(...)"
};

Model load(const v1::SolveRequest& request, const v1::SolveResponse& response) {
  if (response.verdict() != v1::VERDICT_FEASIBLE)
    throw std::runtime_error(std::string("no network to write: the verdict is ") +
                             v1::Verdict_Name(response.verdict()));
  Model m;
  ProblemLimits limits;
  limits.max_hidden_width = 1000;
  limits.max_samples = 1000000;
  if (auto e = build_problem(request_from_proto(request), limits, &m.problem); !e.ok())
    throw std::runtime_error("the request: " + e.message);
  m.net = answer_from_proto(response).network;
  const Problem& p = m.problem;
  if (m.net.neurons.size() != p.hidden_width)
    throw std::runtime_error("the response's network has " + std::to_string(m.net.neurons.size()) +
                             " neurons, the request's architecture " + std::to_string(p.hidden_width));
  for (size_t j = 0; j < m.net.neurons.size(); ++j) {
    const auto& n = m.net.neurons[j];
    if (n.input_weights.size() != p.input_dim || n.output_weights.size() != p.output_dim ||
        (p.hidden_bias && n.bias.empty()))
      throw std::runtime_error("neuron " + std::to_string(j) + " of the response does not have the request's shape");
  }
  if (p.output_bias && m.net.output_bias.size() != p.output_dim)
    throw std::runtime_error("the response's output bias does not have the request's shape");
  return m;
}

Alg exact(const std::string& text, const std::string& where) {
  auto v = Alg::from_text(text);
  if (!v) throw std::runtime_error(where + ": not an exact number: " + text);
  return *v;
}

// The nearest double (strtod rounds a decimal correctly; 40 digits settle it).
double to_double(const std::string& text, const std::string& where) {
  if (is_algebraic_text(text)) return std::strtod(exact(text, where).decimal(40).c_str(), nullptr);
  std::string err;
  auto q = parse_exact_number(text, &err);
  if (!q) throw std::runtime_error(where + ": " + err);
  return std::strtod(rational_to_decimal(*q, 40).c_str(), nullptr);
}

// ---- ONNX --------------------------------------------------------------------

void add_tensor(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                const std::vector<double>& values, bool dbl, const std::string& doc) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_doc_string(doc);
  for (int64_t d : dims) t->add_dims(d);
  t->set_data_type(dbl ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT);
  for (double v : values) dbl ? t->add_double_data(v) : t->add_float_data(static_cast<float>(v));
}

void add_io(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name, uint32_t width,
            bool dbl, const std::string& doc) {
  auto* v = list->Add();
  v->set_name(name);
  v->set_doc_string(doc);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dbl ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(width);
}

void add_gemm(onnx::GraphProto* g, const std::vector<std::string>& in, const std::string& out, const std::string& name) {
  auto* n = g->add_node();
  for (const auto& s : in) n->add_input(s);
  n->add_output(out);
  n->set_name(name);
  n->set_op_type("Gemm");
  auto* a = n->add_attribute();
  a->set_name("transB");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(1);
}

std::string to_onnx(const Model& m, const ModelOptions& opt) {
  const Problem& p = m.problem;
  const uint32_t d = p.input_dim, w = p.hidden_width, k = p.output_dim;
  const bool dbl = opt.onnx_double;
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("relufit");
  model.set_producer_version(RELUFIT_VERSION);
  model.set_model_version(1);
  model.set_doc_string(
      "A two-layer ReLU network fitted exactly by relufit: y = W2 relu(W1 x + b1) + b2 (row-major "
      "x[N, d]). The weights here are the exact weights rounded to nearest " +
      std::string(dbl ? "float64" : "float32") + "; the exact ones are in the relufit answer (JSON).");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* meta = model.add_metadata_props();
  meta->set_key("relufit.architecture");
  meta->set_value("input_dim=" + std::to_string(d) + " hidden_width=" + std::to_string(w) +
                  " output_dim=" + std::to_string(k) + " hidden_bias=" + (p.hidden_bias ? "true" : "false") +
                  " output_bias=" + (p.output_bias ? "true" : "false"));
  if (!opt.request_name.empty()) {
    meta = model.add_metadata_props();
    meta->set_key("relufit.request");
    meta->set_value(opt.request_name);
  }
  auto* g = model.mutable_graph();
  g->set_name("relufit_fit");
  std::vector<double> W1, B1, W2, B2;
  for (uint32_t j = 0; j < w; ++j) {
    const auto& n = m.net.neurons[j];
    for (uint32_t t = 0; t < d; ++t) W1.push_back(to_double(n.input_weights[t], "w"));
    if (p.hidden_bias) B1.push_back(to_double(n.bias, "b"));
  }
  for (uint32_t o = 0; o < k; ++o) {
    for (uint32_t j = 0; j < w; ++j) W2.push_back(to_double(m.net.neurons[j].output_weights[o], "a"));
    if (p.output_bias) B2.push_back(to_double(m.net.output_bias[o], "c"));
  }
  add_tensor(g, "W1", {w, d}, W1, dbl, "hidden weights: row j is w_j");
  if (p.hidden_bias) add_tensor(g, "b1", {w}, B1, dbl, "hidden biases b_j");
  add_tensor(g, "W2", {k, w}, W2, dbl, "output weights: column j is a_j");
  if (p.output_bias) add_tensor(g, "b2", {k}, B2, dbl, "output bias c");
  add_gemm(g, p.hidden_bias ? std::vector<std::string>{"x", "W1", "b1"} : std::vector<std::string>{"x", "W1"},
           "pre", "hidden");
  auto* relu = g->add_node();
  relu->add_input("pre");
  relu->add_output("h");
  relu->set_name("relu");
  relu->set_op_type("Relu");
  add_gemm(g, p.output_bias ? std::vector<std::string>{"h", "W2", "b2"} : std::vector<std::string>{"h", "W2"}, "y",
           "output");
  add_io(g->mutable_input(), "x", d, dbl, "inputs, one sample per row");
  add_io(g->mutable_output(), "y", k, dbl, "outputs, one sample per row");
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("cannot serialise the ONNX model");
  return bytes;
}

// ---- SMT-LIB ---------------------------------------------------------------

std::string smt_integer(const std::string& z) { return z[0] == '-' ? "(- " + z.substr(1) + ")" : z; }

// A rational as an SMT-LIB model value: 3.0, (- 3.0), (/ 1.0 2.0), (/ (- 1.0) 2.0).
std::string smt_real(const mpq_class& q) {
  const std::string num = mpz_class(abs(q.get_num())).get_str() + ".0";
  const std::string n = sgn(q) < 0 ? "(- " + num + ")" : num;
  if (q.get_den() == 1) return n;
  return "(/ " + n + " " + q.get_den().get_str() + ".0)";
}

std::string smt_value(const Alg& v) {
  const std::string text = v.text();
  if (auto parts = split_algebraic_text(text)) {
    std::string s = "(root-of-with-interval (coeffs";
    for (const auto& c : parts->min_poly) s += " " + smt_integer(c);
    std::string err;
    return s + ") " + smt_real(*parse_exact_number(parts->lower, &err)) + " " +
           smt_real(*parse_exact_number(parts->upper, &err)) + ")";
  }
  std::string err;
  auto q = parse_exact_number(text, &err);
  if (!q) throw std::runtime_error("unexpected number text " + text);
  return smt_real(*q);
}

std::string to_smt2(const Model& m, const ModelOptions& opt) {
  const Problem& p = m.problem;
  std::ostringstream out;
  out << "; relufit: a model of the training problem of " << (opt.request_name.empty() ? "the request" : opt.request_name)
      << "\n; as `relufit export --format smt2` writes it (QF_NRA). Irrational values are written\n"
         "; (root-of-with-interval (coeffs p_0 ... p_n) lo hi): the unique root of p_0 + p_1 t + ... + p_n t^n\n"
         "; between lo and hi (SMT-COMP's model format). h_i_j = max(0, w_j . x_i + b_j).\n(\n";
  std::vector<Alg> w, b, a;
  const uint32_t d = p.input_dim, k = p.output_dim;
  for (uint32_t j = 0; j < p.hidden_width; ++j) {
    const auto& n = m.net.neurons[j];
    const std::string js = std::to_string(j);
    for (uint32_t t = 0; t < d; ++t) {
      w.push_back(exact(n.input_weights[t], "w"));
      out << "  (define-fun w_" << js << "_" << t << " () Real " << smt_value(w.back()) << ")\n";
    }
    b.push_back(p.hidden_bias ? exact(n.bias, "b") : Alg());
    if (p.hidden_bias) out << "  (define-fun b_" << js << " () Real " << smt_value(b.back()) << ")\n";
    for (uint32_t o = 0; o < k; ++o) {
      a.push_back(exact(n.output_weights[o], "a"));
      out << "  (define-fun a_" << js << "_" << o << " () Real " << smt_value(a.back()) << ")\n";
    }
  }
  if (p.output_bias)
    for (uint32_t o = 0; o < k; ++o)
      out << "  (define-fun c_" << o << " () Real " << smt_value(exact(m.net.output_bias[o], "c")) << ")\n";
  for (size_t i = 0; i < p.num_samples(); ++i)
    for (uint32_t j = 0; j < p.hidden_width; ++j) {
      Alg pre = b[j];
      for (uint32_t t = 0; t < d; ++t) pre = pre + w[j * d + t] * Alg(p.x[i][t]);
      out << "  (define-fun h_" << i << "_" << j << " () Real " << smt_value(pre.sign() > 0 ? pre : Alg()) << ")\n";
    }
  out << ")\n";
  return out.str();
}

// ---- Python ------------------------------------------------------------------

std::string py_fraction(const std::string& text, std::string* note) {
  std::string exact_text = text;
  if (is_algebraic_text(text)) {
    exact_text = exact(text, "weight").decimal(30);
    auto parts = split_algebraic_text(text);
    std::string poly;
    for (size_t i = 0; i < parts->min_poly.size(); ++i) {
      if (parts->min_poly[i] == "0") continue;
      std::string c = parts->min_poly[i];
      std::string term = i == 0 ? c : (c == "1" ? "" : c == "-1" ? "-" : c + "*") + (i == 1 ? "t" : "t**" + std::to_string(i));
      poly += poly.empty() ? term : (term[0] == '-' ? " - " + term.substr(1) : " + " + term);
    }
    *note = "irrational: the root of " + poly + " in [" + parts->lower + ", " + parts->upper + "]";
  }
  std::string err;
  auto q = parse_exact_number(exact_text, &err);
  if (!q) throw std::runtime_error("weight " + text + ": " + err);
  if (q->get_den() == 1) return "Fraction(" + q->get_num().get_str() + ")";
  return "Fraction(" + q->get_num().get_str() + ", " + q->get_den().get_str() + ")";
}

std::string py_list(const std::vector<std::string>& texts, std::vector<std::string>* notes, const std::string& prefix) {
  std::string s = "[";
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string note;
    s += (i ? ", " : "") + py_fraction(texts[i], &note);
    if (!note.empty()) notes->push_back(prefix + "[" + std::to_string(i) + "]: " + note);
  }
  return s + "]";
}

std::string to_python(const Model& m, const ModelOptions& opt) {
  const Problem& p = m.problem;
  std::ostringstream out;
  std::vector<std::string> notes;
  out << "\"\"\"A two-layer ReLU network fitted exactly by relufit"
      << (opt.request_name.empty() ? "" : " to " + opt.request_name) << ".\n\n"
      << "f(x) = sum_j A[j] * max(0, W[j] . x + B[j]) + C, with input_dim " << p.input_dim << ", hidden_width "
      << p.hidden_width << ", output_dim " << p.output_dim << ".\n"
      << "Weights are fractions.Fraction; f is exact for int, Fraction or decimal-string inputs.\n"
      << "Run this file to check the fit at the request's samples.\n\"\"\"\n\n"
      << "from fractions import Fraction\n\n";
  out << "# W[j] = w_j, the input weights of hidden neuron j.\nW = [\n";
  for (size_t j = 0; j < m.net.neurons.size(); ++j)
    out << "    " << py_list(m.net.neurons[j].input_weights, &notes, "W[" + std::to_string(j) + "]") << ",\n";
  out << "]\n# B[j] = b_j, the bias of neuron j" << (p.hidden_bias ? "" : " (the architecture has none: 0)") << ".\nB = [";
  for (size_t j = 0; j < m.net.neurons.size(); ++j) {
    std::string note;
    out << (j ? ", " : "") << (p.hidden_bias ? py_fraction(m.net.neurons[j].bias, &note) : "Fraction(0)");
    if (!note.empty()) notes.push_back("B[" + std::to_string(j) + "]: " + note);
  }
  out << "]\n# A[j] = a_j, the output weights of neuron j.\nA = [\n";
  for (size_t j = 0; j < m.net.neurons.size(); ++j)
    out << "    " << py_list(m.net.neurons[j].output_weights, &notes, "A[" + std::to_string(j) + "]") << ",\n";
  out << "]\n# C = c, the output bias" << (p.output_bias ? "" : " (the architecture has none: 0)") << ".\nC = ";
  if (p.output_bias) out << py_list(m.net.output_bias, &notes, "C") << "\n";
  else out << "[Fraction(0)] * " << p.output_dim << "\n";
  out << "\n# Irrational weights (real algebraic numbers) are given above as Fractions within\n"
         "# 1e-30 of the value; their exact definitions (as in the relufit answer):\nIRRATIONAL = {\n";
  for (const auto& n : notes) {
    const size_t colon = n.find(':');
    out << "    \"" << n.substr(0, colon) << "\": \"" << n.substr(colon + 2) << "\",\n";
  }
  out << "}\nEXACT = not IRRATIONAL\n\n\n"
         "def f(x):\n"
         "    \"\"\"The network's outputs at x (input_dim numbers), as Fractions.\"\"\"\n"
         "    x = [Fraction(v) for v in x]\n"
         "    y = list(C)\n"
         "    for w, b, a in zip(W, B, A):\n"
         "        pre = sum((wt * xt for wt, xt in zip(w, x)), b)\n"
         "        if pre > 0:\n"
         "            y = [yo + ao * pre for yo, ao in zip(y, a)]\n"
         "    return y\n\n\n";
  out << "# The request's samples (x, y), exact.\nSAMPLES = [\n";
  for (size_t i = 0; i < p.num_samples(); ++i) {
    out << "    ([";
    for (size_t t = 0; t < p.input_dim; ++t)
      out << (t ? ", " : "") << "Fraction(\"" << rational_to_string(p.x[i][t]) << "\")";
    out << "], [";
    for (size_t o = 0; o < p.output_dim; ++o)
      out << (o ? ", " : "") << "Fraction(\"" << rational_to_string(p.y[i][o]) << "\")";
    out << "]),\n";
  }
  out << "]\n\n"
         "if __name__ == \"__main__\":\n"
         "    worst = max((abs(fo - yo) for x, y in SAMPLES for fo, yo in zip(f(x), y)), default=Fraction(0))\n"
         "    if EXACT:\n"
         "        assert worst == 0, f\"f misses a sample by {worst}\"\n"
         "        print(f\"f fits all {len(SAMPLES)} samples exactly\")\n"
         "    else:\n"
         "        assert worst < Fraction(1, 10**20), f\"f misses a sample by {float(worst)}\"\n"
         "        print(f\"f fits all {len(SAMPLES)} samples within {float(worst):.3g} \"\n"
         "              \"(irrational weights as 30-digit Fractions)\")\n";
  return out.str();
}

}  // namespace

std::string export_model(const v1::SolveRequest& request, const v1::SolveResponse& response, ModelFormat format,
                         const ModelOptions& options) {
  const Model m = load(request, response);
  switch (format) {
    case ModelFormat::kOnnx: return to_onnx(m, options);
    case ModelFormat::kSmt2: return to_smt2(m, options);
    case ModelFormat::kPython: return to_python(m, options);
  }
  throw std::runtime_error("unknown model format");
}

}  // namespace relufit
