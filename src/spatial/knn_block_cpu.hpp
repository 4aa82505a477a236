// k nearest neighbours (or those within a radius) of the cloud's own points on the CPU, a
// column at a time (CPU only; the CUDA kernels query point by point with grid_search, and so
// does this for the points it cannot settle).
//
// The queries of one column share their candidates: the points of the (2 reach + 1)^2 columns
// around it (reach 1 to 3, from the previous query's k-th distance), which are contiguous runs
// of the sorted points (columns are row-major). They are copied once per column into a small
// structure of arrays. Tall blocks (vegetation, walls: a z extent of many k-th distances) are
// copied ordered by z slabs instead, and each query screens only the slabs near its own z (a
// window that holds every candidate of d2 <= 4x the expected k-th d2; the whole block when the
// k-th d2 turns out larger). Each query then
//   1. computes a screening d2 of every candidate in float, vectorised, and counts those under
//      a threshold guessed from the previous query, refined by a few counts until k to k + 4
//      pass (the branchy insertion of a per-point search was its main cost: mispredictions);
//   2. compacts the screened candidates without branches and computes their exact d2 with
//      point_d2, the formula shared with grid_search and the GPU;
//   3. orders them by counting, for each, the candidates of smaller exact d2 (all pairs, four
//      lanes at a time), ties in d2 going to an insertion sort by (d2, original index);
//   4. when the k-th d2 reaches past the block, scans the columns beyond it that may hold
//      nearer points, as grid_search scans its outer rings (tall and sparse neighbourhoods:
//      this used to send 13 % of a real tile's queries back to grid_search).
//
// Exactness: every candidate whose exact d2 is <= the threshold t is screened in (the float d2
// is within a few ulps of the exact one, and screen() widens t by more; a candidate outside
// the z window has axis_d2(dz) > t, and its d2 is at least that). When at least k screened
// candidates have exact d2 <= t, the k best of the block all do, so they are the k best of the
// screened ones. Points outside the block are skipped only when their column, or their z, puts
// their computed d2 strictly above the current k-th d2 (rings_beyond and the z windows of
// grid_search's own scan). The result is the k smallest (d2, original index) keys of the
// cloud: the same bits as grid_search's on every point. The rare query the block cannot settle
// (fewer than k candidates under the threshold found) falls back to grid_search.
//
// Radius mode (set_radius) answers radius_query instead: the threshold is r^2 itself, no
// refinement; the k best of those within it (fewer when fewer are), the rings beyond the block
// scanned up to r, or to the k-th d2 once k are found, as grid_search does.
//
// Steps 1 to 3 have AVX-512 and AVX2 versions (knn_block_avx512.hpp, knn_block_avx2.hpp), used
// where the CPU has them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/simd.hpp"
#include "spatial/grid_impl.hpp"
#include "spatial/knn_block_avx2.hpp"
#include "spatial/knn_block_avx512.hpp"

namespace lidarhd::detail {

class KnnBlockSearch {
 public:
  // Blocks with more candidates than this go point by point, unless they are tall (below).
  static constexpr uint32_t kMaxBlock = 512;
  // Tall blocks (vegetation, walls: a z extent of many neighbourhood radii) are ordered by z
  // slabs, and each query screens only the slabs near its z: up to this many candidates.
  static constexpr uint32_t kMaxTallBlock = 4096;
  static constexpr int kMaxReach = 3;

  // `level`: the loops to run (simd_level(): the widest this CPU has); the same results.
  KnnBlockSearch(const GridView& g, int k, SimdLevel level = simd_level())
      : g_(g), k_(k), level_(supported(level)), lanes_(lanes_of(level_)) {}

  // Radius mode: query_radius finds the k best points with d2 <= r2 (radius_query's answer,
  // r2 the radius squared in float) instead of the k nearest.
  void set_radius(float r2) {
    within_ = true;
    threshold_ = r2;
  }

  // Copies the block of column `cell` ((2 reach + 1)^2 columns, clamped to the grid); false
  // when the column's queries should go point by point.
  bool set_cell(uint32_t cell) {
    cx_ = static_cast<int>(cell % static_cast<uint32_t>(g_.nx));
    cy_ = static_cast<int>(cell / static_cast<uint32_t>(g_.nx));
    // Rings of columns around the block's centre: enough to hold the previous query's k-th
    // distance (a neighbouring point's) from anywhere in the column.
    int reach = 1;
    const float radius = threshold_ < kInfD2 ? __builtin_sqrtf(threshold_) : kInfD2;
    if (threshold_ < kInfD2) {
      const float r = radius * g_.inv_cell;
      reach = r <= 1.0f ? 1 : (r <= 2.0f ? 2 : kMaxReach);
    }
    uint32_t total = 0;
    uint32_t s[2 * kMaxReach + 1], e[2 * kMaxReach + 1];
    int runs = 0;
    tall_ = false;
    float zmin = 0.0f, zmax = 0.0f;
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
      // Tall: worth slabs when the block's z extent is many radii (and the radius is usable).
      if (total >= kMinTall && total <= kMaxTallBlock && radius > 0.0f && radius < kInfD2) {
        z_extent(i0, i1, j0, j1, zmin, zmax);
        tall_ = zmax - zmin > kTallRadii * radius;
      }
      if (total <= kMaxBlock || tall_ || reach == 1) break;
    }
    reach_ = reach;
    if ((total > kMaxBlock && !tall_) || (!within_ && total < static_cast<uint32_t>(k_))) {
      return false;
    }
    n_ = total;
    padded_ = (total + lanes_ - 1u) & ~(lanes_ - 1u);
    for (auto* v : {&bx_, &by_, &bz_, &f2_}) v->resize(padded_ + 4);
    for (auto* v : {&bindex_, &bpos_}) v->resize(padded_ + 4);
    // The screened candidates: room for a vector store past the last.
    for (auto* v : {&sel_, &sid_, &spos_}) v->resize(padded_ + 16);
    sd_.resize(padded_ + 16);
    if (level_ == SimdLevel::kAvx2) xyz_.resize(3 * (padded_ + 16));
    if (tall_) {
      gather_slabs(s, e, runs, zmin, zmax, radius);
    } else {
      uint32_t o = 0;
      for (int r = 0; r < runs; ++r) {  // contiguous runs: plain copies
        const uint32_t len = e[r] - s[r];
        std::copy(g_.x + s[r], g_.x + e[r], bx_.data() + o);
        std::copy(g_.y + s[r], g_.y + e[r], by_.data() + o);
        std::copy(g_.z + s[r], g_.z + e[r], bz_.data() + o);
        std::copy(g_.index + s[r], g_.index + e[r], bindex_.data() + o);
        for (uint32_t u = 0; u < len; ++u) bpos_[o + u] = s[r] + u;
        o += len;
      }
    }
    for (uint32_t o = n_; o < padded_; ++o) {  // NaN screens out under any threshold
      bx_[o] = by_[o] = bz_[o] = __builtin_nanf("");
      bindex_[o] = bpos_[o] = 0;
    }
    return true;
  }

  // Whether the last set_cell ordered its block by z slabs (tests).
  bool tall() const { return tall_; }

  // The k nearest of sorted point p, which lies in the column of the last successful set_cell:
  // keys[0, k) as candidate_key(d2, original index), sorted, and pos[j] the sorted position of
  // neighbour j. False when the block cannot be trusted for this query (keys and pos then
  // hold nothing of use).
  bool query(uint32_t p, uint64_t* keys, uint32_t* pos) {
    const float qx = g_.x[p], qy = g_.y[p], qz = g_.z[p];
    lo_ = 0;
    end_ = padded_;
    float hi;
    uint32_t hi_count;
    if (tall_) {
      // The slabs that hold every candidate with d2 <= tw (a generous window around the
      // expected k-th d2); when the k-th d2 turns out larger, the whole block.
      const float tw = threshold_ * kWindowGrowth;
      if (window(qz, tw)) {
        hi = find_threshold(qx, qy, qz, threshold_, hi_count);
        if (hi <= tw) return finish(qx, qy, qz, hi, hi_count, keys, pos);
        lo_ = 0;
        end_ = padded_;
      }
      hi = find_threshold(qx, qy, qz, tw, hi_count);
    } else {
      hi = find_threshold(qx, qy, qz, threshold_, hi_count);
    }
    return finish(qx, qy, qz, hi, hi_count, keys, pos);
  }

  // Radius mode (set_radius): the k best points with d2 <= r2 of sorted point p, which lies in
  // the column of the last successful set_cell: keys[0, count) as candidate_key(d2, original
  // index), sorted, and pos their sorted positions. Returns count (>= 1: the point itself),
  // or 0 when the block cannot be trusted for this query.
  int query_radius(uint32_t p, uint64_t* keys, uint32_t* pos) {
    const float qx = g_.x[p], qy = g_.y[p], qz = g_.z[p];
    const float t = threshold_;
    lo_ = 0;
    end_ = padded_;
    if (tall_) window(qz, t);  // narrows to the slabs within reach of r when it can
    const uint32_t screened = screen_window(qx, qy, qz, screen(t));
    int have = screened <= knn_avx512::kMaxSelected
                   ? select_wide(screen(t), t, qx, qy, qz, true, keys, pos)
                   : -1;
    if (have < 0) have = sorted_within(gather_screened(qx, qy, qz, t), t, keys, pos);
    if (have == 0) return 0;
    // Until k are found the bound is r2 itself, then the k-th d2.
    float bound = have == k_ ? float_from_bits(static_cast<uint32_t>(keys[k_ - 1] >> 32)) : t;
    scan_rings(qx, qy, qz, keys, pos, have, bound);
    return have;
  }

 private:
  // Blocks of fewer candidates are never tall; a block is tall when its z extent exceeds this
  // many expected neighbourhood radii (the previous k-th distance).
  static constexpr uint32_t kMinTall = 128;
  static constexpr float kTallRadii = 8.0f;
  // Slab height in expected radii, and the most slabs a block is cut into.
  static constexpr float kSlabRadii = 0.5f;
  static constexpr int kMaxSlabs = 64;
  // A tall query's window holds every candidate with d2 <= this times the expected k-th d2.
  static constexpr float kWindowGrowth = 4.0f;

  void put(uint32_t o, uint32_t p) {
    bx_[o] = g_.x[p];
    by_[o] = g_.y[p];
    bz_[o] = g_.z[p];
    bindex_[o] = g_.index[p];
    bpos_[o] = p;
  }

  // z range of the non-empty columns [i0, i1] x [j0, j1] (each sorted by z: its ends).
  void z_extent(int i0, int i1, int j0, int j1, float& zmin, float& zmax) const {
    zmin = kInfD2;
    zmax = -kInfD2;
    for (int j = j0; j <= j1; ++j) {
      const uint32_t* start = g_.cell_start + static_cast<size_t>(j) * static_cast<size_t>(g_.nx);
      for (int i = i0; i <= i1; ++i) {
        const uint32_t a = start[i], b = start[i + 1];
        if (a == b) continue;
        zmin = g_.z[a] < zmin ? g_.z[a] : zmin;
        zmax = g_.z[b - 1] > zmax ? g_.z[b - 1] : zmax;
      }
    }
  }

  // Slab of z: non-decreasing in z (each step rounds monotonically), so a point whose slab is
  // below slab(zl) lies below zl, and one above slab(zh) above zh.
  int slab(float z) const {
    const float t = (z - slab_z0_) * slab_inv_;
    if (!(t >= 0.0f)) return 0;  // NaN too
    if (t >= static_cast<float>(slabs_ - 1)) return slabs_ - 1;
    return static_cast<int>(t);
  }

  // Copies the block's runs ordered by slab (a counting sort; in a slab, block order).
  void gather_slabs(const uint32_t* s, const uint32_t* e, int runs, float zmin, float zmax,
                    float radius) {
    slab_z0_ = zmin;
    slab_inv_ = 1.0f / (radius * kSlabRadii);
    const float span = (zmax - zmin) * slab_inv_;
    slabs_ = span < static_cast<float>(kMaxSlabs - 1) ? static_cast<int>(span) + 1 : kMaxSlabs;
    uint32_t at[kMaxSlabs + 1] = {};
    for (int r = 0; r < runs; ++r) {
      for (uint32_t p = s[r]; p < e[r]; ++p) ++at[slab(g_.z[p]) + 1];
    }
    for (int b = 0; b < slabs_; ++b) {
      at[b + 1] += at[b];
      slab_start_[b] = at[b];
    }
    slab_start_[slabs_] = n_;
    for (int r = 0; r < runs; ++r) {
      for (uint32_t p = s[r]; p < e[r]; ++p) put(at[slab(g_.z[p])]++, p);
    }
  }

  // Restricts the screen to [lo_, end_): the slabs that hold every candidate whose z alone
  // puts it within d2 <= tw of the query (a point's d2 is at least axis_d2 of its dz, and
  // axis_d2 grows with |dz|, which float differences keep monotone). False when no such
  // bounds were found (NaN).
  bool window(float qz, float tw) {
    float w = __builtin_sqrtf(tw) * (1.0f + 1.0f / 1024.0f);
    for (int tries = 0; tries < 8; ++tries, w *= 2.0f) {
      const float zl = qz - w, zh = qz + w;
      const float dl = zl - qz, dh = zh - qz;
      if (!(dl < 0.0f && axis_d2(dl) > tw && dh > 0.0f && axis_d2(dh) > tw)) continue;
      lo_ = slab_start_[slab(zl)] & ~(lanes_ - 1u);
      const uint32_t end = (slab_start_[slab(zh) + 1] + lanes_ - 1u) & ~(lanes_ - 1u);
      end_ = end < padded_ ? end : padded_;
      return true;
    }
    return false;
  }

  // Screening distances of the window [lo_, end_) in float (vectorised) into f2_: within a few
  // ulps of the exact d2. Returns how many are <= limit.
  uint32_t screen_window(float qx, float qy, float qz, float limit) {
    float* f2 = f2_.data();
#if defined(LIDARHD_KNN_AVX512)
    if (level_ == SimdLevel::kAvx512) {
      return knn_avx512::screen(bx_.data(), by_.data(), bz_.data(), f2, lo_, end_, qx, qy, qz,
                                limit);
    }
    if (level_ == SimdLevel::kAvx2) {
      return knn_avx2::screen(bx_.data(), by_.data(), bz_.data(), f2, lo_, end_, qx, qy, qz, limit);
    }
#endif
    const float* bx = bx_.data();
    const float* by = by_.data();
    const float* bz = bz_.data();
    uint32_t count = 0;
    for (uint32_t b = lo_; b < end_; ++b) {
      const float dx = bx[b] - qx, dy = by[b] - qy, dz = bz[b] - qz;
      const float d = dx * dx + dy * dy + dz * dz;
      f2[b] = d;
      count += d <= limit ? 1u : 0u;
    }
    return count;
  }

  // Screens the window [lo_, end_) and returns a threshold t (with hi_count candidates under
  // it) that at least k pass, with as few extra as a handful of counts find: t0 (the previous
  // query's k-th d2 with a margin), then secant steps (in a planar neighbourhood the count
  // grows like t) or doubling; +inf (every candidate) when none was found.
  float find_threshold(float qx, float qy, float qz, float t, uint32_t& hi_count) {
    const uint32_t k = static_cast<uint32_t>(k_);
    const float* f2 = f2_.data();
    const uint32_t first = screen_window(qx, qy, qz, screen(t));
    float lo = -1.0f;   // largest t seen that fewer than k pass
    float hi = kInfD2;  // smallest t seen that at least k pass, and its count
    hi_count = end_ - lo_;
    for (int step = 0; step < kMaxSteps; ++step) {
      const uint32_t c = step == 0 ? first : count_below(f2, screen(t));
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
    return hi;
  }

  // The k best of the window under hi, and whether they are the k nearest of the cloud.
  bool finish(float qx, float qy, float qz, float hi, uint32_t hi_count, uint64_t* keys,
              uint32_t* pos) {
    const uint32_t k = static_cast<uint32_t>(k_);
    // k / 0: the AVX-512 selection's answer; -1: the portable loops'
    int selected = hi_count <= knn_avx512::kMaxSelected
                       ? select_wide(screen(hi), hi, qx, qy, qz, false, keys, pos)
                       : -1;
    if (selected < 0) {
      selected = (hi_count <= kMaxRanked
                      ? select_ranked(qx, qy, qz, hi, keys, pos)
                      : select_sorted_screened(gather_screened(qx, qy, qz, hi), hi, keys, pos))
                     ? 1
                     : 0;
    }
    if (selected == 0) return false;
    float kth = float_from_bits(static_cast<uint32_t>(keys[k - 1] >> 32));
    int have = k_;
    scan_rings(qx, qy, qz, keys, pos, have, kth);
    threshold_ = kth * 1.1f;
    return true;
  }

  // The columns beyond the block that may hold points within `bound` (the k-th d2 once the
  // `have` best number k, else the radius) offered to the best (keys, pos), as grid_search
  // scans its outer rings.
  void scan_rings(float qx, float qy, float qz, uint64_t* keys, uint32_t* pos, int& have,
                  float& bound) const {
    const float eps = boundary_eps(g_, qx, qy);
    for (int m = reach_ + 1; !rings_beyond(g_, qx, qy, cx_, cy_, m, eps, bound); ++m) {
      for_ring(g_, cx_, cy_, m, [&](int i, int j) {
        const double gx = reduced_gap(interval_gap(qx, i, g_.nx, g_.min_x, g_.cell), eps);
        const double gy = reduced_gap(interval_gap(qy, j, g_.ny, g_.min_y, g_.cell), eps);
        if (beyond(gx * gx + gy * gy, bound)) return;
        const uint32_t cell =
            static_cast<uint32_t>(j) * static_cast<uint32_t>(g_.nx) + static_cast<uint32_t>(i);
        scan_outside(g_.cell_start[cell], g_.cell_start[cell + 1], qx, qy, qz, keys, pos, have,
                     bound);
      });
    }
  }

  // Offers the points of column [s, e) (sorted by z) within d2 <= bound to the `have` best
  // (keys, pos; at most k), and once they number k lowers bound to the k-th d2: scan_column
  // with sorted positions. Points skipped have a computed d2 above bound.
  void scan_outside(uint32_t s, uint32_t e, float qx, float qy, float qz, uint64_t* keys,
                    uint32_t* pos, int& have, float& bound) const {
    const int k = k_;
    uint32_t lo = s, hi = e;
    while (lo < hi) {  // first point not below the window
      const uint32_t mid = lo + (hi - lo) / 2;
      const bool below = g_.z[mid] < qz && axis_d2(g_.z[mid] - qz) > bound;
      lo = below ? mid + 1 : lo;
      hi = below ? hi : mid;
    }
    for (uint32_t p = lo; p < e; ++p) {
      const float dz = g_.z[p] - qz;
      if (dz > 0.0f && axis_d2(dz) > bound) break;  // and so is every point above it
      const float d = point_d2(g_.x[p], g_.y[p], g_.z[p], qx, qy, qz);
      if (!(d <= bound)) continue;
      const uint64_t key = candidate_key(d, g_.index[p]);
      int j;
      if (have == k) {
        if (key >= keys[k - 1]) continue;
        j = k - 1;
      } else {
        j = have++;
      }
      for (; j > 0 && key < keys[j - 1]; --j) {
        keys[j] = keys[j - 1];
        pos[j] = pos[j - 1];
      }
      keys[j] = key;
      pos[j] = p;
      if (have == k) bound = float_from_bits(static_cast<uint32_t>(keys[k - 1] >> 32));
    }
  }

  // The level asked for, or the portable loops where this build has no vector ones.
  static SimdLevel supported(SimdLevel level) {
#if defined(LIDARHD_KNN_AVX512)
    return level;
#else
    (void)level;
    return SimdLevel::kGeneric;
#endif
  }
  static uint32_t lanes_of(SimdLevel level) {
    return level == SimdLevel::kAvx512 ? 16u : (level == SimdLevel::kAvx2 ? 8u : 4u);
  }

  // The AVX-512 selection (knn_avx512::select) of the window's candidates screened in under
  // `limit`; -1 without it.
  int select_wide(float limit, float t, float qx, float qy, float qz, bool within, uint64_t* keys,
                  uint32_t* pos) {
#if defined(LIDARHD_KNN_AVX512)
    if (level_ == SimdLevel::kAvx512) {
      return knn_avx512::select(f2_.data(), bx_.data(), by_.data(), bz_.data(), bindex_.data(),
                                bpos_.data(), lo_, end_, limit, t, qx, qy, qz, k_, within,
                                selected_, keys, pos);
    }
#else
    (void)limit, (void)t, (void)qx, (void)qy, (void)qz, (void)within, (void)keys, (void)pos;
#endif
    return -1;
  }

  // Candidates screened in beyond the k needed before the threshold is tightened again.
  static constexpr uint32_t kSlack = 4;
  static constexpr int kMaxSteps = 6;
  // Up to this many candidates are ordered by counting (all pairs); more by insertion.
  static constexpr uint32_t kMaxRanked = 96;

  // The screening threshold for exact threshold t: every candidate with exact d2 <= t has a
  // float d2 <= screen(t). The float d2 rounds three times (squares, two sums) against once
  // for the exact one: a relative 2^-20 covers it, and the absolute term underflow.
  static float screen(float t) { return t * (1.0f + 1.0f / 1048576.0f) + 1e-37f; }

  uint32_t count_below(const float* f2, float limit) const {
#if defined(LIDARHD_KNN_AVX512)
    if (level_ == SimdLevel::kAvx512) return knn_avx512::count_below(f2, lo_, end_, limit);
    if (level_ == SimdLevel::kAvx2) return knn_avx2::count_below(f2, lo_, end_, limit);
#endif
    uint32_t c = 0;
    for (uint32_t b = lo_; b < end_; ++b) c += f2[b] <= limit ? 1u : 0u;
    return c;
  }

  // Exact d2, original index and sorted position of the candidates of the window screened in
  // under t, into sd_/sid_/spos_ (count returned; sd_ followed by 4 NaN, 8 with AVX2).
  uint32_t gather_screened(float qx, float qy, float qz, float t) {
    const float limit = screen(t);
#if defined(LIDARHD_KNN_AVX512)
    if (level_ == SimdLevel::kAvx2) {
      return knn_avx2::gather(f2_.data(), bx_.data(), by_.data(), bz_.data(), bindex_.data(),
                              bpos_.data(), lo_, end_, limit, qx, qy, qz, xyz_.data(),
                              sd_.data(), sid_.data(), spos_.data());
    }
#endif
    const float* f2 = f2_.data();
    uint32_t* sel = sel_.data();
    uint32_t c = 0;
    // Compaction without branches.
#if defined(__SSE2__)
    // Four lanes at a time: the mask picks a row of lane numbers, stored whole (sel_ has room
    // for 4 past the end); the count advances by the lanes kept.
    const __m128 lim = _mm_set1_ps(limit);
    for (uint32_t b = lo_; b < end_; b += 4) {
      const int m = _mm_movemask_ps(_mm_cmple_ps(_mm_loadu_ps(f2 + b), lim));
      const __m128i lanes = _mm_load_si128(reinterpret_cast<const __m128i*>(kLanes[m]));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(sel + c),
                       _mm_add_epi32(lanes, _mm_set1_epi32(static_cast<int>(b))));
      c += static_cast<uint32_t>(kLaneCount[m]);
    }
#else
    for (uint32_t b = lo_; b < end_; ++b) {
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

  // rank[i] = how many of the c screened candidates have a d2 below sd_[i] (NaN never is).
  void rank_screened(uint32_t c, uint32_t* rank) const {
    const float* sd = sd_.data();
#if defined(LIDARHD_KNN_AVX512)
    if (level_ == SimdLevel::kAvx2) {
      knn_avx2::rank(sd, c, rank);
      return;
    }
#endif
    const uint32_t padded = (c + 3u) & ~3u;
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
  }

  // The k best of the candidates screened in under t (at most kMaxRanked) by counting, for
  // each, the candidates of smaller d2: its place when no d2 ties with it. A tie among the k
  // best (two candidates on one place) goes to select_sorted. False when fewer than k have
  // d2 <= t.
  bool select_ranked(float qx, float qy, float qz, float t, uint64_t* keys, uint32_t* pos) {
    const uint32_t c = gather_screened(qx, qy, qz, t);
    const uint32_t k = static_cast<uint32_t>(k_);
    const float* sd = sd_.data();
    uint64_t taken = 0;  // places filled, k <= 64
    bool tie = false;
    uint32_t rank[kMaxRanked + 4];
    rank_screened(c, rank);
    // Without branches (whether a candidate is among the k best is unpredictable): places
    // past k go to a spare slot.
    uint64_t placed_keys[kMaxRanked + 1];
    uint32_t placed_pos[kMaxRanked + 1];
    for (uint32_t i = 0; i < c; ++i) {
      const uint32_t r = rank[i] < k ? rank[i] : k;
      const uint64_t bit = (uint64_t{1} << (r & 63u)) & (r < k ? ~uint64_t{0} : uint64_t{0});
      tie |= (taken & bit) != 0;
      taken |= bit;
      placed_keys[r] = candidate_key(sd[i], sid_[i]);
      placed_pos[r] = spos_[i];
    }
    if (tie || c < k) return select_sorted_screened(c, t, keys, pos);
    for (uint32_t r = 0; r < k; ++r) {
      keys[r] = placed_keys[r];
      pos[r] = placed_pos[r];
    }
    return float_from_bits(static_cast<uint32_t>(keys[k - 1] >> 32)) <= t;
  }

  // The same by insertion into a sorted buffer of k, for many candidates or ties.
  bool select_sorted_screened(uint32_t c, float t, uint64_t* keys, uint32_t* pos) {
    return sorted_within(c, t, keys, pos) == k_;
  }

  // The best (at most k) of the c screened candidates with d2 <= t into keys and pos, by
  // insertion; returns their count.
  int sorted_within(uint32_t c, float t, uint64_t* keys, uint32_t* pos) {
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
    for (int j = 0; j < have; ++j) {
      keys[j] = sk[j];
      pos[j] = sp[j];
    }
    return have;
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
  SimdLevel level_;
  uint32_t lanes_;  // blocks and windows are padded to multiples of this
  int cx_ = 0, cy_ = 0, reach_ = 1;
  uint32_t n_ = 0, padded_ = 0;
  uint32_t lo_ = 0, end_ = 0;  // the window of the current query, multiples of lanes_
  float threshold_ = kInfD2;   // k-NN: the previous k-th d2 with a margin; radius: r2
  bool within_ = false;        // radius mode
  bool tall_ = false;
  // Slabs of a tall block: slab b holds block entries [slab_start_[b], slab_start_[b + 1]).
  int slabs_ = 1;
  float slab_z0_ = 0.0f, slab_inv_ = 1.0f;
  uint32_t slab_start_[kMaxSlabs + 1] = {};
  std::vector<float> bx_, by_, bz_, f2_;
  std::vector<uint32_t> bindex_, bpos_, sel_;
  // The screened candidates (at most a block; sd_ is 16-byte aligned, as operator new is).
  std::vector<float> sd_;
  std::vector<uint32_t> sid_, spos_;
  std::vector<float> xyz_;  // AVX2 compaction scratch
  uint64_t sorted_keys_[kCapacityClasses[1] + 1] = {};  // [0]: the sentinel, 0
  uint32_t sorted_pos_[kCapacityClasses[1] + 1] = {};
  knn_avx512::Selected selected_;
};

}  // namespace lidarhd::detail
