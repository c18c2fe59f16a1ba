// `relufit plot`: pictures of an answer, drawn with cairo (PNG, SVG or PDF).
//   FEASIBLE, input_dim 1: the fitted piecewise-linear function of each
//     output with the samples and the neurons' breakpoints.
//   FEASIBLE, input_dim 2: the linear regions of the fit (algebra/regions.h,
//     exact) shaded by the fitted value, the neurons' activation lines and
//     the samples coloured by their labels; one panel per output.
//   INFEASIBLE: the proof: the case tree's nodes by depth and by sign case,
//     split by kind; the breakpoint bound's slope changes; the conflicting
//     pair.
#pragma once

#include <string>
#include <vector>

#include "relufit/v1/relufit.pb.h"

namespace relufit {

struct PlotOptions {
  std::string request_name;   // shown in the caption (e.g. the file name)
  std::string response_name;
};

// Where a panel put its data, for tests that read pixels back: device x =
// left + (v - xmin) / (xmax - xmin) * width, device y = top + (ymax - v) /
// (ymax - ymin) * height. For input_dim 2, vmin/vmax span the colour scale.
struct PanelFrame {
  double left = 0, top = 0, width = 0, height = 0;
  double xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  double vmin = 0, vmax = 1;
};

struct PlotReport {
  int width = 0, height = 0;  // pixels (PNG) or points (SVG, PDF)
  std::string kind;           // "fit-1d", "fit-2d", "case-tree", "breakpoints", "conflict"
  std::vector<PanelFrame> panels;
};

// The colour of t in [0, 1] on the value scale of input_dim 2 pictures
// (viridis, linear between nine stops), each channel in [0, 1].
void value_colour(double t, double* r, double* g, double* b);

// Draws the picture of `response` (an answer to `request`) into `path`; the
// format follows its extension (.png, .svg, .pdf). Throws
// std::runtime_error with the reason when there is nothing to draw (UNKNOWN,
// input_dim > 2, a proof left out) or the file cannot be written.
PlotReport plot_answer(const v1::SolveRequest& request, const v1::SolveResponse& response,
                       const std::string& path, const PlotOptions& options = {});

}  // namespace relufit
