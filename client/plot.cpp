#include "client/plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

#include "algebra/number.h"
#include "algebra/problem.h"
#include "algebra/regions.h"
#include "server/convert.h"

namespace relufit {
namespace {

// ---- Drawing helpers -------------------------------------------------------

const char* kFont = "DejaVu Sans";

struct Rgb {
  double r, g, b;
};

// Neurons and proof-node kinds: Okabe-Ito colours (distinct for colour-blind
// readers), then a few more.
const Rgb kPalette[] = {{0.0, 0.447, 0.698}, {0.835, 0.369, 0.0}, {0.0, 0.620, 0.451},
                        {0.800, 0.475, 0.655}, {0.902, 0.624, 0.0}, {0.337, 0.706, 0.914},
                        {0.941, 0.894, 0.259}, {0.3, 0.3, 0.3},     {0.55, 0.34, 0.29},
                        {0.58, 0.40, 0.74},    {0.09, 0.75, 0.81},  {0.74, 0.74, 0.13}};
Rgb palette(size_t i) { return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))]; }

void set(cairo_t* cr, const Rgb& c, double alpha = 1) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

// Text at (x, y): ax 0 / 0.5 / 1 = left / centre / right of x; ay 0 / 0.5 /
// 1 = top / middle / baseline at y.
void text(cairo_t* cr, double x, double y, const std::string& s, double size, double ax = 0,
          double ay = 1, bool bold = false, double angle = 0) {
  cairo_save(cr);
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  double dy = ay >= 1 ? 0 : ay <= 0 ? fe.ascent : fe.ascent / 2 - fe.descent / 4;
  if (ay > 0 && ay < 1) dy = size * 0.36;
  cairo_move_to(cr, -te.x_advance * ax, dy);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

double text_width(cairo_t* cr, const std::string& s, double size, bool bold = false) {
  cairo_save(cr);
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  cairo_restore(cr);
  return te.x_advance;
}

// Text with a light halo, readable on any background.
void halo_text(cairo_t* cr, double x, double y, const std::string& s, double size, double ax, double ay,
               const Rgb& fg, const Rgb& halo, bool bold = false) {
  cairo_save(cr);
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  const double dy = ay >= 1 ? 0 : ay <= 0 ? size * 0.75 : size * 0.36;
  cairo_move_to(cr, x - te.x_advance * ax, y + dy);
  cairo_text_path(cr, s.c_str());
  set(cr, halo, 0.85);
  cairo_set_line_width(cr, 2.6);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke_preserve(cr);
  set(cr, fg);
  cairo_fill(cr);
  cairo_restore(cr);
}

// Round ticks (1, 2, 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target, double* step_out = nullptr) {
  std::vector<double> out;
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double n = raw / mag;
  const double step = (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  if (step_out) *step_out = step;
  return out;
}

std::string tick_label(double v, double step) {
  char buf[64];
  const double a = std::max(std::fabs(v), step);
  if (a >= 1e5 || a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  return buf;
}

// A short rendering of an exact number for labels: the fraction when it is
// short, else three significant digits.
std::string short_number(const mpq_class& q) {
  std::string s = rational_to_string(q);
  if (s.size() <= 6) return s;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", q.get_d());
  return buf;
}

struct Frame : PanelFrame {
  double X(double v) const { return left + (v - xmin) / (xmax - xmin) * width; }
  double Y(double v) const { return top + (ymax - v) / (ymax - ymin) * height; }
};

// Grid, frame, ticks and axis titles of a panel.
void draw_axes(cairo_t* cr, const Frame& f, const std::string& xlabel, const std::string& ylabel,
               bool grid = true, bool xticks = true) {
  cairo_save(cr);
  double xstep = 1, ystep = 1;
  const auto xt = nice_ticks(f.xmin, f.xmax, 6, &xstep);
  const auto yt = nice_ticks(f.ymin, f.ymax, 6, &ystep);
  cairo_set_line_width(cr, 1);
  if (grid) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    for (double v : xt) {
      cairo_move_to(cr, std::round(f.X(v)) + 0.5, f.top);
      cairo_line_to(cr, std::round(f.X(v)) + 0.5, f.top + f.height);
    }
    for (double v : yt) {
      cairo_move_to(cr, f.left, std::round(f.Y(v)) + 0.5);
      cairo_line_to(cr, f.left + f.width, std::round(f.Y(v)) + 0.5);
    }
    cairo_stroke(cr);
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, f.left + 0.5, f.top + 0.5, f.width, f.height);
  cairo_stroke(cr);
  if (xticks)
    for (double v : xt) {
      cairo_move_to(cr, std::round(f.X(v)) + 0.5, f.top + f.height);
      cairo_line_to(cr, std::round(f.X(v)) + 0.5, f.top + f.height + 4);
      cairo_stroke(cr);
      text(cr, f.X(v), f.top + f.height + 6, tick_label(v, xstep), 11, 0.5, 0);
    }
  double widest = 0;
  for (double v : yt) {
    cairo_move_to(cr, f.left - 4, std::round(f.Y(v)) + 0.5);
    cairo_line_to(cr, f.left, std::round(f.Y(v)) + 0.5);
    cairo_stroke(cr);
    const std::string s = tick_label(v, ystep);
    widest = std::max(widest, text_width(cr, s, 11));
    text(cr, f.left - 6, f.Y(v), s, 11, 1, 0.5);
  }
  text(cr, f.left + f.width / 2, f.top + f.height + 24, xlabel, 12, 0.5, 0);
  text(cr, f.left - 12 - widest, f.top + f.height / 2, ylabel, 12, 0.5, 1, false, -M_PI / 2);
  cairo_restore(cr);
}

void marker_circle(cairo_t* cr, double x, double y, double r, const Rgb& fill, const Rgb& edge) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, x, y, r, 0, 2 * M_PI);
  set(cr, fill);
  cairo_fill_preserve(cr);
  set(cr, edge);
  cairo_set_line_width(cr, 1.2);
  cairo_stroke(cr);
}

void marker_diamond(cairo_t* cr, double x, double y, double r, const Rgb& fill) {
  cairo_move_to(cr, x, y - r);
  cairo_line_to(cr, x + r, y);
  cairo_line_to(cr, x, y + r);
  cairo_line_to(cr, x - r, y);
  cairo_close_path(cr);
  set(cr, fill);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
}

void marker_triangle(cairo_t* cr, double x, double y, double r, bool up, const Rgb& fill) {
  const double s = up ? -1 : 1;
  cairo_move_to(cr, x, y + s * r);
  cairo_line_to(cr, x + r * 0.9, y - s * r * 0.6);
  cairo_line_to(cr, x - r * 0.9, y - s * r * 0.6);
  cairo_close_path(cr);
  set(cr, fill);
  cairo_fill(cr);
}

// One entry of a legend row; returns the x after it.
using Glyph = std::function<void(cairo_t*, double, double)>;
double legend_entry(cairo_t* cr, double x, double y, const Glyph& glyph, const std::string& label) {
  cairo_save(cr);
  glyph(cr, x + 10, y);
  cairo_restore(cr);
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  text(cr, x + 24, y, label, 12, 0, 0.5);
  return x + 24 + text_width(cr, label, 12) + 22;
}

// ---- Canvas ----------------------------------------------------------------

struct Canvas {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  std::string path;
  bool png = false;
  int width = 0, height = 0;

  Canvas(const std::string& p, int w, int h) : path(p), width(w), height(h) {
    auto ends = [&](const std::string& e) {
      if (p.size() < e.size()) return false;
      std::string tail = p.substr(p.size() - e.size());
      std::transform(tail.begin(), tail.end(), tail.begin(), ::tolower);
      return tail == e;
    };
    if (ends(".png")) {
      png = true;
      surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    } else if (ends(".svg")) {
      surface = cairo_svg_surface_create(p.c_str(), w, h);
    } else if (ends(".pdf")) {
      surface = cairo_pdf_surface_create(p.c_str(), w, h);
    } else {
      throw std::runtime_error(p + ": the picture's format follows the name's extension: .png, .svg or .pdf");
    }
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
      throw std::runtime_error("cannot write " + p + ": " +
                               cairo_status_to_string(cairo_surface_status(surface)));
    cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  }
  void finish() {
    cairo_destroy(cr);
    cr = nullptr;
    cairo_surface_flush(surface);
    cairo_status_t st = png ? cairo_surface_write_to_png(surface, path.c_str()) : CAIRO_STATUS_SUCCESS;
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    surface = nullptr;
    if (st != CAIRO_STATUS_SUCCESS)
      throw std::runtime_error("cannot write " + path + ": " + cairo_status_to_string(st));
  }
  ~Canvas() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }
};

// Title (bold) and subtitle at the top of the canvas.
void draw_title(cairo_t* cr, int width, const std::string& title, const std::string& subtitle) {
  cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
  text(cr, width / 2.0, 14, title, 17, 0.5, 0, true);
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  if (!subtitle.empty()) text(cr, width / 2.0, 40, subtitle, 12.5, 0.5, 0);
}

void draw_caption(cairo_t* cr, int width, double y, const std::vector<std::string>& lines) {
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  for (size_t i = 0; i < lines.size(); ++i) text(cr, 16, y + 17 * i, lines[i], 11.5, 0, 0);
  (void)width;
}

std::string plural(size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// "a network with 3 hidden ReLU neurons"
std::string network_words(const Problem& p) {
  return "a network with " + plural(p.hidden_width, "hidden ReLU neuron");
}

// Label placement that skips or shifts labels that would overlap earlier ones.
struct LabelBoxes {
  std::vector<std::array<double, 4>> boxes;  // x0, y0, x1, y1
  bool free(double x0, double y0, double x1, double y1) const {
    for (const auto& b : boxes)
      if (x0 < b[2] && b[0] < x1 && y0 < b[3] && b[1] < y1) return false;
    return true;
  }
  void take(double x0, double y0, double x1, double y1) { boxes.push_back({x0, y0, x1, y1}); }
};

std::string source_line(const PlotOptions& o) {
  if (o.request_name.empty()) return "";
  return "Data: " + o.request_name + (o.response_name.empty() ? "" : "   answer: " + o.response_name);
}

// ---- Fits --------------------------------------------------------------------

struct FitInput {
  Problem problem;
  RationalNetwork net;
  FitRegionsData regions;
};

std::string architecture_text(const Problem& p) {
  std::string s = "d = " + std::to_string(p.input_dim) + ", m = " + std::to_string(p.hidden_width) +
                  ", k = " + std::to_string(p.output_dim);
  if (!p.hidden_bias && !p.output_bias) s += ", no biases";
  else if (!p.hidden_bias) s += ", no hidden bias";
  else if (!p.output_bias) s += ", no output bias";
  return s;
}

std::vector<std::string> fit_caption(const FitInput& in, const PlotOptions& o, const std::string& what) {
  std::vector<std::string> lines{what};
  if (in.net.approximated)
    lines.push_back(
        "Some weights are irrational (real algebraic numbers): they are drawn from rational approximations "
        "within 1e-30 (30-digit decimals).");
  else
    lines.push_back("All weights are exact rationals; the pieces and values drawn are computed exactly, then "
                    "rounded to pixels.");
  if (auto s = source_line(o); !s.empty()) lines.push_back(s);
  return lines;
}

int panel_columns(uint32_t k) { return static_cast<int>(std::min<uint32_t>(k, 3)); }

PlotReport plot_fit_1d(const FitInput& in, const std::string& path, const PlotOptions& opts) {
  const Problem& p = in.problem;
  const uint32_t k = p.output_dim;
  const int cols = panel_columns(k), rows = static_cast<int>((k + cols - 1) / cols);
  const int pw = std::max(520, 1000 / cols), ph = k == 1 ? 420 : 360, top = 100, caption = 70, ml = 78, mr = 24,
            mb = 52, mt = 30;
  const int W = std::max(cols * pw, 1000), H = top + rows * ph + caption;
  const int x_off = (W - cols * pw) / 2;
  Canvas c(path, W, H);
  cairo_t* cr = c.cr;
  PlotReport report{W, H, "fit-1d", {}};

  draw_title(cr, W, "FEASIBLE: " + network_words(p) + " fits all " +
                        plural(p.num_samples(), "sample") + " exactly",
             "f(x) = sum_j a_j max(0, w_j x + b_j) + c   (" + architecture_text(p) +
                 "): the fitted function, piecewise linear, bends only at the neurons' breakpoints");
  const Rgb fit_colour{0.0, 0.36, 0.69}, sample_fill{0.96, 0.62, 0.04}, dark{0.1, 0.1, 0.1};
  const Rgb bp_colour{0.80, 0.15, 0.15};
  {
    double x = 16, y = 72;
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) {
      set(g, fit_colour);
      cairo_set_line_width(g, 2.5);
      cairo_move_to(g, cx - 9, cy);
      cairo_line_to(g, cx + 9, cy);
      cairo_stroke(g);
    }, "fitted function f(x)");
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) { marker_circle(g, cx, cy, 4.5, sample_fill, dark); },
                     "sample (x_i, y_i)");
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) {
      cairo_set_source_rgba(g, bp_colour.r, bp_colour.g, bp_colour.b, 0.7);
      cairo_set_line_width(g, 1);
      const double dash[] = {4, 3};
      cairo_set_dash(g, dash, 2, 0);
      cairo_move_to(g, cx, cy - 8);
      cairo_line_to(g, cx, cy + 8);
      cairo_stroke(g);
      cairo_set_dash(g, nullptr, 0, 0);
      marker_diamond(g, cx, cy, 4.5, bp_colour);
    }, "breakpoint x = -b_j / w_j of neuron j (label j)");
  }

  // Breakpoints inside the box, with the neurons that have them.
  const double lo = in.regions.box_lower[0].get_d(), hi = in.regions.box_upper[0].get_d();
  std::map<mpq_class, std::vector<size_t>> breakpoints;
  for (size_t j = 0; j < in.net.w.size(); ++j) {
    if (sgn(in.net.w[j][0]) == 0) continue;
    mpq_class t = -in.net.b[j] / in.net.w[j][0];
    if (t >= in.regions.box_lower[0] && t <= in.regions.box_upper[0]) breakpoints[t].push_back(j);
  }

  for (uint32_t o = 0; o < k; ++o) {
    // The polyline through the region ends (exact values).
    std::vector<std::pair<double, double>> line;
    for (const auto& r : in.regions.regions) {
      const auto& m = r.maps[o];
      for (const auto& v : r.vertices) line.emplace_back(v[0].get_d(), mpq_class(m.gradient[0] * v[0] + m.offset).get_d());
    }
    double ymin = line.front().second, ymax = ymin;
    for (const auto& [x, y] : line) ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    for (const auto& y : p.y) ymin = std::min(ymin, y[o].get_d()), ymax = std::max(ymax, y[o].get_d());
    if (ymax - ymin < 1e-12) ymin -= 1, ymax += 1;
    const double pad = (ymax - ymin) * 0.08;
    Frame f;
    f.left = x_off + (o % cols) * pw + ml;
    f.top = top + (o / cols) * ph + mt;
    f.width = pw - ml - mr;
    f.height = ph - mt - mb;
    f.xmin = lo, f.xmax = hi, f.ymin = ymin - pad, f.ymax = ymax + pad;
    const std::string yname = k == 1 ? "y" : "y_" + std::to_string(o);
    draw_axes(cr, f, "x (input)", yname + " (label)  and  f" + (k == 1 ? "" : "_" + std::to_string(o)) + "(x)");
    if (k > 1) {
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      text(cr, f.left + f.width / 2, f.top - 8, "output " + std::to_string(o), 13, 0.5, 1, true);
    }
    cairo_save(cr);
    cairo_rectangle(cr, f.left, f.top, f.width, f.height);
    cairo_clip(cr);
    // Breakpoints: dashed verticals and a diamond on the curve.
    for (const auto& [t, js] : breakpoints) {
      const double X = f.X(t.get_d());
      cairo_set_source_rgba(cr, bp_colour.r, bp_colour.g, bp_colour.b, 0.55);
      cairo_set_line_width(cr, 1);
      const double dash[] = {4, 3};
      cairo_set_dash(cr, dash, 2, 0);
      cairo_move_to(cr, std::round(X) + 0.5, f.top);
      cairo_line_to(cr, std::round(X) + 0.5, f.top + f.height);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    // Many samples hide the line: then they are drawn small and the line on top.
    const bool many = p.num_samples() > 60;
    auto draw_line = [&] {
      set(cr, fit_colour, many ? 0.85 : 1);
      cairo_set_line_width(cr, many ? 1.6 : 2.5);
      cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
      for (size_t i = 0; i < line.size(); ++i) {
        if (i == 0) cairo_move_to(cr, f.X(line[i].first), f.Y(line[i].second));
        else cairo_line_to(cr, f.X(line[i].first), f.Y(line[i].second));
      }
      cairo_stroke(cr);
    };
    if (!many) draw_line();
    for (size_t i = 0; i < p.num_samples(); ++i)
      marker_circle(cr, f.X(p.x[i][0].get_d()), f.Y(p.y[i][o].get_d()), many ? 2.8 : 4.5, sample_fill, dark);
    if (many) draw_line();
    // Breakpoint markers on top of the samples, their neuron numbers along
    // the top edge (shifted down a row where they would overlap).
    LabelBoxes placed;
    for (const auto& [t, js] : breakpoints) {
      const double v = in.net.evaluate({t})[o].get_d();
      marker_diamond(cr, f.X(t.get_d()), f.Y(v), 5, bp_colour);
      std::string label;
      for (size_t j : js) label += (label.empty() ? "" : ",") + std::to_string(j);
      const double X = f.X(t.get_d()), tw = text_width(cr, label, 11, true) + 4;
      double Y = f.top + 4;
      while (!placed.free(X - tw / 2, Y, X + tw / 2, Y + 13) && Y < f.top + 60) Y += 13;
      placed.take(X - tw / 2, Y, X + tw / 2, Y + 13);
      halo_text(cr, X, Y, label, 11, 0.5, 0, bp_colour, {1, 1, 1}, true);
    }
    cairo_restore(cr);
    report.panels.push_back(f);
  }
  std::string what = "Breakpoints: " + plural(breakpoints.size(), "distinct point") + " inside the box";
  size_t outside = 0;
  for (size_t j = 0; j < in.net.w.size(); ++j) outside += sgn(in.net.w[j][0]) == 0;
  size_t inside = 0;
  for (const auto& [t, js] : breakpoints) inside += js.size();
  outside = in.net.w.size() - inside;
  if (outside) what += "; " + plural(outside, "neuron") + " bend outside it (or have w_j = 0)";
  what += ". Between breakpoints f is affine: the line joins its values at the breakpoints and the box's ends.";
  draw_caption(cr, W, H - caption + 8, fit_caption(in, opts, what));
  c.finish();
  return report;
}

// Luminance of a value colour, to pick black or white text on it.
double luminance(double t) {
  double r, g, b;
  value_colour(t, &r, &g, &b);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const double kViridis[9][3] = {{0.267, 0.004, 0.329}, {0.282, 0.157, 0.471}, {0.243, 0.286, 0.537},
                               {0.192, 0.408, 0.557}, {0.149, 0.510, 0.557}, {0.122, 0.620, 0.537},
                               {0.208, 0.718, 0.475}, {0.431, 0.808, 0.345}, {0.992, 0.906, 0.145}};

void add_value_stops(cairo_pattern_t* pat, double t0, double t1) {
  // Stops of the colour map for the part [t0, t1] of the scale, mapped to
  // the pattern's [0, 1].
  for (int i = 0; i < 9; ++i) {
    const double t = i / 8.0;
    const double s = (t - t0) / (t1 - t0);
    cairo_pattern_add_color_stop_rgb(pat, s, kViridis[i][0], kViridis[i][1], kViridis[i][2]);
  }
}

PlotReport plot_fit_2d(const FitInput& in, const std::string& path, const PlotOptions& opts) {
  const Problem& p = in.problem;
  const uint32_t k = p.output_dim;
  const int cols = panel_columns(k), rows = static_cast<int>((k + cols - 1) / cols);
  const int pw = 580, ph = 520, top = 100, caption = 88, ml = 70, mr = 120, mb = 52, mt = 30;
  const int W = std::max(cols * pw, 1000), H = top + rows * ph + caption;
  const int x_off = (W - cols * pw) / 2;
  Canvas c(path, W, H);
  cairo_t* cr = c.cr;
  PlotReport report{W, H, "fit-2d", {}};
  draw_title(cr, W, "FEASIBLE: " + network_words(p) + " fits all " +
                        plural(p.num_samples(), "sample") + " exactly",
             "f(x) = sum_j a_j max(0, w_j . x + b_j) + c   (" + architecture_text(p) + "): " +
                 plural(in.regions.regions.size(), "linear region") +
                 ", on each f is affine; colour = fitted value");
  const Rgb dark{0.1, 0.1, 0.1};
  {
    double x = 16, y = 72;
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) {
      set(g, palette(0));
      cairo_set_line_width(g, 2);
      cairo_move_to(g, cx - 9, cy);
      cairo_line_to(g, cx + 9, cy);
      cairo_stroke(g);
    }, "activation line w_j . x + b_j = 0 of neuron j (colour per neuron; '+' marks the active side)");
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) {
      double r, gg, b;
      value_colour(0.6, &r, &gg, &b);
      marker_circle(g, cx, cy, 5.5, {r, gg, b}, dark);
    }, "sample, filled with the colour of its label (next to it)");
    (void)x;
  }
  const double x0 = in.regions.box_lower[0].get_d(), x1 = in.regions.box_upper[0].get_d();
  const double y0 = in.regions.box_lower[1].get_d(), y1 = in.regions.box_upper[1].get_d();

  for (uint32_t o = 0; o < k; ++o) {
    // Value range: the extremes of an affine map over a polygon are at corners.
    double vmin = 0, vmax = 0;
    bool first = true;
    for (const auto& r : in.regions.regions)
      for (const auto& v : r.vertices) {
        const double val = mpq_class(r.maps[o].gradient[0] * v[0] + r.maps[o].gradient[1] * v[1] + r.maps[o].offset).get_d();
        vmin = first ? val : std::min(vmin, val);
        vmax = first ? val : std::max(vmax, val);
        first = false;
      }
    for (const auto& y : p.y) vmin = std::min(vmin, y[o].get_d()), vmax = std::max(vmax, y[o].get_d());
    if (vmax - vmin < 1e-12) vmin -= 1, vmax += 1;
    Frame f;
    f.left = x_off + (o % cols) * pw + ml;
    f.top = top + (o / cols) * ph + mt;
    f.width = pw - ml - mr;
    f.height = ph - mt - mb;
    f.xmin = x0, f.xmax = x1, f.ymin = y0, f.ymax = y1;
    f.vmin = vmin, f.vmax = vmax;
    auto T = [&](double v) { return (v - vmin) / (vmax - vmin); };

    // Regions, each shaded by its affine map (a linear gradient of cairo
    // follows an affine function exactly).
    for (const auto& r : in.regions.regions) {
      const auto& m = r.maps[o];
      cairo_new_path(cr);
      for (size_t i = 0; i < r.vertices.size(); ++i) {
        const double X = f.X(r.vertices[i][0].get_d()), Y = f.Y(r.vertices[i][1].get_d());
        i == 0 ? cairo_move_to(cr, X, Y) : cairo_line_to(cr, X, Y);
      }
      cairo_close_path(cr);
      const double gx = m.gradient[0].get_d(), gy = m.gradient[1].get_d();
      // Gradient of the value in device units: dv/dX, dv/dY.
      const double GX = gx * (f.xmax - f.xmin) / f.width, GY = -gy * (f.ymax - f.ymin) / f.height;
      const double g2 = GX * GX + GY * GY;
      const auto& v0 = r.vertices[0];
      const double val0 = mpq_class(m.gradient[0] * v0[0] + m.gradient[1] * v0[1] + m.offset).get_d();
      if (g2 < 1e-300) {
        double rr, gg, bb;
        value_colour(T(val0), &rr, &gg, &bb);
        cairo_set_source_rgb(cr, rr, gg, bb);
        cairo_fill_preserve(cr);
      } else {
        const double X0 = f.X(v0[0].get_d()), Y0 = f.Y(v0[1].get_d());
        const double s0 = (vmin - val0) / g2, s1 = (vmax - val0) / g2;
        cairo_pattern_t* pat = cairo_pattern_create_linear(X0 + s0 * GX, Y0 + s0 * GY, X0 + s1 * GX, Y0 + s1 * GY);
        add_value_stops(pat, 0, 1);
        cairo_pattern_set_extend(pat, CAIRO_EXTEND_PAD);
        cairo_set_source(cr, pat);
        cairo_fill_preserve(cr);
        cairo_pattern_destroy(pat);
      }
      // Thin light edges show the pieces where two colours meet smoothly.
      cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
      cairo_set_line_width(cr, 0.8);
      cairo_stroke(cr);
    }
    // Activation patterns inside regions large enough to hold them.
    for (const auto& r : in.regions.regions) {
      double area = 0, cx = 0, cy = 0;
      const size_t n = r.vertices.size();
      for (size_t i = 0; i < n; ++i) {
        const double ax = f.X(r.vertices[i][0].get_d()), ay = f.Y(r.vertices[i][1].get_d());
        const double bx = f.X(r.vertices[(i + 1) % n][0].get_d()), by = f.Y(r.vertices[(i + 1) % n][1].get_d());
        const double cross = ax * by - bx * ay;
        area += cross;
        cx += (ax + bx) * cross;
        cy += (ay + by) * cross;
      }
      if (std::fabs(area) < 1e-9) continue;
      cx /= 3 * area;
      cy /= 3 * area;
      area = std::fabs(area) / 2;
      const double fs = 12;
      if (area < 2200 || text_width(cr, r.activation, fs) * fs * 3 > area) continue;
      const auto& m = r.maps[o];
      const double dx = f.xmin + (cx - f.left) / f.width * (f.xmax - f.xmin);
      const double dy = f.ymax - (cy - f.top) / f.height * (f.ymax - f.ymin);
      const double val = m.gradient[0].get_d() * dx + m.gradient[1].get_d() * dy + m.offset.get_d();
      const bool light = luminance(T(val)) > 0.45;
      cairo_set_source_rgba(cr, light ? 0 : 1, light ? 0 : 1, light ? 0 : 1, 0.8);
      text(cr, cx, cy, r.activation, fs, 0.5, 0.5, true);
    }
    // Activation lines across the box, coloured per neuron, labelled where they leave it.
    cairo_save(cr);
    cairo_rectangle(cr, f.left, f.top, f.width, f.height);
    cairo_clip(cr);
    struct LineLabel {
      double x, y, px, py;
      size_t j;
    };
    std::vector<LineLabel> labels;
    for (size_t j = 0; j < in.net.w.size(); ++j) {
      const double w0 = in.net.w[j][0].get_d(), w1 = in.net.w[j][1].get_d(), b = in.net.b[j].get_d();
      if (w0 == 0 && w1 == 0) continue;
      // Points of the line on the box's edges.
      std::vector<std::pair<double, double>> pts;
      if (w1 != 0)
        for (double X : {x0, x1}) {
          const double Y = -(b + w0 * X) / w1;
          if (Y >= y0 - 1e-12 && Y <= y1 + 1e-12) pts.emplace_back(X, Y);
        }
      if (w0 != 0)
        for (double Y : {y0, y1}) {
          const double X = -(b + w1 * Y) / w0;
          if (X >= x0 - 1e-12 && X <= x1 + 1e-12) pts.emplace_back(X, Y);
        }
      if (pts.size() < 2) continue;
      std::sort(pts.begin(), pts.end());
      const auto A = pts.front(), B = pts.back();
      const Rgb col = palette(j);
      cairo_set_line_width(cr, 3.6);
      cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
      cairo_move_to(cr, f.X(A.first), f.Y(A.second));
      cairo_line_to(cr, f.X(B.first), f.Y(B.second));
      cairo_stroke(cr);
      cairo_set_line_width(cr, 2);
      set(cr, col);
      cairo_move_to(cr, f.X(A.first), f.Y(A.second));
      cairo_line_to(cr, f.X(B.first), f.Y(B.second));
      cairo_stroke(cr);
      // Label near the end with the larger device y (lower on the picture)
      // or, for a horizontal line, the right end; pushed 14 px inside.
      auto Ad = std::make_pair(f.X(A.first), f.Y(A.second)), Bd = std::make_pair(f.X(B.first), f.Y(B.second));
      auto end = Bd, other = Ad;
      if (std::fabs(Ad.second - Bd.second) > 1 && Ad.second > Bd.second) std::swap(end, other);
      const double len = std::hypot(other.first - end.first, other.second - end.second);
      if (len < 1) continue;
      const double ux = (other.first - end.first) / len, uy = (other.second - end.second) / len;
      // The active side: direction of (w0, w1) in device space.
      double nx = w0 / (f.xmax - f.xmin) * f.width, ny = -w1 / (f.ymax - f.ymin) * f.height;
      const double nn = std::hypot(nx, ny);
      nx /= nn, ny /= nn;
      labels.push_back({end.first + ux * 26, end.second + uy * 26, nx, ny, j});
    }
    cairo_restore(cr);
    for (const auto& L : labels) {
      const Rgb col = palette(L.j);
      halo_text(cr, L.x - L.px * 11, L.y - L.py * 11, std::to_string(L.j), 12, 0.5, 0.5, col, {1, 1, 1}, true);
      halo_text(cr, L.x + L.px * 11, L.y + L.py * 11, "+", 14, 0.5, 0.5, col, {1, 1, 1}, true);
    }
    // Samples, filled with the colour of their label, and the labels.
    const double radius = p.num_samples() > 60 ? 3.5 : 5.5;
    LabelBoxes placed;
    for (size_t i = 0; i < p.num_samples(); ++i) {
      const double X = f.X(p.x[i][0].get_d()), Y = f.Y(p.x[i][1].get_d());
      placed.take(X - radius, Y - radius, X + radius, Y + radius);
    }
    for (size_t i = 0; i < p.num_samples(); ++i) {
      const double X = f.X(p.x[i][0].get_d()), Y = f.Y(p.x[i][1].get_d());
      double rr, gg, bb;
      value_colour(T(p.y[i][o].get_d()), &rr, &gg, &bb);
      marker_circle(cr, X, Y, radius, {rr, gg, bb}, {0.05, 0.05, 0.05});
    }
    // Labels where they do not cover another label or sample: right, left,
    // above or below the sample, else none.
    for (size_t i = 0; i < p.num_samples() && p.num_samples() <= 80; ++i) {
      const double X = f.X(p.x[i][0].get_d()), Y = f.Y(p.x[i][1].get_d());
      const std::string s = short_number(p.y[i][o]);
      const double tw = text_width(cr, s, 10.5), th = 12;
      const double spots[4][2] = {{X + radius + 3, Y - th / 2}, {X - radius - 3 - tw, Y - th / 2},
                                  {X - tw / 2, Y - radius - 2 - th}, {X - tw / 2, Y + radius + 2}};
      for (const auto& sp : spots) {
        if (sp[0] < f.left || sp[0] + tw > f.left + f.width || sp[1] < f.top || sp[1] + th > f.top + f.height)
          continue;
        if (!placed.free(sp[0], sp[1], sp[0] + tw, sp[1] + th)) continue;
        placed.take(sp[0], sp[1], sp[0] + tw, sp[1] + th);
        halo_text(cr, sp[0], sp[1] + th / 2, s, 10.5, 0, 0.5, {0.05, 0.05, 0.05}, {1, 1, 1});
        break;
      }
    }
    draw_axes(cr, f, "x_0 (input 0)", "x_1 (input 1)", false);
    if (k > 1) {
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      text(cr, f.left + f.width / 2, f.top - 8, "output " + std::to_string(o), 13, 0.5, 1, true);
    }
    // Colour bar.
    const double bx = f.left + f.width + 18, bw = 16;
    cairo_pattern_t* pat = cairo_pattern_create_linear(0, f.top + f.height, 0, f.top);
    add_value_stops(pat, 0, 1);
    cairo_rectangle(cr, bx, f.top, bw, f.height);
    cairo_set_source(cr, pat);
    cairo_fill(cr);
    cairo_pattern_destroy(pat);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, bx + 0.5, f.top + 0.5, bw, f.height);
    cairo_stroke(cr);
    double step = 1;
    for (double v : nice_ticks(vmin, vmax, 6, &step)) {
      const double Y = f.top + f.height * (1 - T(v));
      cairo_move_to(cr, bx + bw, std::round(Y) + 0.5);
      cairo_line_to(cr, bx + bw + 4, std::round(Y) + 0.5);
      cairo_stroke(cr);
      text(cr, bx + bw + 6, Y, tick_label(v, step), 11, 0, 0.5);
    }
    const std::string vname = k == 1 ? "f(x) and label y" : "f_" + std::to_string(o) + "(x) and label y_" + std::to_string(o);
    text(cr, bx + bw + 58, f.top + f.height / 2, vname, 12, 0.5, 1, false, -M_PI / 2);
    report.panels.push_back(f);
  }
  std::vector<std::string> cap = fit_caption(
      in, opts,
      "Regions: the faces of the arrangement of the neurons' activation lines inside a box around the samples, "
      "computed exactly (CGAL Arrangement_2 over rationals);");
  cap.insert(cap.begin() + 1,
             "each region is labelled with its activation pattern (1 = neuron active, neuron 0 first) where it "
             "fits. A sample that blends into the shading is fitted.");
  draw_caption(cr, W, H - caption + 8, cap);
  c.finish();
  return report;
}

// ---- Proofs ------------------------------------------------------------------

const char* kind_name(int kind) {
  switch (kind) {
    case v1::ProofNode::KIND_BRANCH: return "branch (split on the next sample)";
    case v1::ProofNode::KIND_LP_INFEASIBLE: return "leaf: LP infeasible";
    case v1::ProofNode::KIND_UNREALIZABLE: return "leaf: column unrealizable";
    case v1::ProofNode::KIND_PINNED_DIRECTION: return "leaf: pinned direction";
    case v1::ProofNode::KIND_PRODUCTS: return "leaf: products";
    case v1::ProofNode::KIND_RATIO_BOXES: return "leaf: ratio boxes";
    default: return "other";
  }
}

const Rgb kKindColour[7] = {{0.6, 0.6, 0.6}, {0.62, 0.64, 0.70}, {0.84, 0.19, 0.15}, {0.46, 0.33, 0.70},
                            {0.0, 0.55, 0.55}, {0.93, 0.60, 0.10}, {0.20, 0.60, 0.20}};

// Stacked bars: counts[bar][kind], kinds 1..6.
void stacked_bars(cairo_t* cr, const Frame& f, const std::vector<std::array<uint64_t, 7>>& counts,
                  const std::vector<std::string>& names, const std::string& xlabel, const std::string& ylabel) {
  draw_axes(cr, f, xlabel, ylabel, true, false);
  const size_t n = counts.size();
  const double slot = f.width / std::max<size_t>(n, 1);
  const double bw = std::max(1.0, slot * 0.8);
  for (size_t i = 0; i < n; ++i) {
    double base = 0;
    for (int kind = 1; kind <= 6; ++kind) {
      if (!counts[i][kind]) continue;
      const double top = base + counts[i][kind];
      const double X = f.left + slot * i + (slot - bw) / 2;
      cairo_rectangle(cr, X, f.Y(top), bw, f.Y(base) - f.Y(top));
      set(cr, kKindColour[kind]);
      cairo_fill(cr);
      base = top;
    }
  }
  // Bar names, thinned out to what fits.
  double widest = 1;
  for (const auto& s : names) widest = std::max(widest, text_width(cr, s, 11));
  const size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil((widest + 8) / slot)));
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  for (size_t i = 0; i < n; i += every) text(cr, f.left + slot * (i + 0.5), f.top + f.height + 6, names[i], 11, 0.5, 0);
}

PlotReport plot_case_tree(const Problem& p, const v1::CaseTree& tree, const std::string& path,
                          const PlotOptions& opts) {
  std::vector<std::array<uint64_t, 7>> by_depth, by_case;
  std::array<uint64_t, 7> total{};
  std::vector<std::string> case_names;
  for (const auto& sc : tree.cases()) {
    std::array<uint64_t, 7> mine{};
    for (const auto& node : sc.nodes()) {
      const int kind = node.kind() >= 1 && node.kind() <= 6 ? node.kind() : 0;
      if (node.depth() >= by_depth.size()) by_depth.resize(node.depth() + 1, std::array<uint64_t, 7>{});
      ++by_depth[node.depth()][kind];
      ++mine[kind];
      ++total[kind];
    }
    by_case.push_back(mine);
    std::string name;
    for (const auto& s : sc.output_signs()) name += (name.empty() ? "" : " ") + s;
    case_names.push_back(name);
  }
  const int pw = 540, ph = 400, top = 100, caption = 106, ml = 80, mr = 24, mb = 56, mt = 30;
  const int W = 2 * pw, H = top + ph + caption;
  Canvas c(path, W, H);
  cairo_t* cr = c.cr;
  PlotReport report{W, H, "case-tree", {}};
  uint64_t nodes = 0;
  for (int kind = 0; kind <= 6; ++kind) nodes += total[kind];
  draw_title(cr, W, "INFEASIBLE: no network with " + plural(p.hidden_width, "hidden ReLU neuron") + " fits these " +
                        plural(p.num_samples(), "sample"),
             "The proof: a case tree of " + std::to_string(nodes) + " nodes over " +
                 plural(static_cast<size_t>(tree.cases_size()), "sign case") +
                 "; every leaf is a certificate that its case is empty (" + architecture_text(p) + ")");
  {
    double x = 16, y = 72;
    for (int kind = 1; kind <= 6; ++kind) {
      if (!total[kind] && kind != 1) continue;
      x = legend_entry(cr, x, y, [kind](cairo_t* g, double cx, double cy) {
        cairo_rectangle(g, cx - 7, cy - 6, 14, 12);
        set(g, kKindColour[kind]);
        cairo_fill(g);
      }, std::string(kind_name(kind)) + ": " + std::to_string(total[kind]));
    }
  }
  auto frame_for = [&](int col, const std::vector<std::array<uint64_t, 7>>& counts) {
    Frame f;
    f.left = col * pw + ml;
    f.top = top + mt;
    f.width = pw - ml - mr;
    f.height = ph - mt - mb;
    uint64_t most = 1;
    for (const auto& cnt : counts) {
      uint64_t s = 0;
      for (int kind = 1; kind <= 6; ++kind) s += cnt[kind];
      most = std::max(most, s);
    }
    f.xmin = 0, f.xmax = std::max<size_t>(counts.size(), 1), f.ymin = 0, f.ymax = most * 1.08;
    return f;
  };
  std::vector<std::string> depth_names;
  for (size_t t = 0; t < by_depth.size(); ++t) depth_names.push_back(std::to_string(t));
  Frame f1 = frame_for(0, by_depth);
  stacked_bars(cr, f1, by_depth, depth_names, "depth (samples decided)", "nodes");
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  text(cr, f1.left + f1.width / 2, f1.top - 8, "Nodes by depth", 13, 0.5, 1, true);
  Frame f2 = frame_for(1, by_case);
  stacked_bars(cr, f2, by_case, case_names, "sign case (signs of a_j per neuron)", "nodes");
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  text(cr, f2.left + f2.width / 2, f2.top - 8, "Nodes by sign case", 13, 0.5, 1, true);
  report.panels = {f1, f2};
  std::vector<std::string> cap{
      "Each sign case fixes the signs of the output weights; below it, each branch node decides the activation of "
      "one more sample.",
      "A leaf proves its subtree empty: its LP is infeasible (Farkas vector), a neuron's activation column is not "
      "cut by any line,",
      "the data pin a_j's direction, or (several outputs) a degree-2 product certificate refutes the pattern.",
      "The independent checker verified every leaf exactly (relufit verify REQUEST RESPONSE checks it again)."};
  if (auto s = source_line(opts); !s.empty()) cap.push_back(s);
  draw_caption(cr, W, H - caption + 4, cap);
  c.finish();
  return report;
}

PlotReport plot_breakpoint_bound(const Problem& p, const v1::BreakpointBound& bb, const std::string& path,
                                 const PlotOptions& opts) {
  const uint32_t o = bb.output();
  if (p.input_dim != 1 || o >= p.output_dim) throw std::runtime_error("breakpoint bound for a problem it does not fit");
  // Sorted, merged samples of output o.
  std::map<mpq_class, mpq_class> pts;
  for (size_t i = 0; i < p.num_samples(); ++i) pts[p.x[i][0]] = p.y[i][o];
  std::vector<std::pair<mpq_class, mpq_class>> s(pts.begin(), pts.end());
  std::vector<int> sign(s.size(), 0);  // slope-change sign at interior points
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    mpq_class a = (s[i].second - s[i - 1].second) / (s[i].first - s[i - 1].first);
    mpq_class b = (s[i + 1].second - s[i].second) / (s[i + 1].first - s[i].first);
    sign[i] = sgn(b - a);
  }
  const int W = 1100, H = 620, top = 100, caption = 88;
  Canvas c(path, W, H);
  cairo_t* cr = c.cr;
  PlotReport report{W, H, "breakpoints", {}};
  draw_title(cr, W, "INFEASIBLE: no network with " + plural(p.hidden_width, "hidden ReLU neuron") + " fits these " +
                        plural(p.num_samples(), "sample"),
             "The proof: output " + std::to_string(o) + " needs at least " + std::to_string(bb.min_breakpoints()) +
                 " slope changes, and each of the " + std::to_string(p.hidden_width) +
                 " neurons makes at most one (" + architecture_text(p) + ")");
  const Rgb up{0.84, 0.19, 0.15}, down{0.0, 0.36, 0.69}, dark{0.1, 0.1, 0.1};
  {
    double x = 16, y = 72;
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) { marker_triangle(g, cx, cy, 6, true, up); },
                     "slope increases here (an up-bend is needed near it)");
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) { marker_triangle(g, cx, cy, 6, false, down); },
                     "slope decreases here (a down-bend)");
    x = legend_entry(cr, x, y, [&](cairo_t* g, double cx, double cy) {
      marker_circle(g, cx, cy, 4, {0.96, 0.62, 0.04}, dark);
    }, "sample");
  }
  Frame f;
  f.left = 80, f.top = top + 20, f.width = W - 110, f.height = H - top - caption - 70;
  double ymin = s.front().second.get_d(), ymax = ymin;
  for (const auto& q : s) ymin = std::min(ymin, q.second.get_d()), ymax = std::max(ymax, q.second.get_d());
  if (ymax - ymin < 1e-12) ymin -= 1, ymax += 1;
  const double xpad = mpq_class(s.back().first - s.front().first).get_d() * 0.05 + (s.size() == 1 ? 1 : 0);
  f.xmin = s.front().first.get_d() - xpad, f.xmax = s.back().first.get_d() + xpad;
  f.ymin = ymin - (ymax - ymin) * 0.12, f.ymax = ymax + (ymax - ymin) * 0.12;
  draw_axes(cr, f, "x (input), samples sorted", "y_" + std::to_string(o) + " (label)");
  cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
  cairo_set_line_width(cr, 1.4);
  for (size_t i = 0; i < s.size(); ++i) {
    const double X = f.X(s[i].first.get_d()), Y = f.Y(s[i].second.get_d());
    i == 0 ? cairo_move_to(cr, X, Y) : cairo_line_to(cr, X, Y);
  }
  cairo_stroke(cr);
  const bool few = s.size() <= 60;
  for (size_t i = 0; i < s.size(); ++i) {
    const double X = f.X(s[i].first.get_d()), Y = f.Y(s[i].second.get_d());
    if (sign[i] > 0) marker_triangle(cr, X, Y + (few ? 17 : 9), few ? 7 : 4, true, up);
    if (sign[i] < 0) marker_triangle(cr, X, Y - (few ? 17 : 9), few ? 7 : 4, false, down);
    marker_circle(cr, X, Y, few ? 4 : 2.5, {0.96, 0.62, 0.04}, dark);
  }
  report.panels.push_back(f);
  std::vector<std::string> cap{
      "Between consecutive samples the fit's slope must take the chord's slope somewhere; where chord slopes rise "
      "(fall), the fit bends up (down) near that sample.",
      "A run of L equal marks needs ceil(L/2) bends of that sign; the runs add up to " +
          std::to_string(bb.min_breakpoints()) + " > " + std::to_string(p.hidden_width) +
          " = the most bends the neurons can make (breakpoint lemma, proto BreakpointBound).",
      "The checker recomputed the bound from the data."};
  if (auto sl = source_line(opts); !sl.empty()) cap.push_back(sl);
  draw_caption(cr, W, H - caption + 4, cap);
  c.finish();
  return report;
}

PlotReport plot_conflict(const Problem& p, const v1::ConflictingPair& pair, const std::string& path,
                         const PlotOptions& opts) {
  const int W = 900, H = 320;
  Canvas c(path, W, H);
  cairo_t* cr = c.cr;
  PlotReport report{W, H, "conflict", {}};
  draw_title(cr, W, "INFEASIBLE: no function at all fits these " + plural(p.num_samples(), "sample"),
             "The proof: two samples have the same input and different labels (" + architecture_text(p) + ")");
  auto vec = [](const std::vector<mpq_class>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + rational_to_string(v[i]);
    return s + ")";
  };
  const uint32_t a = pair.first(), b = pair.second();
  if (a >= p.num_samples() || b >= p.num_samples()) throw std::runtime_error("conflicting pair names samples the request does not have");
  const Rgb boxc{0.84, 0.19, 0.15};
  for (int side = 0; side < 2; ++side) {
    const uint32_t i = side ? b : a;
    const double x = 60 + side * 420;
    cairo_rectangle(cr, x, 90, 360, 130);
    cairo_set_source_rgb(cr, 0.98, 0.95, 0.94);
    cairo_fill_preserve(cr);
    set(cr, boxc);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, x + 16, 120, "sample " + std::to_string(i), 15, 0, 1, true);
    text(cr, x + 16, 160, "x = " + vec(p.x[i]), 14, 0, 1);
    text(cr, x + 16, 195, "y = " + vec(p.y[i]), 14, 0, 1);
  }
  set(cr, boxc);
  text(cr, W / 2.0, 160, "x equal", 13, 0.5, 1, true);
  text(cr, W / 2.0, 195, "y differ", 13, 0.5, 1, true);
  std::vector<std::string> cap{"f(x) has one value at each x, so no network (of any width) fits both samples."};
  if (auto sl = source_line(opts); !sl.empty()) cap.push_back(sl);
  draw_caption(cr, W, 250, cap);
  c.finish();
  return report;
}

}  // namespace

void value_colour(double t, double* r, double* g, double* b) {
  t = std::min(1.0, std::max(0.0, t));
  const double s = t * 8;
  const int i = std::min(7, static_cast<int>(std::floor(s)));
  const double u = s - i;
  *r = kViridis[i][0] + (kViridis[i + 1][0] - kViridis[i][0]) * u;
  *g = kViridis[i][1] + (kViridis[i + 1][1] - kViridis[i][1]) * u;
  *b = kViridis[i][2] + (kViridis[i + 1][2] - kViridis[i][2]) * u;
}

PlotReport plot_answer(const v1::SolveRequest& request, const v1::SolveResponse& response, const std::string& path,
                       const PlotOptions& options) {
  ProblemLimits limits;
  limits.max_hidden_width = 1000;
  limits.max_samples = 1000000;
  Problem problem;
  if (auto e = build_problem(request_from_proto(request), limits, &problem); !e.ok())
    throw std::runtime_error("the request: " + e.message);
  switch (response.verdict()) {
    case v1::VERDICT_FEASIBLE: {
      if (problem.input_dim > 2)
        throw std::runtime_error("pictures of a fit are drawn for input_dim 1 and 2; this request has input_dim " +
                                 std::to_string(problem.input_dim) +
                                 " (relufit model writes the network for other tools)");
      std::string error;
      FitInput in;
      in.problem = problem;
      auto net = rational_network(problem, answer_from_proto(response).network, &error);
      if (!net) throw std::runtime_error("the response's network: " + error);
      in.net = *net;
      auto regions = fit_regions(problem, in.net, &error);
      if (!regions) throw std::runtime_error(error);
      in.regions = std::move(*regions);
      return problem.input_dim == 1 ? plot_fit_1d(in, path, options) : plot_fit_2d(in, path, options);
    }
    case v1::VERDICT_INFEASIBLE: {
      const auto& cert = response.certificate();
      if (cert.has_case_tree()) return plot_case_tree(problem, cert.case_tree(), path, options);
      if (cert.has_breakpoint_bound()) return plot_breakpoint_bound(problem, cert.breakpoint_bound(), path, options);
      if (cert.has_conflicting_pair()) return plot_conflict(problem, cert.conflicting_pair(), path, options);
      if (cert.has_feature_span())
        throw std::runtime_error(
            "a feature-span proof (linear algebra over the 2^n activation sets) has no picture; "
            "`relufit solve` prints it and `relufit verify` checks it");
      throw std::runtime_error("the INFEASIBLE response carries no proof to draw (solved with include_proof false?)");
    }
    case v1::VERDICT_UNKNOWN:
      throw std::runtime_error("nothing to draw: the verdict is UNKNOWN (" + response.reason() + ")");
    default:
      throw std::runtime_error("nothing to draw: the response has no verdict");
  }
}

}  // namespace relufit
