// AVX-512 versions of KnnBlockSearch's inner loops (knn_block_cpu.hpp), chosen at run time on
// the CPUs that have AVX-512 F and VL; every other CPU (and every other compiler target) runs
// the portable loops. The results are the same bits: the screening distances only decide which
// candidates are looked at, and the exact d2 is point_d2's arithmetic (float differences,
// squares and sums in double, rounded to float) lane by lane.
//
// The selection ranks 64-bit keys (d2 bits, original index), which are unique, so equal
// distances need no second pass: lane l's rank is the number of keys below its own, and the
// lanes of rank < k are scattered to their places.
#pragma once

#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define LIDARHD_KNN_AVX512 1
#include <immintrin.h>
#endif

namespace lidarhd::detail::knn_avx512 {

// Screened candidates the AVX-512 selection takes at most (four registers of 8 keys).
constexpr uint32_t kMaxSelected = 32;
// Scratch for the selected candidates: kMaxSelected plus one register's overrun.
struct Selected {
  alignas(64) float x[kMaxSelected + 16] = {};
  alignas(64) float y[kMaxSelected + 16] = {};
  alignas(64) float z[kMaxSelected + 16] = {};
  alignas(64) uint32_t index[kMaxSelected + 16] = {};
  alignas(64) uint32_t pos[kMaxSelected + 16] = {};
  alignas(64) uint64_t keys[kMaxSelected] = {};
};

#if defined(LIDARHD_KNN_AVX512)

#define LIDARHD_AVX512_TARGET __attribute__((target("avx512f,avx512vl,popcnt")))

// Screening d2 of candidates [lo, end) (multiples of 16) into f2, and how many are <= limit.
LIDARHD_AVX512_TARGET inline uint32_t screen(const float* bx, const float* by, const float* bz,
                                             float* f2, uint32_t lo, uint32_t end, float qx,
                                             float qy, float qz, float limit) {
  const __m512 X = _mm512_set1_ps(qx), Y = _mm512_set1_ps(qy), Z = _mm512_set1_ps(qz);
  const __m512 L = _mm512_set1_ps(limit);
  uint32_t count = 0;
  for (uint32_t b = lo; b < end; b += 16) {
    const __m512 dx = _mm512_sub_ps(_mm512_loadu_ps(bx + b), X);
    const __m512 dy = _mm512_sub_ps(_mm512_loadu_ps(by + b), Y);
    const __m512 dz = _mm512_sub_ps(_mm512_loadu_ps(bz + b), Z);
    const __m512 d = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(dx, dx), _mm512_mul_ps(dy, dy)),
                                   _mm512_mul_ps(dz, dz));
    _mm512_storeu_ps(f2 + b, d);
    count += static_cast<uint32_t>(__builtin_popcount(_mm512_cmp_ps_mask(d, L, _CMP_LE_OQ)));
  }
  return count;
}

// How many of f2[lo, end) (multiples of 16) are <= limit (NaN never is).
LIDARHD_AVX512_TARGET inline uint32_t count_below(const float* f2, uint32_t lo, uint32_t end,
                                                  float limit) {
  const __m512 L = _mm512_set1_ps(limit);
  uint32_t count = 0;
  for (uint32_t b = lo; b < end; b += 16) {
    count += static_cast<uint32_t>(
        __builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(f2 + b), L, _CMP_LE_OQ)));
  }
  return count;
}

// rank[r] lane l += number of the c keys below key (r, l): R registers of 8 keys.
template <int R>
LIDARHD_AVX512_TARGET inline void rank_keys(const uint64_t* keys, uint32_t c, const __m512i* K,
                                            __m512i* rank) {
  const __m512i one = _mm512_set1_epi64(1);
  for (int r = 0; r < R; ++r) rank[r] = _mm512_setzero_si512();
  for (uint32_t j = 0; j < c; ++j) {
    const __m512i b = _mm512_set1_epi64(static_cast<long long>(keys[j]));
    for (int r = 0; r < R; ++r) {
      rank[r] = _mm512_mask_add_epi64(rank[r], _mm512_cmpgt_epu64_mask(K[r], b), rank[r], one);
    }
  }
}

// The best of the candidates [lo, end) whose screening d2 (f2) is <= limit, when at most
// kMaxSelected are: keys[0, count) sorted and pos their sorted positions; -1 when more than
// kMaxSelected were screened in (the caller's loops).
// k-NN (within false): the k best, count k, when at least k of them have an exact d2 <= t (the
// k best of the block are then among them); 0 when fewer do (nothing written).
// Radius (within true): the min(k, n) best of the n with an exact d2 <= t, count that.
LIDARHD_AVX512_TARGET inline int select(const float* f2, const float* bx, const float* by,
                                        const float* bz, const uint32_t* bindex,
                                        const uint32_t* bpos, uint32_t lo, uint32_t end,
                                        float limit, float t, float qx, float qy, float qz, int k,
                                        bool within, Selected& s, uint64_t* keys,
                                        uint32_t* pos) {
  // Compaction of the screened candidates, a register at a time.
  const __m512 L = _mm512_set1_ps(limit);
  uint32_t c = 0;
  for (uint32_t b = lo; b < end; b += 16) {
    const __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(f2 + b), L, _CMP_LE_OQ);
    if (m == 0) continue;
    const uint32_t n = static_cast<uint32_t>(__builtin_popcount(m));
    if (c + n > kMaxSelected) return -1;
    _mm512_storeu_ps(s.x + c, _mm512_maskz_compress_ps(m, _mm512_loadu_ps(bx + b)));
    _mm512_storeu_ps(s.y + c, _mm512_maskz_compress_ps(m, _mm512_loadu_ps(by + b)));
    _mm512_storeu_ps(s.z + c, _mm512_maskz_compress_ps(m, _mm512_loadu_ps(bz + b)));
    _mm512_storeu_si512(s.index + c, _mm512_maskz_compress_epi32(m, _mm512_loadu_si512(bindex + b)));
    _mm512_storeu_si512(s.pos + c, _mm512_maskz_compress_epi32(m, _mm512_loadu_si512(bpos + b)));
    c += n;
  }
  uint32_t kk = static_cast<uint32_t>(k);
  if (c < kk && !within) return 0;
  // Exact d2 as point_d2 computes it, 8 lanes of double at a time, and the keys; lanes past c
  // (and in radius mode those with d2 > t) get the largest key, which ranks after every
  // candidate.
  const __m256 X = _mm256_set1_ps(qx), Y = _mm256_set1_ps(qy), Z = _mm256_set1_ps(qz);
  const __m256 T = _mm256_set1_ps(t);
  // The zero-masked forms with every lane set: GCC 12's plain ones start from an "undefined"
  // register that -Wmaybe-uninitialized reports.
  constexpr __mmask8 kAll = 0xFF;
  const int R = static_cast<int>((c + 7) / 8);
  __m512i K[4], rank[4];
  uint32_t under = 0;
  for (int r = 0; r < R; ++r) {
    const uint32_t first = 8u * static_cast<uint32_t>(r);
    const __mmask8 valid =
        c - first >= 8 ? __mmask8(0xFF) : static_cast<__mmask8>((1u << (c - first)) - 1u);
    const __m512d dx = _mm512_maskz_cvtps_pd(kAll, _mm256_sub_ps(_mm256_load_ps(s.x + first), X));
    const __m512d dy = _mm512_maskz_cvtps_pd(kAll, _mm256_sub_ps(_mm256_load_ps(s.y + first), Y));
    const __m512d dz = _mm512_maskz_cvtps_pd(kAll, _mm256_sub_ps(_mm256_load_ps(s.z + first), Z));
    const __m256 d2 = _mm512_maskz_cvtpd_ps(kAll, _mm512_add_pd(
        _mm512_add_pd(_mm512_mul_pd(dx, dx), _mm512_mul_pd(dy, dy)), _mm512_mul_pd(dz, dz)));
    const __mmask8 inside = _mm256_mask_cmp_ps_mask(valid, d2, T, _CMP_LE_OQ);
    under += static_cast<uint32_t>(__builtin_popcount(inside));
    const __m512i key = _mm512_or_si512(
        _mm512_maskz_slli_epi64(kAll, _mm512_maskz_cvtepu32_epi64(kAll, _mm256_castps_si256(d2)), 32),
        _mm512_maskz_cvtepu32_epi64(kAll, _mm256_load_si256(reinterpret_cast<const __m256i*>(s.index + first))));
    K[r] = _mm512_mask_mov_epi64(_mm512_set1_epi64(-1), within ? inside : valid, key);
    _mm512_store_si512(s.keys + first, K[r]);
  }
  if (within) {
    kk = under < kk ? under : kk;
    if (kk == 0) return 0;
  } else if (under < kk) {
    return 0;
  }
  switch (R) {
    case 1: rank_keys<1>(s.keys, c, K, rank); break;
    case 2: rank_keys<2>(s.keys, c, K, rank); break;
    case 3: rank_keys<3>(s.keys, c, K, rank); break;
    default: rank_keys<4>(s.keys, c, K, rank); break;
  }
  // Keys are unique, so the ranks below kk are the places 0..kk-1, each once (the largest key
  // of the lanes left out ranks at or after under >= kk).
  const __m512i kv = _mm512_set1_epi64(static_cast<long long>(kk));
  for (int r = 0; r < R; ++r) {
    const uint32_t first = 8u * static_cast<uint32_t>(r);
    const __mmask8 m = _mm512_cmplt_epu64_mask(rank[r], kv);
    _mm512_mask_i64scatter_epi64(keys, m, rank[r], K[r], 8);
    _mm512_mask_i64scatter_epi32(
        pos, m, rank[r], _mm256_load_si256(reinterpret_cast<const __m256i*>(s.pos + first)), 4);
  }
  return static_cast<int>(kk);
}

#endif

}  // namespace lidarhd::detail::knn_avx512
