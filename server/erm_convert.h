// Proto <-> plain data for the answers beyond zero error: ErmTree, the
// Minimize and MinWidth requests and responses (part of relufit_convert, so
// the client can link it without the solver).
#pragma once

#include "algebra/answer.h"
#include "algebra/erm_answer.h"
#include "relufit/v1/relufit.pb.h"

namespace relufit {

v1::Loss loss_to_proto(Loss loss);
Loss loss_from_proto(v1::Loss loss);

// The certificate's loss, threshold, strictness and cases (kErmTree).
void erm_tree_to_proto(const CertificateData& cert, v1::ErmTree* out);
void erm_tree_from_proto(const v1::ErmTree& tree, CertificateData* out);

// `digits`: significant digits of decimal renderings.
v1::MinimizeResponse minimize_answer_to_proto(const MinimizeAnswerData& a, unsigned digits,
                                              bool include_proof);
MinimizeAnswerData minimize_answer_from_proto(const v1::MinimizeResponse& r);

v1::MinWidthResponse min_width_answer_to_proto(const MinWidthAnswerData& a, unsigned digits,
                                               bool include_proof);
MinWidthAnswerData min_width_answer_from_proto(const v1::MinWidthResponse& r);

}  // namespace relufit
