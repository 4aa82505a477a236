// Float64 brute-force reference for the feature tests: neighbours by sorting every point by
// (d2, index), then covariance, a Jacobi eigen solver and every formula of docs/features.md in
// double from the exact coordinates.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "lidarhd/features/catalog.hpp"
#include "lidarhd/features/features.hpp"
#include "spatial/grid_impl.hpp"

namespace lidarhd::features::testing_ref {

// A cloud in local float coordinates plus the exact double coordinates the floats round.
struct Cloud {
  std::vector<double> wx, wy, wz;
  std::vector<float> x, y, z;
  std::vector<uint8_t> cls;
  void add(double px, double py, double pz, uint8_t c = 1) {
    wx.push_back(px);
    wy.push_back(py);
    wz.push_back(pz);
    x.push_back(static_cast<float>(px));
    y.push_back(static_cast<float>(py));
    z.push_back(static_cast<float>(pz));
    cls.push_back(c);
  }
  size_t size() const { return x.size(); }
  PointColumns columns() const {
    PointColumns p;
    p.x = x.data();
    p.y = y.data();
    p.z = z.data();
    p.classification = cls.data();
    p.n = x.size();
    return p;
  }
};

// Builds R diag(l) R^T for a random rotation R.
inline void make_matrix(const double l[3], std::mt19937& rng, double m[3][3]) {
  std::normal_distribution<double> g;
  double q[4] = {g(rng), g(rng), g(rng), g(rng)};
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& c : q) c /= n;
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  const double r[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
                          {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
                          {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      m[i][j] = 0;
      for (int k = 0; k < 3; ++k) m[i][j] += r[i][k] * l[k] * r[j][k];
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < i; ++j) m[i][j] = m[j][i];
}

// ---- float64 reference ------------------------------------------------------------------

// Cyclic Jacobi to convergence, in place on `a` (double here, long double in test_eigen.cpp):
// independent of the closed form under test. Eigenvalues in decreasing order.
template <class T>
void jacobi(T a[3][3], T values[3], T vectors[3][3]) {
  T v[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int sweep = 0; sweep < 100; ++sweep) {
    if (a[0][1] == 0 && a[0][2] == 0 && a[1][2] == 0) break;
    for (int p = 0; p < 2; ++p)
      for (int q = p + 1; q < 3; ++q) {
        if (a[p][q] == 0) continue;
        const T theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const T t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const T c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < 3; ++k) {
          const T akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < 3; ++k) {
          const T apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < 3; ++k) {
          const T vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  int order[3] = {0, 1, 2};
  std::sort(order, order + 3, [&](int i, int j) { return a[i][i] > a[j][j]; });
  for (int k = 0; k < 3; ++k) {
    values[k] = a[order[k]][order[k]];
    for (int r = 0; r < 3; ++r) vectors[k][r] = v[r][order[k]];
  }
}

struct Ref {
  bool degenerate = false;
  double l[3] = {0, 0, 0};
  double n[3] = {0, 0, 1};
  double gap23 = 0;  // (l2 - l3) / l1
  double value[kFeatureCount] = {};
};

// Neighbours: sort of every point by (d2, index) (partial: only the first cap matter), d2 as the contract computes it (float
// differences, double sum, one rounding), so that the neighbour sets are exactly the contract's;
// everything after that in double from the exact coordinates.
inline std::vector<uint32_t> ref_neighbors(const Cloud& c, size_t q, const FeatureOptions& o) {
  std::vector<std::pair<float, uint32_t>> all(c.size());
  for (size_t j = 0; j < c.size(); ++j) {
    all[j] = {lidarhd::detail::point_d2(c.x[j], c.y[j], c.z[j], c.x[q], c.y[q], c.z[q]),
              static_cast<uint32_t>(j)};
  }
  const size_t cap = o.neighborhood == Neighborhood::kRadius ? o.max_k : o.k;
  const size_t keep = std::min(all.size(), cap);
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end());
  const float rr = static_cast<float>(o.radius) * static_cast<float>(o.radius);
  std::vector<uint32_t> out;
  for (size_t j = 0; j < keep; ++j) {
    if (o.neighborhood != Neighborhood::kKnn && all[j].first > rr) break;
    out.push_back(all[j].second);
  }
  return out;
}

inline Ref reference(const Cloud& c, size_t q, const FeatureOptions& o) {
  Ref r;
  const std::vector<uint32_t> nb = ref_neighbors(c, q, o);
  const size_t m = nb.size();
  double mean[3] = {0, 0, 0};
  double zmin = 1e300, zmax = -1e300;
  for (uint32_t j : nb) {
    mean[0] += c.wx[j];
    mean[1] += c.wy[j];
    mean[2] += c.wz[j];
    zmin = std::min(zmin, c.wz[j]);
    zmax = std::max(zmax, c.wz[j]);
  }
  for (double& v : mean) v /= m;
  double a[3][3] = {};
  for (uint32_t j : nb) {
    const double e[3] = {c.wx[j] - mean[0], c.wy[j] - mean[1], c.wz[j] - mean[2]};
    for (int u = 0; u < 3; ++u)
      for (int v = 0; v < 3; ++v) a[u][v] += e[u] * e[v] / m;
  }
  double* f = r.value;
  f[int(Feature::kVerticalRange)] = zmax - zmin;
  f[int(Feature::kVerticalStd)] = std::sqrt(a[2][2]);
  const uint32_t last = nb.back();
  double rk = std::sqrt(std::pow(c.wx[last] - c.wx[q], 2) + std::pow(c.wy[last] - c.wy[q], 2) +
                        std::pow(c.wz[last] - c.wz[q], 2));
  const size_t cap = o.neighborhood == Neighborhood::kRadius ? o.max_k : o.k;
  if (o.neighborhood != Neighborhood::kKnn && m < cap) rk = o.radius;
  rk = std::max(rk, 1e-3);
  f[int(Feature::kDensity)] = m / (4.0 / 3.0 * M_PI * rk * rk * rk);
  f[int(Feature::kNormalZ)] = 1;
  f[int(Feature::kHorizontality)] = 1;
  size_t distinct = 0;
  {
    std::vector<std::array<double, 3>> pts;
    for (uint32_t j : nb) pts.push_back({c.wx[j], c.wy[j], c.wz[j]});
    std::sort(pts.begin(), pts.end());
    distinct = std::unique(pts.begin(), pts.end()) - pts.begin();
  }
  double vec[3][3];
  jacobi(a, r.l, vec);
  for (double& l : r.l) l = std::max(l, 0.0);
  if (distinct < 3 || r.l[0] <= 1e-12) {
    r.degenerate = true;
    r.l[0] = r.l[1] = r.l[2] = 0;
    return r;
  }
  double n[3] = {vec[2][0], vec[2][1], vec[2][2]};
  if (n[2] < 0 || (n[2] == 0 && (n[1] < 0 || (n[1] == 0 && n[0] < 0)))) {
    for (double& v : n) v = -v;
  }
  std::copy(n, n + 3, r.n);
  const double l1 = r.l[0], l2 = r.l[1], l3 = r.l[2], sum = l1 + l2 + l3;
  r.gap23 = (l2 - l3) / l1;
  double A = l1, B = l2, D = l3, den = l1;
  if (o.eigen_norm == EigenNorm::kSum) den = sum;
  if (o.eigen_norm == EigenNorm::kSqrt) {
    A = std::sqrt(l1);
    B = std::sqrt(l2);
    D = std::sqrt(l3);
    den = A;
  }
  f[int(Feature::kNormalX)] = n[0];
  f[int(Feature::kNormalY)] = n[1];
  f[int(Feature::kNormalZ)] = n[2];
  f[int(Feature::kEigenvalue1)] = l1;
  f[int(Feature::kEigenvalue2)] = l2;
  f[int(Feature::kEigenvalue3)] = l3;
  f[int(Feature::kSumEigenvalues)] = sum;
  f[int(Feature::kLinearity)] = (A - B) / den;
  f[int(Feature::kPlanarity)] = (B - D) / den;
  f[int(Feature::kSphericity)] = D / den;
  f[int(Feature::kAnisotropy)] = (A - D) / den;
  f[int(Feature::kOmnivariance)] = std::cbrt(l1 * l2 * l3);
  double h = 0;
  for (double l : r.l)
    if (l > 0) h -= l / sum * std::log(l / sum);
  f[int(Feature::kEigenentropy)] = h;
  f[int(Feature::kChangeOfCurvature)] = l3 / sum;
  f[int(Feature::kVerticality)] = 1 - std::fabs(n[2]);
  f[int(Feature::kHorizontality)] = std::fabs(n[2]);
  f[int(Feature::kRoughness)] = std::fabs((c.wx[q] - mean[0]) * n[0] +
                                          (c.wy[q] - mean[1]) * n[1] + (c.wz[q] - mean[2]) * n[2]);
  f[int(Feature::kWallScore)] = f[int(Feature::kPlanarity)] * f[int(Feature::kVerticality)];
  f[int(Feature::kRoofScore)] = f[int(Feature::kPlanarity)] * f[int(Feature::kHorizontality)];
  return r;
}

inline bool is_ratio(Feature f) {
  switch (f) {
    case Feature::kLinearity:
    case Feature::kPlanarity:
    case Feature::kSphericity:
    case Feature::kAnisotropy:
    case Feature::kChangeOfCurvature:
    case Feature::kEigenentropy:
      return true;
    default:
      return false;
  }
}

struct Agreement {
  size_t checked = 0, normals_checked = 0;
  double worst_ratio = 0, worst_normal = 0;
};

// Compares the table with the reference at `samples` points (all when 0 or more than n).
inline Agreement compare_with_reference(const Cloud& c, const FeatureTable& t, const FeatureOptions& o,
                                 size_t samples) {
  Agreement a;
  std::vector<size_t> pick(c.size());
  std::iota(pick.begin(), pick.end(), size_t{0});
  if (samples && samples < c.size()) {
    std::mt19937 rng(3);
    std::shuffle(pick.begin(), pick.end(), rng);
    pick.resize(samples);
  }
  for (size_t i : pick) {
    const Ref r = reference(c, i, o);
    ++a.checked;
    for (size_t j = 0; j < t.features.size(); ++j) {
      const Feature f = t.features[j];
      const double got = t.value(j, i), want = r.value[int(f)];
      SCOPED_TRACE(::testing::Message() << "point " << i << " " << feature_name(f) << " gap23 "
                                        << r.gap23 << " degenerate " << r.degenerate);
      const double scale = std::max(1.0, std::fabs(want));
      if (r.degenerate) {
        if (is_shape_feature(f)) {
          EXPECT_NEAR(got, want, 1e-4 * scale);
        }
        continue;
      }
      if (is_ratio(f)) {
        EXPECT_NEAR(got, want, 1e-4);
        a.worst_ratio = std::max(a.worst_ratio, std::fabs(got - want));
      } else if (f == Feature::kEigenvalue1 || f == Feature::kEigenvalue2 ||
                 f == Feature::kEigenvalue3 || f == Feature::kSumEigenvalues) {
        EXPECT_NEAR(got, want, 1e-4 * r.l[0] + 1e-9);
      } else if (f == Feature::kOmnivariance) {
        // A cube root magnifies lambda3 near 0, where the float coordinates' own rounding
        // (~1e-5 m here) already moves it: allow that much.
        EXPECT_NEAR(got, want, 1e-4 * r.l[0] + std::cbrt(r.l[0] * r.l[1] * 1e-10));
      } else if (f == Feature::kDensity) {
        EXPECT_NEAR(got, want, 1e-4 * want);
      } else if (f == Feature::kVerticalRange || f == Feature::kVerticalStd) {
        EXPECT_NEAR(got, want, 1e-4);
      }
    }
    // Normals and what depends on them, only where lambda3 is well separated.
    if (r.degenerate || r.gap23 < 1e-3) continue;
    const int jx = t.find(Feature::kNormalX), jy = t.find(Feature::kNormalY),
              jz = t.find(Feature::kNormalZ);
    if (jx < 0 || jy < 0 || jz < 0) continue;
    const double n[3] = {t.value(jx, i), t.value(jy, i), t.value(jz, i)};
    const double cx = n[1] * r.n[2] - n[2] * r.n[1], cy = n[2] * r.n[0] - n[0] * r.n[2],
                 cz = n[0] * r.n[1] - n[1] * r.n[0];
    const double angle = std::asin(std::min(1.0, std::sqrt(cx * cx + cy * cy + cz * cz)));
    const double same = n[0] * r.n[0] + n[1] * r.n[1] + n[2] * r.n[2];
    EXPECT_LT(angle, 1e-3) << "point " << i << " gap23 " << r.gap23;
    // Same orientation, unless the normal lies on the horizon where the sign rule is fragile.
    if (std::fabs(r.n[2]) > 1e-3) {
      EXPECT_GT(same, 0) << "point " << i;
    }
    a.worst_normal = std::max(a.worst_normal, angle);
    ++a.normals_checked;
    const int jr = t.find(Feature::kRoughness);
    if (jr >= 0) {
      EXPECT_NEAR(t.value(jr, i), r.value[int(Feature::kRoughness)], 2e-4);
    }
  }
  return a;
}

}  // namespace lidarhd::features::testing_ref
