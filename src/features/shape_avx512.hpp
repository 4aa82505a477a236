// Two stages of the feature kernel's shape_values (features_impl.hpp) for 16 neighbourhoods at
// once, one per AVX-512 lane: the moments (shape_sums) and the eigen decomposition
// (eigen_sym3_smallest, math.hpp). The CPU feature kernel runs them on the CPUs that run the
// AVX-512 neighbour search (knn_block_avx512.hpp). One point's decomposition is a chain of
// dependent divisions and square roots that leaves the core mostly waiting, and its sums fill
// four lanes of a register; sixteen points side by side fill the core and the registers.
//
// The same bits as the scalar functions: every lane performs its operations, in its order, with
// the same IEEE float arithmetic (the library is built with -ffp-contract=off, so neither side
// fuses a multiply and an add), and their branches become per-lane selects of values both
// sides compute alike. tests/unit/test_shape_avx512.cpp checks it bit for bit.
#pragma once

#include "features/features_impl.hpp"
#include "spatial/knn_block_avx512.hpp"

namespace lidarhd::features::detail::shape_avx512 {

constexpr int kWidth = 16;

// 16 neighbourhoods of m points as structures of arrays (lane i is one neighbourhood), and
// what the stages make of them.
struct Batch {
  // Neighbour j of lane i at [j][i], and lane i's query point.
  alignas(64) float x[kNeighborCap][kWidth];
  alignas(64) float y[kNeighborCap][kWidth];
  alignas(64) float z[kNeighborCap][kWidth];
  alignas(64) float q[3][kWidth];
  alignas(64) int32_t m[kWidth];  // lane i's neighbour count
  // Moments: the mean offset and the covariance (xx, xy, xz, yy, yz, zz), as shape_sums.
  alignas(64) float mean[3][kWidth];
  alignas(64) float c[6][kWidth];
  // Eigenvalues of c in decreasing order and the smallest's unit eigenvector.
  alignas(64) float value[3][kWidth];
  alignas(64) float normal[3][kWidth];
};

#if defined(LIDARHD_KNN_AVX512)

namespace v16 {

// GCC and Clang give __m512 the arithmetic operators: lane-wise IEEE float operations.
using V = __m512;
using M = __mmask16;

LIDARHD_AVX512_TARGET inline V splat(float f) { return _mm512_set1_ps(f); }
// m ? a : b, lane by lane.
LIDARHD_AVX512_TARGET inline V pick(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
LIDARHD_AVX512_TARGET inline M greater(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
LIDARHD_AVX512_TARGET inline M greater_equal(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
}
LIDARHD_AVX512_TARGET inline M less(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
// The zero-masked form with every lane set: GCC 12's plain one starts from an "undefined"
// register that -Wuninitialized reports.
LIDARHD_AVX512_TARGET inline V sqrt(V a) { return _mm512_maskz_sqrt_ps(M(0xFFFF), a); }
// hd_abs's value wherever it is compared (it keeps -0, which compares as +0).
LIDARHD_AVX512_TARGET inline V abs(V a) { return _mm512_abs_ps(a); }

struct Vec {
  V x, y, z;
};

LIDARHD_AVX512_TARGET inline Vec cross(const Vec& a, const Vec& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
LIDARHD_AVX512_TARGET inline V dot(const Vec& a, const Vec& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
LIDARHD_AVX512_TARGET inline Vec pick(M m, const Vec& a, const Vec& b) {
  return {pick(m, a.x, b.x), pick(m, a.y, b.y), pick(m, a.z, b.z)};
}

struct Sym {
  V xx, xy, xz, yy, yz, zz;
};

LIDARHD_AVX512_TARGET inline Vec mul(const Sym& m, const Vec& v) {
  return {m.xx * v.x + m.xy * v.y + m.xz * v.z, m.xy * v.x + m.yy * v.y + m.yz * v.z,
          m.xz * v.x + m.yz * v.y + m.zz * v.z};
}

// cubic_top_root<float>: the same polynomial, constants rounded to float as T(constant) does.
LIDARHD_AVX512_TARGET inline V cubic_top_root(V h) {
  const V h2 = h * h, h4 = h2 * h2;
  const auto c = [](double d) { return static_cast<float>(d); };
  return (splat(c(1.7320509868368252)) + splat(c(0.3333156272314402)) * h) +
         h2 * (splat(c(-0.09593033408303896)) + splat(c(0.04746915363384742)) * h) +
         h4 * ((splat(c(-0.02488706541937706)) + splat(c(0.009991079904271444)) * h) +
               h2 * splat(c(-0.0020095502396700084)));
}

// simple_eigenvector.
LIDARHD_AVX512_TARGET inline Vec simple_eigenvector(const Sym& m, V beta) {
  const Vec r0{m.xx - beta, m.xy, m.xz};
  const Vec r1{m.xy, m.yy - beta, m.yz};
  const Vec r2{m.xz, m.yz, m.zz - beta};
  const Vec c01 = cross(r0, r1), c02 = cross(r0, r2), c12 = cross(r1, r2);
  const V n01 = dot(c01, c01), n02 = dot(c02, c02), n12 = dot(c12, c12);
  Vec best = c01;
  V best_n = n01;
  const M take02 = greater(n02, best_n);
  best = pick(take02, c02, best);
  best_n = pick(take02, n02, best_n);
  const M take12 = greater(n12, best_n);
  best = pick(take12, c12, best);
  best_n = pick(take12, n12, best_n);
  const V s = splat(1.0f) / sqrt(best_n);
  const Vec unit{best.x * s, best.y * s, best.z * s};
  const M null = ~greater(best_n, splat(0.0f));
  return pick(null, Vec{splat(0.0f), splat(0.0f), splat(1.0f)}, unit);
}

}  // namespace v16

// b.mean / b.c from the b.m[i] >= 1 neighbours of b.x, b.y, b.z (max_m the largest count),
// lane by lane exactly as shape_sums (its four interleaved partial sums included): a lane adds
// nothing past its own count.
LIDARHD_AVX512_TARGET inline void moments(Batch& b, int max_m) {
  using namespace v16;
  const V qx = _mm512_load_ps(b.q[0]), qy = _mm512_load_ps(b.q[1]), qz = _mm512_load_ps(b.q[2]);
  const __m512i count = _mm512_load_si512(b.m);
  V part[kLanes][9];  // shape_sums' acc[t][l] of every point: part[l][t]
  for (int l = 0; l < kLanes; ++l) {
    V* acc = part[l];
    for (int t = 0; t < 9; ++t) acc[t] = splat(0.0f);
    for (int j = l; j < max_m; j += kLanes) {
      const M in = _mm512_cmpgt_epi32_mask(count, _mm512_set1_epi32(j));
      const V dx = _mm512_load_ps(b.x[j]) - qx;
      const V dy = _mm512_load_ps(b.y[j]) - qy;
      const V dz = _mm512_load_ps(b.z[j]) - qz;
      const V d[9] = {dx, dy, dz, dx * dx, dx * dy, dx * dz, dy * dy, dy * dz, dz * dz};
      for (int t = 0; t < 9; ++t) acc[t] = _mm512_mask_add_ps(acc[t], in, acc[t], d[t]);
    }
  }
  static_assert(kLanes == 4, "shape_sums adds its partial sums as two pairs");
  V sum[9];
  for (int t = 0; t < 9; ++t) sum[t] = (part[0][t] + part[1][t]) + (part[2][t] + part[3][t]);
  const V inv = splat(1.0f) / _mm512_maskz_cvtepi32_ps(M(0xFFFF), count);  // 1.0f / float(m), exactly
  const V mx = sum[0] * inv, my = sum[1] * inv, mz = sum[2] * inv;
  _mm512_store_ps(b.mean[0], mx);
  _mm512_store_ps(b.mean[1], my);
  _mm512_store_ps(b.mean[2], mz);
  _mm512_store_ps(b.c[0], sum[3] * inv - mx * mx);
  _mm512_store_ps(b.c[1], sum[4] * inv - mx * my);
  _mm512_store_ps(b.c[2], sum[5] * inv - mx * mz);
  _mm512_store_ps(b.c[3], sum[6] * inv - my * my);
  _mm512_store_ps(b.c[4], sum[7] * inv - my * mz);
  _mm512_store_ps(b.c[5], sum[8] * inv - mz * mz);
}

// b.value / b.normal from b.c, lane by lane exactly as eigen_sym3_smallest.
LIDARHD_AVX512_TARGET inline void eigen_smallest(Batch& b) {
  using namespace v16;
  const Sym a{_mm512_load_ps(b.c[0]), _mm512_load_ps(b.c[1]), _mm512_load_ps(b.c[2]),
              _mm512_load_ps(b.c[3]), _mm512_load_ps(b.c[4]), _mm512_load_ps(b.c[5])};
  const V zero = splat(0.0f), one = splat(1.0f);
  const V q = (a.xx + a.yy + a.zz) / splat(3.0f);
  const V dxx = a.xx - q, dyy = a.yy - q, dzz = a.zz - q;
  const V p2 = (dxx * dxx + dyy * dyy + dzz * dzz +
                splat(2.0f) * (a.xy * a.xy + a.xz * a.xz + a.yz * a.yz)) /
               splat(6.0f);
  const M identity = ~greater(p2, zero);  // a multiple of the identity (or NaN)
  const V p = sqrt(p2);
  const V inv_p = one / p;
  const Sym c{dxx * inv_p, a.xy * inv_p, a.xz * inv_p, dyy * inv_p, a.yz * inv_p, dzz * inv_p};
  V half_det = splat(0.5f) * (c.xx * (c.yy * c.zz - c.yz * c.yz) -
                              c.xy * (c.xy * c.zz - c.yz * c.xz) +
                              c.xz * (c.xy * c.yz - c.yy * c.xz));
  half_det = pick(greater(splat(-1.0f), half_det), splat(-1.0f), half_det);  // hd_max
  half_det = pick(less(one, half_det), one, half_det);                        // hd_min
  const M top = greater_equal(half_det, zero);
  const V root = cubic_top_root(pick(top, half_det, -half_det));
  const V beta = pick(top, root, -root);
  const Vec w = simple_eigenvector(c, beta);
  const V iso = dot(w, mul(c, w));

  // complement_eigenpairs, with the vectors (used by the lanes where top).
  const M x_larger = greater(abs(w.x), abs(w.y));
  const Vec u = pick(x_larger, Vec{-w.z, zero, w.x}, Vec{zero, w.z, -w.y});
  const V n2 = pick(x_larger, w.x * w.x + w.z * w.z, w.y * w.y + w.z * w.z);
  const Vec v = cross(w, u);
  const V inv_n2 = one / n2;
  const Vec mu = mul(c, u), mv = mul(c, v);
  const V a00 = dot(u, mu), a01 = dot(u, mv), a11 = dot(v, mv);
  const V mean = splat(0.5f) * (a00 + a11), h = splat(0.5f) * (a00 - a11);
  const V r = sqrt(h * h + a01 * a01);
  const V pair_hi = (mean + r) * inv_n2;
  const V pair_lo = (mean - r) * inv_n2;
  const M r_pos = greater(r, zero), h_pos = greater_equal(h, zero);
  V cu = pick(r_pos, pick(h_pos, h + r, a01), one);
  V cv = pick(r_pos, pick(h_pos, a01, r - h), zero);
  const V inv = one / sqrt((cu * cu + cv * cv) * n2);
  cu = cu * inv;
  cv = cv * inv;
  const Vec lo_vec{cu * v.x - cv * u.x, cu * v.y - cv * u.y, cu * v.z - cv * u.z};

  V value[3] = {pick(top, iso, pair_hi), pick(top, pair_hi, pair_lo), pick(top, pair_lo, iso)};
  Vec normal = pick(top, lo_vec, w);
  for (int k = 0; k < 3; ++k) value[k] = pick(identity, q * one, (q + p * value[k]) * one);
  normal = pick(identity, Vec{zero, zero, one}, normal);
  for (int k = 0; k < 3; ++k) _mm512_store_ps(b.value[k], value[k]);
  _mm512_store_ps(b.normal[0], normal.x);
  _mm512_store_ps(b.normal[1], normal.y);
  _mm512_store_ps(b.normal[2], normal.z);
}

#endif

}  // namespace lidarhd::features::detail::shape_avx512
