#include "client/erm_commands.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "server/convert.h"
#include "server/erm_check.h"

namespace relufit {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

v1::Loss parse_loss(const std::string& s) {
  if (s == "linf") return v1::LOSS_LINF;
  if (s == "l1") return v1::LOSS_L1;
  if (s == "l2") return v1::LOSS_L2;
  throw std::runtime_error("--loss: choose linf, l1 or l2, not \"" + s + "\"");
}

const char* loss_word(v1::Loss loss) {
  switch (loss) {
    case v1::LOSS_LINF: return "linf (largest |f(x_i) - y_i|)";
    case v1::LOSS_L1: return "l1 (sum of |f(x_i) - y_i|)";
    case v1::LOSS_L2: return "l2 (sum of (f(x_i) - y_i)^2)";
    default: return "none (zero error)";
  }
}

v1::SolveRequest load_solve_request(const std::string& file) {
  v1::SolveRequest req;
  std::string error;
  if (!parse_json(slurp(file), &req, &error))
    throw std::runtime_error(file + ": not a SolveRequest in protobuf JSON: " + error);
  return req;
}

void print_network(const v1::Network& net) {
  for (int j = 0; j < net.neurons_size(); ++j) {
    const auto& n = net.neurons(j);
    std::cout << "neuron " << j << ":\n";
    for (int t = 0; t < n.input_weights_size(); ++t)
      std::cout << "  w[" << t << "] = " << n.input_weights(t).rational() << "  (" << n.input_weights(t).decimal()
                << ")\n";
    if (n.has_bias()) std::cout << "  b    = " << n.bias().rational() << "  (" << n.bias().decimal() << ")\n";
    for (int o = 0; o < n.output_weights_size(); ++o)
      std::cout << "  a[" << o << "] = " << n.output_weights(o).rational() << "  (" << n.output_weights(o).decimal()
                << ")\n";
  }
  for (int o = 0; o < net.output_bias_size(); ++o)
    std::cout << "output bias c[" << o << "] = " << net.output_bias(o).rational() << "  ("
              << net.output_bias(o).decimal() << ")\n";
}

void print_stats(const v1::SolveStatistics& st) {
  std::cout << "statistics: " << st.nodes() << " nodes, " << st.lps_solved() << " node programs, solve "
            << st.solve_seconds() << " s, check " << st.check_seconds() << " s\n";
}

std::string certificate_word(const v1::SolveResponse& r) {
  const auto& c = r.certificate();
  if (c.has_conflicting_pair()) return "conflicting pair";
  if (c.has_breakpoint_bound()) return "breakpoint bound";
  if (c.has_case_tree()) return "case tree";
  if (c.has_erm_tree()) return "error tree";
  return "omitted";
}

}  // namespace

void print_minimize_response(const v1::MinimizeResponse& resp) {
  std::cout << "loss: " << loss_word(resp.loss()) << "\n";
  if (resp.status() == v1::MINIMIZE_STATUS_OPTIMAL) {
    std::cout << "optimal error: " << resp.optimal_error() << "  (" << resp.best_error_decimal() << ")\n";
    if (resp.output_proofs_size() > 0)
      std::cout << "proof: one error tree per output (" << resp.output_proofs_size() << "), bound "
                << resp.lower_bound() << "\n";
    else
      std::cout << "proof: error tree over " << resp.proof().cases_size() << " sign cases\n";
  } else if (resp.status() == v1::MINIMIZE_STATUS_BOUNDED) {
    std::cout << "least error between " << resp.lower_bound() << " (proved lower bound) and "
              << resp.best_error() << " (best network found)  (" << resp.best_error_decimal() << ")\n";
  } else {
    std::cout << "status: UNKNOWN (" << resp.reason() << ")\n";
    if (!resp.best_error().empty())
      std::cout << "best error found: " << resp.best_error() << "  (" << resp.best_error_decimal() << ")\n";
  }
  if (resp.has_network()) print_network(resp.network());
  std::cout << "checked: " << resp.check_summary() << "\n";
  print_stats(resp.statistics());
}

void print_min_width_response(const v1::MinWidthResponse& resp) {
  std::cout << "error allowed: " << (resp.max_error().empty() ? "0" : resp.max_error()) << ", loss "
            << loss_word(resp.loss()) << "\n";
  if (resp.verdict() == v1::VERDICT_FEASIBLE) {
    std::cout << "smallest width: " << resp.width() << "\n";
    if (resp.width() > 1)
      std::cout << "width " << resp.width() - 1 << ": INFEASIBLE (" << certificate_word(resp.below()) << ")\n";
    std::cout << "fit at width " << resp.width() << ":\n";
    print_network(resp.fit().network());
  } else if (resp.verdict() == v1::VERDICT_INFEASIBLE) {
    std::cout << "no width up to " << resp.width() << " fits (" << certificate_word(resp.below())
              << " at width " << resp.width() << ")\n";
  } else {
    std::cout << "verdict: UNKNOWN (" << resp.reason() << ")\n";
  }
  std::cout << "widths solved: " << resp.tried() << " (lower bound " << resp.lower_bound() << ")\n";
  std::cout << "checked: " << resp.check_summary() << "\n";
  print_stats(resp.statistics());
}

ErmCommands::ErmCommands(CLI::App& app) {
  minimize_ = app.add_subcommand(
      "minimize", "The least training error at the request's width under a loss, exact, with the\n"
                  "weights reaching it and a checked proof that no weights do better (output_dim 1)");
  minimize_->add_option("FILE", file_, "SolveRequest in protobuf JSON")->required()->check(CLI::ExistingFile);
  minimize_->add_option("--loss", loss_, "linf (largest error), l1 (sum of |errors|) or l2 (sum of squares)")
      ->capture_default_str();
  minimize_->add_option("--hidden-width", width_, "Use this width instead of the file's");
  auto* minimize_json =
      minimize_->add_flag("--json", json_, "Print the MinimizeResponse as protobuf JSON, nothing else");
  minimize_->add_option("--time-limit", time_limit_, "Seconds (0: the server's default)");
  minimize_->add_flag("--no-proof", no_proof_, "Leave the proof of optimality out of the response");
  minimize_->add_flag("--job", job_,
                      "Submit as a stored job instead and print its id (follow it with\n"
                      "`relufit watch ID`, fetch the answer with `relufit result ID [--json]`)")
      ->excludes(minimize_json);

  min_width_ = app.add_subcommand(
      "min-width", "The smallest hidden width with a fit, that fit and the checked INFEASIBLE proof\n"
                   "at one neuron fewer (the file's hidden_width is ignored)");
  min_width_->add_option("FILE", file_, "SolveRequest in protobuf JSON")->required()->check(CLI::ExistingFile);
  min_width_->add_option("--max-width", max_width_, "Largest width to try (0: the server's limit)");
  min_width_->add_option("--max-error", max_error_,
                         "Smallest width with training error <= this exact number under --loss\n"
                         "(default: zero error)");
  min_width_->add_option("--loss", loss_, "Loss of --max-error: linf, l1 or l2")->capture_default_str();
  auto* min_width_json =
      min_width_->add_flag("--json", json_, "Print the MinWidthResponse as protobuf JSON, nothing else");
  min_width_->add_option("--time-limit", time_limit_, "Seconds for all widths (0: the server's default)");
  min_width_->add_flag("--no-proof", no_proof_, "Leave the case trees out of the response");
  min_width_->add_flag("--job", job_,
                       "Submit as a stored job instead and print its id (follow it with\n"
                       "`relufit watch ID`, fetch the answer with `relufit result ID [--json]`)")
      ->excludes(min_width_json);
}

std::optional<int> ErmCommands::run(const ErmClientHooks& hooks) {
  if (!*minimize_ && !*min_width_) return std::nullopt;
  try {
    v1::SolveRequest req = load_solve_request(file_);
    if (time_limit_ > 0) req.mutable_options()->set_time_limit_seconds(time_limit_);
    if (no_proof_) req.mutable_options()->set_include_proof(false);
    auto stub = hooks.connect();
    grpc::ClientContext ctx;
    hooks.prepare(ctx);
    // With --job: the same request as a stored job; prints its id.
    const auto submit = [&](const v1::SubmitJobRequest& job) {
      v1::SubmitJobResponse resp;
      grpc::Status st = stub->SubmitJob(&ctx, job, &resp);
      if (!st.ok()) throw std::runtime_error(st.error_message() + " (" + std::to_string(st.error_code()) + ")");
      std::cout << resp.job_id() << "\n";
      return 0;
    };
    if (*minimize_) {
      v1::MinimizeRequest mr;
      *mr.mutable_request() = req;
      if (width_) mr.mutable_request()->mutable_architecture()->set_hidden_width(width_);
      mr.set_loss(parse_loss(loss_));
      if (job_) {
        v1::SubmitJobRequest job;
        *job.mutable_minimize() = mr;
        return submit(job);
      }
      v1::MinimizeResponse resp;
      grpc::Status st = stub->Minimize(&ctx, mr, &resp);
      if (!st.ok()) throw std::runtime_error(st.error_message() + " (" + std::to_string(st.error_code()) + ")");
      if (json_) {
        std::cout << to_json(resp) << "\n";
        return 0;
      }
      print_minimize_response(resp);
      return 0;
    }
    v1::MinWidthRequest wr;
    *wr.mutable_request() = req;
    wr.set_max_width(max_width_);
    if (!max_error_.empty()) {
      wr.mutable_request()->mutable_options()->set_max_error(max_error_);
      wr.mutable_request()->mutable_options()->set_loss(parse_loss(loss_));
    }
    if (job_) {
      v1::SubmitJobRequest job;
      *job.mutable_min_width() = wr;
      return submit(job);
    }
    v1::MinWidthResponse resp;
    grpc::Status st = stub->MinWidth(&ctx, wr, &resp);
    if (!st.ok()) throw std::runtime_error(st.error_message() + " (" + std::to_string(st.error_code()) + ")");
    if (json_) {
      std::cout << to_json(resp) << "\n";
      return 0;
    }
    print_min_width_response(resp);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "relufit: " << e.what() << "\n";
    return 2;
  }
}

std::optional<int> verify_erm_files(const std::string& request_file, const std::string& response_file,
                                    bool remote, double time_limit, const ErmClientHooks& hooks) {
  v1::VerifyRequest vr;
  std::string response_text, request_text;
  try {
    response_text = slurp(response_file);
    request_text = slurp(request_file);
  } catch (const std::exception&) {
    return std::nullopt;  // main's verify reports unreadable files
  }
  // Told apart by the response: a MinimizeResponse has a status, a
  // MinWidthResponse a verdict and width (unknown fields are errors).
  v1::MinimizeResponse mresp;
  v1::MinWidthResponse wresp;
  if (parse_json(response_text, &mresp, nullptr) && mresp.status() != v1::MINIMIZE_STATUS_UNSPECIFIED) {
    std::string error;
    // The file given to `relufit minimize` (a SolveRequest) will do too: the
    // response names its loss.
    if (!parse_json(request_text, vr.mutable_minimize_request(), &error)) {
      vr.clear_minimize_request();
      if (!parse_json(request_text, vr.mutable_minimize_request()->mutable_request(), nullptr)) {
        std::cerr << "relufit: " << request_file
                  << ": neither a MinimizeRequest nor a SolveRequest in protobuf JSON: " << error << "\n";
        return 2;
      }
      vr.mutable_minimize_request()->set_loss(mresp.loss());
    }
    *vr.mutable_minimize_response() = mresp;
  } else if (parse_json(response_text, &wresp, nullptr) && wresp.verdict() != v1::VERDICT_UNSPECIFIED &&
             !parse_json(response_text, vr.mutable_response(), nullptr)) {
    std::string error;
    // The file given to `relufit min-width` (a SolveRequest) will do too,
    // with the max_width the response names.
    if (!parse_json(request_text, vr.mutable_min_width_request(), &error)) {
      vr.clear_min_width_request();
      if (!parse_json(request_text, vr.mutable_min_width_request()->mutable_request(), nullptr)) {
        std::cerr << "relufit: " << request_file
                  << ": neither a MinWidthRequest nor a SolveRequest in protobuf JSON: " << error << "\n";
        return 2;
      }
      vr.mutable_min_width_request()->set_max_width(wresp.max_width());
    }
    *vr.mutable_min_width_response() = wresp;
  } else {
    return std::nullopt;
  }
  bool valid = false;
  std::string message;
  try {
    if (remote) {
      auto stub = hooks.connect();
      grpc::ClientContext ctx;
      hooks.prepare(ctx);
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::duration<double>(time_limit)));
      v1::VerifyResponse out;
      grpc::Status st = stub->Verify(&ctx, vr, &out);
      if (!st.ok()) throw std::runtime_error(st.error_message());
      valid = out.valid();
      message = out.message();
    } else {
      CheckControl control;
      control.deadline = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(time_limit));
      // The same check as the server's Verify (server/erm_check.h).
      const CheckResult check =
          vr.has_minimize_request()
              ? check_minimize_response(vr.minimize_request(), vr.minimize_response(), control)
              : check_min_width_response(vr.min_width_request(), vr.min_width_response(), control);
      if (check.stopped) throw std::runtime_error(check.message + " (--time-limit)");
      valid = check.valid;
      message = check.message;
    }
  } catch (const std::exception& e) {
    std::cerr << "relufit: " << e.what() << "\n";
    return 2;
  }
  if (valid) {
    std::cout << "valid: " << message << "\n";
    return 0;
  }
  std::cerr << "relufit verify: INVALID: " << message << "\n";
  return 1;
}

}  // namespace relufit
