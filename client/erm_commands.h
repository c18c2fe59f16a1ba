// `relufit minimize` and `relufit min-width` (in one call, or with --job as
// a stored job), and `relufit verify` for their answers: the client side of
// the Minimize and MinWidth RPCs (generated stubs; the local check uses the
// independent checker, never the solver).
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "relufit/v1/relufit.grpc.pb.h"

namespace relufit {

// What the commands need from main.cpp: a connected stub and the call
// preparation (access token).
struct ErmClientHooks {
  std::function<std::unique_ptr<v1::ReluFitService::Stub>()> connect;
  std::function<void(grpc::ClientContext&)> prepare;
};

class ErmCommands {
 public:
  // Adds the "minimize" and "min-width" subcommands to `app`.
  explicit ErmCommands(CLI::App& app);
  // Runs the chosen one and returns the exit status (0 answered, or with
  // --job the job id printed; 2 bad input or unreachable server); nullopt
  // when neither was chosen.
  std::optional<int> run(const ErmClientHooks& hooks);

 private:
  CLI::App* minimize_ = nullptr;
  CLI::App* min_width_ = nullptr;
  std::string file_;
  std::string loss_ = "linf";
  std::string max_error_;
  uint32_t width_ = 0, max_width_ = 0;
  double time_limit_ = 0;
  bool json_ = false, no_proof_ = false, job_ = false;
};

// The answers for people (relufit minimize / min-width, and watch / result
// of their jobs).
void print_minimize_response(const v1::MinimizeResponse& response);
void print_min_width_response(const v1::MinWidthResponse& response);

// `relufit verify REQUEST RESPONSE` when the files are a MinimizeRequest and
// MinimizeResponse, or a MinWidthRequest and MinWidthResponse (protobuf
// JSON): checks locally (or with the Verify RPC when `remote`) and returns
// the exit status (0 valid, 1 invalid, 2 not finished or bad input);
// nullopt when the files are not such a pair.
std::optional<int> verify_erm_files(const std::string& request_file, const std::string& response_file,
                                    bool remote, double time_limit, const ErmClientHooks& hooks);

}  // namespace relufit
