// k nearest neighbours of the cloud's own points on the CPU, a column at a time (CPU only; the
// CUDA kernels query point by point with grid_search, and so does this for the points it
// cannot settle).
//
// The queries of one column share their candidates: the points of the (2 reach + 1)^2 columns
// around it (reach 1 to 3, from the previous query's k-th distance), which are contiguous runs
// of the sorted points (columns are row-major). They are copied once per column into a small
// structure of arrays. Each query then
//   1. computes a screening d2 of every candidate in float, vectorised, and counts those under
//      a threshold guessed from the previous query, refined by a few counts until k to k + 4
//      pass (the branchy insertion of a per-point search was its main cost: mispredictions);
//   2. compacts the screened candidates without branches and computes their exact d2 with
//      point_d2, the formula shared with grid_search and the GPU;
//   3. orders them by counting, for each, the candidates of smaller exact d2 (all pairs, four
//      lanes at a time), ties in d2 going to an insertion sort by (d2, original index).
//
// Exactness: every candidate whose exact d2 is <= the threshold t is screened in (the float d2
// is within a few ulps of the exact one, and screen() widens t by more). When at least k
// screened candidates have exact d2 <= t, the k best of the block all do, so they are the k
// best of the screened ones. The k best of the block are the answer when every point outside
// it, in a column at Chebyshev distance > reach, has a computed d2 strictly above the k-th d2
// (rings_beyond, the test grid_search itself stops on); otherwise (sparse or tall
// neighbourhoods, fewer than k points in the block) the query falls back to grid_search.
// Results are therefore the same bits as grid_search's on every point.
#pragma once

#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "spatial/grid_impl.hpp"

namespace lidarhd::detail {

class KnnBlockSearch {
 public:
  // Blocks with more candidates than this per query go point by point: tall columns (walls,
  // trees) make a whole block slower than grid_search's z windows.
  static constexpr uint32_t kMaxBlock = 512;
  static constexpr int kMaxReach = 3;

  KnnBlockSearch(const GridView& g, int k) : g_(g), k_(k) {}

  // Copies the block of column `cell` ((2 reach + 1)^2 columns, clamped to the grid); false
  // when the column's queries should go point by point.
  bool set_cell(uint32_t cell) {
    cx_ = static_cast<int>(cell % static_cast<uint32_t>(g_.nx));
    cy_ = static_cast<int>(cell / static_cast<uint32_t>(g_.nx));
    // Rings of columns around the block's centre: enough to hold the previous query's k-th
    // distance (a neighbouring point's) from anywhere in the column.
    int reach = 1;
    if (threshold_ < kInfD2) {
      const float r = __builtin_sqrtf(threshold_) * g_.inv_cell;
      reach = r <= 1.0f ? 1 : (r <= 2.0f ? 2 : kMaxReach);
    }
    uint32_t total = 0;
    uint32_t s[2 * kMaxReach + 1], e[2 * kMaxReach + 1];
    int runs = 0;
    for (;; --reach) {
      const int i0 = cx_ > reach ? cx_ - reach : 0;
      const int i1 = cx_ + reach < g_.nx ? cx_ + reach : g_.nx - 1;
      const int j0 = cy_ > reach ? cy_ - reach : 0;
      const int j1 = cy_ + reach < g_.ny ? cy_ + reach : g_.ny - 1;
      total = 0;
      runs = 0;
      for (int j = j0; j <= j1; ++j) {
        const uint32_t row = static_cast<uint32_t>(j) * static_cast<uint32_t>(g_.nx);
        s[runs] = g_.cell_start[row + static_cast<uint32_t>(i0)];
        e[runs] = g_.cell_start[row + static_cast<uint32_t>(i1) + 1];
        total += e[runs] - s[runs];
        ++runs;
      }
      if (total <= kMaxBlock || reach == 1) break;
    }
    reach_ = reach;
    if (total > kMaxBlock || total < static_cast<uint32_t>(k_)) return false;
    n_ = total;
    padded_ = (total + 3u) & ~3u;
    bx_.resize(padded_);
    by_.resize(padded_);
    bz_.resize(padded_);
    f2_.resize(padded_);
    sel_.resize(padded_ + 4);
    bindex_.resize(padded_);
    bpos_.resize(padded_);
    uint32_t o = 0;
    for (int r = 0; r < runs; ++r) {
      for (uint32_t p = s[r]; p < e[r]; ++p, ++o) {
        bx_[o] = g_.x[p];
        by_[o] = g_.y[p];
        bz_[o] = g_.z[p];
        bindex_[o] = g_.index[p];
        bpos_[o] = p;
      }
    }
    // Padding: NaN coordinates screen out under any threshold.
    for (; o < padded_; ++o) {
      bx_[o] = by_[o] = bz_[o] = __builtin_nanf("");
      bindex_[o] = 0;
      bpos_[o] = 0;
    }
    return true;
  }

  // The k nearest of sorted point p, which lies in the column of the last successful set_cell:
  // keys[0, k) as candidate_key(d2, original index), sorted, and pos[j] the sorted position of
  // neighbour j. False when the block cannot be trusted for this query (nothing written).
  bool query(uint32_t p, uint64_t* keys, uint32_t* pos) {
    const float qx = g_.x[p], qy = g_.y[p], qz = g_.z[p];
    const uint32_t n = padded_;
    const uint32_t k = static_cast<uint32_t>(k_);
    // A threshold t that at least k candidates pass, with as few extra as a handful of counts
    // find: the previous query's k-th d2 with a margin, then secant steps (in a planar
    // neighbourhood the count grows like t) or doubling.
    float t = threshold_;
    // Screening distances in float (vectorised): within a few ulps of the exact d2. The first
    // count comes with them.
    float* f2 = f2_.data();
    uint32_t first = 0;
    {
      const float* bx = bx_.data();
      const float* by = by_.data();
      const float* bz = bz_.data();
      const float limit = screen(t);
      for (uint32_t b = 0; b < n; ++b) {
        const float dx = bx[b] - qx, dy = by[b] - qy, dz = bz[b] - qz;
        const float d = dx * dx + dy * dy + dz * dz;
        f2[b] = d;
        first += d <= limit ? 1u : 0u;
      }
    }
    float lo = -1.0f;   // largest t seen that fewer than k pass
    float hi = kInfD2;  // smallest t seen that at least k pass, and its count
    uint32_t hi_count = n_;
    for (int step = 0; step < kMaxSteps; ++step) {
      const uint32_t c = step == 0 ? first : count_below(f2, n, screen(t));
      if (c >= k) {
        hi = t;
        hi_count = c;
        if (c <= k + kSlack) break;
        t = t * static_cast<float>(k + kSlack / 2) / static_cast<float>(c);
      } else {
        lo = t;
        t = hi < kInfD2 ? t * static_cast<float>(k + kSlack / 2) / static_cast<float>(c + 1)
                        : (t > 0.0f ? t * 4.0f : kInfD2);
      }
      if (!(t > lo && t < hi)) t = hi < kInfD2 ? lo + 0.5f * (hi - lo) : hi;
      if (!(t > lo && t < hi)) break;  // no float left between them (ties)
    }
    const bool ok = hi_count <= kMaxRanked ? select_ranked(qx, qy, qz, hi, keys, pos)
                                           : select_sorted(qx, qy, qz, hi, keys, pos);
    if (!ok) return false;
    const float kth = float_from_bits(static_cast<uint32_t>(keys[k - 1] >> 32));
    threshold_ = kth * 1.1f;
    return rings_beyond(g_, qx, qy, cx_, cy_, reach_ + 1, boundary_eps(g_, qx, qy), kth);
  }

 private:
  // Candidates screened in beyond the k needed before the threshold is tightened again.
  static constexpr uint32_t kSlack = 4;
  static constexpr int kMaxSteps = 6;
  // Up to this many candidates are ordered by counting (all pairs); more by insertion.
  static constexpr uint32_t kMaxRanked = 96;

  // The screening threshold for exact threshold t: every candidate with exact d2 <= t has a
  // float d2 <= screen(t). The float d2 rounds three times (squares, two sums) against once
  // for the exact one: a relative 2^-20 covers it, and the absolute term underflow.
  static float screen(float t) { return t * (1.0f + 1.0f / 1048576.0f) + 1e-37f; }

  static uint32_t count_below(const float* f2, uint32_t n, float limit) {
    uint32_t c = 0;
    for (uint32_t b = 0; b < n; ++b) c += f2[b] <= limit ? 1u : 0u;
    return c;
  }

  // Exact d2, original index and sorted position of the candidates screened in under t, into
  // sd_/sid_/spos_ (count returned; sd_ followed by 4 NaN).
  uint32_t gather_screened(float qx, float qy, float qz, float t) {
    const float limit = screen(t);
    const float* f2 = f2_.data();
    uint32_t* sel = sel_.data();
    uint32_t c = 0;
    // Compaction without branches.
#if defined(__SSE2__)
    // Four lanes at a time: the mask picks a row of lane numbers, stored whole (sel_ has room
    // for 4 past the end); the count advances by the lanes kept.
    const __m128 lim = _mm_set1_ps(limit);
    for (uint32_t b = 0; b < padded_; b += 4) {
      const int m = _mm_movemask_ps(_mm_cmple_ps(_mm_loadu_ps(f2 + b), lim));
      const __m128i lanes = _mm_load_si128(reinterpret_cast<const __m128i*>(kLanes[m]));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(sel + c),
                       _mm_add_epi32(lanes, _mm_set1_epi32(static_cast<int>(b))));
      c += static_cast<uint32_t>(kLaneCount[m]);
    }
#else
    for (uint32_t b = 0; b < padded_; ++b) {
      sel[c] = b;
      c += f2[b] <= limit ? 1u : 0u;
    }
#endif
    for (uint32_t u = 0; u < c; ++u) {
      const uint32_t b = sel[u];
      sd_[u] = point_d2(bx_[b], by_[b], bz_[b], qx, qy, qz);
      sid_[u] = bindex_[b];
      spos_[u] = bpos_[b];
    }
    for (uint32_t u = c; u < c + 4u; ++u) sd_[u] = __builtin_nanf("");  // rank sweeps read past c
    return c;
  }

  // The k best of the candidates screened in under t (at most kMaxRanked) by counting, for
  // each, the candidates of smaller d2: its place when no d2 ties with it. A tie among the k
  // best (two candidates on one place) goes to select_sorted. False when fewer than k have
  // d2 <= t.
  bool select_ranked(float qx, float qy, float qz, float t, uint64_t* keys, uint32_t* pos) {
    const uint32_t c = gather_screened(qx, qy, qz, t);
    const uint32_t k = static_cast<uint32_t>(k_);
    const uint32_t padded = (c + 3u) & ~3u;
    const float* sd = sd_;
    uint64_t taken = 0;  // places filled, k <= 64
    bool tie = false;
    uint32_t rank[kMaxRanked + 4];
#if defined(__SSE2__)
    // Two candidates per sweep, sharing the loads; a true lane is -1.
    for (uint32_t i = 0; i < c; i += 2) {
      const __m128 d0 = _mm_set1_ps(sd[i]);
      const __m128 d1 = _mm_set1_ps(sd[i + 1]);  // NaN padding past c: ranked, never used
      __m128i a0 = _mm_setzero_si128();
      __m128i a1 = _mm_setzero_si128();
      for (uint32_t j = 0; j < padded; j += 4) {
        const __m128 dj = _mm_load_ps(sd + j);
        a0 = _mm_sub_epi32(a0, _mm_castps_si128(_mm_cmplt_ps(dj, d0)));
        a1 = _mm_sub_epi32(a1, _mm_castps_si128(_mm_cmplt_ps(dj, d1)));
      }
      // Horizontal sums of both at once: lanes (a0 lo, a1 lo, a0 hi, a1 hi) pairwise.
      const __m128i lo = _mm_unpacklo_epi32(a0, a1);
      const __m128i hi = _mm_unpackhi_epi32(a0, a1);
      const __m128i sum = _mm_add_epi32(lo, hi);  // (a0 01, a1 01, a0 23, a1 23)
      const __m128i both = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4E));
      rank[i] = static_cast<uint32_t>(_mm_cvtsi128_si32(both));
      rank[i + 1] = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_shuffle_epi32(both, 0x55)));
    }
#else
    for (uint32_t i = 0; i < c; ++i) {
      uint32_t r = 0;
      for (uint32_t j = 0; j < padded; ++j) r += sd[j] < sd[i] ? 1u : 0u;
      rank[i] = r;
    }
#endif
    for (uint32_t i = 0; i < c; ++i) {
      const uint32_t r = rank[i];
      if (r < k) {
        const uint64_t bit = uint64_t{1} << r;
        tie |= (taken & bit) != 0;
        taken |= bit;
        keys[r] = candidate_key(sd[i], sid_[i]);
        pos[r] = spos_[i];
      }
    }
    if (tie || c < k) return select_sorted_screened(c, t, keys, pos);
    return float_from_bits(static_cast<uint32_t>(keys[k - 1] >> 32)) <= t;
  }

  // The same by insertion into a sorted buffer of k, for many candidates or ties.
  bool select_sorted(float qx, float qy, float qz, float t, uint64_t* keys, uint32_t* pos) {
    return select_sorted_screened(gather_screened(qx, qy, qz, t), t, keys, pos);
  }

  bool select_sorted_screened(uint32_t c, float t, uint64_t* keys, uint32_t* pos) {
    const int k = k_;
    // sk[-1] is a sentinel below every key: one compare per step of the inner loop.
    uint64_t* sk = sorted_keys_ + 1;
    uint32_t* sp = sorted_pos_ + 1;
    int have = 0;
    for (uint32_t u = 0; u < c; ++u) {
      if (!(sd_[u] <= t)) continue;
      const uint64_t key = candidate_key(sd_[u], sid_[u]);
      int j;
      if (have == k) {
        if (key >= sk[k - 1]) continue;
        j = k - 1;
      } else {
        j = have++;
      }
      for (; key < sk[j - 1]; --j) {
        sk[j] = sk[j - 1];
        sp[j] = sp[j - 1];
      }
      sk[j] = key;
      sp[j] = spos_[u];
    }
    if (have < k) return false;
    for (int j = 0; j < k; ++j) {
      keys[j] = sk[j];
      pos[j] = sp[j];
    }
    return true;
  }

#if defined(__SSE2__)
  // Lane numbers of the set bits of a 4-bit mask, in order, and their count.
  alignas(16) static constexpr uint32_t kLanes[16][4] = {
      {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
      {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
      {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3}};
  static constexpr uint8_t kLaneCount[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
#endif

  const GridView& g_;
  int k_;
  int cx_ = 0, cy_ = 0, reach_ = 1;
  uint32_t n_ = 0, padded_ = 0;
  float threshold_ = kInfD2;
  std::vector<float> bx_, by_, bz_, f2_;
  std::vector<uint32_t> bindex_, bpos_, sel_;
  // The screened candidates (at most a block).
  alignas(16) float sd_[kMaxBlock + 4];
  uint32_t sid_[kMaxBlock + 4];
  uint32_t spos_[kMaxBlock + 4];
  uint64_t sorted_keys_[kCapacityClasses[1] + 1] = {};  // [0]: the sentinel, 0
  uint32_t sorted_pos_[kCapacityClasses[1] + 1] = {};
};

}  // namespace lidarhd::detail
