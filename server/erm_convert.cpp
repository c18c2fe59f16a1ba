#include "server/erm_convert.h"

#include "algebra/number.h"
#include "server/convert.h"

namespace relufit {
namespace {

void stats_to_proto(const SolveStats& s, v1::SolveStatistics* st) {
  st->set_nodes(s.nodes);
  st->set_lps_solved(s.lps_solved);
  st->set_max_depth(s.max_depth);
  st->set_solve_seconds(s.solve_seconds);
  st->set_check_seconds(s.check_seconds);
}

SolveStats stats_from_proto(const v1::SolveStatistics& st) {
  SolveStats s;
  s.nodes = st.nodes();
  s.lps_solved = st.lps_solved();
  s.max_depth = st.max_depth();
  s.solve_seconds = st.solve_seconds();
  s.check_seconds = st.check_seconds();
  return s;
}

void cases_to_proto(const CaseTreeData& tree, v1::ErmTree* out) {
  for (const auto& sc : tree.cases) {
    auto* c = out->add_cases();
    for (const auto& t : sc.output_signs) c->add_output_signs(t);
    for (uint32_t i : sc.sample_order) c->add_sample_order(i);
    for (const auto& nd : sc.nodes) proof_node_to_proto(nd, c->add_nodes());
  }
}

void cases_from_proto(const v1::ErmTree& tree, CaseTreeData* out) {
  for (const auto& c : tree.cases()) {
    SignCaseData sc;
    sc.output_signs.assign(c.output_signs().begin(), c.output_signs().end());
    sc.sample_order.assign(c.sample_order().begin(), c.sample_order().end());
    for (const auto& n : c.nodes()) sc.nodes.push_back(proof_node_from_proto(n));
    out->cases.push_back(std::move(sc));
  }
}

}  // namespace

v1::Loss loss_to_proto(Loss loss) { return static_cast<v1::Loss>(loss); }

Loss loss_from_proto(v1::Loss loss) {
  switch (loss) {
    case v1::LOSS_LINF: return Loss::kLinf;
    case v1::LOSS_L1: return Loss::kL1;
    case v1::LOSS_L2: return Loss::kL2;
    default: return Loss::kUnspecified;
  }
}

void erm_tree_to_proto(const CertificateData& cert, v1::ErmTree* out) {
  out->set_loss(loss_to_proto(cert.erm_loss));
  out->set_threshold(cert.erm_threshold);
  out->set_strict(cert.erm_strict);
  cases_to_proto(cert.case_tree, out);
}

void erm_tree_from_proto(const v1::ErmTree& tree, CertificateData* out) {
  out->kind = CertificateData::Kind::kErmTree;
  out->erm_loss = loss_from_proto(tree.loss());
  out->erm_threshold = tree.threshold();
  out->erm_strict = tree.strict();
  cases_from_proto(tree, &out->case_tree);
}

v1::MinimizeResponse minimize_answer_to_proto(const MinimizeAnswerData& a, unsigned digits,
                                              bool include_proof) {
  v1::MinimizeResponse out;
  out.set_loss(loss_to_proto(a.loss));
  out.set_status(static_cast<v1::MinimizeStatus>(a.status));
  out.set_optimal_error(a.optimal_error);
  out.set_best_error(a.best_error);
  if (!a.best_error.empty()) out.set_best_error_decimal(render_decimal(a.best_error, digits));
  if (!a.network.neurons.empty()) {
    AnswerData fit;
    fit.verdict = Verdict::kFeasible;
    fit.network = a.network;
    *out.mutable_network() = answer_to_proto(fit, digits, false).network();
  }
  if (include_proof && a.status == MinimizeAnswerData::Status::kOptimal) {
    CertificateData cert;
    cert.erm_loss = a.loss;
    cert.erm_threshold = a.optimal_error;
    cert.erm_strict = false;
    cert.case_tree = a.proof;
    erm_tree_to_proto(cert, out.mutable_proof());
  }
  out.set_lower_bound(a.lower_bound);
  for (size_t o = 0; o < a.output_proofs.size() && include_proof; ++o) {
    CertificateData cert;
    cert.erm_loss = a.loss;
    cert.erm_threshold = a.output_bounds[o];
    cert.erm_strict = false;
    cert.case_tree = a.output_proofs[o];
    erm_tree_to_proto(cert, out.add_output_proofs());
  }
  out.set_reason(a.reason);
  stats_to_proto(a.stats, out.mutable_statistics());
  out.set_check_summary(a.check_summary);
  return out;
}

MinimizeAnswerData minimize_answer_from_proto(const v1::MinimizeResponse& r) {
  MinimizeAnswerData a;
  a.loss = loss_from_proto(r.loss());
  a.status = static_cast<MinimizeAnswerData::Status>(r.status());
  a.optimal_error = r.optimal_error();
  a.best_error = r.best_error();
  if (r.has_network()) {
    v1::SolveResponse fit;
    fit.set_verdict(v1::VERDICT_FEASIBLE);
    *fit.mutable_network() = r.network();
    a.network = answer_from_proto(fit).network;
  }
  // The proof's own loss and threshold must be the answer's: a proof for
  // another loss or bound is not a proof of this answer.
  if (r.has_proof()) {
    if (loss_from_proto(r.proof().loss()) == a.loss && r.proof().threshold() == a.optimal_error &&
        !r.proof().strict())
      cases_from_proto(r.proof(), &a.proof);
  }
  a.lower_bound = r.lower_bound();
  for (const auto& t : r.output_proofs()) {
    if (loss_from_proto(t.loss()) != a.loss || t.strict()) continue;  // not a proof of this answer
    a.output_bounds.push_back(t.threshold());
    CaseTreeData tree;
    cases_from_proto(t, &tree);
    a.output_proofs.push_back(std::move(tree));
  }
  a.reason = r.reason();
  a.stats = stats_from_proto(r.statistics());
  a.check_summary = r.check_summary();
  return a;
}

v1::MinWidthResponse min_width_answer_to_proto(const MinWidthAnswerData& a, unsigned digits,
                                               bool include_proof) {
  v1::MinWidthResponse out;
  out.set_verdict(static_cast<v1::Verdict>(a.verdict));
  out.set_width(a.width);
  out.set_max_width(a.max_width);
  if (a.fit.verdict != Verdict::kUnspecified) *out.mutable_fit() = answer_to_proto(a.fit, digits, include_proof);
  if (a.below.verdict != Verdict::kUnspecified)
    *out.mutable_below() = answer_to_proto(a.below, digits, include_proof);
  out.set_lower_bound(a.lower_bound);
  out.set_tried(a.tried);
  out.set_reason(a.reason);
  stats_to_proto(a.stats, out.mutable_statistics());
  out.set_check_summary(a.check_summary);
  return out;
}

MinWidthAnswerData min_width_answer_from_proto(const v1::MinWidthResponse& r) {
  MinWidthAnswerData a;
  a.verdict = static_cast<Verdict>(r.verdict());
  a.width = r.width();
  a.max_width = r.max_width();
  if (r.has_fit()) a.fit = answer_from_proto(r.fit());
  if (r.has_below()) a.below = answer_from_proto(r.below());
  a.lower_bound = r.lower_bound();
  a.tried = r.tried();
  a.reason = r.reason();
  a.stats = stats_from_proto(r.statistics());
  a.check_summary = r.check_summary();
  return a;
}

}  // namespace relufit
