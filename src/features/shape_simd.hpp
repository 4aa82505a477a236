// Three stages of the feature kernel's shape_values (features_impl.hpp) for 16 neighbourhoods
// at once, one per vector lane: the moments (shape_sums), the eigen decomposition
// (eigen_sym3_smallest, math.hpp) and the sum of squared distances to the fitted plane
// (shape_features' lambda3), for the CPU feature kernel. One point's decomposition is a
// chain of dependent divisions and square roots that leaves the core mostly waiting, and its
// sums fill four lanes of a register; sixteen points side by side fill the core and the
// registers. AVX-512 runs the 16 lanes in one register, AVX2 in two of 8 (simd_level() picks);
// other CPUs keep the scalar stages (no batch: `width()` is 0).
//
// The same bits as the scalar functions: every lane performs its operations, in its order, with
// the same IEEE float arithmetic (the library is built with -ffp-contract=off, so neither side
// fuses a multiply and an add), and their branches become per-lane selects of values both
// sides compute alike. tests/unit/test_shape_simd.cpp checks it bit for bit on both widths.
#pragma once

#include <stdint.h>

#include "core/simd.hpp"
#include "features/features_impl.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define LIDARHD_SHAPE_SIMD 1
#include <immintrin.h>
#endif

namespace lidarhd::features::detail::shape_simd {

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
  // Sum of the squared distances to the plane through the mean with that normal (plane_sums).
  alignas(64) float plane[kWidth];
};

#if defined(LIDARHD_SHAPE_SIMD)

namespace lanes16 {  // AVX-512 F + VL

#define LIDARHD_LANES_TARGET __attribute__((target("avx512f,avx512vl")))
using V = __m512;
using M = __mmask16;
constexpr int kStep = 16;

LIDARHD_LANES_TARGET inline V splat(float f) { return _mm512_set1_ps(f); }
LIDARHD_LANES_TARGET inline V load(const float* p) { return _mm512_load_ps(p); }
LIDARHD_LANES_TARGET inline void store(float* p, V v) { _mm512_store_ps(p, v); }
LIDARHD_LANES_TARGET inline V pick(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
LIDARHD_LANES_TARGET inline M greater(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
LIDARHD_LANES_TARGET inline M greater_equal(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
}
LIDARHD_LANES_TARGET inline M less(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
LIDARHD_LANES_TARGET inline M invert(M m) { return static_cast<M>(~m); }
// The zero-masked forms with every lane set: GCC 12's plain ones start from an "undefined"
// register that -Wuninitialized reports.
LIDARHD_LANES_TARGET inline V sqrt(V a) { return _mm512_maskz_sqrt_ps(M(0xFFFF), a); }
LIDARHD_LANES_TARGET inline V to_float(const int32_t* n) {
  return _mm512_maskz_cvtepi32_ps(M(0xFFFF), _mm512_load_si512(n));
}
// hd_abs's value wherever it is compared (it keeps -0, which compares as +0).
LIDARHD_LANES_TARGET inline V abs(V a) { return _mm512_abs_ps(a); }
LIDARHD_LANES_TARGET inline M count_above(const int32_t* n, int j) {
  return _mm512_cmpgt_epi32_mask(_mm512_load_si512(n), _mm512_set1_epi32(j));
}

#include "features/shape_simd_lanes.inc"
#undef LIDARHD_LANES_TARGET

}  // namespace lanes16

namespace lanes8 {  // AVX2: masks are lanes of all ones or zeros

#define LIDARHD_LANES_TARGET __attribute__((target("avx2")))
using V = __m256;
using M = __m256;
constexpr int kStep = 8;

LIDARHD_LANES_TARGET inline V splat(float f) { return _mm256_set1_ps(f); }
LIDARHD_LANES_TARGET inline V load(const float* p) { return _mm256_load_ps(p); }
LIDARHD_LANES_TARGET inline void store(float* p, V v) { _mm256_store_ps(p, v); }
LIDARHD_LANES_TARGET inline V pick(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
LIDARHD_LANES_TARGET inline M greater(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
LIDARHD_LANES_TARGET inline M greater_equal(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
LIDARHD_LANES_TARGET inline M less(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
LIDARHD_LANES_TARGET inline M invert(M m) {
  return _mm256_xor_ps(m, _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
}
LIDARHD_LANES_TARGET inline V sqrt(V a) { return _mm256_sqrt_ps(a); }
LIDARHD_LANES_TARGET inline V to_float(const int32_t* n) {
  return _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(n)));
}
LIDARHD_LANES_TARGET inline V abs(V a) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
}
LIDARHD_LANES_TARGET inline M count_above(const int32_t* n, int j) {
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(
      _mm256_load_si256(reinterpret_cast<const __m256i*>(n)), _mm256_set1_epi32(j)));
}

#include "features/shape_simd_lanes.inc"
#undef LIDARHD_LANES_TARGET

}  // namespace lanes8

#endif

// Lanes the CPU runs the stages on at once (16 or 8), 0 when it keeps the scalar stages.
inline int width() {
#if defined(LIDARHD_SHAPE_SIMD)
  switch (lidarhd::detail::simd_level()) {
    case lidarhd::detail::SimdLevel::kAvx512: return 16;
    case lidarhd::detail::SimdLevel::kAvx2: return 8;
    default: return 0;
  }
#else
  return 0;
#endif
}

// The batched stages over the whole batch at width w (16: one AVX-512 register; 8: two halves
// in AVX2 registers), width() unless a test picks one. Only where w > 0.

// b.mean / b.c of every lane from its b.m[i] >= 1 neighbours (max_m the largest count), as
// shape_sums.
inline void moments(Batch& b, int max_m, int w = width()) {
#if defined(LIDARHD_SHAPE_SIMD)
  if (w == 16) {
    lanes16::moments(b, max_m, 0);
  } else {
    for (int lane0 = 0; lane0 < kWidth; lane0 += lanes8::kStep) lanes8::moments(b, max_m, lane0);
  }
#else
  (void)b, (void)max_m, (void)w;
#endif
}

// b.value / b.normal of every lane from b.c, as eigen_sym3_smallest.
inline void eigen_smallest(Batch& b, int w = width()) {
#if defined(LIDARHD_SHAPE_SIMD)
  if (w == 16) {
    lanes16::eigen_smallest(b, 0);
  } else {
    for (int lane0 = 0; lane0 < kWidth; lane0 += lanes8::kStep) lanes8::eigen_smallest(b, lane0);
  }
#else
  (void)b, (void)w;
#endif
}

// b.plane of every lane from its neighbours, b.mean and b.normal, as shape_features sums it.
inline void plane_sums(Batch& b, int max_m, int w = width()) {
#if defined(LIDARHD_SHAPE_SIMD)
  if (w == 16) {
    lanes16::plane_sums(b, max_m, 0);
  } else {
    for (int lane0 = 0; lane0 < kWidth; lane0 += lanes8::kStep) lanes8::plane_sums(b, max_m, lane0);
  }
#else
  (void)b, (void)max_m, (void)w;
#endif
}

}  // namespace lidarhd::features::detail::shape_simd
