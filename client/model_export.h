// `relufit model`: the fitted network of a FEASIBLE answer in formats other
// tools load.
//   onnx    an ONNX model (IR 8, opset 13): x [N, d] -> Gemm -> Relu -> Gemm
//           -> y [N, k], float32 (or float64) weights rounded to nearest from
//           the exact ones, which stay in the JSON answer;
//   smt2    the SMT-LIB model (SMT-COMP's model format) of the problem that
//           `relufit export --format smt2` writes: every declared constant
//           (w_j_t, b_j, a_j_o, c_o, h_i_j) as a define-fun with its exact
//           value, irrational ones as (root-of-with-interval (coeffs ...) lo hi);
//   python  a Python module with the weights as fractions.Fraction (an
//           irrational weight as a 30-digit Fraction, its exact definition in
//           a comment) and f(x), exact for rational inputs.
#pragma once

#include <string>

#include "relufit/v1/relufit.pb.h"

namespace relufit {

enum class ModelFormat { kOnnx, kSmt2, kPython };

struct ModelOptions {
  bool onnx_double = false;   // float64 tensors instead of float32
  std::string request_name;   // mentioned in comments / doc strings
};

// The file's bytes. Throws std::runtime_error when the response is not a
// FEASIBLE answer with a network of the request's shape.
std::string export_model(const v1::SolveRequest& request, const v1::SolveResponse& response, ModelFormat format,
                         const ModelOptions& options = {});

}  // namespace relufit
