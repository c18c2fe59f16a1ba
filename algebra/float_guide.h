// Floating-point training used only to decide where the exact search looks
// first. Nothing it returns is trusted: the search and the checker decide.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "algebra/problem.h"

namespace relufit {

// Trains the network in double precision (Levenberg-Marquardt from seeded
// random starts) until a start fits every sample to within 1e-7 relative, or
// `until` passes. Returns the sign vector of each neuron's output weights in
// that fit ("+-", "0+", ...; a neuron that is never active or has a ~ 0 gets
// "+0...0", as Lemma 1 normalises it), or an empty vector when no start fit.
// `seed` picks the random starts, so that calls with other seeds try others.
std::vector<std::string> float_fit_signs(const Problem& p,
                                         std::chrono::steady_clock::time_point until,
                                         uint32_t seed = 1);

}  // namespace relufit
