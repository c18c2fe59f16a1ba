#include "server/convert.h"

#include <google/protobuf/util/json_util.h>

#include "algebra/number.h"
#include "server/erm_convert.h"

namespace relufit {
namespace {

v1::ExactNumber exact(const std::string& value, unsigned digits) {
  v1::ExactNumber out;
  if (auto parts = split_algebraic_text(value)) {
    auto* alg = out.mutable_algebraic();
    for (const auto& c : parts->min_poly) alg->add_min_poly(c);
    alg->set_lower(parts->lower);
    alg->set_upper(parts->upper);
  } else {
    out.set_rational(value);
  }
  out.set_decimal(render_decimal(value, digits));
  return out;
}

// The internal text of a number: its rational, or "root(...)" (number.h).
std::string text_of(const v1::ExactNumber& n) {
  if (!n.has_algebraic()) return n.rational();
  // Exactly one of the two: a number carrying both is rejected by the checker.
  if (!n.rational().empty()) return "root(?)";
  AlgebraicParts parts;
  parts.min_poly.assign(n.algebraic().min_poly().begin(), n.algebraic().min_poly().end());
  parts.lower = n.algebraic().lower();
  parts.upper = n.algebraic().upper();
  return join_algebraic_text(parts);
}

// Sparse multiplier lists (Farkas vectors, kappa, feature-span multipliers).
void entries_to_proto(const std::vector<FarkasEntryData>& from,
                      google::protobuf::RepeatedPtrField<v1::FarkasEntry>* to) {
  for (const auto& e : from) {
    auto* fe = to->Add();
    fe->set_row(e.row);
    fe->set_value(e.value);
  }
}

void entries_from_proto(const google::protobuf::RepeatedPtrField<v1::FarkasEntry>& from,
                        std::vector<FarkasEntryData>* to) {
  for (const auto& e : from) to->push_back({e.row(), e.value()});
}

}  // namespace

void proof_node_to_proto(const ProofNodeData& nd, v1::ProofNode* n) {
  n->set_depth(nd.depth);
  n->set_activation(nd.activation);
  n->set_kind(static_cast<v1::ProofNode::Kind>(nd.kind));
  n->set_neuron(nd.neuron);
  entries_to_proto(nd.farkas, n->mutable_farkas());
  entries_to_proto(nd.kappa, n->mutable_kappa());
  if (!nd.bound.empty()) n->set_erm_bound(nd.bound);
  for (const auto& t : nd.products) {
    auto* pt = n->add_products();
    pt->set_kind(static_cast<v1::ProductTerm::Kind>(t.kind));
    pt->set_a(t.a);
    pt->set_b(t.b);
    pt->set_c(t.c);
    pt->set_d(t.d);
    pt->set_coefficient(t.coefficient);
  }
  for (const auto& b : nd.boxes) {
    auto* rb = n->add_boxes();
    rb->set_kind(b.split ? v1::RatioBox::KIND_SPLIT : v1::RatioBox::KIND_LEAF);
    rb->set_block(b.block);
    rb->set_threshold(b.threshold);
    entries_to_proto(b.farkas, rb->mutable_farkas());
  }
}

ProofNodeData proof_node_from_proto(const v1::ProofNode& n) {
  ProofNodeData nd;
  nd.depth = n.depth();
  nd.activation = n.activation();
  nd.kind = static_cast<ProofNodeKind>(n.kind());
  nd.neuron = n.neuron();
  entries_from_proto(n.farkas(), &nd.farkas);
  entries_from_proto(n.kappa(), &nd.kappa);
  nd.bound = n.erm_bound();
  for (const auto& t : n.products())
    nd.products.push_back({static_cast<ProductKind>(t.kind()), t.a(), t.b(), t.c(), t.d(), t.coefficient()});
  for (const auto& b : n.boxes()) {
    RatioBoxData rb;
    // Anything but a split is read as a leaf; the checker rejects a leaf
    // without a valid Farkas vector.
    rb.split = b.kind() == v1::RatioBox::KIND_SPLIT;
    rb.block = b.block();
    rb.threshold = b.threshold();
    entries_from_proto(b.farkas(), &rb.farkas);
    nd.boxes.push_back(std::move(rb));
  }
  return nd;
}

v1::FitRegions regions_to_proto(const FitRegionsData& data) {
  v1::FitRegions out;
  for (const auto& v : data.box_lower) out.add_box_lower(rational_to_string(v));
  for (const auto& v : data.box_upper) out.add_box_upper(rational_to_string(v));
  for (const auto& r : data.regions) {
    auto* region = out.add_regions();
    for (const auto& p : r.vertices) {
      auto* point = region->add_vertices();
      for (const auto& c : p) point->add_coordinates(rational_to_string(c));
    }
    region->set_activation(r.activation);
    for (const auto& m : r.maps) {
      auto* map = region->add_maps();
      for (const auto& g : m.gradient) map->add_gradient(rational_to_string(g));
      map->set_offset(rational_to_string(m.offset));
    }
  }
  out.set_approximated(data.approximated);
  return out;
}

RequestData request_from_proto(const v1::SolveRequest& request) {
  RequestData r;
  const auto& arch = request.architecture();
  r.input_dim = arch.input_dim();
  r.hidden_width = arch.hidden_width();
  r.output_dim = arch.output_dim();
  r.hidden_bias = !arch.has_hidden_bias() || arch.hidden_bias();
  r.output_bias = !arch.has_output_bias() || arch.output_bias();
  for (const auto& s : request.dataset().samples()) {
    r.x.emplace_back(s.x().begin(), s.x().end());
    r.y.emplace_back(s.y().begin(), s.y().end());
  }
  r.loss = loss_from_proto(request.options().loss());
  r.max_error = request.options().max_error();
  return r;
}

v1::SolveRequest request_to_proto(const RequestData& r) {
  v1::SolveRequest out;
  auto* arch = out.mutable_architecture();
  arch->set_input_dim(r.input_dim);
  arch->set_hidden_width(r.hidden_width);
  arch->set_output_dim(r.output_dim);
  arch->set_hidden_bias(r.hidden_bias);
  arch->set_output_bias(r.output_bias);
  for (size_t i = 0; i < r.x.size(); ++i) {
    auto* s = out.mutable_dataset()->add_samples();
    for (const auto& v : r.x[i]) s->add_x(v);
    if (i < r.y.size())
      for (const auto& v : r.y[i]) s->add_y(v);
  }
  if (r.loss != Loss::kUnspecified) out.mutable_options()->set_loss(loss_to_proto(r.loss));
  if (!r.max_error.empty()) out.mutable_options()->set_max_error(r.max_error);
  return out;
}

v1::SolveResponse answer_to_proto(const AnswerData& a, unsigned digits, bool include_proof) {
  v1::SolveResponse out;
  out.set_verdict(static_cast<v1::Verdict>(a.verdict));
  out.set_reason(a.reason);
  out.set_check_summary(a.check_summary);
  if (a.verdict == Verdict::kFeasible) {
    auto* net = out.mutable_network();
    for (const auto& nd : a.network.neurons) {
      auto* n = net->add_neurons();
      for (const auto& v : nd.input_weights) *n->add_input_weights() = exact(v, digits);
      if (!nd.bias.empty()) *n->mutable_bias() = exact(nd.bias, digits);
      for (const auto& v : nd.output_weights) *n->add_output_weights() = exact(v, digits);
    }
    for (const auto& v : a.network.output_bias) *net->add_output_bias() = exact(v, digits);
    for (const auto& act : a.network.activation) net->add_activation(act);
  }
  if (a.verdict == Verdict::kInfeasible) {
    auto* cert = out.mutable_certificate();
    if (a.certificate.kind == CertificateData::Kind::kConflictingPair) {
      cert->mutable_conflicting_pair()->set_first(a.certificate.first);
      cert->mutable_conflicting_pair()->set_second(a.certificate.second);
    } else if (a.certificate.kind == CertificateData::Kind::kBreakpointBound) {
      // A few bytes: sent even without include_proof, like the conflicting pair.
      cert->mutable_breakpoint_bound()->set_output(a.certificate.breakpoint_output);
      cert->mutable_breakpoint_bound()->set_min_breakpoints(a.certificate.min_breakpoints);
    } else if (a.certificate.kind == CertificateData::Kind::kFeatureSpan &&
               (include_proof || a.certificate.feature_span.lambda.empty())) {
      // The rank-only form is empty: sent even without include_proof.
      const FeatureSpanData& fs = a.certificate.feature_span;
      auto* span = cert->mutable_feature_span();
      for (const auto& v : fs.lambda) span->add_lambda(v);
      for (const auto& pd : fs.patterns) {
        auto* pp = span->add_patterns();
        entries_to_proto(pd.mu_up, pp->mutable_mu_up());
        entries_to_proto(pd.eta_up, pp->mutable_eta_up());
        entries_to_proto(pd.mu_down, pp->mutable_mu_down());
        entries_to_proto(pd.eta_down, pp->mutable_eta_down());
      }
    } else if (a.certificate.kind == CertificateData::Kind::kErmTree && include_proof) {
      erm_tree_to_proto(a.certificate, cert->mutable_erm_tree());
    } else if (a.certificate.kind == CertificateData::Kind::kCaseTree && include_proof) {
      auto* tree = cert->mutable_case_tree();
      for (const auto& sc : a.certificate.case_tree.cases) {
        auto* c = tree->add_cases();
        for (const auto& t : sc.output_signs) c->add_output_signs(t);
        for (uint32_t i : sc.sample_order) c->add_sample_order(i);
        for (const auto& nd : sc.nodes) proof_node_to_proto(nd, c->add_nodes());
      }
    }
  }
  auto* st = out.mutable_statistics();
  st->set_nodes(a.stats.nodes);
  st->set_lps_solved(a.stats.lps_solved);
  st->set_max_depth(a.stats.max_depth);
  st->set_solve_seconds(a.stats.solve_seconds);
  st->set_check_seconds(a.stats.check_seconds);
  return out;
}

AnswerData answer_from_proto(const v1::SolveResponse& r) {
  AnswerData a;
  a.verdict = static_cast<Verdict>(r.verdict());
  a.reason = r.reason();
  a.check_summary = r.check_summary();
  for (const auto& n : r.network().neurons()) {
    NeuronData nd;
    for (const auto& v : n.input_weights()) nd.input_weights.push_back(text_of(v));
    if (n.has_bias()) nd.bias = text_of(n.bias());
    for (const auto& v : n.output_weights()) nd.output_weights.push_back(text_of(v));
    a.network.neurons.push_back(std::move(nd));
  }
  for (const auto& v : r.network().output_bias()) a.network.output_bias.push_back(text_of(v));
  for (const auto& act : r.network().activation()) a.network.activation.push_back(act);
  const auto& cert = r.certificate();
  if (cert.has_conflicting_pair()) {
    a.certificate.kind = CertificateData::Kind::kConflictingPair;
    a.certificate.first = cert.conflicting_pair().first();
    a.certificate.second = cert.conflicting_pair().second();
  } else if (cert.has_breakpoint_bound()) {
    a.certificate.kind = CertificateData::Kind::kBreakpointBound;
    a.certificate.breakpoint_output = cert.breakpoint_bound().output();
    a.certificate.min_breakpoints = cert.breakpoint_bound().min_breakpoints();
  } else if (cert.has_feature_span()) {
    a.certificate.kind = CertificateData::Kind::kFeatureSpan;
    FeatureSpanData& fs = a.certificate.feature_span;
    fs.lambda.assign(cert.feature_span().lambda().begin(), cert.feature_span().lambda().end());
    for (const auto& pp : cert.feature_span().patterns()) {
      FeatureSpanPatternData pd;
      entries_from_proto(pp.mu_up(), &pd.mu_up);
      entries_from_proto(pp.eta_up(), &pd.eta_up);
      entries_from_proto(pp.mu_down(), &pd.mu_down);
      entries_from_proto(pp.eta_down(), &pd.eta_down);
      fs.patterns.push_back(std::move(pd));
    }
  } else if (cert.has_erm_tree()) {
    erm_tree_from_proto(cert.erm_tree(), &a.certificate);
  } else if (cert.has_case_tree()) {
    a.certificate.kind = CertificateData::Kind::kCaseTree;
    auto& tree = a.certificate.case_tree;
    for (const auto& c : cert.case_tree().cases()) {
      SignCaseData sc;
      sc.output_signs.assign(c.output_signs().begin(), c.output_signs().end());
      sc.sample_order.assign(c.sample_order().begin(), c.sample_order().end());
      for (const auto& n : c.nodes()) sc.nodes.push_back(proof_node_from_proto(n));
      tree.cases.push_back(std::move(sc));
    }
  }
  a.stats.nodes = r.statistics().nodes();
  a.stats.lps_solved = r.statistics().lps_solved();
  a.stats.max_depth = r.statistics().max_depth();
  a.stats.solve_seconds = r.statistics().solve_seconds();
  a.stats.check_seconds = r.statistics().check_seconds();
  return a;
}

bool parse_json(const std::string& json, google::protobuf::Message* message, std::string* error) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    if (error) *error = std::string(status.message());
    return false;
  }
  return true;
}

const v1::SolveRequest& job_problem(const v1::Job& job) {
  switch (job.kind()) {
    case v1::JOB_KIND_MINIMIZE: return job.minimize_request().request();
    case v1::JOB_KIND_MIN_WIDTH: return job.min_width_request().request();
    default: return job.request();
  }
}

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace relufit
