// relufit-solve-local: solves one request in this process (no server), runs
// the independent checker, and prints one line of figures (or the response
// as JSON). A developer's and benchmark's tool: the same library calls as the
// server's pipeline, with the search's thread count and limits from flags.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "algebra/checker.h"
#include "algebra/solver.h"
#include "server/convert.h"

int main(int argc, char** argv) {
  CLI::App app{"Solve one relufit.v1.SolveRequest (protobuf JSON) locally and check the answer"};
  std::string file;
  unsigned threads = 0;
  double time_limit = 60;
  uint64_t node_limit = 0;
  bool json = false;
  relufit::SearchOptions search;
  app.add_option("file", file, "request file (protobuf JSON)")->required();
  app.add_option("--threads", threads, "search threads (0: every core)");
  app.add_option("--time-limit", time_limit, "seconds (default 60)");
  app.add_option("--node-limit", node_limit, "search nodes (0: none)");
  app.add_flag("--json", json, "print the SolveResponse as JSON");
  app.add_option("--restart-nodes", search.restart_nodes, "first restart limit (0: never restart)");
  app.add_option("--restart-growth", search.restart_growth, "restart limit growth factor");
  app.add_option("--heuristic", search.primal_heuristic, "primal heuristic: 1 on (default), 0 off");
  app.add_option("--products-samples-left", search.products_samples_left,
                 "product certificates at nodes with at most this many samples undecided (0: "
                 "complete patterns only)");
  app.add_option("--products", search.product_certificates, "product certificates: 1 on (default), 0 off");
  app.add_option("--ratio-boxes", search.ratio_boxes,
                 "boxes (exact LPs) of the ratio branch and bound at an undecided complete pattern "
                 "(0: off)");
  app.add_option("--feature-span", search.feature_span,
                 "decide labels that span as many dimensions as the outputs can by the feature span "
                 "(two outputs or more): 1 on (default), 0 off (search only)");
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(file);
  if (!in) {
    std::cerr << "relufit-solve-local: cannot read " << file << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  relufit::v1::SolveRequest request;
  std::string error;
  if (!relufit::parse_json(text.str(), &request, &error)) {
    std::cerr << "relufit-solve-local: " << file << ": " << error << "\n";
    return 2;
  }
  const relufit::RequestData data = relufit::request_from_proto(request);
  relufit::Problem problem;
  relufit::ProblemLimits limits;
  limits.max_hidden_width = 64;
  if (auto e = relufit::build_problem(data, limits, &problem); !e.ok()) {
    std::cerr << "relufit-solve-local: " << file << ": " << e.message << "\n";
    return 2;
  }
  relufit::SolveSettings settings;
  settings.control.options = search;
  settings.control.threads = threads;
  settings.control.node_limit = node_limit;
  settings.control.deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(time_limit));
  relufit::AnswerData answer = relufit::solve_problem(problem, settings);
  const auto t0 = std::chrono::steady_clock::now();
  relufit::CheckResult check = relufit::check_answer(data, answer);
  answer.stats.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (json) {
    std::cout << relufit::to_json(relufit::answer_to_proto(answer, 30, true)) << "\n";
  } else {
    std::printf("%s %.3f s %llu nodes %llu LPs check %s%s%s\n", relufit::verdict_name(answer.verdict),
                answer.stats.solve_seconds, static_cast<unsigned long long>(answer.stats.nodes),
                static_cast<unsigned long long>(answer.stats.lps_solved), check.valid ? "ok" : "FAILED",
                answer.reason.empty() ? "" : ": ", answer.reason.c_str());
  }
  return check.valid ? 0 : 1;
}
