// libFuzzer: reading a request as the server does. The input is taken both
// as protobuf JSON (what `relufit solve FILE.json` sends) and as protobuf
// wire bytes (what arrives over gRPC), then validated with the server's
// default limits (build_problem). Nothing may crash, abort or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "algebra/problem.h"
#include "relufit/v1/relufit.pb.h"
#include "server/convert.h"

namespace {
void validate(const relufit::v1::SolveRequest& request) {
  relufit::Problem problem;
  (void)relufit::build_problem(relufit::request_from_proto(request), relufit::ProblemLimits{}, &problem);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  relufit::v1::SolveRequest request;
  std::string error;
  if (relufit::parse_json(bytes, &request, &error)) validate(request);
  relufit::v1::SolveRequest wire;
  if (wire.ParseFromString(bytes)) validate(wire);
  return 0;
}
