// relufit-health-probe: asks a gRPC server's standard health service
// (grpc.health.v1.Health/Check) whether it is serving, for container
// HEALTHCHECKs and scripts. Prints one line; exit status 0 when the status is
// SERVING, 1 otherwise (not serving, unknown service, unreachable, timeout,
// bad flags). Docker reserves exit status 2, so it is never used. The health
// service needs no access token; with TLS on the server, pass --tls-ca.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace health = grpc::health::v1;

namespace {

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND (unknown service)";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED (no health service)";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    default: return "error";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "relufit-health-probe: checks a gRPC server's grpc.health.v1 health service.\n"
      "Exit status 0 when SERVING, 1 otherwise; prints one line."};
  std::string addr = "127.0.0.1:50051";
  std::string service;
  double timeout_seconds = 3.0;
  std::string tls_ca, tls_name;
  bool tls = false;
  app.add_option("--addr", addr, "Server address, HOST:PORT")
      ->capture_default_str()
      ->envname("RELUFIT_HEALTH_ADDR");
  app.add_option("--service", service,
                 "Service name to check; empty means the server as a whole")
      ->capture_default_str();
  app.add_option("--timeout", timeout_seconds, "Seconds to wait for the answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--tls-ca", tls_ca, "Use TLS, trusting the CA certificate in this PEM file")
      ->check(CLI::ExistingFile)
      ->envname("RELUFIT_HEALTH_TLS_CA");
  app.add_flag("--tls", tls, "Use TLS with the system's root certificates");
  app.add_option("--tls-name", tls_name,
                 "Expect this name in the server's certificate instead of the --addr host "
                 "(e.g. when probing a container through 127.0.0.1)")
      ->envname("RELUFIT_HEALTH_TLS_NAME");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments arguments;
  if (tls || !tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!tls_ca.empty()) {
      std::ifstream in(tls_ca);
      std::ostringstream pem;
      pem << in.rdbuf();
      ssl.pem_root_certs = pem.str();
    }
    credentials = grpc::SslCredentials(ssl);
    if (!tls_name.empty()) arguments.SetSslTargetNameOverride(tls_name);
  }
  auto channel = grpc::CreateCustomChannel(addr, credentials, arguments);
  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000)));
  health::HealthCheckRequest request;
  request.set_service(service);
  health::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  const std::string name = service.empty() ? "server" : "service \"" + service + "\"";
  if (!status.ok()) {
    std::cout << addr << ": " << name << " health check failed: "
              << code_name(status.error_code())
              << (status.error_message().empty() ? "" : ": " + status.error_message())
              << "\n";
    return 1;
  }
  std::cout << addr << ": " << name << " "
            << health::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  return response.status() == health::HealthCheckResponse::SERVING ? 0 : 1;
}
