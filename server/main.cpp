// relufit-server: the gRPC service that decides exact ReLU training problems.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/service.h"

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "relufit-server: decides whether a dataset can be fitted with zero error by a two-layer\n"
      "ReLU network, exactly, and returns checked weights or a checkable proof (gRPC service\n"
      "relufit.v1.ReluFitService, with health checking and server reflection)."};
  std::string listen = "127.0.0.1:50051";
  app.set_version_flag("--version", RELUFIT_VERSION);
  relufit::ServiceOptions options;
  relufit::JobOptions job_options;
  std::string store_path = "relufit-jobs.sqlite3";
  std::string log_level = "info";
  int max_message_mb = 512;
  app.add_option("--listen", listen, "Address to listen on, HOST:PORT")->capture_default_str();
  app.add_option("--max-samples", options.limits.max_samples, "Largest dataset accepted")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-input-dim", options.limits.max_input_dim, "Largest input_dim accepted")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-hidden-width", options.limits.max_hidden_width,
                 "Largest hidden_width accepted (at most 20)")
      ->capture_default_str()->check(CLI::Range(1, 20));
  app.add_option("--max-output-dim", options.limits.max_output_dim, "Largest output_dim accepted")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-digits", options.limits.max_digits,
                 "Most decimal digits in one number of a request")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--default-time-limit", options.default_time_limit,
                 "Seconds per solve when the request sets no time limit")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-time-limit", options.max_time_limit, "Cap on any request's time limit (s)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--search-threads", options.search_threads,
                 "Search threads per solve, 0: every core; also the most a request's "
                 "options.threads gets")
      ->capture_default_str()->check(CLI::Range(0, 1024));
  app.add_option("--max-message-mb", max_message_mb,
                 "Largest request message accepted, in MiB (Verify carries whole proofs)")
      ->capture_default_str()->check(CLI::Range(1, 2047));
  uint64_t max_inflight_mb = options.max_inflight_bytes >> 20;
  app.add_option("--max-inflight-mb", max_inflight_mb,
                 "Memory budget, in MiB, of the calls being handled: Solve, Verify, Export and "
                 "SubmitJob each count 4 x their message size while they run; past it a call "
                 "gets RESOURCE_EXHAUSTED")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--store", store_path,
                 "SQLite file holding jobs, their results and certificates (created if missing)")
      ->capture_default_str();
  app.add_option("--workers", job_options.workers, "Jobs solved at the same time")
      ->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--max-queue", job_options.max_queue,
                 "Jobs waiting for a worker; SubmitJob answers RESOURCE_EXHAUSTED past it")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--max-attempts", job_options.max_attempts,
                 "Runs of a job interrupted by server stops before it is marked interrupted")
      ->capture_default_str()->check(CLI::Range(1, 100));
  std::string tls_cert, tls_key, token_file;
  app.add_option("--tls-cert", tls_cert, "Serve TLS with this PEM certificate (chain); needs --tls-key")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  app.add_option("--token-file", token_file,
                 "Require an access token: the file holds the accepted tokens, one per line:\n"
                 "TOKEN, PRINCIPAL TOKEN, or PRINCIPAL TOKEN operator; a principal sees and\n"
                 "cancels only its own jobs, an operator every job")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.max_inflight_bytes = max_inflight_mb << 20;
  spdlog::set_level(spdlog::level::from_str(log_level));

  // Signals are handled by one thread with sigwait, so block them everywhere.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  static std::atomic<bool> shutting_down{false};
  options.shutting_down = &shutting_down;
  std::unique_ptr<relufit::JobStore> store;
  try {
    store = std::make_unique<relufit::JobStore>(store_path);
  } catch (const std::exception& e) {
    spdlog::critical("{}; not starting", e.what());
    return 1;
  }
  relufit::JobManager jobs(*store, options, job_options);
  // Recovery writes to the store: a store that fails here (disk full, I/O
  // error) stops the server with the cause, before it listens.
  try {
    jobs.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot recover the jobs in store {}: {}; not starting", store_path, e.what());
    jobs.stop();
    return 1;
  }
  if (tls_cert.empty() != tls_key.empty()) {
    spdlog::critical("--tls-cert and --tls-key go together");
    return 2;
  }
  relufit::AccessOptions access;
  // Every call's token is checked by the credentials, before any handler
  // (server/auth.h).
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::shared_ptr<const relufit::AccessCheck> access_check;
  try {
    if (!token_file.empty()) access = relufit::parse_token_file(read_text(token_file), token_file);
    relufit::TlsKeyCert tls;
    if (!tls_cert.empty()) tls = {read_text(tls_key), read_text(tls_cert)};
    access_check = std::make_shared<const relufit::AccessCheck>(access);
    credentials = relufit::authenticating_credentials(access_check, tls_cert.empty() ? nullptr : &tls);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 2;
  }
  const bool loopback = listen.rfind("127.", 0) == 0 || listen.rfind("localhost:", 0) == 0 ||
                        listen.rfind("[::1]", 0) == 0;
  if (!loopback && (access.tokens.empty() || tls_cert.empty()))
    spdlog::warn("listening on {} without {}: anyone who reaches the port can use the service",
                 listen, access.tokens.empty() ? "an access token" : "TLS");
  relufit::ReluFitServiceImpl service(options, jobs, access_check);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, credentials, &bound_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(max_message_mb * 1024 * 1024);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&service);
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(relufit::make_wire_error_interceptor());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    spdlog::critical("cannot listen on {} (address in use or invalid)", listen);
    return 1;
  }
  spdlog::info("relufit-server listening on {} (port {}), store {}, {} worker(s), {} search "
               "thread(s) per solve", listen, bound_port, store_path, job_options.workers,
               relufit::search_threads_for(relufit::v1::SolveOptions(), options));

  std::thread waiter([&]() {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {} received, shutting down", sig);
    shutting_down = true;
    // Running jobs stop and go back to the queue in the store; then the
    // server stops accepting and ends the calls in flight.
    jobs.stop();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  });
  server->Wait();
  waiter.join();
  jobs.stop();
  store.reset();
  spdlog::info("relufit-server stopped");
  return 0;
}
