// The scheduler of the search: sign cases, subtree tasks on the solve's
// threads, restarts and the primal heuristic. Node evaluation and "decide
// this subtree" are in search_subtree.cpp, the rows in search_rows.cpp,
// complete patterns in search_pattern.cpp, the heuristic in primal.cpp.
#include "algebra/search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "algebra/float_guide.h"
#include "algebra/lp.h"
#include "algebra/primal.h"
#include "algebra/search_subtree.h"
#include "algebra/task_pool.h"

namespace relufit {

namespace {

// Whether sample i has x~ = 0 (x = 0 without hidden bias): every neuron is
// at 0 there, so Lemma 2's canonical pattern has it inactive.
bool zero_input(const Problem& problem, size_t i) {
  return !problem.hidden_bias &&
         std::all_of(problem.x[i].begin(), problem.x[i].end(), [](const mpq_class& v) { return sgn(v) == 0; });
}

}  // namespace

std::vector<uint32_t> choose_sample_order(const Problem& problem) {
  const size_t n = problem.num_samples();
  std::vector<std::vector<double>> pts(n);
  for (size_t i = 0; i < n; ++i)
    for (const auto& v : problem.x[i]) pts[i].push_back(v.get_d());
  std::vector<uint32_t> order;
  std::vector<bool> used(n, false);
  std::vector<double> dist(n, 1e300);
  // Samples with x~ = 0 (x = 0 without hidden bias) come first: each has a
  // single child (every neuron inactive) and, with output bias, pins c.
  for (size_t i = 0; i < n; ++i)
    if (zero_input(problem, i)) {
      order.push_back(static_cast<uint32_t>(i));
      used[i] = true;
    }
  // Then farthest-point order from the lexicographically smallest input.
  size_t first = n;
  for (size_t i = 0; i < n; ++i)
    if (!used[i] && (first == n || pts[i] < pts[first])) first = i;
  size_t next = first;
  for (size_t step = order.size(); step < n; ++step) {
    order.push_back(static_cast<uint32_t>(next));
    used[next] = true;
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (used[i]) continue;
      double d2 = 0;
      for (size_t t = 0; t < pts[i].size(); ++t) {
        double diff = pts[i][t] - pts[next][t];
        d2 += diff * diff;
      }
      dist[i] = std::min(dist[i], d2);
      if (best == n || dist[i] > dist[best]) best = i;
    }
    next = best;
  }
  return order;
}

bool is_lemma1_sign_vector(const std::vector<int>& t) {
  size_t e = 0;
  while (e < t.size() && t[e] == 0) ++e;
  if (e == t.size()) return false;
  return std::none_of(t.begin() + static_cast<long>(e) + 1, t.end(), [](int v) { return v == 0; });
}

std::string lemma1_sign_string(const std::string& s) {
  std::string out = s;
  const size_t e = out.find_first_not_of('0');
  if (e == std::string::npos) return out;
  for (size_t o = e + 1; o < out.size(); ++o)
    if (out[o] == '0') out[o] = '+';
  return out;
}

std::vector<int> sign_vector(const std::string& s) {
  std::vector<int> t;
  for (char c : s) t.push_back(c == '+' ? 1 : c == '-' ? -1 : 0);
  return t;
}

SignCase SignCase::of(std::vector<std::vector<int>> tau) {
  SignCase sc;
  sc.tau = std::move(tau);
  for (const auto& t : sc.tau) {
    uint32_t lead = 0;
    while (t[lead] == 0) ++lead;
    sc.lead.push_back(lead);
  }
  for (uint32_t j = 0; j < sc.tau.size(); ++j)
    for (uint32_t o = sc.lead[j] + 1; o < sc.tau[j].size(); ++o)
      if (sc.tau[j][o] != 0) sc.blocks.emplace_back(j, o);
  return sc;
}

int SignCase::block_of(uint32_t j, uint32_t o) const {
  for (size_t b = 0; b < blocks.size(); ++b)
    if (blocks[b].first == j && blocks[b].second == o) return static_cast<int>(b);
  return -1;
}

std::vector<std::string> SignCase::strings() const {
  std::vector<std::string> out;
  for (const auto& t : tau) {
    std::string s;
    for (int v : t) s.push_back(v > 0 ? '+' : v < 0 ? '-' : '0');
    out.push_back(s);
  }
  return out;
}

std::vector<SignCase> enumerate_sign_cases(uint32_t m, uint32_t k) {
  // Sign vectors of Lemma 1 (zeros, then +-1 at the lead, then closed
  // signs + or -), in lexicographic order with + < - < 0.
  std::vector<std::vector<int>> types;
  const int digit[3] = {1, -1, 0};
  uint64_t total = 1;
  for (uint32_t o = 0; o < k; ++o) total *= 3;
  for (uint64_t code = 0; code < total; ++code) {
    std::vector<int> t(k);
    uint64_t c = code;
    for (int o = static_cast<int>(k) - 1; o >= 0; --o, c /= 3) t[o] = digit[c % 3];
    if (is_lemma1_sign_vector(t)) types.push_back(t);
  }
  std::vector<SignCase> out;
  std::vector<size_t> pick(m, 0);
  while (true) {
    std::vector<std::vector<int>> tau;
    for (uint32_t j = 0; j < m; ++j) tau.push_back(types[pick[j]]);
    out.push_back(SignCase::of(std::move(tau)));
    // Next non-decreasing sequence.
    int j = static_cast<int>(m) - 1;
    while (j >= 0 && pick[j] + 1 == types.size()) --j;
    if (j < 0) break;
    ++pick[j];
    for (uint32_t t = j + 1; t < m; ++t) pick[t] = pick[j];
  }
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

// One sign case: its current attempt (a sample order) and the proofs of the
// subtrees of that attempt decided so far. Guarded by Scheduler::mu_ except
// the atomics, which polls read without the lock.
struct CaseRun {
  SignCase signs;
  uint32_t attempt = 0;
  std::atomic<uint32_t> live_attempt{0};
  std::atomic<uint64_t> attempt_nodes{0};
  std::shared_ptr<const CaseSpec> spec;
  uint64_t root_id = 0;
  size_t outstanding = 0;  // tasks of this attempt not yet decided
  std::unordered_map<uint64_t, std::vector<ProofItem>> parts;
  bool head_start_given = false;
  std::string undecided, undecided_step;
};

// A subtree to decide: created from its root, resumable once started.
struct Task {
  size_t case_index = 0;
  uint32_t attempt = 0;
  uint64_t id = 0;
  uint64_t slice = 0;
  std::shared_ptr<const CaseSpec> spec;
  SubtreeRoot root;
  std::unique_ptr<SubtreeSearch> search;
};

// Runs the subtrees of every sign case on the solve's threads: round robin
// over tasks in growing slices (a feasible case is not starved by an
// exhaustive one), work stealing (an idle thread makes busy ones donate
// their shallowest untried children), restarts of a case that outgrows its
// limit with another sample order, and the primal heuristic on a schedule.
// The verdict does not depend on the number of threads; proofs may.
class Scheduler {
 public:
  Scheduler(const Problem& p, const SearchControl& control, SolveStats* stats)
      : ctx_(p, options_from(control)), control_(control), stats_(stats) {
    started_ = last_progress_ = Clock::now();
    orders_.push_back(choose_sample_order(p));
    std::vector<SignCase> signs = enumerate_sign_cases(ctx_.m, ctx_.k);
    cases_ = std::vector<CaseRun>(signs.size());
    for (size_t c = 0; c < signs.size(); ++c) {
      cases_[c].signs = std::move(signs[c]);
      start_attempt_locked(c, ctx_.options.first_slice);
    }
  }

  SearchOutcome run() {
    unsigned threads = ctx_.options.threads ? ctx_.options.threads
                                            : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min<unsigned>(threads, 1024);
    // A solve stopped before it starts (cancelled, no time left) does nothing.
    bool stopped = false;
    try {
      stopped = check_limits(true);
    } catch (const std::exception& e) {
      stop(std::string("internal error in the search: ") + e.what());
      stopped = true;
    }
    if (stopped) {
      fill_stats();
      return outcome();
    }
    // Helpers come from the shared pool; the calling thread works too. A
    // helper that starts after the solve ended returns at once.
    auto gate = std::make_shared<Gate>();
    // More helpers than pool threads would only wait in the pool's queue.
    threads = std::min(threads, TaskPool::shared().size() + 1);
    threads_ = threads;
    for (unsigned t = 1; t < threads; ++t)
      TaskPool::shared().submit([this, gate]() {
        {
          std::lock_guard<std::mutex> lock(gate->mu);
          if (gate->closed) return;
          ++gate->running;
        }
        guarded_worker(false);
        std::lock_guard<std::mutex> lock(gate->mu);
        --gate->running;
        gate->cv.notify_all();
      });
    guarded_worker(true);
    {
      std::unique_lock<std::mutex> lock(gate->mu);
      gate->closed = true;
      gate->cv.wait(lock, [&]() { return gate->running == 0; });
    }
    fill_stats();
    return outcome();
  }

 private:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool closed = false;
    int running = 0;
  };

  static SearchOptions options_from(const SearchControl& control) {
    SearchOptions o = control.options;
    if (control.threads) o.threads = control.threads;
    return o;
  }

  // ---- cases and tasks (callers hold mu_) ----

  const std::vector<uint32_t>& order_for_attempt(uint32_t attempt) {
    // Order 0 is the farthest-point order, order a > 0 a fixed shuffle.
    while (orders_.size() <= attempt) {
      std::vector<uint32_t> shuffled(ctx_.p.num_samples());
      for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i] = static_cast<uint32_t>(i);
      std::mt19937 rng(static_cast<uint32_t>(orders_.size()));
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      std::stable_partition(shuffled.begin(), shuffled.end(), [&](uint32_t i) { return ctx_.zero_input(i); });
      orders_.push_back(std::move(shuffled));
    }
    return orders_[attempt];
  }

  void start_attempt_locked(size_t c, uint64_t slice) {
    CaseRun& cr = cases_[c];
    auto spec = std::make_shared<CaseSpec>();
    spec->signs = cr.signs;
    spec->order = order_for_attempt(cr.attempt);
    spec->order_id = cr.attempt;
    cr.spec = spec;
    cr.attempt_nodes = 0;
    cr.parts.clear();
    cr.undecided.clear();
    cr.undecided_step.clear();
    cr.root_id = next_id_++;
    cr.outstanding = 1;
    auto task = std::make_unique<Task>();
    task->case_index = c;
    task->attempt = cr.attempt;
    task->id = cr.root_id;
    task->slice = slice;
    task->spec = cr.spec;
    queue_.push_back(std::move(task));
  }

  // Restarts: a case whose search grows past its limit (restart_nodes, times
  // restart_growth each time) starts again with another sample order.
  // Feasible searches have heavy tails in the order; with growth g a case
  // that needs a big tree costs at most about g / (g - 1) + 1 times its size.
  // Since the primal heuristic finds most fits, the first limit is high:
  // measured on the golden set, the bench grids and d = 1 width-p* searches,
  // early restarts (10000 nodes, doubling) cost more than they saved.
  uint64_t restart_limit(uint32_t attempt) const {
    if (ctx_.options.restart_nodes == 0) return ~uint64_t{0};
    uint64_t limit = ctx_.options.restart_nodes;
    for (uint32_t a = 0; a < attempt && limit < (uint64_t{1} << 50); ++a) limit *= ctx_.options.restart_growth;
    return limit;
  }

  void restart_locked(size_t c, uint64_t slice) {
    CaseRun& cr = cases_[c];
    ++cr.attempt;
    cr.live_attempt = cr.attempt;
    start_attempt_locked(c, slice);
  }

  std::unique_ptr<Task> pop_task_locked() {
    auto it = queue_.begin();
    if (preferred_ >= 0) {
      auto found = std::find_if(queue_.begin(), queue_.end(), [&](const std::unique_ptr<Task>& t) {
        return t->case_index == static_cast<size_t>(preferred_);
      });
      if (found != queue_.end()) {
        it = found;
        CaseRun& cr = cases_[(*it)->case_index];
        if (!cr.head_start_given) {
          cr.head_start_given = true;
          (*it)->slice = std::max((*it)->slice, ctx_.options.head_start_nodes);
        }
      }
    }
    std::unique_ptr<Task> task = std::move(*it);
    queue_.erase(it);
    return task;
  }

  // ---- stopping ----

  void stop_locked(const std::string& reason) {
    if (done_) return;
    stop_reason_ = reason;
    done_ = true;
    cv_.notify_all();
  }

  void stop(const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    stop_locked(reason);
  }

  // Limits every thread checks; cancellation and progress on the main one
  // (the caller's callbacks need not be thread-safe). True when stopped.
  bool check_limits(bool main) {
    const uint64_t nodes = counters_.nodes.load(std::memory_order_relaxed);
    if (control_.node_limit && nodes >= control_.node_limit) {
      stop("node limit (" + std::to_string(control_.node_limit) + " nodes)");
      return true;
    }
    const auto now = Clock::now();
    if (now >= control_.deadline) {
      stop("time limit");
      return true;
    }
    if (!main) return false;
    // The caller's callback at most every 10 ms: in the server it asks
    // gRPC, under a lock the call's poller also takes.
    if (control_.cancelled && now >= next_cancel_check_) {
      next_cancel_check_ = now + std::chrono::milliseconds(10);
      if (control_.cancelled()) {
        stop("cancelled");
        return true;
      }
    }
    if (control_.progress &&
        now - last_progress_ > std::chrono::duration<double>(ctx_.options.progress_seconds)) {
      last_progress_ = now;
      fill_stats();
      control_.progress(*stats_);
    }
    return false;
  }

  void fill_stats() {
    stats_->nodes = counters_.nodes.load();
    stats_->lps_solved = counters_.lps.load();
    stats_->max_depth = counters_.max_depth.load();
  }

  // ---- the primal heuristic ----

  // At the root (a few starts), then each time the node count doubles past
  // heuristic_after_nodes or the time spent doubles: a float fit for a
  // fraction of the thread time spent so far (one thread runs it while the
  // others search on), with new seeds each call. Its pattern
  // goes to the exact LP (primal.h); when that fails, the sign case it names
  // gets a head start. An ordering only: every case is still searched.
  void maybe_heuristic() {
    if (!ctx_.options.primal_heuristic || done_flag()) return;
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    if (counters_.nodes.load(std::memory_order_relaxed) < next_heuristic_nodes_.load() &&
        elapsed < next_heuristic_seconds_.load())
      return;
    bool expected = false;
    if (!heuristic_running_.compare_exchange_strong(expected, true)) return;
    const SearchOptions& o = ctx_.options;
    const uint32_t call = heuristic_calls_++;
    double budget = call == 0 ? o.root_heuristic_seconds
                              : std::min(o.heuristic_max_seconds,
                                         o.heuristic_fraction * elapsed * threads_);
    if (control_.deadline != Clock::time_point::max())
      budget = std::min(budget, std::chrono::duration<double>(control_.deadline - now).count() / 20);
    const auto until = now + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(std::max(0.0, budget)));
    std::optional<FloatFit> fit =
        float_fit(ctx_.p, until, call + 1, call == 0 ? o.root_heuristic_starts : 0);
    if (fit) {
      std::optional<ExactFit> exact = try_float_pattern(ctx_, *fit, &counters_);
      std::lock_guard<std::mutex> lock(mu_);
      if (exact && !done_) {
        fit_ = std::move(exact);
        done_ = true;
        cv_.notify_all();
      } else if (preferred_ < 0) {
        std::vector<std::string> guess = float_fit_signs(ctx_.p, *fit);
        for (std::string& g : guess) g = lemma1_sign_string(g);
        std::sort(guess.begin(), guess.end());
        for (size_t c = 0; c < cases_.size(); ++c) {
          std::vector<std::string> signs = cases_[c].signs.strings();
          std::sort(signs.begin(), signs.end());
          if (signs == guess) preferred_ = static_cast<int64_t>(c);
        }
      }
    }
    const double after = std::chrono::duration<double>(Clock::now() - started_).count();
    next_heuristic_nodes_ = std::max<uint64_t>(o.heuristic_after_nodes, 2 * counters_.nodes.load());
    next_heuristic_seconds_ = std::max(0.1, 2 * after);
    heuristic_running_ = false;
  }

  // ---- workers ----

  // An exception in any thread (out of memory, say) stops the whole solve
  // with UNKNOWN naming it: it must neither kill a pool thread (and with it
  // the process) nor unwind the caller while helpers still run.
  // The exact LPs of this thread stop with the solve (lp.h): at the
  // deadline, when the solve ends elsewhere, on cancellation (main thread);
  // a stopped LP ends the solve UNKNOWN with the reason, never a cut.
  void guarded_worker(bool main) {
    LpStop lp_stop;
    lp_stop.deadline = control_.deadline;
    lp_stop.abort = &done_;
    if (main) lp_stop.cancelled = control_.cancelled;
    LpStopScope lp_scope(&lp_stop);
    try {
      worker(main);
    } catch (const LpStopped& e) {
      stop(std::string(e.what()) == "time limit" || std::string(e.what()) == "cancelled"
               ? e.what()
               : std::string("exact LP stopped: ") + e.what());
    } catch (const std::exception& e) {
      stop(std::string("internal error in the search: ") + e.what());
    } catch (...) {
      stop("internal error in the search");
    }
  }

  void worker(bool main) {
    NodeMemo memo;
    while (true) {
      if (check_limits(main)) return;
      maybe_heuristic();
      std::unique_ptr<Task> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        while (!done_ && queue_.empty()) {
          if (active_ == 0 && !heuristic_running_) {
            done_ = true;  // nothing queued, nothing running: every case decided
            cv_.notify_all();
            break;
          }
          ++hungry_;
          cv_.wait_for(lock, std::chrono::milliseconds(20));
          --hungry_;
          if (main && !done_) {
            lock.unlock();
            check_limits(true);
            lock.lock();
          }
        }
        if (done_) return;
        task = pop_task_locked();
        ++active_;
      }
      run_task(std::move(task), &memo, main);
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      cv_.notify_all();
    }
  }

  void run_task(std::unique_ptr<Task> task, NodeMemo* memo, bool main) {
    CaseRun& cr = cases_[task->case_index];
    if (task->attempt != cr.live_attempt.load()) return;  // its case restarted
    if (!task->search)
      task->search = std::make_unique<SubtreeSearch>(ctx_, task->spec, std::move(task->root));
    SubtreeSearch& search = *task->search;
    enum class Why { kNone, kStale, kStop, kDonate, kRestart } why = Why::kNone;
    uint32_t since_check = 0;
    // Nodes of this case attempt, added to the shared count in batches; the
    // restart comes as soon as the count passes the limit, whatever the
    // slices and threads, so that the work thrown away does not depend on them.
    uint64_t pending = 0;
    const uint64_t limit = restart_limit(task->attempt);
    auto poll = [&]() {
      if (++pending == 32) {
        cr.attempt_nodes.fetch_add(pending, std::memory_order_relaxed);
        pending = 0;
      }
      if (cr.attempt_nodes.load(std::memory_order_relaxed) + pending > limit) {
        why = Why::kRestart;
        return SubtreeSearch::Poll::kPause;
      }
      if (done_flag()) {
        why = Why::kStop;
        return SubtreeSearch::Poll::kPause;
      }
      if (task->attempt != cr.live_attempt.load(std::memory_order_relaxed)) {
        why = Why::kStale;
        return SubtreeSearch::Poll::kPause;
      }
      if (check_limits(main)) {
        why = Why::kStop;
        return SubtreeSearch::Poll::kPause;
      }
      if (hungry_.load(std::memory_order_relaxed) > 0 && ++since_check >= 4) {
        since_check = 0;
        why = Why::kDonate;
        return SubtreeSearch::Poll::kPause;
      }
      return SubtreeSearch::Poll::kGo;
    };
    uint64_t budget = task->slice;
    SubtreeSearch::Status st;
    while (true) {
      why = Why::kNone;
      const uint64_t before = search.nodes();
      st = search.run(budget, poll, memo, &counters_);
      const uint64_t used = search.nodes() - before;
      budget -= std::min(used, budget);
      cr.attempt_nodes.fetch_add(pending, std::memory_order_relaxed);
      pending = 0;
      if (st != SubtreeSearch::Status::kPaused) break;
      if (why == Why::kStale || why == Why::kStop) return;
      if (why == Why::kRestart) {
        std::lock_guard<std::mutex> lock(mu_);
        if (task->attempt == cr.attempt)
          restart_locked(task->case_index, std::min(task->slice * 2, ctx_.options.max_slice));
        return;
      }
      if (why == Why::kDonate) {
        std::lock_guard<std::mutex> lock(mu_);
        if (task->attempt != cr.attempt) return;
        auto parts = search.donate([this]() { return next_id_++; });
        for (auto& [id, root] : parts) {
          auto t = std::make_unique<Task>();
          t->case_index = task->case_index;
          t->attempt = task->attempt;
          t->id = id;
          t->slice = ctx_.options.first_slice;
          t->spec = task->spec;
          t->root = std::move(root);
          queue_.push_front(std::move(t));
          ++cr.outstanding;
        }
        if (!parts.empty()) cv_.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (st == SubtreeSearch::Status::kFit) {
      if (!done_) {
        fit_ = std::move(search.fit());
        done_ = true;
        cv_.notify_all();
      }
      return;
    }
    if (task->attempt != cr.attempt) return;
    if (st == SubtreeSearch::Status::kDone) {
      cr.parts[task->id] = search.take_proof();
      if (cr.undecided.empty() && !search.undecided().empty()) {
        cr.undecided = search.undecided();
        cr.undecided_step = search.undecided_step();
      }
      --cr.outstanding;
      return;
    }
    // kBudget: yield to the other tasks.
    task->slice = std::min(task->slice * 2, ctx_.options.max_slice);
    queue_.push_back(std::move(task));
  }

  bool done_flag() const { return done_.load(std::memory_order_relaxed); }

  // ---- the answer ----

  SearchOutcome outcome() {
    SearchOutcome out;
    if (fit_) {
      out.verdict = Verdict::kFeasible;
      out.fit = std::move(fit_);
      return out;
    }
    if (!stop_reason_.empty()) {
      out.verdict = Verdict::kUnknown;
      out.reason = stop_reason_;
      return out;
    }
    for (const CaseRun& cr : cases_) {
      if (cr.outstanding != 0) {
        out.verdict = Verdict::kUnknown;
        out.reason = "internal: a sign case was left undecided by the scheduler";
        return out;
      }
      if (cr.undecided.empty()) continue;
      out.verdict = Verdict::kUnknown;
      out.reason = "no fit and no proof for " + cr.undecided +
                   ": its linear relaxation is feasible, no rational output weights fit, and "
                   "the algebraic step found no fit (" + cr.undecided_step + ")";
      return out;
    }
    out.verdict = Verdict::kInfeasible;
    for (CaseRun& cr : cases_) {
      SignCaseData sc;
      sc.output_signs = cr.signs.strings();
      sc.sample_order = cr.spec->order;
      sc.nodes = splice_proof(cr.root_id, &cr.parts);
      out.proof.cases.push_back(std::move(sc));
    }
    return out;
  }

  SearchContext ctx_;
  const SearchControl& control_;
  SolveStats* stats_;
  SearchCounters counters_;
  Clock::time_point started_, last_progress_;
  Clock::time_point next_cancel_check_{};  // main thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Task>> queue_;
  std::vector<CaseRun> cases_;
  std::vector<std::vector<uint32_t>> orders_;  // sample orders, by attempt
  uint64_t next_id_ = 0;
  int active_ = 0;                  // threads running a task
  std::atomic<int> hungry_{0};      // threads waiting for work
  std::atomic<bool> done_{false};  // written under mu_, read by polls without it
  std::string stop_reason_;
  std::optional<ExactFit> fit_;
  int64_t preferred_ = -1;          // a sign case named by a float fit

  std::atomic<bool> heuristic_running_{false};
  std::atomic<uint64_t> next_heuristic_nodes_{0};
  std::atomic<double> next_heuristic_seconds_{0};
  uint32_t heuristic_calls_ = 0;    // only the thread running the heuristic touches it
  unsigned threads_ = 1;            // threads of this solve (the heuristic's share is of their time)
};

}  // namespace

uint64_t count_sign_cases(uint32_t m, uint32_t k) {
  const uint64_t cap = uint64_t{1} << 40;
  // Lemma 1's sign vectors: 2 (2^k - 1).
  uint64_t types = 1;
  for (uint32_t o = 0; o < k; ++o) {
    types *= 2;
    if (types > cap) return cap;
  }
  types = 2 * (types - 1);
  // binomial(types + m - 1, m), saturating at cap.
  unsigned __int128 r = 1;
  for (uint64_t i = 1; i <= m; ++i) {
    r = r * (types + i - 1) / i;
    if (r > cap) return cap;
  }
  return static_cast<uint64_t>(r);
}

SearchOutcome search_patterns(const Problem& problem, const SearchControl& control,
                              SolveStats* stats) {
  const uint64_t cases = count_sign_cases(problem.hidden_width, problem.output_dim);
  if (cases > kMaxSignCases) {
    SearchOutcome out;
    out.verdict = Verdict::kUnknown;
    out.reason = "the sign-case split is too large (" +
                 (cases >= (uint64_t{1} << 40) ? std::string("over 10^12") : std::to_string(cases)) +
                 " cases for width " + std::to_string(problem.hidden_width) + " and " +
                 std::to_string(problem.output_dim) + " outputs; at most " +
                 std::to_string(kMaxSignCases) + " are searched)";
    return out;
  }
  if (std::string bad = control.options.validate(); !bad.empty()) {
    SearchOutcome out;
    out.verdict = Verdict::kUnknown;
    out.reason = "invalid search options: " + bad;
    return out;
  }
  Scheduler scheduler(problem, control, stats);
  return scheduler.run();
}

}  // namespace relufit
