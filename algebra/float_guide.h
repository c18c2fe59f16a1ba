// Floating-point training used only to decide where the exact search looks
// first. Nothing it returns is trusted: the search and the checker decide.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "algebra/problem.h"

namespace relufit {

// A network trained in double precision: per neuron z_j = (w_j, b_j) (b_j
// only with hidden bias) and a_j, the output bias c (k, or empty), and the
// pre-activations z_j . x~_i at every sample (n x m).
struct FloatFit {
  std::vector<std::vector<double>> z;    // m x dz
  std::vector<std::vector<double>> a;    // m x k
  std::vector<double> c;                 // k, or empty
  std::vector<std::vector<double>> pre;  // n x m
  double label_scale = 1;                // 1 + the largest |y|
};

// Trains from seeded random starts (Levenberg-Marquardt) until one fits
// every sample to within 1e-7 relative, `until` passes, or `max_starts`
// starts (0: no cap) have run; nullopt when none fit.
std::optional<FloatFit> float_fit(const Problem& p, std::chrono::steady_clock::time_point until,
                                  uint32_t seed, uint32_t max_starts = 0);

// Trains the network in double precision (Levenberg-Marquardt from seeded
// random starts) until a start fits every sample to within 1e-7 relative, or
// `until` passes. Returns the sign vector of each neuron's output weights in
// that fit ("+-", "0+", ...; a neuron that is never active or has a ~ 0 gets
// "+0...0", as Lemma 1 normalises it), or an empty vector when no start fit.
// `seed` picks the random starts, so that calls with other seeds try others.
std::vector<std::string> float_fit_signs(const Problem& p,
                                         std::chrono::steady_clock::time_point until,
                                         uint32_t seed = 1);
// The same sign vectors for a given fit; an output weight below
// relative_zero times the neuron's largest counts as 0.
std::vector<std::string> float_fit_signs(const Problem& p, const FloatFit& fit,
                                         double relative_zero = 1e-6);

}  // namespace relufit
