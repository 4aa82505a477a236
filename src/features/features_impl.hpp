// The fused per-point feature kernel shared by features_cpu.cpp and features_cuda.cu
// (architecture.md convention 1): neighbours -> centred covariance -> eigen decomposition ->
// every requested feature, for one point, with no heap memory and no device-specific code.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "features/ground_impl.hpp"
#include "features/math.hpp"
#include "lidarhd/core/hd.hpp"
#include "lidarhd/features/catalog.hpp"
#include "spatial/grid_impl.hpp"

namespace lidarhd::features::detail {

using lidarhd::detail::GridView;

static_assert(kFeatureCount <= 32, "KernelParams::wanted holds one bit per feature");
constexpr int kNeighborCap = 64;  // features::kMaxNeighbors; the arrays below live per thread
// The smaller neighbour capacity the back ends use when P.cap fits (k = 20 by default).
constexpr int kSmallNeighborCap = 32;

// Per-point status bits, summed on the host into the run summary.
constexpr uint8_t kStatusDegenerate = 1;
constexpr uint8_t kStatusFloat64 = 2;
constexpr uint8_t kStatusGroundGap = 4;  // ground cell without ground points (interpolated)
constexpr uint8_t kStatusNoGround = 8;   // no ground model at all: height_above_ground is NaN

// (lambda2 - lambda3) / lambda1 below which the normal is re-solved in float64: the float
// normal's error grows like (float rounding of the covariance) / gap.
constexpr float kFloat64GapTol = 1e-2f;
constexpr float kDegenerateLambda = 1e-12f;  // m2, features.md
// Covariance trace (m2) up to which eigen_sym3_smallest may skip prescaling: the squares of
// its entries stay far from float overflow.
constexpr float kUnscaledTraceMax = 1e15f;
// Floor of r_k in the density: coincident neighbours would otherwise divide by zero.
constexpr float kMinDensityRadius = 1e-3f;

enum KernelMode : int { kModeKnn = 0, kModeRadius = 1 };

struct KernelParams {
  const float* x;  // original point order, local metres (host or device memory)
  const float* y;
  const float* z;
  const uint16_t* red;
  const uint16_t* green;
  const uint16_t* blue;
  const uint16_t* nir;
  GridView grid;
  GroundView ground;
  uint32_t n;
  int mode;     // KernelMode
  int cap;      // k (knn, hybrid) or max_k (radius)
  float radius;  // kModeRadius
  float count_radius;
  int norm;  // EigenNorm
  int need_neighbors, need_count, need_ground, need_colour;
  int columns;
  uint8_t ids[kFeatureCount];  // Feature of each output column
  uint32_t wanted;             // bit f set when Feature f is requested (skips unused libm calls)
  float* out32;                // column j of point i at [j * n + i]; one of out32 / out16 set
  uint16_t* out16;
  uint8_t* status;  // n entries
  float* reach2;    // n entries or null (FeatureTable::reach2)
};

LIDARHD_HD inline uint32_t float_bits(float v) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(v);
#else
  uint32_t b;
  memcpy(&b, &v, sizeof(b));
  return b;
#endif
}

LIDARHD_HD inline float bits_float(uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(b);
#else
  float v;
  memcpy(&v, &b, sizeof(v));
  return v;
#endif
}

// IEEE binary16, round to nearest even, overflow to infinity; the same bits on every device.
LIDARHD_HD inline uint16_t float_to_half(float f) {
  const uint32_t b = float_bits(f);
  const uint32_t sign = (b >> 16) & 0x8000u;
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return static_cast<uint16_t>(sign | (a > 0x7F800000u ? 0x7E00u : 0x7C00u));
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520
  uint32_t r, rem, half;
  if (a >= 0x38800000u) {  // normal half: rebias the exponent, drop 13 mantissa bits
    const uint32_t v = a - (112u << 23);
    r = v >> 13;
    rem = v & 0x1FFFu;
    half = 0x1000u;
  } else {  // subnormal half (units of 2^-24) or zero
    if (a < 0x33000000u) return static_cast<uint16_t>(sign);  // <= 2^-25 rounds to 0
    const uint32_t shift = 126u - (a >> 23);                  // 14..24
    const uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
    r = mant >> shift;
    rem = mant & ((1u << shift) - 1u);
    half = 1u << (shift - 1u);
  }
  if (rem > half || (rem == half && (r & 1u))) ++r;  // a carry into the exponent is correct
  return static_cast<uint16_t>(sign | r);
}

LIDARHD_HD inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu;
  const uint32_t m = h & 0x3FFu;
  if (e == 0x1Fu) return bits_float(sign | 0x7F800000u | (m << 13));
  if (e != 0) return bits_float(sign | ((e + 112u) << 23) | (m << 13));
  const float v = static_cast<float>(m) * (1.0f / 16777216.0f);  // m * 2^-24, exact
  return sign ? -v : v;
}

// n_z >= 0; on the horizon n_y >= 0, then n_x >= 0 (features.md), with +0 rather than -0.
template <class T>
LIDARHD_HD inline Vec3<T> oriented_up(Vec3<T> n) {
  const bool flip = n.z < T(0) || (n.z == T(0) && (n.y < T(0) || (n.y == T(0) && n.x < T(0))));
  if (flip) n = {-n.x, -n.y, -n.z};
  return {n.x + T(0), n.y + T(0), n.z + T(0)};
}

// Number of points with d2 <= r * r (the radius query's own test, so the counts agree with
// it), without a cap: every column overlapping the query's square, z window by binary search.
LIDARHD_HD inline uint32_t count_within(const GridView& g, float qx, float qy, float qz, float r) {
  using lidarhd::detail::axis_d2;
  using lidarhd::detail::grid_coord;
  using lidarhd::detail::point_d2;
  if (g.n == 0 || !(r >= 0.0f)) return 0;
  const float rr = r * r;
  // One extra column each side absorbs the rounding of the cell computation.
  const int i0 = grid_coord(qx - r, g.min_x, g.inv_cell, g.nx) - 1;
  const int i1 = grid_coord(qx + r, g.min_x, g.inv_cell, g.nx) + 1;
  const int j0 = grid_coord(qy - r, g.min_y, g.inv_cell, g.ny) - 1;
  const int j1 = grid_coord(qy + r, g.min_y, g.inv_cell, g.ny) + 1;
  uint32_t count = 0;
  for (int j = j0 < 0 ? 0 : j0; j <= j1 && j < g.ny; ++j) {
    for (int i = i0 < 0 ? 0 : i0; i <= i1 && i < g.nx; ++i) {
      const uint32_t cell = static_cast<uint32_t>(j) * static_cast<uint32_t>(g.nx) +
                            static_cast<uint32_t>(i);
      uint32_t lo = g.cell_start[cell], hi = g.cell_start[cell + 1];
      const uint32_t e = hi;
      while (lo < hi) {  // first point not below the window
        const uint32_t mid = lo + (hi - lo) / 2;
        if (g.z[mid] < qz && axis_d2(g.z[mid] - qz) > rr) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      for (uint32_t p = lo; p < e; ++p) {
        const float dz = g.z[p] - qz;
        if (dz > 0.0f && axis_d2(dz) > rr) break;
        if (point_d2(g.x[p], g.y[p], g.z[p], qx, qy, qz) <= rr) ++count;
      }
    }
  }
  return count;
}

// A neighbourhood's coordinates: neighbour j at x[j * stride], y[j * stride], z[j * stride]
// (stride 1: plain arrays; the CPU's batches interleave 16 neighbourhoods, shape_simd.hpp).
struct Coords {
  const float* x;
  const float* y;
  const float* z;
  int stride;
  LIDARHD_HD float px(int j) const { return x[j * stride]; }
  LIDARHD_HD float py(int j) const { return y[j * stride]; }
  LIDARHD_HD float pz(int j) const { return z[j * stride]; }
};

// Eigen decomposition of the neighbourhood's covariance redone in double from the coordinates
// (the float64 fallback for nearly equal lambda2 and lambda3).
LIDARHD_HD inline void solve_float64(const Coords& g, int m, float qx, float qy, float qz,
                                     float* lambda, Vec3<float>& normal, Vec3<float>& mean) {
  double sx = 0, sy = 0, sz = 0;
  for (int j = 0; j < m; ++j) {
    sx += static_cast<double>(g.px(j)) - qx;
    sy += static_cast<double>(g.py(j)) - qy;
    sz += static_cast<double>(g.pz(j)) - qz;
  }
  const double inv = 1.0 / m;
  const double mx = sx * inv, my = sy * inv, mz = sz * inv;
  Sym3<double> c{0, 0, 0, 0, 0, 0};
  for (int j = 0; j < m; ++j) {
    const double ex = static_cast<double>(g.px(j)) - qx - mx;
    const double ey = static_cast<double>(g.py(j)) - qy - my;
    const double ez = static_cast<double>(g.pz(j)) - qz - mz;
    c.xx += ex * ex;
    c.xy += ex * ey;
    c.xz += ex * ez;
    c.yy += ey * ey;
    c.yz += ey * ez;
    c.zz += ez * ez;
  }
  c = {c.xx * inv, c.xy * inv, c.xz * inv, c.yy * inv, c.yz * inv, c.zz * inv};
  Eigen3<double> e;
  eigen_sym3(c, e);
  for (int k = 0; k < 3; ++k) lambda[k] = static_cast<float>(e.value[k]);
  normal = {static_cast<float>(e.vector[2].x), static_cast<float>(e.vector[2].y),
            static_cast<float>(e.vector[2].z)};
  mean = {static_cast<float>(mx), static_cast<float>(my), static_cast<float>(mz)};
}

// Partial sums of shape_sums and shape_features, kLanes interleaved lanes each (see there).
constexpr int kLanes = 4;

// Adds the offset d and its products to lane l of acc: sums of dx, dy, dz, then of dx dx, dx dy,
// dx dz, dy dy, dy dz, dz dz.
LIDARHD_HD inline void accumulate_moments(float (&acc)[9][kLanes], int l, float dx, float dy,
                                          float dz) {
  acc[0][l] += dx;
  acc[1][l] += dy;
  acc[2][l] += dz;
  acc[3][l] += dx * dx;
  acc[4][l] += dx * dy;
  acc[5][l] += dx * dz;
  acc[6][l] += dy * dy;
  acc[7][l] += dy * dz;
  acc[8][l] += dz * dz;
}

LIDARHD_HD inline bool same_point(const Coords& g, int i, int j) {
  return g.px(i) == g.px(j) && g.py(i) == g.py(j) && g.pz(i) == g.pz(j);
}

// min(3, number of distinct points among the m), usually decided by the first three.
LIDARHD_HD inline int count_distinct3(const Coords& g, int m) {
  if (m >= 3 && !same_point(g, 0, 1) && !same_point(g, 0, 2) && !same_point(g, 1, 2)) {
    return 3;
  }
  int distinct = 1, b = 0;
  for (int j = 1; j < m; ++j) {
    if (same_point(g, j, 0)) continue;
    if (distinct == 1) {
      distinct = 2;
      b = j;
    } else if (!same_point(g, j, b)) {
      return 3;
    }
  }
  return distinct;
}

// What the first stage of shape_values leaves to the others: the neighbourhood's mean offset
// from the query point, its covariance, and 1 / m.
struct ShapeMoments {
  Vec3<float> mean;
  Sym3<float> c;
  float inv;
};

// The degenerate values of shape_values, which its stages overwrite when they can.
LIDARHD_HD inline void shape_defaults(float* v) {
  v[int(Feature::kNormalZ)] = 1.0f;
  v[int(Feature::kHorizontality)] = 1.0f;
}

// The moments of m >= 1 neighbours, in one pass: sums of the offsets d = p - q from the query
// point and of their products. Differences of nearby floats are exact or nearly so, whatever
// the origin, and the shift keeps C = mean(d d^T) - mean(d) mean(d)^T accurate: the query is
// one of its neighbours (at d = 0), so along any axis mean(d)^2 <= m var(d), a loss of at most
// log2(m) bits there. The sums are split over kLanes fixed interleaved partial sums (lane l
// takes the neighbours j = l mod kLanes, in order), the same order on every device, which a
// compiler maps to SIMD lanes (a single float sum cannot be reordered).
LIDARHD_HD inline ShapeMoments shape_sums(float qx, float qy, float qz, int m, const float* gx,
                                          const float* gy, const float* gz) {
  float acc[9][kLanes];
  for (int t = 0; t < 9; ++t)
    for (int l = 0; l < kLanes; ++l) acc[t][l] = 0.0f;
  int j0 = 0;
  for (; j0 + kLanes <= m; j0 += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float dx = gx[j0 + l] - qx, dy = gy[j0 + l] - qy, dz = gz[j0 + l] - qz;
      accumulate_moments(acc, l, dx, dy, dz);
    }
  }
  for (int l = 0; j0 + l < m; ++l) {  // the last m % kLanes, into the same lanes
    const float dx = gx[j0 + l] - qx, dy = gy[j0 + l] - qy, dz = gz[j0 + l] - qz;
    accumulate_moments(acc, l, dx, dy, dz);
  }
  float sum9[9];
  for (int t = 0; t < 9; ++t) sum9[t] = (acc[t][0] + acc[t][1]) + (acc[t][2] + acc[t][3]);
  const float inv = 1.0f / static_cast<float>(m);
  const Vec3<float> mean{sum9[0] * inv, sum9[1] * inv, sum9[2] * inv};
  const Sym3<float> c{sum9[3] * inv - mean.x * mean.x, sum9[4] * inv - mean.x * mean.y,
                      sum9[5] * inv - mean.x * mean.z, sum9[6] * inv - mean.y * mean.y,
                      sum9[7] * inv - mean.y * mean.z, sum9[8] * inv - mean.z * mean.z};
  return {mean, c, inv};
}

// The density and vertical features of m >= 1 neighbours with moments s; false when they are
// fewer than three distinct points (degenerate: v then holds its final values).
LIDARHD_HD inline bool shape_spread(const KernelParams& P, int m, float last_d2, const Coords& g,
                                    const ShapeMoments& s, float* v, uint8_t& status) {
  if (P.wanted & (1u << int(Feature::kVerticalRange))) {
    float zmin = g.pz(0), zmax = g.pz(0);
    for (int j = 1; j < m; ++j) {
      const float z = g.pz(j);
      zmin = z < zmin ? z : zmin;
      zmax = z > zmax ? z : zmax;
    }
    v[int(Feature::kVerticalRange)] = zmax - zmin;
  }
  v[int(Feature::kVerticalStd)] = hd_sqrt(s.c.zz > 0.0f ? s.c.zz : 0.0f);
  // Searched sphere: up to the farthest neighbour, or the whole radius when a radius search
  // ended below its cap (the sphere holds no other point).
  float rk = hd_sqrt(last_d2);
  if (P.mode == kModeRadius && m < P.cap) rk = P.radius;
  rk = rk > kMinDensityRadius ? rk : kMinDensityRadius;
  v[int(Feature::kDensity)] = static_cast<float>(m) / (4.18879020478639098f * rk * rk * rk);

  if (count_distinct3(g, m) < 3) {
    status |= kStatusDegenerate;
    return false;
  }
  return true;
}

// First stage of shape_values (below): the moments, and the density and vertical features.
// False when the neighbourhood is degenerate (v then holds its final values).
LIDARHD_HD inline bool shape_moments(const KernelParams& P, float qx, float qy, float qz, int m,
                                     float last_d2, const float* gx, const float* gy,
                                     const float* gz, float* v, uint8_t& status, ShapeMoments& s) {
  shape_defaults(v);
  if (m <= 0) {
    status |= kStatusDegenerate;
    return false;
  }
  s = shape_sums(qx, qy, qz, m, gx, gy, gz);
  return shape_spread(P, m, last_d2, Coords{gx, gy, gz, 1}, s, v, status);
}

// Second stage: the eigenvalues of the covariance (decreasing) and the normal.
LIDARHD_HD inline void shape_eigen(const Sym3<float>& c, float* lambda, Vec3<float>& normal) {
  if (c.xx + c.yy + c.zz < kUnscaledTraceMax) {
    eigen_sym3_smallest(c, lambda, normal);
  } else {  // a neighbourhood kilometres wide (absurd input): squares could overflow unscaled
    Eigen3<float> e;
    eigen_sym3(c, e);
    for (int k = 0; k < 3; ++k) lambda[k] = e.value[k];
    normal = e.vector[2];
  }
}

// The sum of the squared distances of the m neighbours to the plane through the mean offset
// with that normal, from small terms (see shape_features), in kLanes interleaved partial sums.
LIDARHD_HD inline float plane_sum(float qx, float qy, float qz, int m, const Coords& g,
                                  Vec3<float> mean, Vec3<float> normal) {
  const float off = mean.x * normal.x + mean.y * normal.y + mean.z * normal.z;
  float s3[kLanes];
  for (int l = 0; l < kLanes; ++l) s3[l] = 0.0f;
  int j = 0;
  for (; j + kLanes <= m; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float t = (g.px(j + l) - qx) * normal.x + (g.py(j + l) - qy) * normal.y +
                      (g.pz(j + l) - qz) * normal.z - off;
      s3[l] += t * t;
    }
  }
  for (int l = 0; j + l < m; ++l) {
    const float t = (g.px(j + l) - qx) * normal.x + (g.py(j + l) - qy) * normal.y +
                    (g.pz(j + l) - qz) * normal.z - off;
    s3[l] += t * t;
  }
  return (s3[0] + s3[1]) + (s3[2] + s3[3]);
}

// Last stage: the features of the eigen decomposition (lambda, normal; both refined here).
// `plane`: plane_sum for this normal when the caller has it (the CPU's batches), else null.
LIDARHD_HD inline void shape_features(const KernelParams& P, float qx, float qy, float qz, int m,
                                      const Coords& g, const ShapeMoments& s, float* lambda,
                                      Vec3<float> normal, float* v, uint8_t& status,
                                      const float* plane = nullptr) {
  const float inv = s.inv;
  Vec3<float> mean = s.mean;
  if (!(lambda[0] > kDegenerateLambda)) {
    status |= kStatusDegenerate;
    return;
  }
  if (lambda[1] - lambda[2] < kFloat64GapTol * lambda[0]) {
    solve_float64(g, m, qx, qy, qz, lambda, normal, mean);
    status |= kStatusFloat64;
  } else {
    // lambda3 from the cubic carries an absolute error of float rounding times lambda1, large
    // against a flat neighbourhood's tiny lambda3 (omnivariance, sphericity and curvature feel
    // it). The mean squared distance to the fitted plane is the same quantity (n^T C n) summed
    // from small terms, accurate to relative rounding; the normal's error enters squared.
    lambda[2] = (plane ? *plane : plane_sum(qx, qy, qz, m, g, mean, normal)) * inv;
  }
  // Clamp to >= 0 and keep the order that rounding may have blurred.
  const float l1 = lambda[0] > 0.0f ? lambda[0] : 0.0f;
  const float l2 = lambda[1] > 0.0f ? (lambda[1] < l1 ? lambda[1] : l1) : 0.0f;
  const float l3 = lambda[2] > 0.0f ? (lambda[2] < l2 ? lambda[2] : l2) : 0.0f;
  const float sum = l1 + l2 + l3;
  normal = oriented_up(normal);

  float a = l1, b = l2, d = l3, den = l1;
  if (P.norm == int(EigenNorm::kSum)) {
    den = sum;
  } else if (P.norm == int(EigenNorm::kSqrt)) {
    a = hd_sqrt(l1);
    b = hd_sqrt(l2);
    d = hd_sqrt(l3);
    den = a;
  }
  const float inv_den = 1.0f / den;
  const float planarity = (b - d) * inv_den;
  const float nz = normal.z < 0.0f ? -normal.z : normal.z;
  v[int(Feature::kNormalX)] = normal.x;
  v[int(Feature::kNormalY)] = normal.y;
  v[int(Feature::kNormalZ)] = normal.z;
  v[int(Feature::kEigenvalue1)] = l1;
  v[int(Feature::kEigenvalue2)] = l2;
  v[int(Feature::kEigenvalue3)] = l3;
  v[int(Feature::kSumEigenvalues)] = sum;
  v[int(Feature::kLinearity)] = (a - b) * inv_den;
  v[int(Feature::kPlanarity)] = planarity;
  v[int(Feature::kSphericity)] = d * inv_den;
  v[int(Feature::kAnisotropy)] = (a - d) * inv_den;
  if (P.wanted & (1u << int(Feature::kOmnivariance))) {
    v[int(Feature::kOmnivariance)] = cbrtf(l1 * l2 * l3);
  }
  const float inv_sum = 1.0f / sum;
  if (P.wanted & (1u << int(Feature::kEigenentropy))) {
    float entropy = 0.0f;
    const float ls[3] = {l1, l2, l3};
    for (int k = 0; k < 3; ++k) {
      const float p = ls[k] * inv_sum;
      if (p > 0.0f) entropy -= p * logf(p);  // 0 ln 0 = 0
    }
    v[int(Feature::kEigenentropy)] = entropy;
  }
  v[int(Feature::kChangeOfCurvature)] = l3 * inv_sum;
  v[int(Feature::kVerticality)] = 1.0f - nz;
  v[int(Feature::kHorizontality)] = nz;
  // The query point's distance to the plane through the centroid: |(q - centroid) . n|.
  const float rough = mean.x * normal.x + mean.y * normal.y + mean.z * normal.z;
  v[int(Feature::kRoughness)] = rough < 0.0f ? -rough : rough;
  v[int(Feature::kWallScore)] = planarity * (1.0f - nz);
  v[int(Feature::kRoofScore)] = planarity * nz;
}

// Shape, density and vertical features of the point at (qx, qy, qz) into v (indexed by
// Feature; the caller zeroed it) from its m neighbours sorted by (d2, index): their coordinates
// (gx, gy, gz) and the d2 of the farthest, last_d2. Three stages, which the CPU back end may
// also run over several points at a stage (features_cpu.cpp).
LIDARHD_HD inline void shape_values(const KernelParams& P, float qx, float qy, float qz, int m,
                                    float last_d2, const float* gx, const float* gy,
                                    const float* gz, float* v, uint8_t& status) {
  ShapeMoments s;
  if (!shape_moments(P, qx, qy, qz, m, last_d2, gx, gy, gz, v, status, s)) return;
  float lambda[3];
  Vec3<float> normal;
  shape_eigen(s.c, lambda, normal);
  shape_features(P, qx, qy, qz, m, Coords{gx, gy, gz, 1}, s, lambda, normal, v, status);
}

// How far a neighbourhood of m points whose farthest is at squared distance last_d2 looked
// (squared): the farthest neighbour when the search was full, else its whole range.
LIDARHD_HD inline float search_reach2(const KernelParams& P, int m, float last_d2) {
  if (m >= P.cap) return last_d2;
  return P.mode == kModeKnn ? bits_float(0x7F800000u) : P.radius * P.radius;  // +inf for k-NN
}

// shape_values of the point at (qx, qy, qz), its neighbours searched here (at most kCap:
// P.cap <= kCap); returns the search's reach (search_reach2). Per-thread arrays are a GPU
// thread's local memory, which spills beyond the caches when large: the candidates' keys are
// gathered straight into coordinates, and the back ends pick the smallest kCap for P.cap.
template <int kCap>
LIDARHD_HD inline float neighborhood_values(const KernelParams& P, float qx, float qy, float qz,
                                            float* v, uint8_t& status) {
  uint64_t keys[kCap];
  // knn_query's and radius_query's search, without their unpacked copies.
  int m = 0;
  if (P.mode == kModeKnn) {
    m = lidarhd::detail::grid_search(P.grid, qx, qy, qz, P.cap, lidarhd::detail::kInfD2, keys);
  } else if (P.radius >= 0.0f) {
    m = lidarhd::detail::grid_search(P.grid, qx, qy, qz, P.cap, P.radius * P.radius, keys);
  }
  const float last =
      m > 0 ? lidarhd::detail::float_from_bits(static_cast<uint32_t>(keys[m - 1] >> 32)) : 0.0f;
  float gx[kCap], gy[kCap], gz[kCap];
  for (int j = 0; j < m; ++j) {
    const uint32_t id = static_cast<uint32_t>(keys[j]);
    gx[j] = P.x[id];
    gy[j] = P.y[id];
    gz[j] = P.z[id];
  }
  shape_values(P, qx, qy, qz, m, last, gx, gy, gz, v, status);
  return search_reach2(P, m, last);
}

// Every feature of the point at grid position p but the neighbourhood ones (already in v, with
// their status bits, and reach2 the neighbour search's reach, 0 without one); writes the
// requested columns.
LIDARHD_HD inline void finish_point(const KernelParams& P, uint32_t p, float* v, uint8_t status,
                                    float reach2) {
  const uint32_t i = P.grid.index[p];
  const float qx = P.grid.x[p], qy = P.grid.y[p], qz = P.grid.z[p];
  if (P.need_count) {
    v[int(Feature::kNumPoints2m)] =
        static_cast<float>(count_within(P.grid, qx, qy, qz, P.count_radius));
  }
  if (P.need_ground) {
    if (P.ground.valid) {
      bool measured = true;
      v[int(Feature::kHeightAboveGround)] = qz - ground_height(P.ground, qx, qy, measured);
      if (!measured) status |= kStatusGroundGap;
    } else {
      v[int(Feature::kHeightAboveGround)] = bits_float(0x7FC00000u);  // quiet NaN
      status |= kStatusNoGround;
    }
  }
  if (P.need_colour) {
    // LAS stores 8-bit values x 256: the high byte is the orthophoto's value. The API checks
    // that every column a requested feature reads is present.
    const float k = 1.0f / 255.0f;
    const float r = P.red ? static_cast<float>(P.red[i] >> 8) * k : 0.0f;
    const float nir = P.nir ? static_cast<float>(P.nir[i] >> 8) * k : 0.0f;
    v[int(Feature::kRed)] = r;
    v[int(Feature::kGreen)] = P.green ? static_cast<float>(P.green[i] >> 8) * k : 0.0f;
    v[int(Feature::kBlue)] = P.blue ? static_cast<float>(P.blue[i] >> 8) * k : 0.0f;
    v[int(Feature::kNir)] = nir;
    v[int(Feature::kNdvi)] = nir + r > 0.0f ? (nir - r) / (nir + r) : 0.0f;
  }
  for (int j = 0; j < P.columns; ++j) {
    const size_t at = static_cast<size_t>(j) * P.n + i;
    const float value = v[P.ids[j]];
    if (P.out32) {
      P.out32[at] = value;
    } else {
      P.out16[at] = float_to_half(value);
    }
  }
  P.status[i] = status;
  if (P.reach2) {
    const float c2 = P.need_count ? P.count_radius * P.count_radius : 0.0f;
    P.reach2[i] = reach2 > c2 ? reach2 : c2;
  }
}

// Every feature of the point at grid position p (points are visited in grid order, so that
// consecutive queries touch the same columns); writes the requested columns.
template <int kCap>
LIDARHD_HD inline void feature_point(const KernelParams& P, uint32_t p) {
  float v[kFeatureCount];
  for (int f = 0; f < kFeatureCount; ++f) v[f] = 0.0f;
  uint8_t status = 0;
  float reach2 = 0.0f;
  if (P.need_neighbors) {
    reach2 = neighborhood_values<kCap>(P, P.grid.x[p], P.grid.y[p], P.grid.z[p], v, status);
  }
  finish_point(P, p, v, status, reach2);
}

// Back ends: every pointer in P on the device they run on.
void compute_features_cpu(const KernelParams& P);
#if LIDARHD_WITH_CUDA
// The kernel's device time (CUDA events), without the copies around it.
double compute_features_cuda(const KernelParams& P, int device_index);
#endif

}  // namespace lidarhd::features::detail
