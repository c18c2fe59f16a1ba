// Helpers shared by the golden-instance tests: read a request from
// tests/golden/NAME.json and solve it as the server would (120 s limit).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "algebra/problem.h"
#include "algebra/solver.h"
#include "server/convert.h"

namespace relufit {

inline RequestData load_request(const std::string& name) {
  std::ifstream in(std::string(RELUFIT_GOLDEN_DIR) + "/" + name + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  v1::SolveRequest req;
  std::string error;
  EXPECT_TRUE(parse_json(ss.str(), &req, &error)) << name << ": " << error;
  return request_from_proto(req);
}

// `options` changes the search's constants (only the proof's shape can
// change with them, never the verdict).
inline AnswerData solve(const RequestData& r, const SearchOptions& options = {}) {
  Problem p;
  auto e = build_problem(r, {}, &p);
  EXPECT_TRUE(e.ok()) << e.message;
  SolveSettings settings;
  settings.control.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  settings.control.options = options;
  return solve_problem(p, settings);
}

}  // namespace relufit
