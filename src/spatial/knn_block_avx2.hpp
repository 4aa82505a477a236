// AVX2 versions of KnnBlockSearch's inner loops (knn_block_cpu.hpp), for the CPUs that have
// AVX2 but not AVX-512 (most laptops): eight lanes where the portable loops have four, in the
// screen, the compaction (with the exact d2 of the kept candidates) and the ranking. The same
// bits as the other loops: the screening distances only decide which candidates are looked
// at, and the exact d2 is point_d2's arithmetic lane by lane. (An AVX2 copy of the AVX-512
// selection, 64-bit keys ranked four lanes at a time and placed without scatter, measured
// slower than the portable selection on these lanes.)
#pragma once

#include <cstdint>

#include "spatial/knn_block_avx512.hpp"  // LIDARHD_KNN_AVX512

#if defined(LIDARHD_KNN_AVX512)  // the same compilers and targets

namespace lidarhd::detail::knn_avx2 {

#define LIDARHD_AVX2_TARGET __attribute__((target("avx2,popcnt")))

// Lane numbers of the set bits of an 8-bit mask, in order (the rest 0), one byte each.
struct LaneTable {
  uint64_t lanes[256];
  constexpr LaneTable() : lanes() {
    for (int m = 0; m < 256; ++m) {
      uint64_t v = 0;
      int at = 0;
      for (int l = 0; l < 8; ++l) {
        if (m & (1 << l)) v |= static_cast<uint64_t>(l) << (8 * at++);
      }
      lanes[m] = v;
    }
  }
};
inline constexpr LaneTable kLaneTable{};

// Screening d2 of candidates [lo, end) (multiples of 8) into f2, and how many are <= limit.
LIDARHD_AVX2_TARGET inline uint32_t screen(const float* bx, const float* by, const float* bz,
                                           float* f2, uint32_t lo, uint32_t end, float qx, float qy,
                                           float qz, float limit) {
  const __m256 X = _mm256_set1_ps(qx), Y = _mm256_set1_ps(qy), Z = _mm256_set1_ps(qz);
  const __m256 L = _mm256_set1_ps(limit);
  uint32_t count = 0;
  for (uint32_t b = lo; b < end; b += 8) {
    const __m256 dx = _mm256_sub_ps(_mm256_loadu_ps(bx + b), X);
    const __m256 dy = _mm256_sub_ps(_mm256_loadu_ps(by + b), Y);
    const __m256 dz = _mm256_sub_ps(_mm256_loadu_ps(bz + b), Z);
    const __m256 d = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy)),
                                   _mm256_mul_ps(dz, dz));
    _mm256_storeu_ps(f2 + b, d);
    count += static_cast<uint32_t>(
        __builtin_popcount(_mm256_movemask_ps(_mm256_cmp_ps(d, L, _CMP_LE_OQ))));
  }
  return count;
}

// How many of f2[lo, end) (multiples of 8) are <= limit (NaN never is).
LIDARHD_AVX2_TARGET inline uint32_t count_below(const float* f2, uint32_t lo, uint32_t end,
                                                float limit) {
  const __m256 L = _mm256_set1_ps(limit);
  uint32_t count = 0;
  for (uint32_t b = lo; b < end; b += 8) {
    count += static_cast<uint32_t>(__builtin_popcount(
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(f2 + b), L, _CMP_LE_OQ))));
  }
  return count;
}

// The candidates of [lo, end) (multiples of 8) whose screening d2 is <= limit, compacted
// eight lanes at a time (the kept lanes moved to the front by a permutation from the table,
// stored whole): their exact d2 as point_d2 computes it (four lanes of double at a time) into
// sd, original indices into sid, sorted positions into spos. xyz: scratch of 3 (end - lo + 8)
// floats. Returns the count c; sd[c, c + 8) is NaN. sid, spos and sd need room for 8 past c.
LIDARHD_AVX2_TARGET inline uint32_t gather(const float* f2, const float* bx, const float* by,
                                           const float* bz, const uint32_t* bindex,
                                           const uint32_t* bpos, uint32_t lo, uint32_t end,
                                           float limit, float qx, float qy, float qz, float* xyz,
                                           float* sd, uint32_t* sid, uint32_t* spos) {
  const uint32_t room = end - lo + 8;
  float* sx = xyz;
  float* sy = xyz + room;
  float* sz = xyz + 2 * room;
  const __m256 L = _mm256_set1_ps(limit);
  uint32_t c = 0;
  for (uint32_t b = lo; b < end; b += 8) {
    const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(f2 + b), L, _CMP_LE_OQ));
    if (m == 0) continue;
    const __m256i perm =
        _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(kLaneTable.lanes[m])));
    _mm256_storeu_ps(sx + c, _mm256_permutevar8x32_ps(_mm256_loadu_ps(bx + b), perm));
    _mm256_storeu_ps(sy + c, _mm256_permutevar8x32_ps(_mm256_loadu_ps(by + b), perm));
    _mm256_storeu_ps(sz + c, _mm256_permutevar8x32_ps(_mm256_loadu_ps(bz + b), perm));
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(sid + c),
        _mm256_permutevar8x32_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bindex + b)), perm));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(spos + c),
                        _mm256_permutevar8x32_epi32(
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bpos + b)), perm));
    c += static_cast<uint32_t>(__builtin_popcount(m));
  }
  const __m128 X = _mm_set1_ps(qx), Y = _mm_set1_ps(qy), Z = _mm_set1_ps(qz);
  for (uint32_t u = 0; u < c; u += 4) {  // lanes past c: garbage, overwritten below
    const __m256d dx = _mm256_cvtps_pd(_mm_sub_ps(_mm_loadu_ps(sx + u), X));
    const __m256d dy = _mm256_cvtps_pd(_mm_sub_ps(_mm_loadu_ps(sy + u), Y));
    const __m256d dz = _mm256_cvtps_pd(_mm_sub_ps(_mm_loadu_ps(sz + u), Z));
    _mm_storeu_ps(sd + u, _mm256_cvtpd_ps(_mm256_add_pd(
                              _mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy)),
                              _mm256_mul_pd(dz, dz))));
  }
  _mm256_storeu_ps(sd + c, _mm256_set1_ps(__builtin_nanf("")));
  return c;
}

// rank[i] = how many of sd[0, c) are below sd[i] (NaN never is), for i < c: two candidates
// per sweep of eight lanes, sharing the loads; sd has NaN up to the next multiple of 8 past c.
LIDARHD_AVX2_TARGET inline void rank(const float* sd, uint32_t c, uint32_t* rank) {
  const uint32_t padded = (c + 7u) & ~7u;
  for (uint32_t i = 0; i < c; i += 2) {
    const __m256 d0 = _mm256_set1_ps(sd[i]);
    const __m256 d1 = _mm256_set1_ps(sd[i + 1]);  // NaN past c: ranked, never used
    __m256i a0 = _mm256_setzero_si256();
    __m256i a1 = _mm256_setzero_si256();
    for (uint32_t j = 0; j < padded; j += 8) {
      const __m256 dj = _mm256_loadu_ps(sd + j);
      a0 = _mm256_sub_epi32(a0, _mm256_castps_si256(_mm256_cmp_ps(dj, d0, _CMP_LT_OQ)));
      a1 = _mm256_sub_epi32(a1, _mm256_castps_si256(_mm256_cmp_ps(dj, d1, _CMP_LT_OQ)));
    }
    // Both horizontal sums at once: interleave, add halves, then pairs.
    const __m256i lo = _mm256_unpacklo_epi32(a0, a1);
    const __m256i hi = _mm256_unpackhi_epi32(a0, a1);
    const __m256i sum = _mm256_add_epi32(lo, hi);  // (a0, a1, a0, a1) x 2 halves
    const __m128i half =
        _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    const __m128i both = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0x4E));
    rank[i] = static_cast<uint32_t>(_mm_cvtsi128_si32(both));
    rank[i + 1] = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_shuffle_epi32(both, 0x55)));
  }
}

#undef LIDARHD_AVX2_TARGET

}  // namespace lidarhd::detail::knn_avx2

#endif
