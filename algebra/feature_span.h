// Labels that span as many dimensions as the network can: a linear decision
// (the lemma and its proof are on FeatureSpan in relufit.proto).
//
// Z = [Y | 1] (Y without output bias), U = colspan(Z), r = rank Z,
// m' = hidden_width + [output bias]. Every fit has U inside
// colspan([F | 1]), of dimension at most m', where F holds the hidden
// features relu(X~ w_j). So r > m' leaves no fit; r = m' forces every
// feature into U, and a fit exists exactly when the ReLU features inside U
// (with 1) span U. Those features are, per activation set P of the samples,
// the images of a polyhedral cone of weights (pattern P, closed, and feature
// in U): exact LPs find each cone's span, and either m features and the
// output weights (all rational), or the certificate (lambda orthogonal to
// every such feature and to 1 but not to U, and per P the LP multipliers
// that prove lambda . feature = 0 on the cone). r < m' is the bilinear case
// and is left to the search.
//
// The random two-output class with width 2, and three outputs with width
// 2 or 3, is of this kind (r = k + 1 for generic labels): decided here in
// milliseconds instead of a search over millions of nodes.
#pragma once

#include <cstdint>
#include <string>

#include "algebra/answer.h"
#include "algebra/problem.h"
#include "algebra/search.h"

namespace relufit {

struct FeatureSpanDecision {
  enum class Kind { kUndecided, kInfeasible, kFeasible };
  Kind kind = Kind::kUndecided;
  std::string why;              // kUndecided: why this method does not apply or stopped
  ExactFit fit;                 // kFeasible: rational weights
  FeatureSpanData certificate;  // kInfeasible
  uint32_t rank = 0;            // r
  uint64_t lps = 0;             // exact LPs solved
};

// r: the rank of Z (exact), and m' = hidden_width + [output bias].
uint32_t label_rank(const Problem& p);
uint32_t network_span(const Problem& p);

// Decides by the labels' span when r >= m' (and, for r = m', at most
// control.options.feature_span_max_samples samples); otherwise kUndecided.
// Stops (kUndecided) at the deadline or when control.cancelled says so.
FeatureSpanDecision decide_by_feature_span(const Problem& p, const SearchControl& control);

}  // namespace relufit
