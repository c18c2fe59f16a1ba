// relufit-shard: one solve as a static plan of shards for batch schedulers
// without MPI (Slurm job arrays, Kubernetes Indexed Jobs, a shell loop).
//
//   plan REQUEST.json --shards N --dir DIR   split the case trees into N shard files
//   run DIR --index I [--time-limit S]       decide shard I (idempotent, atomic result file)
//   merge DIR [--json]                        one verdict, its certificate checked
//   plan --resplit DIR [--shards N]           split the shards that ran out of time again
//
// DIR holds request.json (the SolveRequest), plan.json (relufit.distributed.v1.Plan),
// shard-I.json (Shard) and result-I.json (ShardResult); tools/distributed.proto
// documents them. Nothing is ever dropped: a shard without a result, or one
// that ran out of time, makes the merged verdict UNKNOWN naming it.
#include <CLI/CLI.hpp>
#include <dirent.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <map>

#include "algebra/float_guide.h"
#include "algebra/primal.h"
#include "algebra/search.h"
#include "distributed.h"
#include "server/convert.h"

namespace relufit::distributed {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0, kExitRejected = 1, kExitBadInput = 2;

std::atomic<bool> g_terminate{false};
void on_terminate(int) { g_terminate = true; }

std::string path_in(const std::string& dir, const std::string& name) { return dir + "/" + name; }
std::string shard_file(const std::string& dir, uint32_t i) {
  return path_in(dir, "shard-" + std::to_string(i) + ".json");
}
std::string result_file(const std::string& dir, uint32_t i) {
  return path_in(dir, "result-" + std::to_string(i) + ".json");
}
bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

int fail(const std::string& message) {
  std::cerr << "relufit-shard: " << message << "\n";
  return kExitBadInput;
}

std::string index_list(const std::vector<uint32_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 20) {
      out += " ... (" + std::to_string(v.size()) + " in all)";
      break;
    }
    out += (i ? " " : "") + std::to_string(v[i]);
  }
  return out;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Prints a checked answer (the SolveResponse as JSON, or a summary).
int print_answer(const LoadedRequest& req, AnswerData answer, bool json, unsigned digits,
                 const std::string& extra) {
  std::string error;
  if (!finish_answer(req.data, &answer, &error)) {
    std::cerr << "relufit-shard: " << error << "\n";
    return kExitRejected;
  }
  if (json) {
    std::cout << to_json(answer_to_proto(answer, digits, true)) << "\n";
    return kExitOk;
  }
  print_answer_text(answer, "search (sum over plan and shards)");
  if (!extra.empty()) std::cout << extra;
  return kExitOk;
}

// ---- plan ----

struct PlanSettings {
  uint32_t shards = 8;
  uint64_t plan_nodes = 16;
  double heuristic_seconds = 0.2;
};

// Writes `count` shard files (indices from plan->shards_size()) holding the
// subtrees of `open` round robin (shallowest first, so every shard gets a
// share of the big ones), then plan.json: a plan.json on disk always names
// shard files that exist.
bool write_plan(const std::string& dir, const CaseForest& forest, const std::deque<OpenSubtree>& open,
                uint32_t count, pb::Plan* plan, std::string* error) {
  std::vector<pb::Shard> shards(count);
  for (uint32_t i = 0; i < count; ++i) shards[i].set_index(static_cast<uint32_t>(plan->shards_size()) + i);
  size_t next = 0;
  for (const auto& s : open) {
    pb::Shard& shard = shards[next++ % count];
    *shard.add_subtrees() = subtree_to_proto(s.case_index, s.id, s.root);
    *shard.add_case_specs() =
        case_spec_to_proto(*forest.specs()[s.case_index], forest.root_ids()[s.case_index]);
  }
  for (pb::Shard& shard : shards) {
    if (!write_json_file(shard_file(dir, shard.index()), shard, error)) return false;
    *plan->add_shards() = std::move(shard);
  }
  plan->set_format(1);
  plan->clear_cases();
  for (size_t c = 0; c < forest.specs().size(); ++c)
    *plan->add_cases() = case_spec_to_proto(*forest.specs()[c], forest.root_ids()[c]);
  plan->clear_fragments();
  std::vector<uint64_t> ids;
  for (const auto& [id, items] : forest.fragments()) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    pb::Fragment* f = plan->add_fragments();
    f->set_id(id);
    proof_items_to_proto(forest.fragments().at(id), f->mutable_items());
  }
  plan->set_next_id(forest.next_id());
  return write_json_file(path_in(dir, "plan.json"), *plan, error);
}

// The plan's forest: cases, fragments, next id.
bool forest_from_plan(const pb::Plan& plan, const Problem& problem, CaseForest* forest,
                      std::string* error) {
  for (const pb::CaseSpec& c : plan.cases()) {
    auto spec = std::make_shared<CaseSpec>();
    if (!case_spec_from_proto(c, problem, spec.get(), error)) return false;
    forest->add_case(std::move(spec), c.root_id());
  }
  for (const pb::Fragment& f : plan.fragments()) {
    std::vector<ProofItem> items;
    if (!proof_items_from_proto(f.items(), &items, error)) return false;
    forest->add_fragment(f.id(), std::move(items));
  }
  forest->set_next_id(plan.next_id());
  return true;
}

// Records a decided plan (already checked) and says so.
// With `empty_shards`, also writes that many shard files without subtrees,
// so that an array sized in advance finds every index.
int write_decided(const std::string& dir, const LoadedRequest& req, AnswerData answer,
                  pb::Plan* plan, uint32_t empty_shards) {
  std::string error;
  if (!finish_answer(req.data, &answer, &error)) {
    std::cerr << "relufit-shard: " << error << "\n";
    return kExitRejected;
  }
  *plan->mutable_decided() = answer_to_proto(answer, 30, true);
  plan->set_format(1);
  for (uint32_t i = 0; i < empty_shards; ++i) {
    pb::Shard shard;
    shard.set_index(static_cast<uint32_t>(plan->shards_size()));
    if (!write_json_file(shard_file(dir, shard.index()), shard, &error)) return fail(error);
    *plan->add_shards() = std::move(shard);
  }
  if (!write_json_file(path_in(dir, "plan.json"), *plan, &error)) return fail(error);
  std::cout << "plan: decided while planning: " << verdict_name(answer.verdict)
            << " (checked; the shards hold nothing to do); relufit-shard merge " << dir
            << " prints it\n";
  return kExitOk;
}

void print_shards(const std::string& dir, const pb::Plan& plan, int first, size_t subtrees) {
  const int last = plan.shards_size() - 1;
  std::cout << "plan: " << (last - first + 1) << " shards, indices " << first << ".." << last
            << " in " << dir << " (" << subtrees << " open subtrees; "
            << plan.fragments_size() << " subtree proofs from planning)\n"
            << "run each with: relufit-shard run " << dir << " --index I\n";
}

int plan_new(const std::string& request_path, const std::string& dir, const PlanSettings& ps) {
  const auto t0 = Clock::now();
  LoadedRequest req;
  std::string error;
  if (!load_request(request_path, &req, &error)) return fail(error);
  if (ps.shards == 0) return fail("--shards must be at least 1");
  if (exists(path_in(dir, "plan.json")))
    return fail(dir + " already holds a plan (plan --resplit " + dir + " splits it further)");
  // Old shard or result files would be taken for this plan's.
  if (DIR* d = ::opendir(dir.c_str())) {
    bool empty = true;
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    ::closedir(d);
    if (!empty) return fail(dir + " is not empty: plan into a new or empty directory");
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return fail("cannot create " + dir + ": " + std::strerror(errno));
  if (!write_json_file(path_in(dir, "request.json"), req.proto, &error)) return fail(error);
  const Problem& p = req.problem;
  pb::Plan plan;
  SearchCounters counters;
  auto account = [&]() {
    plan.set_nodes(counters.nodes);
    plan.set_lps(counters.lps);
    plan.set_seconds(seconds_since(t0));
  };
  auto decided = [&](AnswerData answer) {
    account();
    answer.stats.nodes = plan.nodes();
    answer.stats.lps_solved = plan.lps();
    answer.stats.solve_seconds = plan.seconds();
    return write_decided(dir, req, std::move(answer), &plan, ps.shards);
  };
  if (auto quick = quick_answer(p)) return decided(std::move(*quick));
  const uint64_t cases = count_sign_cases(p.hidden_width, p.output_dim);
  if (cases > kMaxSignCases) {
    AnswerData a;
    a.verdict = Verdict::kUnknown;
    a.reason = "the sign-case split is too large (" + std::to_string(cases) + " cases)";
    return decided(std::move(a));
  }
  SearchContext ctx(p, SearchOptions{});
  if (ps.heuristic_seconds > 0) {
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(ps.heuristic_seconds));
    if (auto ffit = float_fit(p, until, 1))
      if (auto fit = try_float_pattern(ctx, *ffit, &counters))
        return decided(answer_from_fit(p, std::move(*fit)));
  }
  CaseForest forest;
  std::vector<OpenSubtree> roots = forest.init(p);
  std::deque<OpenSubtree> open(roots.begin(), roots.end());
  ExpandOutcome ex = expand(ctx, &forest, &open, ps.shards, ps.plan_nodes, &counters);
  if (ex.fit) return decided(answer_from_fit(p, std::move(*ex.fit)));
  plan.set_undecided(ex.undecided);
  if (open.empty()) {
    AnswerData a;
    if (!ex.undecided.empty()) {
      a.verdict = Verdict::kUnknown;
      a.reason = "no fit and no proof for " + ex.undecided;
    } else {
      a.verdict = Verdict::kInfeasible;
      a.certificate.kind = CertificateData::Kind::kCaseTree;
      a.certificate.case_tree = forest.splice();
    }
    return decided(std::move(a));
  }
  account();
  if (!write_plan(dir, forest, open, ps.shards, &plan, &error)) return fail(error);
  print_shards(dir, plan, 0, open.size());
  return kExitOk;
}

// The shard's subtrees by id, from the plan (what its result must cover).
std::vector<uint64_t> subtree_ids(const pb::Shard& shard) {
  std::vector<uint64_t> ids;
  for (const pb::Subtree& s : shard.subtrees()) ids.push_back(s.id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Reads DIR/result-I.json of `shard` and checks that it covers exactly the
// shard's subtrees. False with *error when unreadable or inconsistent.
bool read_result(const std::string& dir, const pb::Shard& shard, pb::ShardResult* result,
                 std::string* error) {
  const std::string rf = result_file(dir, shard.index());
  if (!read_json_file(rf, result, error)) return false;
  if (result->index() != shard.index()) {
    *error = rf + ": holds the result of shard " + std::to_string(result->index());
    return false;
  }
  std::vector<uint64_t> got;
  for (const auto& r : result->subtrees()) got.push_back(r.subtree_id());
  std::sort(got.begin(), got.end());
  if (result->status() != pb::SubtreeResult::STATUS_FIT && got != subtree_ids(shard)) {
    *error = rf + ": its subtrees are not those of shard " + std::to_string(shard.index());
    return false;
  }
  return true;
}

int plan_resplit(const std::string& dir, const PlanSettings& ps, bool shards_given) {
  const auto t0 = Clock::now();
  LoadedRequest req;
  std::string error;
  if (!load_request(path_in(dir, "request.json"), &req, &error)) return fail(error);
  pb::Plan plan;
  if (!read_json_file(path_in(dir, "plan.json"), &plan, &error)) return fail(error);
  if (plan.has_decided()) {
    std::cout << "plan: already decided while planning; nothing to split\n";
    return kExitOk;
  }
  const Problem& p = req.problem;
  CaseForest forest;
  if (!forest_from_plan(plan, p, &forest, &error)) return fail(path_in(dir, "plan.json") + ": " + error);
  std::deque<OpenSubtree> open;
  std::vector<uint32_t> split, missing;
  for (pb::Shard& shard : *plan.mutable_shards()) {
    if (shard.resplit()) continue;
    const std::string rf = result_file(dir, shard.index());
    if (!exists(rf)) {
      missing.push_back(shard.index());
      continue;
    }
    pb::ShardResult result;
    if (!read_result(dir, shard, &result, &error)) return fail(error);
    if (result.status() == pb::SubtreeResult::STATUS_FIT) {
      std::cout << "plan: shard " << shard.index() << " found a fit; relufit-shard merge " << dir
                << " prints it; nothing to split\n";
      return kExitOk;
    }
    if (result.status() != pb::SubtreeResult::STATUS_TIMEOUT) continue;
    std::map<uint64_t, uint32_t> case_of;
    for (const pb::Subtree& s : shard.subtrees()) case_of[s.id()] = s.case_index();
    for (const pb::SubtreeResult& r : result.subtrees()) {
      std::vector<ProofItem> proof;
      std::vector<SubtreeRoot> roots;
      if (!proof_items_from_proto(r.proof(), &proof, &error)) return fail(rf + ": " + error);
      for (const pb::Subtree& s : r.open()) {
        SubtreeRoot root;
        if (!subtree_from_proto(s, p, &root, &error)) return fail(rf + ": " + error);
        roots.push_back(std::move(root));
      }
      for (const ProofItem& item : proof)
        if (item.ref != ProofItem::kNoRef && item.ref >= roots.size())
          return fail(rf + ": a reference to an open node that is not listed");
      if (r.status() == pb::SubtreeResult::STATUS_DONE && !roots.empty())
        return fail(rf + ": a decided subtree with open nodes");
      for (auto& s : forest.add_result(case_of.at(r.subtree_id()), r.subtree_id(), std::move(proof),
                                       std::move(roots)))
        open.push_back(std::move(s));
      if (plan.undecided().empty()) plan.set_undecided(r.undecided());
    }
    shard.set_resplit(true);
    split.push_back(shard.index());
  }
  if (split.empty()) {
    std::cout << "plan: no shard ran out of time; nothing to split";
    if (!missing.empty()) std::cout << " (" << missing.size() << " shards have no result yet)";
    std::cout << "\n";
    return kExitOk;
  }
  SearchContext ctx(p, SearchOptions{});
  SearchCounters counters;
  const uint32_t count = shards_given ? ps.shards : static_cast<uint32_t>(2 * split.size());
  ExpandOutcome ex = expand(ctx, &forest, &open, count, ps.plan_nodes, &counters);
  plan.set_nodes(plan.nodes() + counters.nodes);
  plan.set_lps(plan.lps() + counters.lps);
  plan.set_seconds(plan.seconds() + seconds_since(t0));
  if (plan.undecided().empty()) plan.set_undecided(ex.undecided);
  if (ex.fit) {
    AnswerData a = answer_from_fit(p, std::move(*ex.fit));
    a.stats.nodes = plan.nodes();
    a.stats.lps_solved = plan.lps();
    a.stats.solve_seconds = plan.seconds();
    return write_decided(dir, req, std::move(a), &plan, 0);
  }
  const int first = plan.shards_size();
  if (!write_plan(dir, forest, open, count, &plan, &error)) return fail(error);
  std::cout << "plan: split " << split.size() << " timed-out shards (" << index_list(split) << ")";
  if (!missing.empty()) std::cout << "; " << missing.size() << " other shards have no result yet";
  std::cout << "\n";
  print_shards(dir, plan, first, open.size());
  return kExitOk;
}

// ---- run ----

int run_shard(const std::string& dir, uint32_t index, double time_limit, uint64_t node_limit) {
  const auto t0 = Clock::now();
  const std::string rf = result_file(dir, index);
  if (exists(rf)) {
    std::cout << "shard " << index << ": result exists (" << rf << "); nothing to do\n";
    return kExitOk;
  }
  LoadedRequest req;
  std::string error;
  if (!load_request(path_in(dir, "request.json"), &req, &error)) return fail(error);
  pb::Shard shard;
  if (!read_json_file(shard_file(dir, index), &shard, &error)) return fail(error);
  if (shard.index() != index) return fail(shard_file(dir, index) + ": holds shard " + std::to_string(shard.index()));
  if (shard.case_specs_size() != shard.subtrees_size())
    return fail(shard_file(dir, index) + ": one case spec per subtree expected");
  const Problem& p = req.problem;
  std::signal(SIGTERM, on_terminate);
  std::signal(SIGINT, on_terminate);
  SearchContext ctx(p, SearchOptions{});
  SearchCounters counters;
  NodeMemo memo;
  const Clock::time_point deadline =
      time_limit > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(time_limit))
                     : Clock::time_point::max();
  uint64_t polls = 0;
  auto poll = [&]() {
    if (g_terminate) return SubtreeSearch::Poll::kPause;
    if ((++polls & 15) == 0 && Clock::now() >= deadline) return SubtreeSearch::Poll::kPause;
    return SubtreeSearch::Poll::kGo;
  };
  pb::ShardResult result;
  result.set_index(index);
  result.set_status(pb::SubtreeResult::STATUS_DONE);
  const char* stop = nullptr;  // why the search stopped early
  size_t decided = 0;
  for (int t = 0; t < shard.subtrees_size(); ++t) {
    const pb::Subtree& sub = shard.subtrees(t);
    pb::SubtreeResult* r = result.add_subtrees();
    r->set_subtree_id(sub.id());
    if (stop) {  // not started: itself is its open node
      r->set_status(pb::SubtreeResult::STATUS_TIMEOUT);
      r->add_proof()->set_ref(0);
      pb::Subtree* o = r->add_open();
      *o = sub;
      o->set_id(0);
      continue;
    }
    auto spec = std::make_shared<CaseSpec>();
    SubtreeRoot root;
    if (!case_spec_from_proto(shard.case_specs(t), p, spec.get(), &error) ||
        !subtree_from_proto(sub, p, &root, &error))
      return fail(shard_file(dir, index) + ": " + error);
    SubtreeSearch search(ctx, spec, std::move(root));
    const uint64_t used = counters.nodes;
    const uint64_t budget = node_limit == 0 ? ~uint64_t{0} : node_limit > used ? node_limit - used : 0;
    const auto status = search.run(budget, poll, &memo, &counters);
    if (status == SubtreeSearch::Status::kFit) {
      AnswerData a = answer_from_fit(p, std::move(*search.fit()));
      if (!finish_answer(req.data, &a, &error)) {
        std::cerr << "relufit-shard: " << error << "\n";
        return kExitRejected;
      }
      r->set_status(pb::SubtreeResult::STATUS_FIT);
      result.set_status(pb::SubtreeResult::STATUS_FIT);
      *result.mutable_fit() = answer_to_proto(a, 30, true);
      break;  // one fit decides the problem
    }
    if (status == SubtreeSearch::Status::kDone) {
      r->set_status(pb::SubtreeResult::STATUS_DONE);
      ++decided;
    } else {
      uint64_t next = 0;
      for (auto& [id, o] : search.close([&]() { return next++; }))
        *r->add_open() = subtree_to_proto(sub.case_index(), id, o);
      r->set_status(pb::SubtreeResult::STATUS_TIMEOUT);
      stop = g_terminate ? "stopped by a signal"
                         : status == SubtreeSearch::Status::kBudget ? "node limit" : "time limit";
    }
    proof_items_to_proto(search.proof(), r->mutable_proof());
    r->set_undecided(search.undecided());
  }
  if (stop && result.status() != pb::SubtreeResult::STATUS_FIT)
    result.set_status(pb::SubtreeResult::STATUS_TIMEOUT);
  result.set_nodes(counters.nodes);
  result.set_lps(counters.lps);
  result.set_seconds(seconds_since(t0));
  if (!write_json_file(rf, result, &error)) return fail(error);
  std::printf("shard %u: ", index);
  if (result.status() == pb::SubtreeResult::STATUS_FIT) {
    std::printf("a fit (checked)");
  } else {
    std::printf("%zu of %d subtrees decided", decided, shard.subtrees_size());
    if (stop) {
      size_t open = 0;
      for (const auto& r : result.subtrees()) open += static_cast<size_t>(r.open_size());
      std::printf(" (%s; %zu open subtrees, plan --resplit splits them)", stop, open);
    }
  }
  std::printf(", %llu nodes, %.3f s\n", static_cast<unsigned long long>(counters.nodes.load()),
              result.seconds());
  return kExitOk;
}

// ---- merge ----

int merge(const std::string& dir, bool json, unsigned digits) {
  LoadedRequest req;
  std::string error;
  if (!load_request(path_in(dir, "request.json"), &req, &error)) return fail(error);
  pb::Plan plan;
  if (!read_json_file(path_in(dir, "plan.json"), &plan, &error)) return fail(error);
  if (plan.has_decided()) return print_answer(req, answer_from_proto(plan.decided()), json, digits, "");
  const Problem& p = req.problem;
  CaseForest forest;
  if (!forest_from_plan(plan, p, &forest, &error)) return fail(path_in(dir, "plan.json") + ": " + error);
  std::vector<uint32_t> missing, timed_out, done;
  std::optional<api::SolveResponse> fit;
  std::string undecided = plan.undecided();
  uint64_t nodes = plan.nodes(), lps = plan.lps();
  double seconds = plan.seconds();
  size_t live = 0;
  for (const pb::Shard& shard : plan.shards()) {
    const std::string rf = result_file(dir, shard.index());
    pb::ShardResult result;
    if (shard.resplit()) {
      // Its partial proofs are in the plan now; its work still counts.
      if (read_json_file(rf, &result, &error)) {
        nodes += result.nodes();
        lps += result.lps();
        seconds += result.seconds();
      }
      continue;
    }
    ++live;
    if (!exists(rf)) {
      missing.push_back(shard.index());
      continue;
    }
    if (!read_result(dir, shard, &result, &error)) return fail(error);
    nodes += result.nodes();
    lps += result.lps();
    seconds += result.seconds();
    if (result.status() == pb::SubtreeResult::STATUS_FIT) {
      if (!fit) fit = result.fit();
      done.push_back(shard.index());
      continue;
    }
    bool complete = true;
    for (const pb::SubtreeResult& r : result.subtrees()) {
      if (undecided.empty()) undecided = r.undecided();
      if (r.status() != pb::SubtreeResult::STATUS_DONE) {
        complete = false;
        continue;
      }
      std::vector<ProofItem> proof;
      if (!proof_items_from_proto(r.proof(), &proof, &error)) return fail(rf + ": " + error);
      for (const ProofItem& item : proof)
        if (item.ref != ProofItem::kNoRef) return fail(rf + ": a decided subtree's proof has a reference");
      forest.add_fragment(r.subtree_id(), std::move(proof));
    }
    (complete ? done : timed_out).push_back(shard.index());
  }
  std::string extra = "shards: " + std::to_string(done.size()) + " of " + std::to_string(live) + " done";
  if (!missing.empty()) extra += ", " + std::to_string(missing.size()) + " without a result (" + index_list(missing) + ")";
  if (!timed_out.empty()) extra += ", " + std::to_string(timed_out.size()) + " out of time (" + index_list(timed_out) + ")";
  extra += "\n";
  AnswerData answer;
  if (fit) {
    answer = answer_from_proto(*fit);
    answer.certificate = {};
  } else if (!missing.empty() || !timed_out.empty()) {
    answer.verdict = Verdict::kUnknown;
    answer.reason = "incomplete: ";
    if (!missing.empty())
      answer.reason += std::to_string(missing.size()) + " shards have no result (" + index_list(missing) + ")";
    if (!timed_out.empty())
      answer.reason += std::string(missing.empty() ? "" : "; ") + std::to_string(timed_out.size()) +
                       " shards ran out of time (" + index_list(timed_out) +
                       "; relufit-shard plan --resplit splits them)";
  } else if (!undecided.empty()) {
    answer.verdict = Verdict::kUnknown;
    answer.reason = "no fit and no proof for " + undecided +
                    ": its linear relaxation is feasible, no rational output weights fit, and the "
                    "algebraic step found no fit";
  } else if (auto lost = forest.missing(); !lost.empty()) {
    answer.verdict = Verdict::kUnknown;
    answer.reason = "internal: " + std::to_string(lost.size()) +
                    " subtrees are referenced but neither planned nor in a shard";
  } else {
    answer.verdict = Verdict::kInfeasible;
    answer.certificate.kind = CertificateData::Kind::kCaseTree;
    answer.certificate.case_tree = forest.splice();
  }
  answer.stats.nodes = nodes;
  answer.stats.lps_solved = lps;
  answer.stats.solve_seconds = seconds;
  return print_answer(req, std::move(answer), json, digits, json ? "" : extra);
}

}  // namespace
}  // namespace relufit::distributed

int main(int argc, char** argv) {
  using namespace relufit::distributed;
  CLI::App app{
      "One relufit solve as a static plan of shards (Slurm job arrays, Kubernetes Indexed Jobs, "
      "a shell loop): plan, run every shard, merge into one checked verdict"};
  app.require_subcommand(1);

  PlanSettings ps;
  std::string request, dir, resplit;
  CLI::App* plan = app.add_subcommand(
      "plan", "split REQUEST.json's case trees into open subtrees (at least N when the search lasts that long) dealt into exactly N shard files");
  plan->add_option("request", request, "a relufit.v1.SolveRequest in protobuf JSON");
  plan->add_option("--dir", dir, "directory for the plan (created; must not hold a plan yet)");
  auto* shards_opt = plan->add_option("--shards", ps.shards, "shard files to write, and open subtrees to make at least (default 8)");
  plan->add_option("--resplit", resplit,
                   "split the shards of plan DIR that ran out of time: their partial proofs go into "
                   "the plan, their open subtrees into --shards new shard files (default: twice as "
                   "many as were split), numbered after the existing ones");
  plan->add_option("--plan-nodes", ps.plan_nodes,
                   "node budget of each subtree decided while planning (default 16)");
  plan->add_option("--heuristic-seconds", ps.heuristic_seconds,
                   "float fit tried at the start (seconds, default 0.2; 0: off)");

  uint32_t index = 0;
  double time_limit = 0;
  uint64_t node_limit = 0;
  CLI::App* run = app.add_subcommand(
      "run", "decide shard I of plan DIR and write DIR/result-I.json (skipped when it exists)");
  run->add_option("dir", dir, "plan directory")->required();
  run->add_option("--index", index, "shard index (e.g. $SLURM_ARRAY_TASK_ID)")->required();
  run->add_option("--time-limit", time_limit,
                  "seconds; then the result is 'timeout' with the open subtrees (default: none)");
  run->add_option("--node-limit", node_limit, "search nodes (0: none)");

  bool json = false;
  unsigned digits = 30;
  CLI::App* merge_cmd = app.add_subcommand(
      "merge", "merge every result of plan DIR into one verdict, checked by the independent checker");
  merge_cmd->add_option("dir", dir, "plan directory")->required();
  merge_cmd->add_flag("--json", json, "print the SolveResponse as protobuf JSON (as the service does)");
  merge_cmd->add_option("--digits", digits, "significant digits of decimal renderings (default 30)");
  app.footer(
      "Exit status: 0 with a checked verdict (FEASIBLE, INFEASIBLE, or UNKNOWN with the reason, "
      "e.g. shards without a result); 1 when the checker rejects an answer (never printed as a "
      "verdict); 2 for bad input.");

  CLI11_PARSE(app, argc, argv);
  if (plan->parsed()) {
    if (!resplit.empty()) {
      if (!request.empty() || !dir.empty()) return fail("plan --resplit DIR takes no request or --dir");
      return plan_resplit(resplit, ps, shards_opt->count() > 0);
    }
    if (request.empty() || dir.empty()) return fail("plan needs REQUEST.json and --dir DIR (or --resplit DIR)");
    return plan_new(request, dir, ps);
  }
  if (run->parsed()) return run_shard(dir, index, time_limit, node_limit);
  if (digits == 0 || digits > 1000) return fail("--digits must be in 1..1000");
  return merge(dir, json, digits);
}
