// relufit-mpi: one solve on the ranks of an Open MPI job (DESIGN.md 5).
//
//   mpirun -np N relufit-mpi REQUEST.json [--json] [--time-limit S] [--checkpoint FILE]
//
// Rank 0 reads the request and sends it to every rank, answers what needs no
// search (conflicting pair, d = 1 breakpoints, a float fit's pattern), then
// expands the case trees until there are many more open subtrees than ranks.
// Rank 0 both searches and coordinates: idle ranks ask it for work and get
// the shallowest open subtree; when none is left, rank 0 splits its own
// search or asks a busy rank to donate the untried children of its
// shallowest open node (SubtreeSearch::donate). The first fit ends the run;
// otherwise rank 0 splices every subtree proof into one case tree, runs the
// independent checker and prints the SolveResponse (JSON with --json).
//
// Messages (MPI_BYTE payloads of tools/distributed.proto messages):
//   worker -> 0: kTagReady (empty), kTagResult (ShardResult with subtree_id),
//                kTagDonated (Subtrees), kTagBye (ShardResult: the rank's totals)
//   0 -> worker: kTagTask (Shard), kTagDonateAsk, kTagStop
// Rank 0 sends without blocking (MPI_Isend); workers' blocking sends always
// find rank 0 receiving, so no cycle of blocked sends can form. After
// kTagStop a worker sends kTagBye and nothing else; rank 0 drains every
// message until each worker's kTagBye, so no message is left unmatched.
//
// --checkpoint FILE: a JSON-lines file of relufit.distributed.v1.Plan
// records: the first names the request (request_hash) and the sign cases;
// each later one holds a decided subtree's proof (fragments) and the roots
// of the subtrees it references (shards[0].subtrees). Records are appended as
// subtrees are decided; a rerun with the same file resumes: it searches only
// the subtrees referenced but not yet decided (a torn last line is ignored).
#include <mpi.h>
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <list>
#include <set>

#include "algebra/float_guide.h"
#include "algebra/primal.h"
#include "algebra/search.h"
#include "distributed.h"
#include "server/convert.h"

namespace relufit::distributed {
namespace {

using Clock = std::chrono::steady_clock;

enum Tag : int {
  kTagReady = 1,
  kTagTask = 2,
  kTagResult = 3,
  kTagDonateAsk = 4,
  kTagDonated = 5,
  kTagStop = 6,
  kTagBye = 7,
};

constexpr int kExitOk = 0, kExitRejected = 1, kExitBadInput = 2;

std::string receive(int source, int tag, MPI_Status* status) {
  MPI_Probe(source, tag, MPI_COMM_WORLD, status);
  int count = 0;
  MPI_Get_count(status, MPI_BYTE, &count);
  std::string buf(static_cast<size_t>(count), '\0');
  MPI_Recv(buf.data(), count, MPI_BYTE, status->MPI_SOURCE, status->MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return buf;
}

void send_blocking(int dest, int tag, const std::string& buf) {
  MPI_Send(buf.data(), static_cast<int>(buf.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

// Rank 0's sends: non-blocking, buffers kept until complete.
class Outbox {
 public:
  void send(int dest, int tag, std::string buf) {
    pending_.emplace_back();
    Pending& p = pending_.back();
    p.buf = std::move(buf);
    MPI_Isend(p.buf.data(), static_cast<int>(p.buf.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD,
              &p.request);
  }
  void progress() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      it = done ? pending_.erase(it) : std::next(it);
    }
  }
  void flush() {
    for (auto& p : pending_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
    pending_.clear();
  }

 private:
  struct Pending {
    std::string buf;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  std::list<Pending> pending_;
};

// CPU seconds of the calling thread: the search's own work, whatever else
// the machine runs (MPI waits are outside the measured calls).
double thread_cpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string serialize(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

// ---- workers (ranks >= 1) ----

int worker(int rank, const LoadedRequest& req) {
  const Problem& p = req.problem;
  SearchContext ctx(p, SearchOptions{});
  SearchCounters counters;
  NodeMemo memo;
  double search_cpu = 0;
  uint64_t next_local = 0;
  auto new_id = [&]() { return (static_cast<uint64_t>(rank) << 48) | next_local++; };
  send_blocking(0, kTagReady, "");
  bool stop = false;
  while (!stop) {
    MPI_Status st;
    const std::string msg = receive(0, MPI_ANY_TAG, &st);
    if (st.MPI_TAG == kTagStop) break;
    if (st.MPI_TAG == kTagDonateAsk) {  // idle: nothing to give
      send_blocking(0, kTagDonated, serialize(pb::Subtrees{}));
      continue;
    }
    if (st.MPI_TAG != kTagTask) continue;
    pb::Shard task;
    std::string error;
    auto spec = std::make_shared<CaseSpec>();
    SubtreeRoot root;
    if (!task.ParseFromString(msg) || task.subtrees_size() != 1 || task.case_specs_size() != 1 ||
        !case_spec_from_proto(task.case_specs(0), p, spec.get(), &error) ||
        !subtree_from_proto(task.subtrees(0), p, &root, &error)) {
      std::cerr << "relufit-mpi: rank " << rank << ": bad task: " << error << "\n";
      MPI_Abort(MPI_COMM_WORLD, kExitRejected);
    }
    SubtreeSearch search(ctx, spec, std::move(root));
    uint64_t polls = 0;
    auto poll = [&]() {
      if ((++polls & 3) == 0) {
        int flag = 0;
        MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag) return SubtreeSearch::Poll::kPause;
      }
      return SubtreeSearch::Poll::kGo;
    };
    const uint64_t nodes_before = counters.nodes;
    while (true) {
      const double c0 = thread_cpu();
      const auto status = search.run(~uint64_t{0}, poll, &memo, &counters);
      search_cpu += thread_cpu() - c0;
      if (status == SubtreeSearch::Status::kPaused) {
        const std::string m = receive(0, MPI_ANY_TAG, &st);
        if (st.MPI_TAG == kTagStop) {
          stop = true;
          break;
        }
        if (st.MPI_TAG == kTagDonateAsk) {
          pb::Subtrees gift;
          for (auto& [id, r] : search.donate(new_id))
            *gift.add_subtrees() = subtree_to_proto(task.subtrees(0).case_index(), id, r);
          send_blocking(0, kTagDonated, serialize(gift));
        }
        continue;
      }
      pb::ShardResult result;
      pb::SubtreeResult* sub = result.add_subtrees();
      sub->set_subtree_id(task.subtrees(0).id());
      if (status == SubtreeSearch::Status::kFit) {
        sub->set_status(pb::SubtreeResult::STATUS_FIT);
        result.set_status(pb::SubtreeResult::STATUS_FIT);
        *result.mutable_fit() = answer_to_proto(answer_from_fit(p, std::move(*search.fit())), 30, true);
      } else {
        sub->set_status(pb::SubtreeResult::STATUS_DONE);
        result.set_status(pb::SubtreeResult::STATUS_DONE);
        proof_items_to_proto(search.proof(), sub->mutable_proof());
        sub->set_undecided(search.undecided());
      }
      result.set_nodes(counters.nodes - nodes_before);
      send_blocking(0, kTagResult, serialize(result));
      break;
    }
  }
  pb::ShardResult totals;
  totals.set_nodes(counters.nodes);
  totals.set_lps(counters.lps);
  totals.set_seconds(search_cpu);
  send_blocking(0, kTagBye, serialize(totals));
  return kExitOk;
}

// ---- the checkpoint ----

class Checkpoint {
 public:
  bool enabled() const { return !path_.empty(); }

  // Opens FILE; when it holds records of this request, loads them into
  // *forest and *roots and returns true in *resumed.
  bool open(const std::string& path, uint64_t hash, const Problem& problem, CaseForest* forest,
            std::unordered_map<uint64_t, OpenSubtree>* roots, bool* resumed, std::string* error) {
    path_ = path;
    *resumed = false;
    std::ifstream in(path);
    std::string line;
    bool header = false;
    uint64_t max_id = 0;
    size_t records = 0;
    off_t good_end = 0;  // the end of the last whole record
    bool torn = false;
    while (in && std::getline(in, line)) {
      pb::Plan rec;
      std::string why;
      if (in.eof() || !parse_json(line, &rec, &why)) {  // a torn last line
        torn = true;
        break;
      }
      good_end += static_cast<off_t>(line.size() + 1);
      if (!header) {
        if (rec.request_hash() != hash) {
          *error = path + " is the checkpoint of another request";
          return false;
        }
        for (const pb::CaseSpec& c : rec.cases()) {
          auto spec = std::make_shared<CaseSpec>();
          if (!case_spec_from_proto(c, problem, spec.get(), error)) return false;
          forest->add_case(spec, c.root_id());
          OpenSubtree s;
          s.case_index = static_cast<uint32_t>(forest->specs().size() - 1);
          s.id = c.root_id();
          (*roots)[s.id] = s;
          max_id = std::max(max_id, c.root_id());
        }
        header = true;
        continue;
      }
      for (const pb::Shard& sh : rec.shards())
        for (const pb::Subtree& sub : sh.subtrees()) {
          OpenSubtree s;
          s.case_index = sub.case_index();
          s.id = sub.id();
          if (s.case_index >= forest->specs().size() ||
              !subtree_from_proto(sub, problem, &s.root, error))
            return false;
          if (s.id < (uint64_t{1} << 48)) max_id = std::max(max_id, s.id);
          (*roots)[s.id] = std::move(s);
        }
      for (const pb::Fragment& f : rec.fragments()) {
        std::vector<ProofItem> items;
        if (!proof_items_from_proto(f.items(), &items, error)) return false;
        forest->add_fragment(f.id(), std::move(items));
        ++records;
      }
    }
    if (header) {
      forest->set_next_id(max_id + 1);
      *resumed = true;
      resumed_records_ = records;
    }
    // Appending after a torn line would join it to the next record.
    if (torn && ::truncate(path.c_str(), good_end) != 0) {
      *error = "cannot truncate " + path + ": " + std::strerror(errno);
      return false;
    }
    out_ = std::fopen(path.c_str(), "a");
    if (!out_) {
      *error = "cannot append to " + path + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }

  void write_header(const CaseForest& forest, uint64_t hash) {
    pb::Plan rec;
    rec.set_format(1);
    rec.set_request_hash(hash);
    for (size_t c = 0; c < forest.specs().size(); ++c)
      *rec.add_cases() = case_spec_to_proto(*forest.specs()[c], forest.root_ids()[c]);
    append(rec);
  }

  // A decided subtree and the roots of the subtrees its proof references.
  void write_fragment(uint64_t id, const std::vector<ProofItem>& items,
                      const std::unordered_map<uint64_t, OpenSubtree>& roots) {
    if (!out_ || written_.count(id)) return;
    written_.insert(id);
    pb::Plan rec;
    pb::Fragment* f = rec.add_fragments();
    f->set_id(id);
    proof_items_to_proto(items, f->mutable_items());
    pb::Shard* refs = rec.add_shards();
    for (const ProofItem& item : items) {
      if (item.ref == ProofItem::kNoRef) continue;
      auto it = roots.find(item.ref);
      if (it == roots.end()) continue;
      *refs->add_subtrees() = subtree_to_proto(it->second.case_index, it->second.id, it->second.root);
    }
    append(rec);
  }

  void mark_written(uint64_t id) { written_.insert(id); }
  size_t resumed_records() const { return resumed_records_; }
  void close() {
    if (out_) {
      std::fflush(out_);
      ::fsync(fileno(out_));
      std::fclose(out_);
      out_ = nullptr;
    }
  }

 private:
  void append(const pb::Plan& rec) {
    if (!out_) return;
    const std::string line = to_json_line(rec) + "\n";
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);  // in the kernel now: a crash of this process loses nothing
  }

  std::string path_;
  std::FILE* out_ = nullptr;
  std::set<uint64_t> written_;
  size_t resumed_records_ = 0;
};

// ---- rank 0 ----

struct Settings {
  bool json = false;
  double time_limit = 0;
  std::string checkpoint;
  uint32_t subtrees_per_rank = 16;
  uint64_t plan_nodes = 16;
  double heuristic_seconds = 0.2;
  bool rank_stats = false;
  unsigned digits = 30;
};

class Coordinator {
 public:
  Coordinator(const LoadedRequest& req, int size, const Settings& s)
      : req_(req), size_(size), settings_(s), ctx_(req.problem, SearchOptions{}),
        busy_(static_cast<size_t>(size), false), asked_(static_cast<size_t>(size), false),
        next_ask_(static_cast<size_t>(size)),
        rank_nodes_(static_cast<size_t>(size), 0), rank_cpu_(static_cast<size_t>(size), 0) {}

  int run() {
    started_ = Clock::now();
    if (settings_.time_limit > 0)
      deadline_ = started_ + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(settings_.time_limit));
    std::optional<AnswerData> answer = prepare();
    if (!answer) {
      loop();
      answer = conclude();
    }
    shutdown();
    if (checkpoint_.enabled()) checkpoint_.close();
    return print(std::move(*answer));
  }

 private:
  // Answers without search, the float fit, the checkpoint, the expansion.
  // Returns the answer when that decides the problem.
  std::optional<AnswerData> prepare() {
    const Problem& p = req_.problem;
    if (auto quick = quick_answer(p)) return quick;
    const uint64_t cases = count_sign_cases(p.hidden_width, p.output_dim);
    if (cases > kMaxSignCases) {
      AnswerData a;
      a.verdict = Verdict::kUnknown;
      a.reason = "the sign-case split is too large (" + std::to_string(cases) + " cases)";
      return a;
    }
    if (settings_.heuristic_seconds > 0) {
      const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(settings_.heuristic_seconds));
      if (auto ffit = float_fit(p, until, 1))
        if (auto fit = try_float_pattern(ctx_, *ffit, &counters_)) return answer_from_fit(p, std::move(*fit));
    }
    const uint64_t hash = request_hash(req_.proto);
    bool resumed = false;
    if (!settings_.checkpoint.empty()) {
      std::string error;
      if (!checkpoint_.open(settings_.checkpoint, hash, p, &forest_, &roots_, &resumed, &error)) {
        AnswerData a;
        a.verdict = Verdict::kUnknown;
        a.reason = "checkpoint: " + error;
        bad_input_ = error;
        return a;
      }
    }
    if (resumed) {
      for (uint64_t id : forest_.missing()) {
        auto it = roots_.find(id);
        if (it == roots_.end()) {
          AnswerData a;
          a.verdict = Verdict::kUnknown;
          a.reason = "checkpoint: subtree " + std::to_string(id) + " is referenced but its root is not recorded";
          bad_input_ = a.reason;
          return a;
        }
        pool_.push_back(it->second);
      }
      for (const auto& [id, items] : forest_.fragments()) checkpoint_.mark_written(id);
      std::cerr << "relufit-mpi: resumed from " << settings_.checkpoint << ": "
                << checkpoint_.resumed_records() << " subtrees decided, " << pool_.size()
                << " open\n";
    } else {
      for (auto& s : forest_.init(p)) {
        roots_[s.id] = s;
        pool_.push_back(std::move(s));
      }
      if (checkpoint_.enabled()) checkpoint_.write_header(forest_, hash);
    }
    outstanding_ = pool_.size();
    const size_t target = static_cast<size_t>(size_) * settings_.subtrees_per_rank;
    const size_t before = pool_.size();
    const double c0 = thread_cpu();
    ExpandOutcome ex = expand(ctx_, &forest_, &pool_, target, settings_.plan_nodes, &counters_);
    search_cpu_ += thread_cpu() - c0;
    if (ex.fit) return answer_from_fit(p, std::move(*ex.fit));
    if (undecided_.empty()) undecided_ = ex.undecided;
    // Expansion decided some subtrees and opened others: record both.
    for (const auto& s : pool_) roots_.emplace(s.id, s);
    outstanding_ = pool_.size();
    for (const auto& [id, items] : forest_.fragments()) checkpoint_.write_fragment(id, items, roots_);
    (void)before;
    return std::nullopt;
  }

  void loop() {
    Clock::time_point last_service = Clock::now();
    while (true) {
      service();
      outbox_.progress();
      if (fit_ || outstanding_ == 0) return;
      if (Clock::now() >= deadline_) {
        timed_out_ = true;
        return;
      }
      dispatch();
      if (!mine_ && !pool_.empty()) {
        mine_meta_ = std::move(pool_.front());
        pool_.pop_front();
        mine_ = std::make_unique<SubtreeSearch>(ctx_, forest_.specs()[mine_meta_.case_index], mine_meta_.root);
      }
      if (!mine_) {
        ::usleep(200);
        continue;
      }
      uint64_t polls = 0;
      auto poll = [&]() {
        if ((++polls & 3) == 0 && Clock::now() - last_service > std::chrono::milliseconds(2))
          return SubtreeSearch::Poll::kPause;
        return SubtreeSearch::Poll::kGo;
      };
      const double c0 = thread_cpu();
      const auto status = mine_->run(~uint64_t{0}, poll, &memo_, &counters_);
      search_cpu_ += thread_cpu() - c0;
      last_service = Clock::now();
      if (status == SubtreeSearch::Status::kFit) {
        fit_ = answer_to_proto(answer_from_fit(req_.problem, std::move(*mine_->fit())), 30, true);
        mine_.reset();
      } else if (status == SubtreeSearch::Status::kDone) {
        if (undecided_.empty()) undecided_ = mine_->undecided();
        decided(mine_meta_.id, mine_->take_proof());
        mine_.reset();
      }
    }
  }

  void decided(uint64_t id, std::vector<ProofItem> proof) {
    checkpoint_.write_fragment(id, proof, roots_);
    forest_.add_fragment(id, std::move(proof));
    --outstanding_;
  }

  void service() {
    while (true) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
      if (!flag) return;
      const std::string msg = receive(st.MPI_SOURCE, st.MPI_TAG, &st);
      handle(st.MPI_SOURCE, st.MPI_TAG, msg);
    }
  }

  void handle(int src, int tag, const std::string& msg) {
    switch (tag) {
      case kTagReady:
        idle_.push_back(src);
        break;
      case kTagResult: {
        pb::ShardResult r;
        if (!r.ParseFromString(msg)) fatal("unreadable result from rank " + std::to_string(src));
        busy_[src] = false;
        idle_.push_back(src);
        if (r.status() == pb::SubtreeResult::STATUS_FIT) {
          if (!fit_) fit_ = r.fit();
          break;
        }
        if (r.subtrees_size() != 1 || r.subtrees(0).status() != pb::SubtreeResult::STATUS_DONE)
          fatal("a result from rank " + std::to_string(src) + " is not one decided subtree");
        const pb::SubtreeResult& sub = r.subtrees(0);
        std::vector<ProofItem> proof;
        std::string error;
        if (!proof_items_from_proto(sub.proof(), &proof, &error)) fatal(error);
        if (undecided_.empty()) undecided_ = sub.undecided();
        decided(sub.subtree_id(), std::move(proof));
        ++tasks_done_;
        break;
      }
      case kTagDonated: {
        pb::Subtrees gift;
        if (!gift.ParseFromString(msg)) fatal("unreadable donation from rank " + std::to_string(src));
        asked_[src] = false;
        // Nothing to give (its search is on its last path): not again at once.
        if (gift.subtrees_size() == 0) next_ask_[src] = Clock::now() + std::chrono::milliseconds(20);
        for (const pb::Subtree& s : gift.subtrees()) {
          OpenSubtree o;
          std::string error;
          o.case_index = s.case_index();
          o.id = s.id();
          if (o.case_index >= forest_.specs().size() ||
              !subtree_from_proto(s, req_.problem, &o.root, &error))
            fatal("bad donation from rank " + std::to_string(src) + ": " + error);
          roots_[o.id] = o;
          pool_.push_back(std::move(o));
          ++outstanding_;
          ++donations_;
        }
        break;
      }
      case kTagBye: {
        pb::ShardResult totals;
        totals.ParseFromString(msg);
        rank_nodes_[src] = totals.nodes();
        rank_cpu_[src] = totals.seconds();
        worker_nodes_ += totals.nodes();
        worker_lps_ += totals.lps();
        ++byes_;
        break;
      }
      default:
        fatal("unexpected message tag " + std::to_string(tag) + " from rank " + std::to_string(src));
    }
  }

  void send_task(int r, const OpenSubtree& s) {
    pb::Shard task;
    *task.add_subtrees() = subtree_to_proto(s.case_index, s.id, s.root);
    *task.add_case_specs() = case_spec_to_proto(*forest_.specs()[s.case_index], forest_.root_ids()[s.case_index]);
    outbox_.send(r, kTagTask, serialize(task));
    busy_[r] = true;
  }

  void dispatch() {
    while (!idle_.empty()) {
      if (pool_.empty() && mine_) {
        for (auto& [id, r] : mine_->donate([this]() { return forest_.new_id(); })) {
          OpenSubtree o;
          o.case_index = mine_meta_.case_index;
          o.id = id;
          o.root = std::move(r);
          roots_[o.id] = o;
          pool_.push_back(std::move(o));
          ++outstanding_;
        }
      }
      if (pool_.empty()) break;
      const int r = idle_.front();
      idle_.pop_front();
      send_task(r, pool_.front());
      pool_.pop_front();
    }
    // Ranks without work (rank 0 too, once its own subtree is done) and
    // nothing to give: ask busy ranks to split.
    size_t asks = idle_.size() + (mine_ || !pool_.empty() ? 0 : 1);
    if (asks == 0) return;
    const Clock::time_point now = Clock::now();
    for (int r = 1; r < size_ && asks > 0; ++r) {
      if (!busy_[r] || asked_[r] || now < next_ask_[r]) continue;
      outbox_.send(r, kTagDonateAsk, "");
      asked_[r] = true;
      --asks;
    }
  }

  void shutdown() {
    for (int r = 1; r < size_; ++r) outbox_.send(r, kTagStop, "");
    while (byes_ < size_ - 1) {
      MPI_Status st;
      const std::string msg = receive(MPI_ANY_SOURCE, MPI_ANY_TAG, &st);
      if (st.MPI_TAG == kTagBye) {
        handle(st.MPI_SOURCE, st.MPI_TAG, msg);
      } else if (st.MPI_TAG == kTagResult && !fit_) {
        pb::ShardResult r;
        if (r.ParseFromString(msg) && r.status() == pb::SubtreeResult::STATUS_FIT) fit_ = r.fit();
      }
    }
    outbox_.flush();
  }

  AnswerData conclude() {
    AnswerData a;
    if (fit_) {
      a = answer_from_proto(*fit_);
      a.certificate = {};
      a.check_summary.clear();
      return a;
    }
    if (timed_out_) {
      a.verdict = Verdict::kUnknown;
      a.reason = "time limit (" + std::to_string(outstanding_) + " subtrees undecided";
      a.reason += checkpoint_.enabled() ? "; decided ones are in the checkpoint, a rerun resumes)" : ")";
      return a;
    }
    if (!undecided_.empty()) {
      a.verdict = Verdict::kUnknown;
      a.reason = "no fit and no proof for " + undecided_ +
                 ": its linear relaxation is feasible, no rational output weights fit, and the "
                 "algebraic step found no fit";
      return a;
    }
    if (auto lost = forest_.missing(); !lost.empty()) {
      a.verdict = Verdict::kUnknown;
      a.reason = "internal: " + std::to_string(lost.size()) + " subtrees have no proof";
      return a;
    }
    a.verdict = Verdict::kInfeasible;
    a.certificate.kind = CertificateData::Kind::kCaseTree;
    a.certificate.case_tree = forest_.splice();
    return a;
  }

  int print(AnswerData answer) {
    if (!bad_input_.empty()) {
      std::cerr << "relufit-mpi: " << bad_input_ << "\n";
      return kExitBadInput;
    }
    rank_nodes_[0] = counters_.nodes;
    rank_cpu_[0] = search_cpu_;
    answer.stats.nodes = counters_.nodes + worker_nodes_;
    answer.stats.lps_solved = counters_.lps + worker_lps_;
    answer.stats.max_depth = counters_.max_depth;
    answer.stats.solve_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    std::string error;
    if (!finish_answer(req_.data, &answer, &error)) {
      std::cerr << "relufit-mpi: " << error << "\n";
      return kExitRejected;
    }
    std::string ranks = "ranks: " + std::to_string(size_) + ", nodes per rank:";
    for (uint64_t n : rank_nodes_) ranks += " " + std::to_string(n);
    ranks += ", search CPU s per rank:";
    for (double c : rank_cpu_) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.3f", c);
      ranks += buf;
    }
    ranks += ", subtrees decided by other ranks: " + std::to_string(tasks_done_) +
             ", subtrees donated by other ranks: " + std::to_string(donations_) + "\n";
    if (settings_.rank_stats) std::cerr << "relufit-mpi: " << ranks;
    if (settings_.json) {
      std::cout << to_json(answer_to_proto(answer, settings_.digits, true)) << "\n";
      return kExitOk;
    }
    print_answer_text(answer, "wall");
    if (!settings_.rank_stats) std::cout << ranks;
    return kExitOk;
  }

  [[noreturn]] void fatal(const std::string& why) {
    std::cerr << "relufit-mpi: rank 0: " << why << "\n";
    MPI_Abort(MPI_COMM_WORLD, kExitRejected);
    std::abort();
  }

  const LoadedRequest& req_;
  const int size_;
  const Settings settings_;
  SearchContext ctx_;
  SearchCounters counters_;
  NodeMemo memo_;
  CaseForest forest_;
  std::unordered_map<uint64_t, OpenSubtree> roots_;  // every subtree root handed out
  std::deque<OpenSubtree> pool_;
  uint64_t outstanding_ = 0;  // subtrees open anywhere (pool, ranks, own search)
  std::deque<int> idle_;
  std::vector<bool> busy_, asked_;
  std::vector<Clock::time_point> next_ask_;  // no donation request before then
  std::unique_ptr<SubtreeSearch> mine_;
  OpenSubtree mine_meta_;
  std::optional<api::SolveResponse> fit_;
  std::string undecided_, bad_input_;
  Outbox outbox_;
  Checkpoint checkpoint_;
  Clock::time_point started_, deadline_ = Clock::time_point::max();
  bool timed_out_ = false;
  int byes_ = 0;
  uint64_t worker_nodes_ = 0, worker_lps_ = 0, tasks_done_ = 0, donations_ = 0;
  std::vector<uint64_t> rank_nodes_;
  std::vector<double> rank_cpu_;
  double search_cpu_ = 0;  // rank 0's own search and expansion
};

// Rank 0 reads the request and broadcasts its JSON (length -1: bad input).
bool share_request(int rank, const std::string& file, LoadedRequest* req, std::string* error) {
  std::string text;
  long long length = -1;
  if (rank == 0) {
    if (read_file(file, &text, error)) {
      api::SolveRequest proto;
      std::string why;
      if (!parse_json(text, &proto, &why)) {
        *error = file + ": " + why;
      } else if (!load_request_message(proto, req, &why)) {
        *error = file + ": " + why;
      } else {
        text = proto.SerializeAsString();
        length = static_cast<long long>(text.size());
      }
    }
  }
  MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  if (length < 0) return false;
  text.resize(static_cast<size_t>(length));
  MPI_Bcast(text.data(), static_cast<int>(length), MPI_BYTE, 0, MPI_COMM_WORLD);
  if (rank == 0) return true;
  api::SolveRequest proto;
  if (!proto.ParseFromString(text) || !load_request_message(proto, req, error)) {
    *error = "rank " + std::to_string(rank) + ": cannot read the broadcast request";
    return false;
  }
  return true;
}

}  // namespace
}  // namespace relufit::distributed

int main(int argc, char** argv) {
  using namespace relufit::distributed;
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  CLI::App app{
      "One relufit solve on the ranks of an MPI job (mpirun -np N relufit-mpi REQUEST.json): rank 0 "
      "splits the case tree, every rank searches subtrees, idle ranks get work from busy ones; the "
      "merged answer is checked by the independent checker before it is printed"};
  std::string file;
  Settings s;
  app.add_option("request", file, "a relufit.v1.SolveRequest in protobuf JSON")->required();
  app.add_flag("--json", s.json, "print the SolveResponse as protobuf JSON (as the service does)");
  app.add_option("--time-limit", s.time_limit, "seconds (default: none); then UNKNOWN");
  app.add_option("--checkpoint", s.checkpoint,
                 "append decided subtrees to FILE as they arrive; a rerun with the same FILE "
                 "resumes from them");
  app.add_option("--subtrees-per-rank", s.subtrees_per_rank,
                 "open subtrees rank 0 makes per rank before handing out work (default 16)");
  app.add_option("--plan-nodes", s.plan_nodes, "node budget of each subtree rank 0 expands (default 16)");
  app.add_option("--heuristic-seconds", s.heuristic_seconds,
                 "float fit tried first on rank 0 (seconds, default 0.2; 0: off)");
  app.add_flag("--rank-stats", s.rank_stats, "print the nodes and search CPU seconds of every rank on stderr (else on stdout after the verdict, without --json)");
  app.add_option("--digits", s.digits, "significant digits of decimal renderings (default 30)");
  app.footer(
      "Exit status (rank 0): 0 with a checked verdict (FEASIBLE, INFEASIBLE, or UNKNOWN with the "
      "reason); 1 when the checker rejects the merged answer (never printed as a verdict); 2 for "
      "bad input.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : kExitBadInput);
    MPI_Finalize();
    return code == 0 ? 0 : kExitBadInput;
  }
  LoadedRequest req;
  std::string error;
  int code = kExitOk;
  if (s.digits == 0 || s.digits > 1000 || s.subtrees_per_rank == 0) {
    if (rank == 0) std::cerr << "relufit-mpi: --digits must be in 1..1000, --subtrees-per-rank >= 1\n";
    code = kExitBadInput;
  } else if (!share_request(rank, file, &req, &error)) {
    if (rank == 0) std::cerr << "relufit-mpi: " << error << "\n";
    code = kExitBadInput;
  } else if (rank == 0) {
    code = Coordinator(req, size, s).run();
  } else {
    code = worker(rank, req);
  }
  MPI_Finalize();
  return code;
}
