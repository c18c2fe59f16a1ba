#include "distributed.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "algebra/breakpoints.h"
#include "algebra/checker.h"
#include "algebra/number.h"
#include "algebra/search.h"
#include "server/convert.h"

#include <google/protobuf/util/json_util.h>

namespace relufit::distributed {

// ---- files ----

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

bool write_file_atomic(const std::string& path, const std::string& content, std::string* error) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      *error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool read_json_file(const std::string& path, google::protobuf::Message* message, std::string* error) {
  std::string text;
  if (!read_file(path, &text, error)) return false;
  std::string why;
  if (!parse_json(text, message, &why)) {
    *error = path + ": " + why;
    return false;
  }
  return true;
}

bool write_json_file(const std::string& path, const google::protobuf::Message& message,
                     std::string* error) {
  // One line: result files of big subtrees hold millions of proof nodes.
  return write_file_atomic(path, to_json_line(message) + "\n", error);
}

bool load_request_message(const api::SolveRequest& proto, LoadedRequest* out, std::string* error) {
  out->proto = proto;
  out->data = request_from_proto(proto);
  if (auto e = build_problem(out->data, ProblemLimits{}, &out->problem); !e.ok()) {
    *error = e.message;
    return false;
  }
  return true;
}

bool load_request(const std::string& path, LoadedRequest* out, std::string* error) {
  api::SolveRequest proto;
  if (!read_json_file(path, &proto, error)) return false;
  if (!load_request_message(proto, out, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

uint64_t request_hash(const api::SolveRequest& request) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : to_json(request)) h = (h ^ ch) * 1099511628211ull;
  return h;
}

std::string to_json_line(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

// ---- conversions ----

namespace {

void node_to_proto(const ProofNodeData& nd, api::ProofNode* n) {
  n->set_depth(nd.depth);
  n->set_activation(nd.activation);
  n->set_kind(static_cast<api::ProofNode::Kind>(nd.kind));
  n->set_neuron(nd.neuron);
  for (const auto& e : nd.farkas) {
    auto* f = n->add_farkas();
    f->set_row(e.row);
    f->set_value(e.value);
  }
  for (const auto& e : nd.kappa) {
    auto* f = n->add_kappa();
    f->set_row(e.row);
    f->set_value(e.value);
  }
}

ProofNodeData node_from_proto(const api::ProofNode& n) {
  ProofNodeData nd;
  nd.depth = n.depth();
  nd.activation = n.activation();
  nd.kind = static_cast<ProofNodeKind>(n.kind());
  nd.neuron = n.neuron();
  for (const auto& e : n.farkas()) nd.farkas.push_back({e.row(), e.value()});
  for (const auto& e : n.kappa()) nd.kappa.push_back({e.row(), e.value()});
  return nd;
}

bool valid_activation(const std::string& act, uint32_t m) {
  return act.size() == m && act.find_first_not_of("01") == std::string::npos;
}

}  // namespace

void proof_items_to_proto(const std::vector<ProofItem>& items,
                          google::protobuf::RepeatedPtrField<pb::ProofItem>* out) {
  out->Reserve(static_cast<int>(items.size()));
  for (const ProofItem& item : items) {
    pb::ProofItem* p = out->Add();
    if (item.ref != ProofItem::kNoRef)
      p->set_ref(item.ref);
    else
      node_to_proto(item.node, p->mutable_node());
  }
}

bool proof_items_from_proto(const google::protobuf::RepeatedPtrField<pb::ProofItem>& in,
                            std::vector<ProofItem>* out, std::string* error) {
  out->clear();
  out->reserve(in.size());
  for (int i = 0; i < in.size(); ++i) {
    const pb::ProofItem& p = in[i];
    ProofItem item;
    if (p.has_ref()) {
      if (p.has_node() || p.ref() == ProofItem::kNoRef) {
        *error = "proof item " + std::to_string(i) + ": a reference carries no node";
        return false;
      }
      item.ref = p.ref();
    } else {
      item.node = node_from_proto(p.node());
    }
    out->push_back(std::move(item));
  }
  return true;
}

pb::CaseSpec case_spec_to_proto(const CaseSpec& spec, uint64_t root_id) {
  pb::CaseSpec out;
  for (const auto& s : spec.signs.strings()) out.add_output_signs(s);
  for (uint32_t i : spec.order) out.add_sample_order(i);
  out.set_root_id(root_id);
  return out;
}

bool case_spec_from_proto(const pb::CaseSpec& in, const Problem& problem, CaseSpec* out,
                          std::string* error) {
  const uint32_t m = problem.hidden_width, k = problem.output_dim;
  if (static_cast<uint32_t>(in.output_signs_size()) != m) {
    *error = "a sign case needs " + std::to_string(m) + " output sign vectors";
    return false;
  }
  SignCase sc;
  for (const std::string& s : in.output_signs()) {
    if (s.size() != k || s.find_first_not_of("+-0") != std::string::npos ||
        s.find_first_not_of('0') == std::string::npos) {
      *error = "bad output sign vector \"" + s + "\"";
      return false;
    }
    std::vector<int> t;
    for (char c : s) t.push_back(c == '+' ? 1 : c == '-' ? -1 : 0);
    uint32_t lead = 0;
    while (t[lead] == 0) ++lead;
    sc.tau.push_back(t);
    sc.lead.push_back(lead);
  }
  for (uint32_t j = 0; j < m; ++j)
    for (uint32_t o = sc.lead[j] + 1; o < k; ++o)
      if (sc.tau[j][o] != 0) sc.blocks.emplace_back(j, o);
  std::vector<bool> seen(problem.num_samples(), false);
  if (static_cast<size_t>(in.sample_order_size()) != problem.num_samples()) {
    *error = "the sample order is not a permutation of the samples";
    return false;
  }
  for (uint32_t i : in.sample_order()) {
    if (i >= seen.size() || seen[i]) {
      *error = "the sample order is not a permutation of the samples";
      return false;
    }
    seen[i] = true;
  }
  out->signs = std::move(sc);
  out->order.assign(in.sample_order().begin(), in.sample_order().end());
  // Column memos are keyed by order: equal orders, equal ids.
  uint64_t h = 1469598103934665603ull;
  for (uint32_t i : out->order) h = (h ^ i) * 1099511628211ull;
  out->order_id = h;
  return true;
}

pb::Subtree subtree_to_proto(uint32_t case_index, uint64_t id, const SubtreeRoot& root) {
  pb::Subtree out;
  out.set_case_index(case_index);
  out.set_id(id);
  for (const auto& a : root.path) out.add_path(a);
  if (root.point)
    for (const auto& v : *root.point) out.add_point(rational_to_string(v));
  return out;
}

bool subtree_from_proto(const pb::Subtree& in, const Problem& problem, SubtreeRoot* out,
                        std::string* error) {
  if (static_cast<size_t>(in.path_size()) > problem.num_samples()) {
    *error = "a subtree path is longer than the number of samples";
    return false;
  }
  out->path.clear();
  for (const std::string& a : in.path()) {
    if (!valid_activation(a, problem.hidden_width)) {
      *error = "bad activation \"" + a + "\" in a subtree path";
      return false;
    }
    out->path.push_back(a);
  }
  out->point.reset();
  if (in.point_size() > 0) {
    auto point = std::make_shared<std::vector<mpq_class>>();
    for (const std::string& s : in.point()) {
      std::string why;
      auto v = parse_exact_number(s, &why);
      if (!v) {
        *error = "bad LP point entry \"" + s + "\": " + why;
        return false;
      }
      point->push_back(*v);
    }
    out->point = std::move(point);
  }
  return true;
}

// ---- answers ----

namespace {

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

}  // namespace

std::optional<AnswerData> quick_answer(const Problem& p) {
  std::map<std::vector<mpq_class>, uint32_t> seen;
  for (uint32_t i = 0; i < p.num_samples(); ++i) {
    auto [it, inserted] = seen.emplace(p.x[i], i);
    if (!inserted && p.y[it->second] != p.y[i]) {
      AnswerData answer;
      answer.verdict = Verdict::kInfeasible;
      answer.certificate.kind = CertificateData::Kind::kConflictingPair;
      answer.certificate.first = it->second;
      answer.certificate.second = i;
      return answer;
    }
  }
  if (p.input_dim != 1) return std::nullopt;
  BreakpointDecision bp = decide_by_breakpoints(p, SearchControl{});
  if (bp.kind == BreakpointDecision::Kind::kInfeasible) {
    AnswerData answer;
    answer.verdict = Verdict::kInfeasible;
    answer.certificate.kind = CertificateData::Kind::kBreakpointBound;
    answer.certificate.breakpoint_output = bp.output;
    answer.certificate.min_breakpoints = bp.min_breakpoints;
    return answer;
  }
  if (bp.kind == BreakpointDecision::Kind::kFeasible) {
    AnswerData answer;
    answer.verdict = Verdict::kFeasible;
    std::vector<std::vector<mpq_class>> w;
    for (const auto& v : bp.fit.w) w.push_back({v});
    set_network(p, w, bp.fit.b, bp.fit.a, p.output_bias ? bp.fit.c : std::vector<mpq_class>{},
                &answer.network);
    return answer;
  }
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

bool finish_answer(const RequestData& request, AnswerData* answer, std::string* error) {
  const auto t0 = std::chrono::steady_clock::now();
  const CheckResult check = check_answer(request, *answer);
  answer->stats.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!check.valid) {
    *error = "the checker rejected the " + std::string(verdict_name(answer->verdict)) +
             " answer: " + check.message;
    return false;
  }
  answer->check_summary = check.message;
  return true;
}

// ---- the case forest ----

std::vector<OpenSubtree> CaseForest::init(const Problem& problem) {
  specs_.clear();
  root_ids_.clear();
  fragments_.clear();
  next_id_ = 0;
  std::vector<OpenSubtree> open;
  const std::vector<uint32_t> order = choose_sample_order(problem);
  for (SignCase& sc : enumerate_sign_cases(problem.hidden_width, problem.output_dim)) {
    auto spec = std::make_shared<CaseSpec>();
    spec->signs = std::move(sc);
    spec->order = order;
    OpenSubtree s;
    s.case_index = static_cast<uint32_t>(specs_.size());
    s.id = new_id();
    specs_.push_back(spec);
    root_ids_.push_back(s.id);
    open.push_back(std::move(s));
  }
  return open;
}

std::vector<OpenSubtree> CaseForest::add_result(uint32_t case_index, uint64_t id,
                                                std::vector<ProofItem> proof,
                                                std::vector<SubtreeRoot> open) {
  std::vector<OpenSubtree> out;
  std::vector<uint64_t> ids;
  for (auto& r : open) {
    OpenSubtree s;
    s.case_index = case_index;
    s.id = new_id();
    s.root = std::move(r);
    ids.push_back(s.id);
    out.push_back(std::move(s));
  }
  for (ProofItem& item : proof)
    if (item.ref != ProofItem::kNoRef) item.ref = ids.at(item.ref);
  fragments_[id] = std::move(proof);
  return out;
}

std::vector<uint64_t> CaseForest::missing() const {
  std::vector<uint64_t> out;
  std::vector<uint64_t> todo(root_ids_.begin(), root_ids_.end());
  while (!todo.empty()) {
    const uint64_t id = todo.back();
    todo.pop_back();
    auto it = fragments_.find(id);
    if (it == fragments_.end()) {
      out.push_back(id);
      continue;
    }
    for (const ProofItem& item : it->second)
      if (item.ref != ProofItem::kNoRef) todo.push_back(item.ref);
  }
  std::sort(out.begin(), out.end());
  return out;
}

CaseTreeData CaseForest::splice() {
  CaseTreeData tree;
  for (size_t c = 0; c < specs_.size(); ++c) {
    SignCaseData sc;
    sc.output_signs = specs_[c]->signs.strings();
    sc.sample_order = specs_[c]->order;
    sc.nodes = splice_proof(root_ids_[c], &fragments_);
    tree.cases.push_back(std::move(sc));
  }
  fragments_.clear();
  return tree;
}

ExpandOutcome expand(const SearchContext& ctx, CaseForest* forest, std::deque<OpenSubtree>* open,
                     size_t target, uint64_t budget, SearchCounters* counters) {
  ExpandOutcome outcome;
  auto shallower = [](const OpenSubtree& a, const OpenSubtree& b) {
    return a.root.path.size() < b.root.path.size();
  };
  std::stable_sort(open->begin(), open->end(), shallower);
  while (!open->empty() && open->size() < target) {
    OpenSubtree s = std::move(open->front());
    open->pop_front();
    SubtreeResult r =
        decide_subtree(ctx, forest->specs()[s.case_index], s.root, budget, counters);
    if (r.fit) {
      outcome.fit = std::move(r.fit);
      return outcome;
    }
    if (outcome.undecided.empty()) outcome.undecided = r.undecided;
    for (auto& child : forest->add_result(s.case_index, s.id, std::move(r.proof), std::move(r.open)))
      open->push_back(std::move(child));
    std::stable_sort(open->begin(), open->end(), shallower);
  }
  return outcome;
}

std::string describe_subtree(const CaseForest& forest, const OpenSubtree& s) {
  std::string out = "sign case (";
  const auto signs = forest.specs()[s.case_index]->signs.strings();
  for (size_t j = 0; j < signs.size(); ++j) out += (j ? " " : "") + signs[j];
  out += "), path";
  if (s.root.path.empty()) out += " (root)";
  for (const auto& a : s.root.path) out += " " + a;
  return out;
}

}  // namespace relufit::distributed
