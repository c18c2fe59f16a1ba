#include "distributed.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

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
      proof_node_to_proto(item.node, p->mutable_node());
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
      item.node = proof_node_from_proto(p.node());
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
  std::vector<std::vector<int>> tau;
  for (const std::string& s : in.output_signs()) {
    if (s.size() != k || s.find_first_not_of("+-0") != std::string::npos ||
        s.find_first_not_of('0') == std::string::npos) {
      *error = "bad output sign vector \"" + s + "\"";
      return false;
    }
    std::vector<int> t = sign_vector(s);
    if (!is_lemma1_sign_vector(t)) {
      *error = "output sign vector \"" + s + "\" has a 0 after its lead (Lemma 1)";
      return false;
    }
    tau.push_back(std::move(t));
  }
  SignCase sc = SignCase::of(std::move(tau));
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

void print_answer_text(const AnswerData& answer, const std::string& time_label) {
  std::cout << "verdict: " << verdict_name(answer.verdict) << "\n";
  if (!answer.reason.empty()) std::cout << "reason: " << answer.reason << "\n";
  if (answer.certificate.kind == CertificateData::Kind::kCaseTree) {
    size_t nodes = 0;
    for (const auto& sc : answer.certificate.case_tree.cases) nodes += sc.nodes.size();
    std::cout << "proof: case tree over " << answer.certificate.case_tree.cases.size()
              << " sign cases, " << nodes << " nodes\n";
  }
  std::cout << "checked: " << answer.check_summary << "\n";
  std::printf("statistics: %llu nodes, %llu LPs, %s %.3f s, check %.3f s\n",
              static_cast<unsigned long long>(answer.stats.nodes),
              static_cast<unsigned long long>(answer.stats.lps_solved), time_label.c_str(),
              answer.stats.solve_seconds, answer.stats.check_seconds);
  std::fflush(stdout);
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
