// libFuzzer: the independent checker on a whole VerifyRequest (request and
// response), as the Verify RPC runs it: protobuf wire bytes or JSON, the
// request validated with the server's default limits, then check_answer
// with a 2 s deadline. Nothing may crash, abort, or hang past the deadline;
// and a response the checker accepts must not be INFEASIBLE without proof.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "algebra/checker.h"
#include "algebra/problem.h"
#include "relufit/v1/relufit.pb.h"
#include "server/convert.h"

namespace {
void check(const relufit::v1::VerifyRequest& vr) {
  const relufit::RequestData data = relufit::request_from_proto(vr.request());
  relufit::Problem problem;
  if (!relufit::build_problem(data, relufit::ProblemLimits{}, &problem).ok()) return;
  relufit::CheckControl control;
  control.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  const relufit::AnswerData answer = relufit::answer_from_proto(vr.response());
  const relufit::CheckResult c = relufit::check_answer(data, answer, control);
  if (c.valid && answer.verdict == relufit::Verdict::kInfeasible &&
      answer.certificate.kind == relufit::CertificateData::Kind::kNone)
    std::abort();
  if (c.valid && answer.verdict == relufit::Verdict::kUnspecified) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  relufit::v1::VerifyRequest wire;
  if (wire.ParseFromString(bytes)) check(wire);
  relufit::v1::VerifyRequest json;
  std::string error;
  if (relufit::parse_json(bytes, &json, &error)) check(json);
  return 0;
}
