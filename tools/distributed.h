// The distributed search's shared parts (relufit-shard, relufit-mpi): the
// case forest (each sign case's tree as proof fragments by subtree id, and
// the open subtrees still to decide), its expansion by small node budgets,
// the merge into one case tree, the conversion of fragments to and from
// tools/distributed.proto, and atomic files. Every verdict built here goes
// through the independent checker (finish_answer) before anyone prints it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "algebra/answer.h"
#include "algebra/problem.h"
#include "algebra/search_pattern.h"
#include "algebra/search_rows.h"
#include "algebra/search_subtree.h"
#include "algebra/solver.h"  // quick_answer, answer_from_fit
#include "distributed.pb.h"
#include "relufit/v1/relufit.pb.h"

namespace relufit::distributed {

namespace pb = ::relufit::distributed::v1;
namespace api = ::relufit::v1;

// ---- files ----

bool read_file(const std::string& path, std::string* out, std::string* error);
// Writes PATH.tmp.PID, syncs it, renames it to PATH: readers see the old or
// the new file, never a part.
bool write_file_atomic(const std::string& path, const std::string& content, std::string* error);
bool read_json_file(const std::string& path, google::protobuf::Message* message, std::string* error);
bool write_json_file(const std::string& path, const google::protobuf::Message& message,
                     std::string* error);

// A request as the tools use it. `problem` refers to nothing in the others.
struct LoadedRequest {
  api::SolveRequest proto;
  RequestData data;
  Problem problem;
};
bool load_request(const std::string& path, LoadedRequest* out, std::string* error);
// FNV-1a of the request's protobuf JSON: names the request in checkpoints.
uint64_t request_hash(const api::SolveRequest& request);
// Protobuf JSON on one line (for JSON-lines files).
std::string to_json_line(const google::protobuf::Message& message);
bool load_request_message(const api::SolveRequest& proto, LoadedRequest* out, std::string* error);

// ---- conversions ----

void proof_items_to_proto(const std::vector<ProofItem>& items,
                          google::protobuf::RepeatedPtrField<pb::ProofItem>* out);
bool proof_items_from_proto(const google::protobuf::RepeatedPtrField<pb::ProofItem>& in,
                            std::vector<ProofItem>* out, std::string* error);
pb::CaseSpec case_spec_to_proto(const CaseSpec& spec, uint64_t root_id);
// Checks the signs and the order against the problem.
bool case_spec_from_proto(const pb::CaseSpec& in, const Problem& problem, CaseSpec* out,
                          std::string* error);
pb::Subtree subtree_to_proto(uint32_t case_index, uint64_t id, const SubtreeRoot& root);
// Checks the path's shape against the problem (the point is only a hint).
bool subtree_from_proto(const pb::Subtree& in, const Problem& problem, SubtreeRoot* out,
                        std::string* error);

// ---- answers ----

// The human-readable lines both tools print for a checked answer: verdict,
// reason, proof size, the checker's summary and the statistics (the solve
// time under `time_label`).
void print_answer_text(const AnswerData& answer, const std::string& time_label);
// Runs the independent checker; on success sets check_summary and returns
// true. A FEASIBLE or INFEASIBLE answer the checker rejects must never be
// printed: the caller reports *error and fails.
bool finish_answer(const RequestData& request, AnswerData* answer, std::string* error);

// ---- the case forest ----

struct OpenSubtree {
  uint32_t case_index = 0;
  uint64_t id = 0;
  SubtreeRoot root;
};

class CaseForest {
 public:
  // Every sign case of the problem, each with the sample order of
  // choose_sample_order and an open root subtree (returned).
  std::vector<OpenSubtree> init(const Problem& problem);

  // The proof of subtree `id` as decide_subtree returns it (references 0..k-1
  // to `open`): references get fresh ids; the new open subtrees are returned.
  std::vector<OpenSubtree> add_result(uint32_t case_index, uint64_t id, std::vector<ProofItem> proof,
                                      std::vector<SubtreeRoot> open);
  // A complete proof of subtree `id` (its references, if any, are ids
  // already known to the forest).
  void add_fragment(uint64_t id, std::vector<ProofItem> proof) { fragments_[id] = std::move(proof); }

  // Subtree ids referenced from some case root but without a fragment.
  std::vector<uint64_t> missing() const;
  // One case tree of every case (requires missing() to be empty). Moves the
  // fragments out (a proof of millions of nodes is not copied): the forest
  // holds no fragments afterwards.
  CaseTreeData splice();

  uint64_t new_id() { return next_id_++; }
  uint64_t next_id() const { return next_id_; }
  void set_next_id(uint64_t id) { next_id_ = id; }
  const std::vector<std::shared_ptr<const CaseSpec>>& specs() const { return specs_; }
  const std::vector<uint64_t>& root_ids() const { return root_ids_; }
  const std::unordered_map<uint64_t, std::vector<ProofItem>>& fragments() const { return fragments_; }
  void add_case(std::shared_ptr<const CaseSpec> spec, uint64_t root_id) {
    specs_.push_back(std::move(spec));
    root_ids_.push_back(root_id);
  }

 private:
  std::vector<std::shared_ptr<const CaseSpec>> specs_;
  std::vector<uint64_t> root_ids_;
  std::unordered_map<uint64_t, std::vector<ProofItem>> fragments_;
  uint64_t next_id_ = 0;
};

struct ExpandOutcome {
  std::optional<ExactFit> fit;
  std::string undecided;  // a complete pattern neither fitted nor refuted
};

// Decides open subtrees, shallowest first, each with decide_subtree and
// `budget` nodes, until at least `target` are open or none is left. The
// subtrees still open are left in *open, shallowest first.
ExpandOutcome expand(const SearchContext& ctx, CaseForest* forest, std::deque<OpenSubtree>* open,
                     size_t target, uint64_t budget, SearchCounters* counters);

// "sign case (+ -), path 10 01 11" for messages.
std::string describe_subtree(const CaseForest& forest, const OpenSubtree& s);

}  // namespace relufit::distributed
