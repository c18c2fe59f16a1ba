#include "server/erm_check.h"

#include "algebra/checker_erm.h"
#include "server/convert.h"
#include "server/erm_convert.h"

namespace relufit {

v1::SolveRequest minimize_problem(const v1::MinimizeRequest& request) {
  v1::SolveRequest solve = request.request();
  solve.mutable_options()->clear_loss();
  solve.mutable_options()->clear_max_error();
  return solve;
}

v1::SolveRequest min_width_problem(const v1::MinWidthRequest& request) {
  v1::SolveRequest solve = request.request();
  solve.mutable_architecture()->set_hidden_width(1);
  return solve;
}

CheckResult check_minimize_response(const v1::MinimizeRequest& request,
                                    const v1::MinimizeResponse& response, const CheckControl& control) {
  MinimizeAnswerData answer = minimize_answer_from_proto(response);
  const Loss asked = loss_from_proto(request.loss());
  if ((asked == Loss::kUnspecified ? Loss::kLinf : asked) != answer.loss)
    return {false, false, "the response's loss is not the one asked for"};
  return check_minimize_answer(request_from_proto(minimize_problem(request)), answer, control);
}

CheckResult check_min_width_response(const v1::MinWidthRequest& request,
                                     const v1::MinWidthResponse& response, const CheckControl& control) {
  MinWidthAnswerData answer = min_width_answer_from_proto(response);
  if (request.max_width() && answer.max_width != request.max_width())
    return {false, false, "the response's max_width is not the one asked for"};
  return check_min_width_answer(request_from_proto(min_width_problem(request)), answer, control);
}

}  // namespace relufit
