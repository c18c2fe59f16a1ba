// Empirical risk minimisation for one output (DESIGN.md section 7): the
// least training error at a given width, and "is there a network with error
// <= gamma?", both exact, both with a proof the checker verifies.
//
// The same case tree as the zero-error search (sign cases, one sample order,
// activation vectors decided sample by sample, Lemma 2's symmetry rule,
// realizability leaves), with a node program instead of a feasibility LP:
// the least loss over the decided samples with the node's pattern (an LP for
// L-infinity and L1, a convex QP for squared L2, solved exactly in
// erm_qp.cpp). It is a lower bound for every completion, so branch and
// bound prunes a node once that bound reaches the incumbent (minimise) or
// passes gamma (budget). Each pruned or complete node becomes a leaf
// carrying a dual vector over the node's rows in the canonical order of
// CaseTree (proto ErmTree):
//   lambda_s (free) on the sample row of position s, mu (>= 0) on its sign
//   rows, with sum_s lambda_s f_s + sum mu_q (sign form q) = 0 as a linear
//   form in (z, c). Then for every weight vector with this pattern
//   sum_s lambda_s y_s = -sum lambda_s r_s - sum mu_q (...) <= -sum lambda_s r_s
//   <= ||lambda||_* ||r||   (Hoelder, the dual norm of the loss's norm),
// so the loss over the decided samples is at least dual_bound(lambda).
#pragma once

#include <gmpxx.h>

#include <optional>
#include <string>

#include "algebra/answer.h"
#include "algebra/erm_answer.h"
#include "algebra/problem.h"
#include "algebra/search.h"
#include "algebra/solver.h"

namespace relufit {

struct ErmResult {
  enum class Status { kOptimal, kFeasible, kInfeasible, kUnknown };
  Status status = Status::kUnknown;
  std::string reason;          // for kUnknown
  mpq_class error;             // the optimum (kOptimal) or the fit's error (kFeasible)
  std::optional<ExactFit> fit;  // for kOptimal and kFeasible: weights reaching `error`
  // kOptimal: every leaf proves loss >= error; kInfeasible: loss > gamma.
  CaseTreeData proof;
};

// The least training error under `loss` of a network of the problem's
// shape (output_dim 1), the weights reaching it and the proof.
ErmResult minimize_training_error(const Problem& problem, Loss loss, const SearchControl& control,
                                  SolveStats* stats);

// Is there a network with training error <= gamma under `loss`? kFeasible
// with the fit, or kInfeasible with a tree whose leaves prove loss > gamma.
ErmResult decide_error_budget(const Problem& problem, Loss loss, const mpq_class& gamma,
                              const SearchControl& control, SolveStats* stats);

// Solve with an error budget (problem.max_error > 0; solve_problem hands
// such problems here): FEASIBLE with a network of error <= max_error,
// INFEASIBLE with an ErmTree certificate (strict, threshold max_error),
// UNKNOWN with a reason (several outputs are not supported yet).
AnswerData solve_with_error_budget(const Problem& problem, const SolveSettings& settings);

// Minimize as an answer: the optimum and network as exact strings, the
// proof, statistics (the caller runs check_minimize_answer).
MinimizeAnswerData solve_minimize(const Problem& problem, Loss loss, const SolveSettings& settings);

// The training error of rational weights under `loss` (exact, evaluated
// with max(0, .)).
mpq_class training_error(const Problem& problem, Loss loss, const ExactFit& fit);

}  // namespace relufit
