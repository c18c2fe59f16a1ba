// relufit: the command-line client of relufit-server (generated gRPC stubs).
//
//   relufit [--server HOST:PORT] solve FILE [--json] [options]
//   relufit verify REQUEST.json RESPONSE.json [--remote]
//   relufit plot REQUEST.json RESPONSE.json -o OUT.png|OUT.svg|OUT.pdf
//   relufit model REQUEST.json RESPONSE.json --format onnx|smt2|python -o OUT
//   relufit minimize FILE [--loss linf|l1|l2] [--json | --job]
//   relufit min-width FILE [--max-width M] [--json | --job]
//   relufit submit FILE | watch ID | result ID | cancel ID | jobs
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iomanip>
#include <sstream>
#include <unistd.h>

#include "algebra/checker.h"
#include "client/model_export.h"
#include "client/plot.h"
#include "client/erm_commands.h"
#include "client/csv.h"
#include "relufit/v1/relufit.grpc.pb.h"
#include "server/convert.h"

namespace {

struct Failure {
  std::string message;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure{"cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_file(const std::string& path);

// How to reach the server: plain or TLS, with or without an access token.
struct ConnectionSettings {
  std::string tls_ca;   // PEM file of the CA that signed the server's certificate
  bool tls = false;     // TLS with the system's root certificates
  std::string token;    // sent as "authorization: Bearer <token>"
};
ConnectionSettings g_connection;

// Channels accept responses of any size: infeasibility proofs can exceed
// gRPC's default 4 MB receive limit.
std::shared_ptr<grpc::Channel> make_channel(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (g_connection.tls || !g_connection.tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!g_connection.tls_ca.empty()) ssl.pem_root_certs = read_file(g_connection.tls_ca);
    creds = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(server, creds, args);
}

// Adds the access token (when one is configured) to a call.
void prepare(grpc::ClientContext& ctx) {
  if (!g_connection.token.empty()) ctx.AddMetadata("authorization", "Bearer " + g_connection.token);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using relufit::CsvArchitecture;

relufit::v1::SolveRequest load_request(const std::string& path, const CsvArchitecture& arch) {
  const std::string text = read_file(path);
  if (ends_with(path, ".csv")) {
    try {
      return relufit::request_from_csv(path, text, arch);
    } catch (const relufit::CsvError& e) {
      throw Failure{e.what()};
    }
  }
  relufit::v1::SolveRequest req;
  std::string error;
  if (!relufit::parse_json(text, &req, &error))
    throw Failure{path + ": not a SolveRequest in protobuf JSON: " + error};
  return req;
}

const char* verdict_word(relufit::v1::Verdict v) {
  switch (v) {
    case relufit::v1::VERDICT_FEASIBLE: return "FEASIBLE";
    case relufit::v1::VERDICT_INFEASIBLE: return "INFEASIBLE";
    case relufit::v1::VERDICT_UNKNOWN: return "UNKNOWN";
    default: return "UNSPECIFIED";
  }
}

// A weight for people: "p/q (decimal)", or for an irrational weight its
// minimal polynomial and isolating interval, then the decimal.
std::string show(const relufit::v1::ExactNumber& n) {
  if (!n.has_algebraic()) return n.rational() + "  (" + n.decimal() + ")";
  const auto& a = n.algebraic();
  std::string poly;
  for (int i = a.min_poly_size() - 1; i >= 0; --i) {
    const std::string& c = a.min_poly(i);
    if (c == "0") continue;
    std::string term = c;
    if (i > 0 && (c == "1" || c == "-1")) term = c == "1" ? "" : "-";
    if (i > 0) term += i == 1 ? "t" : "t^" + std::to_string(i);
    if (!poly.empty()) poly += term[0] == '-' ? " - " + term.substr(1) : " + " + term;
    else poly = term;
  }
  return n.decimal() + "  (the root of " + poly + " in [" + a.lower() + ", " + a.upper() + "])";
}

void print_human(int num_samples, const relufit::v1::SolveResponse& r) {
  std::cout << "verdict: " << verdict_word(r.verdict()) << "\n";
  if (!r.reason().empty()) std::cout << "reason: " << r.reason() << "\n";
  if (r.verdict() == relufit::v1::VERDICT_FEASIBLE) {
    const auto& net = r.network();
    for (int j = 0; j < net.neurons_size(); ++j) {
      const auto& n = net.neurons(j);
      std::cout << "neuron " << j << ":\n";
      for (int t = 0; t < n.input_weights_size(); ++t)
        std::cout << "  w[" << t << "] = " << show(n.input_weights(t)) << "\n";
      if (n.has_bias()) std::cout << "  b    = " << show(n.bias()) << "\n";
      for (int o = 0; o < n.output_weights_size(); ++o)
        std::cout << "  a[" << o << "] = " << show(n.output_weights(o)) << "\n";
    }
    for (int o = 0; o < net.output_bias_size(); ++o)
      std::cout << "output bias c[" << o << "] = " << show(net.output_bias(o)) << "\n";
    std::cout << "activation pattern (sample: neurons):";
    for (int i = 0; i < net.activation_size(); ++i) std::cout << (i % 10 == 0 ? "\n  " : " ") << i << ":" << net.activation(i);
    std::cout << "\n";
  }
  if (r.verdict() == relufit::v1::VERDICT_INFEASIBLE) {
    const auto& cert = r.certificate();
    if (cert.has_conflicting_pair()) {
      std::cout << "proof: samples " << cert.conflicting_pair().first() << " and "
                << cert.conflicting_pair().second() << " have the same input and different labels\n";
    } else if (cert.has_breakpoint_bound()) {
      const auto& bb = cert.breakpoint_bound();
      std::cout << "proof: breakpoint bound: output " << bb.output() << " needs at least "
                << bb.min_breakpoints()
                << " slope changes, more than the hidden neurons can make (one each)\n";
    } else if (cert.has_feature_span()) {
      const auto& fs = cert.feature_span();
      if (fs.lambda_size() == 0)
        std::cout << "proof: feature span: the labels (with a column of ones when there is an output bias) "
                     "have a larger rank than the network's outputs can span\n";
      else
        std::cout << "proof: feature span: every hidden feature must lie in the labels' span, and lambda is "
                     "orthogonal to all such features of the "
                  << fs.patterns_size() << " activation sets (two Farkas identities each) but not to the labels\n";
    } else if (cert.has_case_tree()) {
      size_t nodes = 0, lp = 0, unreal = 0;
      for (const auto& c : cert.case_tree().cases())
        for (const auto& n : c.nodes()) {
          ++nodes;
          lp += n.kind() == relufit::v1::ProofNode::KIND_LP_INFEASIBLE;
          unreal += n.kind() == relufit::v1::ProofNode::KIND_UNREALIZABLE;
        }
      std::cout << "proof: case tree over " << cert.case_tree().cases_size() << " sign cases, " << nodes
                << " nodes; leaves: " << lp << " infeasible LPs, " << unreal
                << " unrealizable activation columns (Farkas certificates)\n";
    } else if (cert.has_erm_tree()) {
      size_t nodes = 0;
      for (const auto& c : cert.erm_tree().cases()) nodes += c.nodes_size();
      std::cout << "proof: error tree over " << cert.erm_tree().cases_size() << " sign cases, " << nodes
                << " nodes; every leaf's dual bound shows training error > " << cert.erm_tree().threshold() << "\n";
    } else {
      std::cout << "proof: omitted (include_proof was false)\n";
    }
  }
  if (!r.check_summary().empty()) std::cout << "checked: " << r.check_summary() << "\n";
  const auto& st = r.statistics();
  std::cout << "statistics: " << st.nodes() << " nodes, " << st.lps_solved() << " LPs, depth "
            << st.max_depth() << "/" << num_samples << ", solve " << st.solve_seconds()
            << " s, check " << st.check_seconds() << " s\n";
}

std::string status_text(const grpc::Status& s) {
  static const char* names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  int code = static_cast<int>(s.error_code());
  std::string name = code >= 0 && code <= 16 ? names[code] : std::to_string(code);
  return name + ": " + s.error_message();
}

std::unique_ptr<relufit::v1::ReluFitService::Stub> connect(const std::string& server) {
  auto channel = make_channel(server);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5)))
    throw Failure{"cannot reach relufit-server at " + server};
  return relufit::v1::ReluFitService::NewStub(channel);
}

const char* state_word(relufit::v1::JobState s) {
  switch (s) {
    case relufit::v1::JOB_STATE_QUEUED: return "queued";
    case relufit::v1::JOB_STATE_RUNNING: return "running";
    case relufit::v1::JOB_STATE_DONE: return "done";
    case relufit::v1::JOB_STATE_CANCELLED: return "cancelled";
    case relufit::v1::JOB_STATE_INTERRUPTED: return "interrupted";
    default: return "unspecified";
  }
}

// One progress line: a bar over the deepest path (decided samples), the
// node and LP counts and the elapsed time.
std::string progress_text(relufit::v1::JobState state, const relufit::v1::JobProgress& p, bool bar) {
  std::ostringstream out;
  if (bar) {
    const int width = 24;
    const int filled = p.num_samples() ? static_cast<int>(width * p.max_depth() / p.num_samples()) : 0;
    out << "[" << std::string(static_cast<size_t>(filled), '#')
        << std::string(static_cast<size_t>(width - filled), '-') << "] ";
  }
  out << state_word(state) << "  depth " << p.max_depth() << "/" << p.num_samples() << "  nodes "
      << p.nodes() << "  LPs " << p.lps_solved() << "  elapsed " << std::fixed
      << std::setprecision(1) << p.elapsed_seconds() << " s";
  return out.str();
}

// Follows a job to its end. Progress goes to `progress_out` (a redrawn bar
// on a terminal, plain lines otherwise, nothing when null). Returns the
// finished job.
relufit::v1::Job follow(relufit::v1::ReluFitService::Stub& stub, const std::string& id,
                        std::ostream* progress_out, bool terminal) {
  grpc::ClientContext ctx;
  prepare(ctx);
  relufit::v1::WatchJobRequest req;
  req.set_job_id(id);
  auto reader = stub.WatchJob(&ctx, req);
  relufit::v1::JobEvent event;
  relufit::v1::Job last;
  bool drew = false;
  while (reader->Read(&event)) {
    if (event.has_final_job()) last = event.final_job();
    if (!progress_out) continue;
    const std::string line = progress_text(event.state(), event.progress(), terminal);
    if (terminal) {
      *progress_out << "\r" << line << "\x1b[K" << std::flush;
      drew = true;
    } else {
      *progress_out << line << "\n" << std::flush;
    }
  }
  if (drew) *progress_out << "\n";
  grpc::Status st = reader->Finish();
  if (!st.ok()) throw Failure{status_text(st)};
  if (last.job_id().empty()) throw Failure{"watch ended without the job's result"};
  return last;
}

const char* kind_word(relufit::v1::JobKind k) {
  switch (k) {
    case relufit::v1::JOB_KIND_MINIMIZE: return "minimize";
    case relufit::v1::JOB_KIND_MIN_WIDTH: return "min-width";
    default: return "solve";
  }
}

// A done job's outcome in the job list: the verdict, or a Minimize status.
std::string outcome_word(const relufit::v1::Job& job) {
  if (job.state() != relufit::v1::JOB_STATE_DONE) return "-";
  if (job.kind() != relufit::v1::JOB_KIND_MINIMIZE) return verdict_word(job.verdict());
  switch (job.minimize_status()) {
    case relufit::v1::MINIMIZE_STATUS_OPTIMAL: return "OPTIMAL";
    case relufit::v1::MINIMIZE_STATUS_BOUNDED: return "BOUNDED";
    case relufit::v1::MINIMIZE_STATUS_UNKNOWN: return "UNKNOWN";
    default: return "UNSPECIFIED";
  }
}

// The job with its submitted request (for the sample count of summaries).
relufit::v1::Job get_job_with_request(relufit::v1::ReluFitService::Stub& stub, const std::string& id) {
  grpc::ClientContext ctx;
  prepare(ctx);
  relufit::v1::GetJobRequest req;
  req.set_job_id(id);
  req.set_include_request(true);
  relufit::v1::Job job;
  grpc::Status st = stub.GetJob(&ctx, req, &job);
  if (!st.ok()) throw Failure{status_text(st)};
  return job;
}

// Prints a finished job: its result (human or JSON; a SolveResponse,
// MinimizeResponse or MinWidthResponse after the job's kind), or why it has
// none.
void print_job_result(const relufit::v1::Job& job, int num_samples, bool json) {
  if (job.state() != relufit::v1::JOB_STATE_DONE)
    throw Failure{"job " + job.job_id() + " is " + state_word(job.state()) +
                  (job.state_reason().empty() ? "" : ": " + job.state_reason())};
  switch (job.kind()) {
    case relufit::v1::JOB_KIND_MINIMIZE:
      if (json)
        std::cout << relufit::to_json(job.minimize_result()) << "\n";
      else
        relufit::print_minimize_response(job.minimize_result());
      return;
    case relufit::v1::JOB_KIND_MIN_WIDTH:
      if (json)
        std::cout << relufit::to_json(job.min_width_result()) << "\n";
      else
        relufit::print_min_width_response(job.min_width_result());
      return;
    default:
      if (json)
        std::cout << relufit::to_json(job.result()) << "\n";
      else
        print_human(num_samples, job.result());
  }
}

// A request and a response in protobuf JSON (verify, plot, model).
void load_pair(const std::string& request_file, const std::string& response_file, relufit::v1::SolveRequest* req,
               relufit::v1::SolveResponse* resp) {
  std::string error;
  if (!relufit::parse_json(read_file(request_file), req, &error))
    throw Failure{request_file + ": not a SolveRequest in protobuf JSON: " + error};
  if (!relufit::parse_json(read_file(response_file), resp, &error))
    throw Failure{response_file + ": not a SolveResponse in protobuf JSON: " + error};
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"relufit: exact answers to \"can this dataset be fitted with zero error by a\n"
               "two-layer ReLU network of this shape?\" from a relufit-server."};
  app.require_subcommand(1);
  app.set_version_flag("--version", RELUFIT_VERSION);
  std::string server = "127.0.0.1:50051";
  app.add_option("--server", server, "relufit-server address HOST:PORT")->capture_default_str();
  std::string token_file;
  app.add_option("--tls-ca", g_connection.tls_ca, "Use TLS, trusting the CA certificate in this PEM file")
      ->check(CLI::ExistingFile);
  app.add_flag("--tls", g_connection.tls, "Use TLS with the system's root certificates");
  app.add_option("--token-file", token_file,
                 "File holding the access token (else the RELUFIT_TOKEN environment variable)")
      ->check(CLI::ExistingFile);

  auto* solve = app.add_subcommand("solve", "Solve a request (protobuf JSON SolveRequest, or CSV)");
  std::string file;
  bool json = false, no_proof = false;
  double time_limit = 0;
  uint64_t node_limit = 0;
  uint32_t digits = 0;
  uint32_t threads = 0;
  CsvArchitecture csv;
  uint32_t override_width = 0;
  solve->add_option("FILE", file, "SolveRequest in protobuf JSON (.json) or samples in CSV (.csv)")
      ->required()->check(CLI::ExistingFile);
  solve->add_flag("--json", json, "Print the SolveResponse as protobuf JSON and nothing else");
  solve->add_option("--time-limit", time_limit, "Seconds for the search (default: the server's)")
      ->check(CLI::NonNegativeNumber);
  solve->add_option("--node-limit", node_limit, "Largest number of search nodes (default: none)");
  solve->add_option("--threads", threads,
                    "Search threads for this solve (default: the server's; capped by it)");
  solve->add_option("--digits", digits, "Significant digits of decimal renderings (default 30)")
      ->check(CLI::Range(1, 1000));
  solve->add_flag("--no-proof", no_proof, "Leave the infeasibility proof (case tree or feature span) out of the response");
  bool regions = false;
  solve->add_flag("--regions", regions,
                  "Include the linear regions of a fit (input_dim <= 2) in the response (with --json)");
  solve->add_option("--input-dim", csv.input_dim, "CSV: number of input columns (the rest are labels)");
  solve->add_option("--hidden-width", override_width,
                    "Hidden width (required for CSV; overrides the JSON request's)");
  solve->add_flag("--no-hidden-bias", csv.no_hidden_bias, "CSV: neurons without bias");
  solve->add_flag("--no-output-bias", csv.no_output_bias, "CSV: output without bias");

  auto* exporter = app.add_subcommand(
      "export", "Write the training problem as SMT-LIB 2 (QF_NRA) or readable text");
  std::string export_file, export_format = "smt2", export_out;
  exporter->add_option("FILE", export_file, "SolveRequest in protobuf JSON (.json) or CSV (.csv)")
      ->required()->check(CLI::ExistingFile);
  exporter->add_option("--format", export_format, "smt2 or text")
      ->capture_default_str()->check(CLI::IsMember({"smt2", "text"}));
  exporter->add_option("-o,--output", export_out, "Write to this file instead of stdout");
  exporter->add_option("--input-dim", csv.input_dim, "CSV: number of input columns");
  exporter->add_option("--hidden-width", override_width, "Hidden width (required for CSV)");
  exporter->add_flag("--no-hidden-bias", csv.no_hidden_bias, "CSV: neurons without bias");
  exporter->add_flag("--no-output-bias", csv.no_output_bias, "CSV: output without bias");

  auto* submit = app.add_subcommand(
      "submit", "Submit a request as a Solve job; prints the job id (Minimize and MinWidth jobs:\n"
                "relufit minimize / min-width --job)");
  std::string submit_file;
  submit->add_option("FILE", submit_file, "SolveRequest in protobuf JSON (.json) or CSV (.csv)")
      ->required()->check(CLI::ExistingFile);
  submit->add_option("--time-limit", time_limit, "Seconds for the search (default: the server's)")
      ->check(CLI::NonNegativeNumber);
  submit->add_option("--node-limit", node_limit, "Largest number of search nodes (default: none)");
  submit->add_option("--threads", threads,
                     "Search threads for this solve (default: the server's; capped by it)");
  submit->add_option("--input-dim", csv.input_dim, "CSV: number of input columns");
  submit->add_option("--hidden-width", override_width, "Hidden width (required for CSV)");
  submit->add_flag("--no-hidden-bias", csv.no_hidden_bias, "CSV: neurons without bias");
  submit->add_flag("--no-output-bias", csv.no_output_bias, "CSV: output without bias");

  std::string job_id;
  auto* watch = app.add_subcommand(
      "watch", "Follow a job's progress (a bar on a terminal, plain lines when piped), then print its result");
  watch->add_option("ID", job_id, "Job id from submit")->required();
  bool watch_json = false;
  watch->add_flag("--json", watch_json,
                  "Print no progress, only the final SolveResponse as protobuf JSON (a Minimize or\n"
                  "MinWidth job's MinimizeResponse or MinWidthResponse)");

  auto* cancel = app.add_subcommand("cancel", "Cancel a queued or running job");
  cancel->add_option("ID", job_id, "Job id")->required();

  auto* result = app.add_subcommand("result", "Print a finished job's result");
  result->add_option("ID", job_id, "Job id")->required();
  bool result_json = false;
  result->add_flag("--json", result_json,
                   "Print the SolveResponse (MinimizeResponse, MinWidthResponse) as protobuf JSON");

  auto* jobs = app.add_subcommand(
      "jobs", "List jobs, newest first: state, kind (solve, minimize, min-width), verdict (a\n"
              "Minimize job's status), progress");
  std::string state_filter;
  uint32_t page_size = 50;
  bool all_pages = false;
  jobs->add_option("--state", state_filter, "Only jobs in this state")
      ->check(CLI::IsMember({"queued", "running", "done", "cancelled", "interrupted"}));
  jobs->add_option("--page-size", page_size, "Jobs per page")->capture_default_str()->check(CLI::Range(1, 1000));
  jobs->add_flag("--all", all_pages, "Fetch every page");

  auto* verify = app.add_subcommand(
      "verify", "Check a response against its request with the independent checker;\n"
                "exit status 0 when the certificate holds");
  std::string request_file, response_file;
  bool remote = false;
  verify->add_option("REQUEST", request_file, "SolveRequest (or MinimizeRequest, MinWidthRequest) in protobuf JSON")
      ->required()->check(CLI::ExistingFile);
  verify->add_option("RESPONSE", response_file, "SolveResponse (or MinimizeResponse, MinWidthResponse) in protobuf JSON")
      ->required()->check(CLI::ExistingFile);
  verify->add_flag("--remote", remote, "Ask the server's Verify RPC instead of checking locally");
  double verify_time_limit = 300;
  verify->add_option("--time-limit", verify_time_limit,
                     "Seconds the check may take (locally, or the RPC's deadline); past it the\n"
                     "exit status is 2, neither valid nor invalid")
      ->capture_default_str()->check(CLI::PositiveNumber);

  relufit::ErmCommands erm_commands(app);  // minimize, min-width (client/erm_commands.cpp)

  auto* plot = app.add_subcommand(
      "plot", "Draw an answer: a fit (input_dim 1: the function; input_dim 2: its linear regions)\n"
              "or an infeasibility proof. PNG, SVG or PDF, after the output's extension");
  std::string plot_out;
  plot->add_option("REQUEST", request_file, "SolveRequest in protobuf JSON")->required()->check(CLI::ExistingFile);
  plot->add_option("RESPONSE", response_file, "SolveResponse in protobuf JSON (relufit solve --json)")
      ->required()->check(CLI::ExistingFile);
  plot->add_option("-o,--output", plot_out, "The picture: OUT.png, OUT.svg or OUT.pdf")->required();

  auto* model = app.add_subcommand(
      "model", "Write the fitted network of a FEASIBLE answer for other tools: ONNX (float weights),\n"
               "an SMT-LIB model (exact, algebraic weights as root-of-with-interval) or Python (Fractions)");
  std::string model_format = "onnx", model_out;
  bool model_double = false;
  model->add_option("REQUEST", request_file, "SolveRequest in protobuf JSON")->required()->check(CLI::ExistingFile);
  model->add_option("RESPONSE", response_file, "SolveResponse in protobuf JSON")->required()->check(CLI::ExistingFile);
  model->add_option("--format", model_format, "onnx, smt2 or python")
      ->capture_default_str()->check(CLI::IsMember({"onnx", "smt2", "python"}));
  model->add_option("-o,--output", model_out, "Write to this file (required for onnx; else stdout)");
  model->add_flag("--double", model_double, "ONNX: float64 tensors instead of float32");

  CLI11_PARSE(app, argc, argv);

  try {
    if (!token_file.empty()) {
      g_connection.token = read_file(token_file);
      while (!g_connection.token.empty() && std::isspace(static_cast<unsigned char>(g_connection.token.back())))
        g_connection.token.pop_back();
    } else if (const char* env = std::getenv("RELUFIT_TOKEN")) {
      g_connection.token = env;
    }
    const relufit::ErmClientHooks erm_hooks{
        [&server] { return relufit::v1::ReluFitService::NewStub(make_channel(server)); }, prepare};
    if (auto status = erm_commands.run(erm_hooks)) return *status;
    if (*solve) {
      csv.hidden_width = override_width;
      relufit::v1::SolveRequest req = load_request(file, csv);
      if (override_width) req.mutable_architecture()->set_hidden_width(override_width);
      if (time_limit > 0) req.mutable_options()->set_time_limit_seconds(time_limit);
      if (node_limit > 0) req.mutable_options()->set_node_limit(node_limit);
      if (threads > 0) req.mutable_options()->set_threads(threads);
      if (digits > 0) req.mutable_options()->set_decimal_digits(digits);
      if (no_proof) req.mutable_options()->set_include_proof(false);
      if (regions) req.mutable_options()->set_include_regions(true);
      auto stub = connect(server);
      if (!json && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {
        // On a terminal the solve runs as a job so long work shows progress.
        grpc::ClientContext sctx;
        prepare(sctx);
        relufit::v1::SubmitJobRequest sreq;
        *sreq.mutable_request() = req;
        relufit::v1::SubmitJobResponse sresp;
        grpc::Status st = stub->SubmitJob(&sctx, sreq, &sresp);
        if (!st.ok()) throw Failure{status_text(st)};
        relufit::v1::Job job = follow(*stub, sresp.job_id(), &std::cerr, true);
        print_job_result(job, req.dataset().samples_size(), false);
        return 0;
      }
      grpc::ClientContext ctx;
      prepare(ctx);
      relufit::v1::SolveResponse resp;
      grpc::Status st = stub->Solve(&ctx, req, &resp);
      if (!st.ok()) throw Failure{status_text(st)};
      if (json)
        std::cout << relufit::to_json(resp) << "\n";
      else
        print_human(req.dataset().samples_size(), resp);
      return 0;
    }
    if (*submit) {
      csv.hidden_width = override_width;
      relufit::v1::SubmitJobRequest sreq;
      *sreq.mutable_request() = load_request(submit_file, csv);
      auto& r = *sreq.mutable_request();
      if (override_width) r.mutable_architecture()->set_hidden_width(override_width);
      if (time_limit > 0) r.mutable_options()->set_time_limit_seconds(time_limit);
      if (node_limit > 0) r.mutable_options()->set_node_limit(node_limit);
      if (threads > 0) r.mutable_options()->set_threads(threads);
      auto stub = connect(server);
      grpc::ClientContext ctx;
      prepare(ctx);
      relufit::v1::SubmitJobResponse resp;
      grpc::Status st = stub->SubmitJob(&ctx, sreq, &resp);
      if (!st.ok()) throw Failure{status_text(st)};
      std::cout << resp.job_id() << "\n";
      return 0;
    }
    if (*watch) {
      auto stub = connect(server);
      relufit::v1::Job job = follow(*stub, job_id, watch_json ? nullptr : &std::cout,
                                    isatty(STDOUT_FILENO) != 0);
      print_job_result(job, relufit::job_problem(get_job_with_request(*stub, job_id)).dataset().samples_size(),
                       watch_json);
      return 0;
    }
    if (*cancel) {
      auto stub = connect(server);
      grpc::ClientContext ctx;
      prepare(ctx);
      relufit::v1::CancelJobRequest creq;
      creq.set_job_id(job_id);
      relufit::v1::Job job;
      grpc::Status st = stub->CancelJob(&ctx, creq, &job);
      if (!st.ok()) throw Failure{status_text(st)};
      std::cout << job.job_id() << " " << state_word(job.state())
                << (job.state_reason().empty() ? "" : ": " + job.state_reason()) << "\n";
      return 0;
    }
    if (*result) {
      auto stub = connect(server);
      relufit::v1::Job job = get_job_with_request(*stub, job_id);
      print_job_result(job, relufit::job_problem(job).dataset().samples_size(), result_json);
      return 0;
    }
    if (*jobs) {
      auto stub = connect(server);
      relufit::v1::ListJobsRequest lreq;
      lreq.set_page_size(page_size);
      if (!state_filter.empty()) {
        relufit::v1::JobState s = relufit::v1::JOB_STATE_UNSPECIFIED;
        for (int v = 1; v <= 5; ++v)
          if (state_filter == state_word(static_cast<relufit::v1::JobState>(v)))
            s = static_cast<relufit::v1::JobState>(v);
        lreq.set_state(s);
      }
      // Job ids are "job-" and 32 hex digits (older stores: 12).
      std::cout << std::left << std::setw(38) << "JOB" << std::setw(13) << "STATE" << std::setw(11) << "KIND"
                << std::setw(20) << "VERDICT" << "PROGRESS\n";
      while (true) {
        grpc::ClientContext ctx;
        prepare(ctx);
        relufit::v1::ListJobsResponse resp;
        grpc::Status st = stub->ListJobs(&ctx, lreq, &resp);
        if (!st.ok()) throw Failure{status_text(st)};
        for (const auto& j : resp.jobs()) {
          std::cout << std::left << std::setw(38) << j.job_id() << " " << std::setw(12)
                    << state_word(j.state()) << " " << std::setw(10) << kind_word(j.kind()) << " "
                    << std::setw(19) << outcome_word(j)
                    << progress_text(j.state(), j.progress(), false) << "\n";
        }
        for (const auto& d : resp.damaged()) std::cerr << "relufit: damaged job left out: " << d << "\n";
        if (!all_pages || resp.next_page_token().empty()) {
          if (!resp.next_page_token().empty())
            std::cout << "(more: --all, or --page-size)\n";
          break;
        }
        lreq.set_page_token(resp.next_page_token());
      }
      return 0;
    }
    if (*exporter) {
      csv.hidden_width = override_width;
      relufit::v1::ExportRequest er;
      *er.mutable_request() = load_request(export_file, csv);
      if (override_width) er.mutable_request()->mutable_architecture()->set_hidden_width(override_width);
      er.set_format(export_format == "text" ? relufit::v1::EXPORT_FORMAT_TEXT
                                            : relufit::v1::EXPORT_FORMAT_SMTLIB2);
      auto channel = make_channel(server);
      if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5)))
        throw Failure{"cannot reach relufit-server at " + server};
      auto stub = relufit::v1::ReluFitService::NewStub(channel);
      grpc::ClientContext ctx;
      prepare(ctx);
      relufit::v1::ExportResponse out;
      grpc::Status st = stub->Export(&ctx, er, &out);
      if (!st.ok()) throw Failure{status_text(st)};
      if (export_out.empty()) {
        std::cout << out.content();
      } else {
        std::ofstream f(export_out, std::ios::binary);
        f << out.content();
        if (!f) throw Failure{"cannot write " + export_out};
      }
      return 0;
    }
    if (*plot) {
      relufit::v1::SolveRequest req;
      relufit::v1::SolveResponse resp;
      load_pair(request_file, response_file, &req, &resp);
      relufit::PlotOptions options{base_name(request_file), base_name(response_file)};
      try {
        relufit::plot_answer(req, resp, plot_out, options);
      } catch (const std::runtime_error& e) {
        throw Failure{e.what()};
      }
      return 0;
    }
    if (*model) {
      relufit::v1::SolveRequest req;
      relufit::v1::SolveResponse resp;
      load_pair(request_file, response_file, &req, &resp);
      relufit::ModelOptions options;
      options.onnx_double = model_double;
      options.request_name = base_name(request_file);
      const auto format = model_format == "onnx" ? relufit::ModelFormat::kOnnx
                          : model_format == "smt2" ? relufit::ModelFormat::kSmt2
                                                   : relufit::ModelFormat::kPython;
      if (format == relufit::ModelFormat::kOnnx && model_out.empty())
        throw Failure{"an ONNX model is binary: name the file with -o"};
      std::string bytes;
      try {
        bytes = relufit::export_model(req, resp, format, options);
      } catch (const std::runtime_error& e) {
        throw Failure{e.what()};
      }
      if (model_out.empty()) {
        std::cout << bytes;
      } else {
        std::ofstream f(model_out, std::ios::binary);
        f << bytes;
        if (!f) throw Failure{"cannot write " + model_out};
      }
      return 0;
    }
    if (*verify) {
      // Minimize and MinWidth answers (told apart by their JSON).
      if (auto status = relufit::verify_erm_files(request_file, response_file, remote, verify_time_limit, erm_hooks))
        return *status;
      relufit::v1::VerifyRequest vr;
      load_pair(request_file, response_file, vr.mutable_request(), vr.mutable_response());
      bool valid = false;
      std::string message;
      if (remote) {
        auto stub = relufit::v1::ReluFitService::NewStub(make_channel(server));
        grpc::ClientContext ctx;
        prepare(ctx);
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::duration<double>(verify_time_limit)));
        relufit::v1::VerifyResponse out;
        grpc::Status st = stub->Verify(&ctx, vr, &out);
        if (!st.ok()) throw Failure{status_text(st)};
        valid = out.valid();
        message = out.message();
      } else {
        relufit::CheckControl control;
        control.deadline = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(verify_time_limit));
        auto check = relufit::check_answer(relufit::request_from_proto(vr.request()),
                                           relufit::answer_from_proto(vr.response()), control);
        if (check.stopped) {
          std::ostringstream limit;
          limit << verify_time_limit;
          throw Failure{check.message + " (--time-limit " + limit.str() + " s)"};
        }
        valid = check.valid;
        message = check.message;
      }
      if (valid) {
        std::cout << "valid: " << message << "\n";
        return 0;
      }
      std::cerr << "relufit verify: INVALID: " << message << "\n";
      return 1;
    }
  } catch (const Failure& f) {
    std::cerr << "relufit: " << f.message << "\n";
    return 2;
  }
  return 0;
}
