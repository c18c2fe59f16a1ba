#include "algebra/solver.h"

#include <chrono>
#include <map>

#include "algebra/breakpoints.h"
#include "algebra/erm.h"
#include "algebra/feature_span.h"
#include "algebra/number.h"

namespace relufit {
namespace {

// Up to this many samples the feature span (2^n activation sets, a few ms)
// is tried before any search; above it, after kSearchBeforeFeatureSpan nodes.
constexpr size_t kFeatureSpanFirst = 8;
constexpr uint64_t kSearchBeforeFeatureSpan = 2000;
// The labels' rank (exact elimination, not stopped by the deadline) is
// computed for at most this many samples; larger data goes to the search.
constexpr size_t kRankSamples = 256;

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

// Rational weights (w: m x d, b: m, a: m x k, c: k or empty) as the answer's network.
void set_network(const Problem& p, const std::vector<std::vector<mpq_class>>& w,
                 const std::vector<mpq_class>& b, const std::vector<std::vector<mpq_class>>& a,
                 const std::vector<mpq_class>& c, NetworkData* network) {
  for (uint32_t j = 0; j < p.hidden_width; ++j) {
    NeuronData neuron;
    for (const auto& v : w[j]) neuron.input_weights.push_back(rational_to_string(v));
    if (p.hidden_bias) neuron.bias = rational_to_string(b[j]);
    for (const auto& v : a[j]) neuron.output_weights.push_back(rational_to_string(v));
    network->neurons.push_back(std::move(neuron));
  }
  for (const auto& v : c) network->output_bias.push_back(rational_to_string(v));
  for (const auto& x : p.x) network->activation.push_back(activation_of(w, b, x));
}

// Whether the feature span may be tried: with one output it applies only at
// width 1, which the search decides at once with a case tree (one that has a
// picture), so it is for two outputs or more.
bool feature_span_on(const Problem& p, const SearchOptions& options) {
  return options.feature_span && p.output_dim >= 2;
}

// The feature-span decision as an answer (nullopt: undecided).
std::optional<AnswerData> feature_span_answer(const Problem& p, const SearchControl& control) {
  FeatureSpanDecision fs = decide_by_feature_span(p, control);
  AnswerData answer;
  answer.stats.lps_solved = fs.lps;
  if (fs.kind == FeatureSpanDecision::Kind::kInfeasible) {
    answer.verdict = Verdict::kInfeasible;
    answer.certificate.kind = CertificateData::Kind::kFeatureSpan;
    answer.certificate.feature_span = std::move(fs.certificate);
    return answer;
  }
  if (fs.kind == FeatureSpanDecision::Kind::kFeasible) {
    const SolveStats stats = answer.stats;
    answer = answer_from_fit(p, std::move(fs.fit));
    answer.stats = stats;
    return answer;
  }
  return std::nullopt;
}

}  // namespace

std::optional<AnswerData> quick_answer(const Problem& p, const SearchControl& control) {
  AnswerData answer;
  uint32_t first = 0, second = 0;
  if (find_conflicting_pair(p, &first, &second)) {
    answer.verdict = Verdict::kInfeasible;
    answer.certificate.kind = CertificateData::Kind::kConflictingPair;
    answer.certificate.first = first;
    answer.certificate.second = second;
    return answer;
  }
  if (p.input_dim == 1) {
    // One input (breakpoints.h): a width below the slope changes the data
    // force is empty, with a short proof; a fit is built when the width allows
    // it; what is left (mostly width = p*) goes to the search.
    BreakpointDecision bp = decide_by_breakpoints(p, control);
    if (bp.kind == BreakpointDecision::Kind::kInfeasible) {
      answer.verdict = Verdict::kInfeasible;
      answer.certificate.kind = CertificateData::Kind::kBreakpointBound;
      answer.certificate.breakpoint_output = bp.output;
      answer.certificate.min_breakpoints = bp.min_breakpoints;
      return answer;
    }
    if (bp.kind == BreakpointDecision::Kind::kFeasible) {
      answer.verdict = Verdict::kFeasible;
      std::vector<std::vector<mpq_class>> w;
      for (const auto& v : bp.fit.w) w.push_back({v});
      set_network(p, w, bp.fit.b, bp.fit.a, p.output_bias ? bp.fit.c : std::vector<mpq_class>{},
                  &answer.network);
      return answer;
    }
  }
  // Labels spanning as many dimensions as the outputs can (feature_span.h):
  // cheap up to kFeatureSpanFirst samples, so tried before any search.
  // Rank alone (r > m') is as cheap at any size.
  if (feature_span_on(p, control.options) &&
      (p.num_samples() <= kFeatureSpanFirst ||
       (p.num_samples() <= kRankSamples && label_rank(p) > network_span(p))))
    return feature_span_answer(p, control);
  return std::nullopt;
}

AnswerData answer_from_fit(const Problem& p, ExactFit fit) {
  AnswerData answer;
  answer.verdict = Verdict::kFeasible;
  if (fit.algebraic) {
    const AlgebraicFit& af = *fit.algebraic;
    for (uint32_t j = 0; j < p.hidden_width; ++j) {
      NeuronData neuron;
      neuron.input_weights.assign(af.z[j].begin(), af.z[j].begin() + p.input_dim);
      if (p.hidden_bias) neuron.bias = af.z[j][p.input_dim];
      neuron.output_weights = af.a[j];
      answer.network.neurons.push_back(std::move(neuron));
    }
    answer.network.output_bias = af.c;
    answer.network.activation = af.activation;
  } else {
    set_network(p, fit.w, fit.b, fit.a, fit.c, &answer.network);
  }
  return answer;
}

AnswerData solve_problem(const Problem& p, const SolveSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  AnswerData answer;
  auto finish = [&]() {
    answer.stats.solve_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return answer;
  };
  // An error budget (loss, max_error > 0) is a different question: erm.h.
  if (sgn(p.max_error) > 0) {
    answer = solve_with_error_budget(p, settings);
    return finish();
  }
  // Invalid options: no shortcut either (the search answers UNKNOWN naming them).
  const SearchControl& control = settings.control;
  const bool valid = control.options.validate().empty();
  if (valid) {
    if (auto quick = quick_answer(p, control)) {
      answer = std::move(*quick);
      return finish();
    }
  }
  auto from_search = [&](SearchOutcome out) {
    if (out.verdict == Verdict::kFeasible) {
      const SolveStats stats = answer.stats;
      answer = answer_from_fit(p, std::move(*out.fit));
      answer.stats = stats;
      return;
    }
    answer.verdict = out.verdict;
    answer.reason = out.reason;
    if (out.verdict == Verdict::kInfeasible) {
      answer.certificate.kind = CertificateData::Kind::kCaseTree;
      answer.certificate.case_tree = std::move(out.proof);
    }
  };
  if (valid && feature_span_on(p, control.options) && p.num_samples() > kFeatureSpanFirst &&
      p.num_samples() <= control.options.feature_span_max_samples && label_rank(p) == network_span(p)) {
    // More samples make the feature span cost up to 2^n LP pairs (0.05-0.2 s
    // at n = 12), while planted data is often fitted by the primal heuristic
    // at the root and narrowed data refuted in a few nodes: a short search
    // first, then the feature span, then the search in full.
    SearchControl probe = control;
    const bool caller_limit = control.node_limit && control.node_limit <= kSearchBeforeFeatureSpan;
    if (!caller_limit) probe.node_limit = kSearchBeforeFeatureSpan;
    SearchOutcome first = search_patterns(p, probe, &answer.stats);
    if (first.verdict != Verdict::kUnknown || caller_limit) {
      from_search(std::move(first));
      return finish();
    }
    if (auto span = feature_span_answer(p, control)) {
      const SolveStats stats = answer.stats;
      answer = std::move(*span);
      answer.stats.nodes = stats.nodes;
      answer.stats.max_depth = stats.max_depth;
      answer.stats.lps_solved += stats.lps_solved;
      return finish();
    }
  }
  from_search(search_patterns(p, control, &answer.stats));
  return finish();
}

}  // namespace relufit
