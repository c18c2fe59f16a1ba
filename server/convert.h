// Conversion between the relufit.v1 protobuf messages and the algebra's
// plain data. The one place where the two vocabularies meet.
#pragma once

#include <string>

#include "algebra/answer.h"
#include "algebra/regions.h"
#include "relufit/v1/relufit.pb.h"

namespace relufit {

RequestData request_from_proto(const v1::SolveRequest& request);
v1::SolveRequest request_to_proto(const RequestData& request);

// `digits`: significant digits of the decimal renderings.
v1::SolveResponse answer_to_proto(const AnswerData& answer, unsigned digits, bool include_proof);
AnswerData answer_from_proto(const v1::SolveResponse& response);

// The linear regions of a fit (SolveResponse.regions), numbers as "p/q".
v1::FitRegions regions_to_proto(const FitRegionsData& regions);

// One node of a case tree (both directions; the proto's own fields).
void proof_node_to_proto(const ProofNodeData& node, v1::ProofNode* out);
ProofNodeData proof_node_from_proto(const v1::ProofNode& node);

// Protobuf JSON (snake_case field names preserved on output).
bool parse_json(const std::string& json, google::protobuf::Message* message, std::string* error);
std::string to_json(const google::protobuf::Message& message);

// The SolveRequest inside a job's submitted request (the problem: dataset,
// options), whatever the job's kind.
const v1::SolveRequest& job_problem(const v1::Job& job);

}  // namespace relufit
