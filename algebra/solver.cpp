#include "algebra/solver.h"

#include <chrono>
#include <map>

#include "algebra/number.h"

namespace relufit {
namespace {

// Two samples with equal x and different y: no function fits both.
bool find_conflicting_pair(const Problem& p, uint32_t* first, uint32_t* second) {
  std::map<std::vector<mpq_class>, uint32_t> seen;
  for (uint32_t i = 0; i < p.num_samples(); ++i) {
    auto [it, inserted] = seen.emplace(p.x[i], i);
    if (!inserted && p.y[it->second] != p.y[i]) {
      *first = it->second;
      *second = i;
      return true;
    }
  }
  return false;
}

std::string activation_of(const std::vector<std::vector<mpq_class>>& w,
                          const std::vector<mpq_class>& b, const std::vector<mpq_class>& x) {
  std::string act;
  for (size_t j = 0; j < w.size(); ++j) {
    mpq_class v = b[j];
    for (size_t t = 0; t < x.size(); ++t) v += w[j][t] * x[t];
    act.push_back(sgn(v) > 0 ? '1' : '0');
  }
  return act;
}

}  // namespace

AnswerData solve_problem(const Problem& p, const SolveSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  AnswerData answer;
  auto finish = [&]() {
    answer.stats.solve_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return answer;
  };
  uint32_t first = 0, second = 0;
  if (find_conflicting_pair(p, &first, &second)) {
    answer.verdict = Verdict::kInfeasible;
    answer.certificate.kind = CertificateData::Kind::kConflictingPair;
    answer.certificate.first = first;
    answer.certificate.second = second;
    return finish();
  }
  SearchOutcome out = search_patterns(p, settings.control, &answer.stats);
  answer.verdict = out.verdict;
  answer.reason = out.reason;
  if (out.verdict == Verdict::kFeasible && out.algebraic) {
    const AlgebraicFit& fit = *out.algebraic;
    for (uint32_t j = 0; j < p.hidden_width; ++j) {
      NeuronData neuron;
      neuron.input_weights.assign(fit.z[j].begin(), fit.z[j].begin() + p.input_dim);
      if (p.hidden_bias) neuron.bias = fit.z[j][p.input_dim];
      neuron.output_weights = fit.a[j];
      answer.network.neurons.push_back(std::move(neuron));
    }
    answer.network.output_bias = fit.c;
    answer.network.activation = fit.activation;
  } else if (out.verdict == Verdict::kFeasible) {
    for (uint32_t j = 0; j < p.hidden_width; ++j) {
      NeuronData neuron;
      for (const auto& v : out.w[j]) neuron.input_weights.push_back(rational_to_string(v));
      if (p.hidden_bias) neuron.bias = rational_to_string(out.b[j]);
      for (const auto& v : out.a[j]) neuron.output_weights.push_back(rational_to_string(v));
      answer.network.neurons.push_back(std::move(neuron));
    }
    for (const auto& v : out.c) answer.network.output_bias.push_back(rational_to_string(v));
    for (const auto& x : p.x) answer.network.activation.push_back(activation_of(out.w, out.b, x));
  } else if (out.verdict == Verdict::kInfeasible) {
    answer.certificate.kind = CertificateData::Kind::kCaseTree;
    answer.certificate.case_tree = std::move(out.proof);
  }
  return finish();
}

}  // namespace relufit
