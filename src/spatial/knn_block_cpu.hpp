// k nearest neighbours of the cloud's own points on the CPU, a column at a time (CPU only; the
// CUDA kernels query point by point with grid_search).
//
// The queries of one column share their candidates: the points of the 3 x 3 columns around it,
// which are three contiguous runs of the sorted points (columns are row-major). They are copied
// once per column into a small structure of arrays; each query then computes every candidate's
// d2 in a loop free of branches (point_d2, the shared formula), keeps those at or below a
// threshold guessed from the previous query (retrying with a larger one when fewer than k
// pass), and sorts the survivors by (d2, original index) into a buffer of k.
//
// Exactness: the result is the k best of the block. It is the answer when every point outside
// the block, that is in a column at Chebyshev distance >= 2, has a computed d2 strictly above
// the k-th d2 (rings_beyond, the test grid_search itself stops on); otherwise (sparse or tall
// neighbourhoods, fewer than k points in the block) the query falls back to grid_search.
// Threshold guesses only decide which candidates are sorted: the k best always pass one (at
// least k candidates pass it, so the k-th best is at or below it). Results are therefore the
// same bits as grid_search's on every point.
#pragma once

#include <cstdint>
#include <vector>

#include "spatial/grid_impl.hpp"

namespace lidarhd::detail {

class KnnBlockSearch {
 public:
  // Blocks with more candidates than this per query go point by point: tall columns (walls,
  // trees) make a whole block slower than grid_search's z windows.
  static constexpr uint32_t kMaxBlock = 512;

  KnnBlockSearch(const GridView& g, int k) : g_(g), k_(k) {}

  // Copies the block of column `cell` (3 x 3 columns, clamped to the grid); false when the
  // column's queries should go point by point.
  bool set_cell(uint32_t cell) {
    cx_ = static_cast<int>(cell % static_cast<uint32_t>(g_.nx));
    cy_ = static_cast<int>(cell / static_cast<uint32_t>(g_.nx));
    const int i0 = cx_ > 0 ? cx_ - 1 : 0;
    const int i1 = cx_ + 1 < g_.nx ? cx_ + 1 : g_.nx - 1;
    const int j0 = cy_ > 0 ? cy_ - 1 : 0;
    const int j1 = cy_ + 1 < g_.ny ? cy_ + 1 : g_.ny - 1;
    uint32_t total = 0;
    uint32_t s[3], e[3];
    int runs = 0;
    for (int j = j0; j <= j1; ++j) {
      const uint32_t row = static_cast<uint32_t>(j) * static_cast<uint32_t>(g_.nx);
      s[runs] = g_.cell_start[row + static_cast<uint32_t>(i0)];
      e[runs] = g_.cell_start[row + static_cast<uint32_t>(i1) + 1];
      total += e[runs] - s[runs];
      ++runs;
    }
    if (total > kMaxBlock || total < static_cast<uint32_t>(k_)) return false;
    n_ = total;
    padded_ = (total + 3u) & ~3u;
    bx_.resize(padded_);
    by_.resize(padded_);
    bz_.resize(padded_);
    f2_.resize(padded_);
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
    const int k = k_;
    // Screening distances in float, 4 lanes at a time: within a few ulps of the exact d2.
    float* f2 = f2_.data();
    {
      const float* bx = bx_.data();
      const float* by = by_.data();
      const float* bz = bz_.data();
      for (uint32_t b = 0; b < n; ++b) {
        const float dx = bx[b] - qx, dy = by[b] - qy, dz = bz[b] - qz;
        f2[b] = dx * dx + dy * dy + dz * dz;
      }
    }
    float t = threshold_;
    for (int attempt = 0;; ++attempt) {
      if (attempt >= 2) t = kInfD2;  // the whole block: n >= k candidates pass
      uint32_t c = count_below(f2, n, screen(t));
      // Planar neighbourhoods: the count grows like the threshold; aim just above k.
      if (c > static_cast<uint32_t>(k) + kSlack && t < kInfD2) {
        const float tighter = t * static_cast<float>(k + kSlack / 2) / static_cast<float>(c);
        const uint32_t c2 = count_below(f2, n, screen(tighter));
        if (c2 >= static_cast<uint32_t>(k)) {
          t = tighter;
          c = c2;
        }
      }
      if (c >= static_cast<uint32_t>(k) && select(qx, qy, qz, f2, t, keys, pos)) break;
      t = t > 0.0f && t < 1e30f ? t * 4.0f : kInfD2;
    }
    const float kth = float_from_bits(static_cast<uint32_t>(keys[k - 1] >> 32));
    threshold_ = kth * 1.25f;
    return rings_beyond(g_, qx, qy, cx_, cy_, 2, boundary_eps(g_, qx, qy), kth);
  }

 private:
  // Candidates screened in beyond the k needed (a tighter threshold is tried above k + kSlack).
  static constexpr uint32_t kSlack = 8;

  // The screening threshold for exact threshold t: every candidate with exact d2 <= t has a
  // float d2 <= screen(t). The float d2 rounds three times (squares, two sums) against once
  // for the exact one: a relative 2^-20 covers it, and the absolute term underflow.
  static float screen(float t) { return t * (1.0f + 1.0f / 1048576.0f) + 1e-37f; }

  static uint32_t count_below(const float* f2, uint32_t n, float limit) {
    uint32_t c = 0;
    for (uint32_t b = 0; b < n; ++b) c += f2[b] <= limit ? 1u : 0u;
    return c;
  }

  // Sorts the candidates of exact d2 <= t into keys/pos; false when fewer than k qualify. The
  // k best of the block are among them when at least k do.
  bool select(float qx, float qy, float qz, const float* f2, float t, uint64_t* keys,
              uint32_t* pos) {
    const float limit = screen(t);
    const uint32_t n = padded_;
    const int k = k_;
    // Insertion into sorted local arrays; sk[0] is a sentinel below every key, which keeps the
    // inner loop to one compare. Keys and positions move in separate arrays: a mixed-size
    // struct would defeat store-to-load forwarding on every shift.
    uint64_t* sk = sorted_keys_ + 1;
    uint32_t* sp = sorted_pos_ + 1;
    int have = 0;
    for (uint32_t b = 0; b < n; ++b) {
      if (!(f2[b] <= limit)) continue;
      const float d = point_d2(bx_[b], by_[b], bz_[b], qx, qy, qz);
      if (!(d <= t)) continue;
      const uint64_t key = candidate_key(d, bindex_[b]);
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
      sp[j] = bpos_[b];
    }
    if (have < k) return false;
    for (int j = 0; j < k; ++j) {
      keys[j] = sk[j];
      pos[j] = sp[j];
    }
    return true;
  }

  const GridView& g_;
  int k_;
  int cx_ = 0, cy_ = 0;
  uint32_t n_ = 0, padded_ = 0;
  float threshold_ = kInfD2;
  std::vector<float> bx_, by_, bz_, f2_;
  std::vector<uint32_t> bindex_, bpos_;
  uint64_t sorted_keys_[kCapacityClasses[1] + 1] = {};  // [0]: the sentinel, 0
  uint32_t sorted_pos_[kCapacityClasses[1] + 1] = {};
};

}  // namespace lidarhd::detail
