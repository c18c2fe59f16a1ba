#include "algebra/regions.h"

#include <CGAL/gmpxx.h>
#include <CGAL/Cartesian.h>
#include <CGAL/Arr_segment_traits_2.h>
#include <CGAL/Arrangement_2.h>

#include <algorithm>

#include "algebra/algebraic_number.h"
#include "algebra/number.h"

namespace relufit {
namespace {

using Kernel = CGAL::Cartesian<mpq_class>;
using Traits = CGAL::Arr_segment_traits_2<Kernel>;
using Point = Traits::Point_2;
using Segment = Traits::Curve_2;
using Arrangement = CGAL::Arrangement_2<Traits>;

// One weight as a rational: itself, or the decimal of an irrational one.
bool weight_value(const std::string& text, const std::string& where, mpq_class* out, bool* approx,
                  std::string* error) {
  std::string exact = text;
  if (is_algebraic_text(text)) {
    auto alg = Alg::from_text(text);
    if (!alg) {
      *error = where + ": not a valid algebraic number";
      return false;
    }
    exact = alg->decimal(kRegionApproximationDigits);
    *approx = true;
  }
  std::string why;
  auto q = parse_exact_number(exact, &why);
  if (!q) {
    *error = where + ": " + why;
    return false;
  }
  *out = *q;
  return true;
}

// The affine maps and activation of the region around an interior point p.
LinearRegionData region_at(const RationalNetwork& net, const std::vector<mpq_class>& p) {
  LinearRegionData r;
  const size_t m = net.w.size(), d = p.size(), k = net.c.size();
  r.maps.assign(k, AffineMapData{std::vector<mpq_class>(d, 0), 0});
  for (size_t o = 0; o < k; ++o) r.maps[o].offset = net.c[o];
  for (size_t j = 0; j < m; ++j) {
    mpq_class s = net.b[j];
    for (size_t t = 0; t < d; ++t) s += net.w[j][t] * p[t];
    const bool active = sgn(s) > 0;
    r.activation.push_back(active ? '1' : '0');
    if (!active) continue;
    for (size_t o = 0; o < k; ++o) {
      for (size_t t = 0; t < d; ++t) r.maps[o].gradient[t] += net.a[j][o] * net.w[j][t];
      r.maps[o].offset += net.a[j][o] * net.b[j];
    }
  }
  return r;
}

std::vector<LinearRegionData> regions_1d(const RationalNetwork& net, const mpq_class& lo,
                                         const mpq_class& hi) {
  std::vector<mpq_class> cuts{lo, hi};
  for (size_t j = 0; j < net.w.size(); ++j) {
    if (sgn(net.w[j][0]) == 0) continue;
    mpq_class t = -net.b[j] / net.w[j][0];
    if (t > lo && t < hi) cuts.push_back(t);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<LinearRegionData> out;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    LinearRegionData r = region_at(net, {(cuts[i] + cuts[i + 1]) / 2});
    r.vertices = {{cuts[i]}, {cuts[i + 1]}};
    out.push_back(std::move(r));
  }
  return out;
}

// The part of the line w . x + b = 0 inside the box, when it cuts the box
// along a segment of positive length.
std::optional<Segment> clip_line(const mpq_class& w0, const mpq_class& w1, const mpq_class& b,
                                 const std::vector<mpq_class>& lo, const std::vector<mpq_class>& hi) {
  if (sgn(w0) == 0 && sgn(w1) == 0) return std::nullopt;
  std::vector<std::pair<mpq_class, mpq_class>> pts;
  for (const mpq_class& X : {lo[0], hi[0]})
    if (sgn(w1) != 0) {
      mpq_class y = -(b + w0 * X) / w1;
      if (y >= lo[1] && y <= hi[1]) pts.emplace_back(X, y);
    }
  for (const mpq_class& Y : {lo[1], hi[1]})
    if (sgn(w0) != 0) {
      mpq_class x = -(b + w1 * Y) / w0;
      if (x >= lo[0] && x <= hi[0]) pts.emplace_back(x, Y);
    }
  if (pts.size() < 2) return std::nullopt;
  auto [first, last] = std::minmax_element(pts.begin(), pts.end());
  if (*first == *last) return std::nullopt;
  return Segment(Point(first->first, first->second), Point(last->first, last->second));
}

bool collinear(const std::vector<mpq_class>& p, const std::vector<mpq_class>& q,
               const std::vector<mpq_class>& r) {
  return sgn((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])) == 0;
}

std::vector<LinearRegionData> regions_2d(const RationalNetwork& net, const std::vector<mpq_class>& lo,
                                         const std::vector<mpq_class>& hi) {
  std::vector<Segment> segments = {
      Segment(Point(lo[0], lo[1]), Point(hi[0], lo[1])), Segment(Point(hi[0], lo[1]), Point(hi[0], hi[1])),
      Segment(Point(hi[0], hi[1]), Point(lo[0], hi[1])), Segment(Point(lo[0], hi[1]), Point(lo[0], lo[1]))};
  for (size_t j = 0; j < net.w.size(); ++j)
    if (auto s = clip_line(net.w[j][0], net.w[j][1], net.b[j], lo, hi)) segments.push_back(*s);
  Arrangement arr;
  CGAL::insert(arr, segments.begin(), segments.end());

  std::vector<std::pair<std::vector<mpq_class>, LinearRegionData>> found;
  for (auto f = arr.faces_begin(); f != arr.faces_end(); ++f) {
    if (f->is_unbounded()) continue;
    std::vector<std::vector<mpq_class>> ring;
    auto start = f->outer_ccb(), he = start;  // counterclockwise around a bounded face
    do {
      const Point& p = he->target()->point();
      ring.push_back({p.x(), p.y()});
    } while (++he != start);
    // Drop the corners where the boundary goes straight on (another line ends there).
    std::vector<std::vector<mpq_class>> poly;
    for (size_t i = 0; i < ring.size(); ++i) {
      const auto& prev = ring[(i + ring.size() - 1) % ring.size()];
      const auto& next = ring[(i + 1) % ring.size()];
      if (!collinear(prev, ring[i], next)) poly.push_back(ring[i]);
    }
    if (poly.size() < 3) continue;
    // Faces of an arrangement of lines in a box are convex: the mean of the
    // corners is interior.
    std::vector<mpq_class> centre{0, 0};
    for (const auto& v : poly) {
      centre[0] += v[0];
      centre[1] += v[1];
    }
    centre[0] /= static_cast<long>(poly.size());
    centre[1] /= static_cast<long>(poly.size());
    LinearRegionData r = region_at(net, centre);
    // Start at the lowest-then-leftmost corner so the output is canonical.
    auto low = std::min_element(poly.begin(), poly.end(), [](const auto& p, const auto& q) {
      return p[1] != q[1] ? p[1] < q[1] : p[0] < q[0];
    });
    std::rotate(poly.begin(), low, poly.end());
    r.vertices = std::move(poly);
    found.emplace_back(std::move(centre), std::move(r));
  }
  std::sort(found.begin(), found.end(), [](const auto& p, const auto& q) { return p.first < q.first; });
  std::vector<LinearRegionData> out;
  for (auto& [c, r] : found) out.push_back(std::move(r));
  return out;
}

}  // namespace

std::vector<mpq_class> RationalNetwork::evaluate(const std::vector<mpq_class>& x) const {
  std::vector<mpq_class> y = c;
  for (size_t j = 0; j < w.size(); ++j) {
    mpq_class s = b[j];
    for (size_t t = 0; t < x.size() && t < w[j].size(); ++t) s += w[j][t] * x[t];
    if (sgn(s) <= 0) continue;
    for (size_t o = 0; o < y.size(); ++o) y[o] += a[j][o] * s;
  }
  return y;
}

std::optional<RationalNetwork> rational_network(const Problem& problem, const NetworkData& network,
                                                std::string* error) {
  const size_t d = problem.input_dim, k = problem.output_dim;
  if (network.neurons.size() != problem.hidden_width) {
    *error = "network has " + std::to_string(network.neurons.size()) + " neurons, the architecture " +
             std::to_string(problem.hidden_width);
    return std::nullopt;
  }
  RationalNetwork net;
  for (size_t j = 0; j < network.neurons.size(); ++j) {
    const NeuronData& n = network.neurons[j];
    const std::string where = "network.neurons[" + std::to_string(j) + "]";
    if (n.input_weights.size() != d || n.output_weights.size() != k) {
      *error = where + ": wrong number of weights for the architecture";
      return std::nullopt;
    }
    bool approx = false;
    std::vector<mpq_class> w(d), a(k);
    mpq_class b = 0;
    for (size_t t = 0; t < d; ++t)
      if (!weight_value(n.input_weights[t], where + ".input_weights[" + std::to_string(t) + "]", &w[t],
                        &approx, error))
        return std::nullopt;
    if (problem.hidden_bias && !weight_value(n.bias.empty() ? "0" : n.bias, where + ".bias", &b, &approx, error))
      return std::nullopt;
    for (size_t o = 0; o < k; ++o)
      if (!weight_value(n.output_weights[o], where + ".output_weights[" + std::to_string(o) + "]", &a[o],
                        &approx, error))
        return std::nullopt;
    net.w.push_back(std::move(w));
    net.a.push_back(std::move(a));
    net.b.push_back(b);
    net.neuron_approximated.push_back(approx);
    net.approximated = net.approximated || approx;
  }
  net.c.assign(k, 0);
  if (problem.output_bias) {
    if (network.output_bias.size() != k) {
      *error = "network.output_bias: " + std::to_string(network.output_bias.size()) + " numbers, not " +
               std::to_string(k);
      return std::nullopt;
    }
    bool approx = false;
    for (size_t o = 0; o < k; ++o)
      if (!weight_value(network.output_bias[o], "network.output_bias[" + std::to_string(o) + "]", &net.c[o],
                        &approx, error))
        return std::nullopt;
    net.approximated = net.approximated || approx;
  }
  return net;
}

void sample_box(const Problem& problem, std::vector<mpq_class>* lower, std::vector<mpq_class>* upper) {
  const size_t d = problem.input_dim;
  lower->assign(d, 0);
  upper->assign(d, 0);
  for (size_t t = 0; t < d; ++t) {
    for (size_t i = 0; i < problem.num_samples(); ++i) {
      if (i == 0 || problem.x[i][t] < (*lower)[t]) (*lower)[t] = problem.x[i][t];
      if (i == 0 || problem.x[i][t] > (*upper)[t]) (*upper)[t] = problem.x[i][t];
    }
    mpq_class pad = ((*upper)[t] - (*lower)[t]) / 10;
    if (sgn(pad) == 0) pad = 1;
    (*lower)[t] -= pad;
    (*upper)[t] += pad;
  }
}

std::optional<FitRegionsData> fit_regions(const Problem& problem, const RationalNetwork& net,
                                          std::string* error) {
  if (problem.input_dim != 1 && problem.input_dim != 2) {
    *error = "regions are computed for input_dim 1 and 2, not " + std::to_string(problem.input_dim);
    return std::nullopt;
  }
  FitRegionsData out;
  out.approximated = net.approximated;
  sample_box(problem, &out.box_lower, &out.box_upper);
  out.regions = problem.input_dim == 1 ? regions_1d(net, out.box_lower[0], out.box_upper[0])
                                       : regions_2d(net, out.box_lower, out.box_upper);
  return out;
}

std::optional<FitRegionsData> fit_regions(const Problem& problem, const NetworkData& network,
                                          std::string* error) {
  auto net = rational_network(problem, network, error);
  if (!net) return std::nullopt;
  return fit_regions(problem, *net, error);
}

}  // namespace relufit
