#include "algebra/float_guide.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace relufit {
namespace {

// Solves the symmetric positive definite system A v = b (n x n, row-major)
// by Cholesky; false when A is not numerically positive definite.
bool cholesky_solve(std::vector<double> a, std::vector<double> b, size_t n, std::vector<double>* v) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t t = 0; t < j; ++t) d -= a[j * n + t] * a[j * n + t];
    if (!(d > 1e-300)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t t = 0; t < j; ++t) s -= a[i * n + t] * a[j * n + t];
      a[i * n + j] = s / d;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t t = 0; t < i; ++t) b[i] -= a[i * n + t] * b[t];
    b[i] /= a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    for (size_t t = i + 1; t < n; ++t) b[i] -= a[t * n + i] * b[t];
    b[i] /= a[i * n + i];
  }
  *v = std::move(b);
  return true;
}

}  // namespace

std::optional<FloatFit> float_fit(const Problem& p, std::chrono::steady_clock::time_point until,
                                  uint32_t seed, uint32_t max_starts) {
  const size_t n = p.num_samples(), m = p.hidden_width, k = p.output_dim;
  const size_t dz = p.input_dim + (p.hidden_bias ? 1 : 0);
  const size_t per = dz + k, np = m * per + (p.output_bias ? k : 0), nr = n * k;
  // A guide for small problems only: one iteration costs about nr * np^2.
  if (n == 0 || np > 400 || nr * np * np > 50'000'000) return std::nullopt;
  // Trained on inputs scaled per coordinate and labels scaled to [-1, 1]
  // (random starts of unit size then suit data of any magnitude); the
  // pre-activations, hence the pattern, are the same in either scale.
  std::vector<std::vector<double>> xt(n), y(n);
  std::vector<double> xscale(p.input_dim, 0.0);
  double ymax = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t t = 0; t < p.input_dim; ++t) xscale[t] = std::max(xscale[t], std::fabs(p.x[i][t].get_d()));
  for (auto& v : xscale)
    if (!(v > 0)) v = 1;
  for (size_t i = 0; i < n; ++i) {
    for (size_t t = 0; t < p.input_dim; ++t) xt[i].push_back(p.x[i][t].get_d() / xscale[t]);
    if (p.hidden_bias) xt[i].push_back(1.0);
    for (const auto& v : p.y[i]) {
      y[i].push_back(v.get_d());
      ymax = std::max(ymax, std::fabs(y[i].back()));
    }
  }
  const double yscale = ymax > 0 ? ymax : 1.0;
  for (auto& row : y)
    for (auto& v : row) v /= yscale;
  const double tol = 1e-7 * (1 + ymax) / yscale;
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> theta(np), r(nr), jac(nr * np), trial(np), pre(n * m);

  // Residuals f(x_i) - y_i, and optionally the Jacobian, at `th`.
  auto evaluate = [&](const std::vector<double>& th, bool with_jacobian) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < m; ++j) {
        double s = 0;
        for (size_t t = 0; t < dz; ++t) s += th[j * per + t] * xt[i][t];
        pre[i * m + j] = s;
      }
    double cost = 0;
    if (with_jacobian) std::fill(jac.begin(), jac.end(), 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t o = 0; o < k; ++o) {
        const size_t row = i * k + o;
        double f = p.output_bias ? th[m * per + o] : 0.0;
        for (size_t j = 0; j < m; ++j) {
          const double h = std::max(0.0, pre[i * m + j]), a = th[j * per + dz + o];
          f += a * h;
          if (!with_jacobian) continue;
          jac[row * np + j * per + dz + o] = h;
          if (pre[i * m + j] > 0)
            for (size_t t = 0; t < dz; ++t) jac[row * np + j * per + t] = a * xt[i][t];
        }
        if (with_jacobian && p.output_bias) jac[row * np + m * per + o] = 1.0;
        r[row] = f - y[i][o];
        cost += r[row] * r[row];
      }
    return cost;
  };

  std::vector<double> mean(k, 0.0);  // the output bias starts at the mean label
  for (size_t i = 0; i < n; ++i)
    for (size_t o = 0; o < k; ++o) mean[o] += y[i][o] / static_cast<double>(n);
  std::vector<double> jtj(np * np), jtr(np), step;
  uint32_t starts = 0;
  while (std::chrono::steady_clock::now() < until && (max_starts == 0 || starts < max_starts)) {
    ++starts;
    for (auto& v : theta) v = normal(rng);
    if (p.output_bias)
      for (size_t o = 0; o < k; ++o) theta[m * per + o] = mean[o];
    double cost = evaluate(theta, true), lambda = 1e-3;
    for (int iter = 0; iter < 300 && lambda < 1e12 && cost > tol * tol; ++iter) {
      if (iter % 16 == 0 && std::chrono::steady_clock::now() >= until) break;
      std::fill(jtj.begin(), jtj.end(), 0.0);
      std::fill(jtr.begin(), jtr.end(), 0.0);
      for (size_t row = 0; row < nr; ++row) {
        const double* jr = &jac[row * np];
        for (size_t a = 0; a < np; ++a) {
          if (jr[a] == 0.0) continue;
          jtr[a] += jr[a] * r[row];
          for (size_t b = 0; b <= a; ++b) jtj[a * np + b] += jr[a] * jr[b];
        }
      }
      for (size_t a = 0; a < np; ++a)
        for (size_t b = 0; b < a; ++b) jtj[b * np + a] = jtj[a * np + b];
      bool improved = false;
      while (!improved && lambda < 1e12) {
        std::vector<double> damped = jtj, rhs(np);
        for (size_t a = 0; a < np; ++a) {
          damped[a * np + a] += lambda * (jtj[a * np + a] + 1e-9);
          rhs[a] = -jtr[a];
        }
        if (cholesky_solve(std::move(damped), std::move(rhs), np, &step)) {
          for (size_t a = 0; a < np; ++a) trial[a] = theta[a] + step[a];
          const double c = evaluate(trial, false);
          if (c < cost) {
            theta.swap(trial);
            cost = evaluate(theta, true);
            lambda = std::max(lambda / 3, 1e-12);
            improved = true;
            continue;
          }
        }
        lambda *= 4;
      }
    }
    // Every residual is within tol once the sum of their squares is.
    if (cost > tol * tol) continue;
    evaluate(theta, false);  // pre-activations of the fit (a rejected trial may have overwritten them)
    FloatFit fit;
    fit.label_scale = 1 + ymax;
    fit.z.assign(m, std::vector<double>(dz));
    fit.a.assign(m, std::vector<double>(k));
    for (size_t j = 0; j < m; ++j) {  // back to the data's scale
      for (size_t t = 0; t < dz; ++t)
        fit.z[j][t] = theta[j * per + t] / (t < p.input_dim ? xscale[t] : 1.0);
      for (size_t o = 0; o < k; ++o) fit.a[j][o] = theta[j * per + dz + o] * yscale;
    }
    if (p.output_bias)
      for (size_t o = 0; o < k; ++o) fit.c.push_back(theta[m * per + o] * yscale);
    fit.pre.assign(n, std::vector<double>(m));
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < m; ++j) fit.pre[i][j] = pre[i * m + j];
    return fit;
  }
  return std::nullopt;
}

std::vector<std::string> float_fit_signs(const Problem& p, const FloatFit& fit,
                                         double relative_zero) {
  const size_t n = p.num_samples(), m = p.hidden_width, k = p.output_dim;
  std::vector<std::string> signs(m);
  for (size_t j = 0; j < m; ++j) {
    bool active = false;
    for (size_t i = 0; i < n; ++i) active = active || fit.pre[i][j] > 1e-9;
    double amax = 0;
    for (size_t o = 0; o < k; ++o) amax = std::max(amax, std::fabs(fit.a[j][o]));
    std::string s(k, '0');
    if (!active || amax < 1e-9) {
      s[0] = '+';
    } else {
      for (size_t o = 0; o < k; ++o) {
        const double a = fit.a[j][o];
        if (std::fabs(a) > relative_zero * amax) s[o] = a > 0 ? '+' : '-';
      }
    }
    signs[j] = s;
  }
  return signs;
}

std::vector<std::string> float_fit_signs(const Problem& p,
                                         std::chrono::steady_clock::time_point until,
                                         uint32_t seed) {
  std::optional<FloatFit> fit = float_fit(p, until, seed);
  if (!fit) return {};
  return float_fit_signs(p, *fit);
}

}  // namespace relufit
