// Exact linear feasibility with certificates.
//
// Decides whether {x in Q^n : row_r . x = rhs_r (equality rows),
// row_r . x >= rhs_r (inequality rows)} is empty, and returns either a point
// (exact rational) or a Farkas vector y (free on equality rows, >= 0 on
// inequality rows) with sum_r y_r row_r = 0 and sum_r y_r rhs_r = 1.
//
// Method: Phase 1 of the simplex method on the Farkas system itself
// (N + 1 equality rows, one column per LP row), so the tableau stays small
// when the LP has few variables and many rows, which is the search's case.
// Its optimum gives the Farkas vector (value 0) or, from the simplex
// multipliers, a point (value > 0). A double-precision run picks the final
// basis; the exact answer is then rebuilt from that basis and verified; if
// that fails an exact run with Bland's rule decides. Every returned point and
// Farkas vector has been verified exactly before it is returned.
//
// A third outcome: when the exact simplex is stopped (an LpStop installed on
// the calling thread says so, or it passes its pivot cap) it throws
// LpStopped. Nothing is returned then, so a stopped LP can never be read as
// infeasible (a wrong INFEASIBLE or a wrong cut in the search).
#pragma once

#include <gmpxx.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace relufit {

enum class RowSense { kEqual, kGreaterEqual };

struct LpRow {
  std::vector<mpq_class> coeffs;  // one per variable
  RowSense sense = RowSense::kGreaterEqual;
  mpq_class rhs;
};

struct LpResult {
  bool feasible = false;
  std::vector<mpq_class> point;   // when feasible: satisfies every row
  std::vector<mpq_class> farkas;  // when infeasible: one multiplier per row
};

struct LpCounters {
  uint64_t solved = 0;          // calls
  uint64_t rounded = 0;         // decided by the double-precision answer rounded to fractions
  uint64_t guided = 0;          // decided from the double-precision basis
  uint64_t exact_fallback = 0;  // needed the exact simplex
};

// When the exact simplex of the LPs solved on one thread must stop. Polled
// at every pivot (the callback every 16 pivots).
struct LpStop {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* abort = nullptr;  // true: stop (the solve ended elsewhere)
  std::function<bool()> cancelled;           // may be empty; called on this thread only
};

// Thrown by solve_lp_feasibility instead of an answer. reason: "time
// limit", "cancelled", "stopped" (abort flag) or the pivot cap.
class LpStopped : public std::runtime_error {
 public:
  explicit LpStopped(const std::string& reason) : std::runtime_error(reason) {}
};

// Installs `stop` for the LPs this thread solves while the scope lives
// (scopes nest; the innermost applies). Without one only the pivot cap
// (kExactPivotsPerColumn pivots per column of the Farkas system) applies.
class LpStopScope {
 public:
  explicit LpStopScope(const LpStop* stop);
  ~LpStopScope();
  LpStopScope(const LpStopScope&) = delete;
  LpStopScope& operator=(const LpStopScope&) = delete;

 private:
  const LpStop* previous_;
};
constexpr size_t kExactPivotsPerColumn = 200;

// The deadline of the LpStop installed on this thread (time_point::max()
// without one), and whether it says stop now (deadline passed, abort flag
// set). For other solvers run on the same thread (GLPK in products.cpp).
std::chrono::steady_clock::time_point lp_stop_deadline();
bool lp_stop_requested();

LpResult solve_lp_feasibility(const std::vector<LpRow>& rows, size_t num_vars,
                              LpCounters* counters = nullptr);

// Exact checks used on every result (and by the search on reused points).
bool point_satisfies(const std::vector<LpRow>& rows, const std::vector<mpq_class>& point);
// The same for the rows [first, last) of a row vector.
bool point_satisfies(std::vector<LpRow>::const_iterator first, std::vector<LpRow>::const_iterator last,
                     const std::vector<mpq_class>& point);
bool farkas_proves_infeasible(const std::vector<LpRow>& rows, size_t num_vars,
                              const std::vector<mpq_class>& farkas);

}  // namespace relufit
