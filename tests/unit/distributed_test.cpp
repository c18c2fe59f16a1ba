// The distributed search's shared parts (tools/distributed.h): a case forest
// expanded, decided in parts that travel through protobuf JSON, and spliced
// back is a proof the checker accepts; a part left out is reported, never
// spliced over; bad shard data is rejected with a reason.
#include <gtest/gtest.h>

#include "algebra/checker.h"
#include "distributed.h"
#include "server/convert.h"

namespace relufit::distributed {
namespace {

// A width-1 INFEASIBLE instance: XOR-like labels on a 3 x 3 grid corner
// (one neuron's output is monotone along every line; these labels are not).
RequestData xor_request() {
  RequestData r;
  r.input_dim = 2;
  r.hidden_width = 1;
  r.output_dim = 1;
  const int pts[][3] = {{0, 0, 0}, {1, 0, 1}, {0, 1, 1}, {1, 1, 0}, {2, 0, 2}, {0, 2, 2}, {2, 2, 0}};
  for (const auto& p : pts) {
    r.x.push_back({std::to_string(p[0]), std::to_string(p[1])});
    r.y.push_back({std::to_string(p[2])});
  }
  return r;
}

// Round trip of a fragment through the proto and its JSON text.
std::vector<ProofItem> through_json(const std::vector<ProofItem>& items) {
  pb::Fragment f;
  proof_items_to_proto(items, f.mutable_items());
  pb::Fragment back;
  std::string error;
  EXPECT_TRUE(parse_json(to_json_line(f), &back, &error)) << error;
  std::vector<ProofItem> out;
  EXPECT_TRUE(proof_items_from_proto(back.items(), &out, &error)) << error;
  return out;
}

TEST(Distributed, PartsThroughJsonSpliceIntoACheckedProof) {
  const RequestData r = xor_request();
  Problem p;
  ASSERT_TRUE(build_problem(r, {}, &p).ok());
  SearchContext ctx(p, SearchOptions{});
  SearchCounters counters;
  CaseForest forest;
  std::vector<OpenSubtree> roots = forest.init(p);
  std::deque<OpenSubtree> open(roots.begin(), roots.end());
  ExpandOutcome ex = expand(ctx, &forest, &open, 6, 2, &counters);
  ASSERT_FALSE(ex.fit);
  ASSERT_GE(open.size(), 6u);
  EXPECT_EQ(forest.missing().size(), open.size());
  // Every open subtree decided apart, its root and proof through JSON.
  std::vector<OpenSubtree> decided(open.begin(), open.end());
  std::vector<ProofItem> held_back;
  for (size_t t = 0; t < decided.size(); ++t) {
    const OpenSubtree& s = decided[t];
    SubtreeRoot root;
    std::string error;
    ASSERT_TRUE(subtree_from_proto(subtree_to_proto(s.case_index, s.id, s.root), p, &root, &error)) << error;
    SubtreeResult part = decide_subtree(ctx, forest.specs()[s.case_index], root, 1u << 30, &counters);
    ASSERT_FALSE(part.fit);
    ASSERT_TRUE(part.open.empty());
    if (t + 1 < decided.size())
      forest.add_fragment(s.id, through_json(part.proof));
    else
      held_back = part.proof;
  }
  // One part left out: missing names it, nothing is spliced over it.
  ASSERT_EQ(forest.missing(), std::vector<uint64_t>{decided.back().id});
  forest.add_fragment(decided.back().id, through_json(held_back));
  ASSERT_TRUE(forest.missing().empty());
  AnswerData answer;
  answer.verdict = Verdict::kInfeasible;
  answer.certificate.kind = CertificateData::Kind::kCaseTree;
  answer.certificate.case_tree = forest.splice();
  std::string error;
  EXPECT_TRUE(finish_answer(r, &answer, &error)) << error;
  // Every node visited anywhere is in the spliced tree, once.
  size_t nodes = 0;
  for (const auto& sc : answer.certificate.case_tree.cases) nodes += sc.nodes.size();
  EXPECT_EQ(nodes, counters.nodes.load());
  // A tampered Farkas value is rejected by the checker.
  for (auto& sc : answer.certificate.case_tree.cases)
    for (auto& n : sc.nodes)
      if (!n.farkas.empty()) {
        n.farkas[0].value = "12345";
        EXPECT_FALSE(finish_answer(r, &answer, &error));
        return;
      }
}

TEST(Distributed, AddResultRenumbersReferences) {
  CaseForest forest;
  Problem p;
  ASSERT_TRUE(build_problem(xor_request(), {}, &p).ok());
  auto roots = forest.init(p);
  std::vector<ProofItem> proof(3);
  proof[0].node.kind = ProofNodeKind::kBranch;
  proof[1].ref = 1;
  proof[2].ref = 0;
  std::vector<SubtreeRoot> open(2);
  open[0].path = {"1"};
  open[1].path = {"0"};
  auto kids = forest.add_result(roots[0].case_index, roots[0].id, proof, open);
  ASSERT_EQ(kids.size(), 2u);
  const auto& stored = forest.fragments().at(roots[0].id);
  EXPECT_EQ(stored[1].ref, kids[1].id);
  EXPECT_EQ(stored[2].ref, kids[0].id);
  EXPECT_EQ(kids[0].root.path, open[0].path);
  EXPECT_NE(kids[0].id, kids[1].id);
}

TEST(Distributed, BadShardDataIsRejectedWithAReason) {
  Problem p;
  ASSERT_TRUE(build_problem(xor_request(), {}, &p).ok());
  std::string error;
  CaseSpec spec;
  pb::CaseSpec cs;
  cs.add_output_signs("+");
  for (uint32_t i = 0; i < p.num_samples(); ++i) cs.add_sample_order(i);
  EXPECT_TRUE(case_spec_from_proto(cs, p, &spec, &error)) << error;
  pb::CaseSpec dup = cs;
  dup.set_sample_order(1, 0);
  EXPECT_FALSE(case_spec_from_proto(dup, p, &spec, &error));
  EXPECT_NE(error.find("permutation"), std::string::npos) << error;
  pb::CaseSpec zero = cs;
  zero.set_output_signs(0, "0");
  EXPECT_FALSE(case_spec_from_proto(zero, p, &spec, &error));
  SubtreeRoot root;
  pb::Subtree st;
  st.add_path("2");
  EXPECT_FALSE(subtree_from_proto(st, p, &root, &error));
  EXPECT_NE(error.find("activation"), std::string::npos) << error;
  st.clear_path();
  st.add_path("1");
  st.add_point("1/0");
  EXPECT_FALSE(subtree_from_proto(st, p, &root, &error));
  pb::Fragment f;
  f.add_items()->set_ref(3);
  f.mutable_items(0)->mutable_node()->set_depth(1);
  std::vector<ProofItem> items;
  EXPECT_FALSE(proof_items_from_proto(f.items(), &items, &error));
}

}  // namespace
}  // namespace relufit::distributed
