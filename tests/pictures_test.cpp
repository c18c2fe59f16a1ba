// The linear regions of fits (algebra/regions.h) and the pictures of
// answers (client/plot.h): regions checked exactly on hand-made networks and
// on golden fits, pictures rendered for golden answers and read back (size,
// and pixels where the colour is known: the shading of the regions, the
// samples' fill, the fitted curve).
#include <cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <array>
#include <filesystem>
#include <unistd.h>
#include <fstream>

#include "algebra/number.h"
#include "algebra/regions.h"
#include "client/model_export.h"
#include "client/plot.h"
#include "golden_util.h"

namespace relufit {
namespace {

Problem problem_of(const RequestData& r) {
  Problem p;
  ProblemLimits limits;
  EXPECT_TRUE(build_problem(r, limits, &p).ok());
  return p;
}

mpq_class q(const char* s) { return mpq_class(s); }

// Twice the signed area of a polygon (shoelace), exact.
mpq_class twice_area(const std::vector<std::vector<mpq_class>>& v) {
  mpq_class a = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const auto& p = v[i];
    const auto& r = v[(i + 1) % v.size()];
    a += p[0] * r[1] - r[0] * p[1];
  }
  return a;
}

mpq_class apply(const AffineMapData& m, const std::vector<mpq_class>& x) {
  mpq_class v = m.offset;
  for (size_t t = 0; t < x.size(); ++t) v += m.gradient[t] * x[t];
  return v;
}

// Whether x lies in the closed convex polygon (counterclockwise).
bool inside(const std::vector<std::vector<mpq_class>>& poly, const std::vector<mpq_class>& x) {
  for (size_t i = 0; i < poly.size(); ++i) {
    const auto& a = poly[i];
    const auto& b = poly[(i + 1) % poly.size()];
    if (sgn((b[0] - a[0]) * (x[1] - a[1]) - (b[1] - a[1]) * (x[0] - a[0])) < 0) return false;
  }
  return true;
}

// The properties every region set must have: the regions tile the box,
// are convex and counterclockwise, the map of each is the network's at
// its corners, and the samples' labels are the maps' values.
void check_regions(const Problem& p, const RationalNetwork& net, const FitRegionsData& fr, bool labels_exact) {
  ASSERT_FALSE(fr.regions.empty());
  if (p.input_dim == 2) {
    mpq_class total = 0;
    for (const auto& r : fr.regions) {
      ASSERT_GE(r.vertices.size(), 3u);
      const mpq_class a = twice_area(r.vertices);
      EXPECT_GT(a, 0) << "counterclockwise with positive area";
      total += a;
      for (size_t i = 0; i < r.vertices.size(); ++i) {
        const auto& u = r.vertices[i];
        const auto& v = r.vertices[(i + 1) % r.vertices.size()];
        const auto& w = r.vertices[(i + 2) % r.vertices.size()];
        EXPECT_GT(sgn((v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0])), 0) << "strictly convex";
      }
      for (const auto& v : r.vertices) {
        const auto y = net.evaluate(v);
        for (size_t o = 0; o < y.size(); ++o) EXPECT_EQ(apply(r.maps[o], v), y[o]);
      }
    }
    const mpq_class box = (fr.box_upper[0] - fr.box_lower[0]) * (fr.box_upper[1] - fr.box_lower[1]);
    EXPECT_EQ(total, 2 * box) << "the regions tile the box";
  } else {
    EXPECT_EQ(fr.regions.front().vertices[0][0], fr.box_lower[0]);
    EXPECT_EQ(fr.regions.back().vertices[1][0], fr.box_upper[0]);
    for (size_t i = 0; i < fr.regions.size(); ++i) {
      const auto& r = fr.regions[i];
      EXPECT_LT(r.vertices[0][0], r.vertices[1][0]);
      if (i + 1 < fr.regions.size()) {
        EXPECT_EQ(r.vertices[1][0], fr.regions[i + 1].vertices[0][0]);
      }
      for (const auto& v : r.vertices) {
        const auto y = net.evaluate(v);
        for (size_t o = 0; o < y.size(); ++o) EXPECT_EQ(apply(r.maps[o], v), y[o]);
      }
    }
  }
  for (size_t i = 0; i < p.num_samples(); ++i) {
    bool found = false;
    for (const auto& r : fr.regions) {
      const bool in = p.input_dim == 2 ? inside(r.vertices, p.x[i])
                                       : r.vertices[0][0] <= p.x[i][0] && p.x[i][0] <= r.vertices[1][0];
      if (!in) continue;
      found = true;
      if (labels_exact) {
        for (size_t o = 0; o < p.output_dim; ++o) EXPECT_EQ(apply(r.maps[o], p.x[i]), p.y[i][o]) << "sample " << i;
      }
    }
    EXPECT_TRUE(found) << "sample " << i << " lies in no region";
  }
}

TEST(Regions, TwoLinesThroughTheOriginMakeFourQuadrants) {
  RequestData r;
  r.input_dim = 2, r.hidden_width = 2, r.output_dim = 1;
  r.x = {{"-1", "-1"}, {"1", "1"}};
  r.y = {{"0"}, {"3"}};
  const Problem p = problem_of(r);
  NetworkData n;
  n.neurons = {{{"1", "0"}, "0", {"1"}}, {{"0", "1"}, "0", {"2"}}};
  n.output_bias = {"0"};
  std::string error;
  auto fr = fit_regions(p, n, &error);
  ASSERT_TRUE(fr) << error;
  EXPECT_EQ(fr->box_lower, (std::vector<mpq_class>{q("-6/5"), q("-6/5")}));
  EXPECT_EQ(fr->box_upper, (std::vector<mpq_class>{q("6/5"), q("6/5")}));
  ASSERT_EQ(fr->regions.size(), 4u);
  // Sorted by centroid: (-,-), (-,+), (+,-), (+,+).
  EXPECT_EQ(fr->regions[0].activation, "00");
  EXPECT_EQ(fr->regions[1].activation, "01");
  EXPECT_EQ(fr->regions[2].activation, "10");
  EXPECT_EQ(fr->regions[3].activation, "11");
  EXPECT_EQ(fr->regions[3].maps[0].gradient, (std::vector<mpq_class>{1, 2}));
  EXPECT_EQ(fr->regions[0].vertices.size(), 4u);
  EXPECT_FALSE(fr->approximated);
  auto net = rational_network(p, n, &error);
  check_regions(p, *net, *fr, true);
}

TEST(Regions, ParallelAndOutsideLinesAndDeadNeurons) {
  RequestData r;
  r.input_dim = 2, r.hidden_width = 4, r.output_dim = 2;
  r.x = {{"0", "0"}, {"10", "5"}};
  r.y = {{"0", "0"}, {"1", "1"}};
  const Problem p = problem_of(r);
  NetworkData n;
  n.neurons = {{{"1", "0"}, "-3", {"1", "0"}},    // x = 3
               {{"2", "0"}, "-14", {"0", "1"}},   // x = 7, parallel
               {{"1", "1"}, "100", {"1", "1"}},   // outside the box: always active
               {{"0", "0"}, "-1", {"5", "5"}}};   // w = 0, b < 0: never active
  n.output_bias = {"1/2", "-1/2"};
  std::string error;
  auto fr = fit_regions(p, n, &error);
  ASSERT_TRUE(fr) << error;
  ASSERT_EQ(fr->regions.size(), 3u);
  EXPECT_EQ(fr->regions[0].activation, "0010");
  EXPECT_EQ(fr->regions[1].activation, "1010");
  EXPECT_EQ(fr->regions[2].activation, "1110");
  auto net = rational_network(p, n, &error);
  check_regions(p, *net, *fr, false);
}

TEST(Regions, OneInputGivesIntervalsBetweenBreakpoints) {
  const RequestData r = load_request("hat_m2");
  const Problem p = problem_of(r);
  NetworkData n;  // relu(x) - 2 relu(x - 1)
  n.neurons = {{{"1"}, "0", {"1"}}, {{"1"}, "-1", {"-2"}}};
  n.output_bias = {"0"};
  std::string error;
  auto fr = fit_regions(p, n, &error);
  ASSERT_TRUE(fr) << error;
  ASSERT_EQ(fr->regions.size(), 3u);
  EXPECT_EQ(fr->regions[1].vertices[0][0], 0);
  EXPECT_EQ(fr->regions[1].vertices[1][0], 1);
  EXPECT_EQ(fr->regions[2].maps[0].gradient[0], -1);
  EXPECT_EQ(fr->regions[2].maps[0].offset, 2);
  check_regions(p, *rational_network(p, n, &error), *fr, true);
}

TEST(Regions, IrrationalWeightsAreApproximatedAndSaySo) {
  RequestData r;
  r.input_dim = 1, r.hidden_width = 1, r.output_dim = 1;
  r.x = {{"0"}, {"2"}};
  r.y = {{"0"}, {"1"}};
  const Problem p = problem_of(r);
  NetworkData n;
  n.neurons = {{{"1"}, "root(-2,0,1;-2,-1)", {"1"}}};  // relu(x - sqrt 2)
  n.output_bias = {"0"};
  std::string error;
  auto net = rational_network(p, n, &error);
  ASSERT_TRUE(net) << error;
  EXPECT_TRUE(net->approximated);
  EXPECT_LT(abs(net->b[0] * net->b[0] - 2), q("1/1000000000000000000000000000"));
  auto fr = fit_regions(p, *net, &error);
  ASSERT_TRUE(fr);
  EXPECT_TRUE(fr->approximated);
  ASSERT_EQ(fr->regions.size(), 2u);
  const auto proto = regions_to_proto(*fr);
  EXPECT_TRUE(proto.approximated());
  EXPECT_EQ(proto.regions(0).vertices(1).coordinates(0), rational_to_string(-net->b[0]));
}

TEST(Regions, RefusedForThreeInputsAndMalformedWeights) {
  RequestData r;
  r.input_dim = 3, r.hidden_width = 1, r.output_dim = 1;
  r.x = {{"0", "0", "0"}};
  r.y = {{"0"}};
  const Problem p = problem_of(r);
  NetworkData n;
  n.neurons = {{{"1", "0", "0"}, "0", {"1"}}};
  n.output_bias = {"0"};
  std::string error;
  EXPECT_FALSE(fit_regions(p, n, &error));
  EXPECT_NE(error.find("input_dim"), std::string::npos) << error;
  n.neurons[0].input_weights = {"1", "x"};
  EXPECT_FALSE(rational_network(p, n, &error));
}

TEST(Regions, GoldenFitsTileTheBoxAndFitTheSamples) {
  for (const char* name : {"shared/planted_n10_d2_m2_k1", "planted_n20_d2_m2_k1_s7", "planted_n12_d2_m2_k2_s2",
                           "planted_n10_d2_m2_k3_s4", "planted_n40_d2_m3_k1_s4", "affine_d2_m1", "hat_m2",
                           "kink_at_zero_d1_nobias_m2", "zigzag_d1_m8"}) {
    SCOPED_TRACE(name);
    const RequestData r = load_request(name);
    const AnswerData a = solve(r);
    ASSERT_EQ(a.verdict, Verdict::kFeasible);
    const Problem p = problem_of(r);
    std::string error;
    auto net = rational_network(p, a.network, &error);
    ASSERT_TRUE(net) << error;
    auto fr = fit_regions(p, *net, &error);
    ASSERT_TRUE(fr) << error;
    check_regions(p, *net, *fr, !net->approximated);
  }
}

// ---- Pictures ------------------------------------------------------------------

struct Rendered {
  v1::SolveRequest request;
  v1::SolveResponse response;
  PlotReport report;
  std::string path;
};

v1::SolveRequest request_proto(const std::string& name) {
  std::ifstream in(std::string(RELUFIT_GOLDEN_DIR) + "/" + name + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  v1::SolveRequest req;
  std::string error;
  EXPECT_TRUE(parse_json(ss.str(), &req, &error)) << error;
  return req;
}

std::filesystem::path temp_dir() {
  return std::filesystem::temp_directory_path() / ("relufit-pictures-" + std::to_string(::getpid()));
}

std::string temp_path(const std::string& name) {
  std::filesystem::create_directories(temp_dir());
  return (temp_dir() / name).string();
}

// Removes the pictures when the tests end.
class TempCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir(), ec);
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempCleanup);

Rendered render(const std::string& name, const std::string& ext) {
  Rendered out;
  out.request = request_proto(name);
  out.response = answer_to_proto(solve(request_from_proto(out.request)), 30, true);
  std::string file = name;
  std::replace(file.begin(), file.end(), '/', '_');
  out.path = temp_path(file + ext);
  out.report = plot_answer(out.request, out.response, out.path, {name + ".json", ""});
  return out;
}

struct Png {
  cairo_surface_t* s = nullptr;
  explicit Png(const std::string& path) : s(cairo_image_surface_create_from_png(path.c_str())) {}
  ~Png() { cairo_surface_destroy(s); }
  bool ok() const { return cairo_surface_status(s) == CAIRO_STATUS_SUCCESS; }
  int width() const { return cairo_image_surface_get_width(s); }
  int height() const { return cairo_image_surface_get_height(s); }
  // r, g, b in 0..255 at pixel (x, y).
  std::array<int, 3> at(double x, double y) const {
    cairo_surface_flush(s);
    const unsigned char* d = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    const uint32_t px = *reinterpret_cast<const uint32_t*>(d + static_cast<int>(y) * stride + 4 * static_cast<int>(x));
    return {static_cast<int>((px >> 16) & 255), static_cast<int>((px >> 8) & 255), static_cast<int>(px & 255)};
  }
};

std::array<int, 3> scale_colour(double t) {
  double r, g, b;
  value_colour(t, &r, &g, &b);
  return {static_cast<int>(std::lround(r * 255)), static_cast<int>(std::lround(g * 255)),
          static_cast<int>(std::lround(b * 255))};
}

int distance(const std::array<int, 3>& a, const std::array<int, 3>& b) {
  return std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])});
}

TEST(Pictures, TwoInputFitShowsTheFittedValueAsColour) {
  const Rendered r = render("planted_n20_d2_m2_k1_s7", ".png");
  ASSERT_EQ(r.report.kind, "fit-2d");
  ASSERT_EQ(r.report.panels.size(), 1u);
  Png png(r.path);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png.width(), r.report.width);
  EXPECT_EQ(png.height(), r.report.height);
  EXPECT_EQ(png.at(2, 2), (std::array<int, 3>{255, 255, 255})) << "white background";

  const Problem p = problem_of(request_from_proto(r.request));
  std::string error;
  const auto net = rational_network(p, answer_from_proto(r.response).network, &error);
  ASSERT_TRUE(net) << error;
  const PanelFrame& f = r.report.panels[0];
  auto dev = [&](double x, double y) {
    return std::make_pair(f.left + (x - f.xmin) / (f.xmax - f.xmin) * f.width,
                          f.top + (f.ymax - y) / (f.ymax - f.ymin) * f.height);
  };
  auto T = [&](double v) { return (v - f.vmin) / (f.vmax - f.vmin); };
  // Each sample's centre has the colour of its label.
  for (size_t i = 0; i < p.num_samples(); ++i) {
    auto [X, Y] = dev(p.x[i][0].get_d(), p.x[i][1].get_d());
    EXPECT_LE(distance(png.at(X, Y), scale_colour(T(p.y[i][0].get_d()))), 3) << "sample " << i;
  }
  // Away from lines, markers and text, a pixel has the colour of f there.
  int checked = 0, wrong = 0;
  for (double Y = f.top + 40; Y < f.top + f.height - 40; Y += 9)
    for (double X = f.left + 40; X < f.left + f.width - 40; X += 9) {
      const double x = f.xmin + (X + 0.5 - f.left) / f.width * (f.xmax - f.xmin);
      const double y = f.ymax - (Y + 0.5 - f.top) / f.height * (f.ymax - f.ymin);
      bool clear = true;
      for (size_t i = 0; i < p.num_samples() && clear; ++i) {
        auto [sx, sy] = dev(p.x[i][0].get_d(), p.x[i][1].get_d());
        clear = std::hypot(sx - X, sy - Y) > 60;
      }
      for (size_t j = 0; j < net->w.size() && clear; ++j) {
        // Distance to the line in device units.
        const double gx = net->w[j][0].get_d() * (f.xmax - f.xmin) / f.width;
        const double gy = -net->w[j][1].get_d() * (f.ymax - f.ymin) / f.height;
        const double v = net->w[j][0].get_d() * x + net->w[j][1].get_d() * y + net->b[j].get_d();
        clear = std::fabs(v) / std::hypot(gx, gy) > 10;
      }
      if (!clear) continue;
      // Region patterns are written at the regions' centroids: skip those spots too.
      std::string error2;
      const double fx = net->evaluate({mpq_class(x), mpq_class(y)})[0].get_d();
      const auto want = scale_colour(T(fx));
      ++checked;
      if (distance(png.at(X, Y), want) > 6) ++wrong;
    }
  EXPECT_GE(checked, 30);
  EXPECT_LE(wrong, checked / 20) << "pixels off the colour of f (some under region labels are expected)";
}

TEST(Pictures, OneInputFitDrawsTheCurveThroughTheSamples) {
  const Rendered r = render("hat_m2", ".png");
  ASSERT_EQ(r.report.kind, "fit-1d");
  Png png(r.path);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png.width(), r.report.width);
  const PanelFrame& f = r.report.panels[0];
  auto X = [&](double v) { return f.left + (v - f.xmin) / (f.xmax - f.xmin) * f.width; };
  auto Y = [&](double v) { return f.top + (f.ymax - v) / (f.ymax - f.ymin) * f.height; };
  // Sample (1/2, 1/2) is an orange dot; the curve at x = 1.5 (f = 1/2) is blue.
  const auto dot = png.at(X(0.5), Y(0.5));
  EXPECT_GT(dot[0], 200);
  EXPECT_LT(dot[2], 80);
  const auto line = png.at(X(1.5), Y(0.5));
  EXPECT_GT(line[2], 120);
  EXPECT_LT(line[0], 60);
  // Above the curve at x = 1.5 the panel is white or grid.
  EXPECT_GT(png.at(X(1.5), Y(0.9))[0], 200);
}

TEST(Pictures, MultiOutputFitHasOnePanelPerOutput) {
  const Rendered r = render("planted_n12_d2_m2_k2_s2", ".png");
  EXPECT_EQ(r.report.panels.size(), 2u);
  const Rendered r3 = render("planted_n10_d2_m2_k3_s4", ".svg");
  EXPECT_EQ(r3.report.panels.size(), 3u);
  std::ifstream in(r3.path);
  std::string head(200, '\0');
  in.read(&head[0], 200);
  EXPECT_NE(head.find("<svg"), std::string::npos);
}

TEST(Pictures, ProofsArePictured) {
  const Rendered tree = render("narrowed_n12_d2_m1_k1_s2", ".png");
  EXPECT_EQ(tree.report.kind, "case-tree");
  EXPECT_EQ(tree.report.panels.size(), 2u);
  Png png(tree.path);
  ASSERT_TRUE(png.ok());
  // Some bar of LP-infeasible leaves (red) in the first panel.
  const PanelFrame& f = tree.report.panels[0];
  int red = 0;
  for (double y = f.top; y < f.top + f.height; y += 2)
    for (double x = f.left; x < f.left + f.width; x += 2) {
      const auto c = png.at(x, y);
      red += c[0] > 180 && c[1] < 80 && c[2] < 80;
    }
  EXPECT_GT(red, 20);
  EXPECT_EQ(render("zigzag_d1_m6", ".pdf").report.kind, "breakpoints");
  const Rendered pair = render("shared/conflict_m3", ".png");
  EXPECT_EQ(pair.report.kind, "conflict");
  std::ifstream pdf(render("zigzag_d1_m6", ".pdf").path);
  std::string magic(4, '\0');
  pdf.read(&magic[0], 4);
  EXPECT_EQ(magic, "%PDF");
}

TEST(Pictures, NothingToDrawIsAnError) {
  v1::SolveRequest req = request_proto("hat_m2");
  v1::SolveResponse unknown;
  unknown.set_verdict(v1::VERDICT_UNKNOWN);
  unknown.set_reason("time limit");
  EXPECT_THROW(plot_answer(req, unknown, temp_path("u.png")), std::runtime_error);
  v1::SolveResponse fit = answer_to_proto(solve(request_from_proto(req)), 30, true);
  EXPECT_THROW(plot_answer(req, fit, temp_path("u.gif")), std::runtime_error);
  const v1::SolveRequest d3 = request_proto("planted_n64_d3_m3_k1_s2");
  EXPECT_THROW(plot_answer(d3, answer_to_proto(solve(request_from_proto(d3)), 30, true), temp_path("d3.png")),
               std::runtime_error);
}

}  // namespace
}  // namespace relufit
