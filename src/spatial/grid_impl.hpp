// Exact neighbour search on a column grid, shared by grid_cpu.cpp and grid_cuda.cu
// (architecture.md convention 1). The feature kernels call knn_query / radius_query /
// hybrid_query from their own fused per-point loops, on either device.
//
// Layout: airborne clouds are 2.5-D, so the grid is 2-D (nz == 1): square columns of side
// `cell`, row-major (cell = iy * nx + ix), and inside a column the points sorted by
// (z, original index). A query scans its own column (outwards in z when it is tall), then
// rings of columns in order of Chebyshev distance (the inner rings nearest column first; a z
// window binary-searched in tall columns), and stops once the next ring lies beyond the
// current k-th distance. Candidates are packed (d2 bits, index) keys in a small local buffer
// kept sorted by insertion; the hot path is tuned on airborne clouds (bench_neighbors).
//
// Exactness and CPU/GPU identity: a distance is computed as float differences, then squared
// and summed in double and rounded once to float. A float squared is exact in double, so a
// compiler fusing the sums into FMAs (nvcc does, g++ may with -march) cannot change the
// result: every device gets the same bits. Candidates are ordered by (d2, original index).
// Pruning only ever skips points whose computed d2 is strictly larger than the current
// k-th d2, so ties at the k-th distance are resolved by index exactly as a full sort would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/device_buffer.hpp"
#include "lidarhd/core/hd.hpp"

namespace lidarhd::detail {

// POD view of a built grid; the pointers live on the index's device.
struct GridView {
  const float* x;
  const float* y;
  const float* z;             // points sorted by (cell, z, original index)
  const uint32_t* index;      // original index of each sorted point
  const uint32_t* cell_start; // nx * ny * nz + 1 entries
  int nx, ny, nz;             // nz is always 1 (column grid)
  float cell;                 // column side, metres
  float inv_cell;             // 1 / cell, the factor every cell computation uses
  float min_x, min_y, min_z;  // grid origin (the cloud's minimum corner)
  uint32_t n;
};

constexpr uint32_t kNoNeighbor = 0xFFFFFFFFu;
constexpr float kInfD2 = __builtin_huge_valf();

// Squared distance between two points, identical on every device (see the header comment).
LIDARHD_HD inline float point_d2(float px, float py, float pz, float qx, float qy, float qz) {
  const double dx = static_cast<double>(px - qx);
  const double dy = static_cast<double>(py - qy);
  const double dz = static_cast<double>(pz - qz);
  return static_cast<float>(dx * dx + dy * dy + dz * dz);
}

// The d2 of any point whose z differs from qz by the float difference `dz` is at least this.
LIDARHD_HD inline float axis_d2(float dz) {
  const double d = static_cast<double>(dz);
  return static_cast<float>(d * d);
}

// Column of a coordinate, clamped into [0, count); NaN and -inf go to 0.
LIDARHD_HD inline int grid_coord(float v, float origin, float inv_cell, int count) {
  const float t = (v - origin) * inv_cell;
  if (!(t >= 0.0f)) return 0;
  if (t >= static_cast<float>(count)) return count - 1;
  const int c = static_cast<int>(t);
  return c < count ? c : count - 1;
}

// Monotone uint32 image of a float (total order; -0 sorts before +0). Used for the build sort
// so that CPU and GPU arrange points identically.
LIDARHD_HD inline uint32_t float_order_bits(float v) {
#if defined(__CUDA_ARCH__)
  const uint32_t b = __float_as_uint(v);
#else
  uint32_t b;
  static_assert(sizeof(b) == sizeof(v), "float is 32-bit");
  std::memcpy(&b, &v, sizeof(b));
#endif
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

LIDARHD_HD inline float float_from_bits(uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(b);
#else
  float v;
  std::memcpy(&v, &b, sizeof(v));
  return v;
#endif
}

LIDARHD_HD inline uint32_t float_bits(float v) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(v);
#else
  uint32_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
#endif
}

// A candidate as one integer: d2's bits (a non-negative float orders like its bits) above the
// original index, so that one compare orders by (d2, index).
LIDARHD_HD inline uint64_t candidate_key(float d2, uint32_t index) {
  return (static_cast<uint64_t>(float_bits(d2)) << 32) | index;
}

// The `cap` best candidates so far, sorted, in a buffer of the caller (local memory).
struct Candidates {
  uint64_t* keys;
  int count;
  int cap;
  float limit;  // radius: accept d2 <= limit; knn: +inf
  // A point with computed d2 > bound can never enter: the radius limit while filling, then
  // the current worst d2 (a point with d2 == bound may still win on its index).
  float bound;

  LIDARHD_HD void offer(float d, uint32_t i) {
    const uint64_t key = candidate_key(d, i);
    int j = count;
    if (count == cap) {
      if (key >= keys[cap - 1]) return;
      j = cap - 1;
    } else if (!(d <= limit)) {
      return;
    } else {
      ++count;
    }
    for (; j > 0 && key < keys[j - 1]; --j) keys[j] = keys[j - 1];
    keys[j] = key;
    if (count == cap) bound = float_from_bits(static_cast<uint32_t>(keys[cap - 1] >> 32));
  }
};

// True when every point at float gap >= `gap` (already reduced by the rounding margin) from
// the query has a computed d2 strictly above `bound`. The relative slack covers the float
// rounding of the differences and of the final d2.
LIDARHD_HD inline bool beyond(double gap2, float bound) {
  return gap2 * (1.0 - 1.0 / 1048576.0) > static_cast<double>(bound);
}

LIDARHD_HD inline float reduced_gap(float gap, float eps) {
  const float g = gap - eps;
  return g > 0.0f ? g : 0.0f;
}

constexpr uint32_t kShortColumn = 24;

// Scans column [s, e) (sorted by z) for points within the current bound.
LIDARHD_HD inline void scan_column(const GridView& g, uint32_t s, uint32_t e, float qx, float qy,
                                   float qz, Candidates& c) {
  // Short columns are scanned whole: cheaper than the mispredicted branches of a z window.
  if (e - s <= kShortColumn) {
    // Distances first, in a loop free of branches, then the (unpredictable) filter.
    float dd[kShortColumn];
    const uint32_t len = e - s;
    for (uint32_t t = 0; t < len; ++t) {
      dd[t] = point_d2(g.x[s + t], g.y[s + t], g.z[s + t], qx, qy, qz);
    }
    for (uint32_t t = 0; t < len; ++t) {
      if (dd[t] <= c.bound) c.offer(dd[t], g.index[s + t]);  // most points fail here, cheaply
    }
    return;
  }
  // First point not below the window: points below have dz < 0 and axis_d2(dz) > bound.
  uint32_t lo = s, hi = e;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    const float zm = g.z[mid];
    if (zm < qz && axis_d2(zm - qz) > c.bound) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (uint32_t p = lo; p < e; ++p) {
    const float dz = g.z[p] - qz;
    if (dz > 0.0f && axis_d2(dz) > c.bound) break;  // and so is every point above it
    const float d = point_d2(g.x[p], g.y[p], g.z[p], qx, qy, qz);
    if (d <= c.bound) c.offer(d, g.index[p]);
  }
}

// The query's own column, nearest z first, so that the bound tightens before the rings.
LIDARHD_HD inline void scan_own_column(const GridView& g, uint32_t s, uint32_t e, float qx,
                                       float qy, float qz, Candidates& c) {
  if (e - s <= kShortColumn) {
    scan_column(g, s, e, qx, qy, qz, c);
    return;
  }
  uint32_t lo = s, hi = e;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (g.z[mid] < qz) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  uint32_t up = lo;  // next candidate above (z >= qz)
  uint32_t dn = lo;  // one past the next candidate below
  bool up_open = up < e;
  bool dn_open = dn > s;
  while (up_open || dn_open) {
    bool take_up = up_open;
    if (up_open && dn_open) take_up = (g.z[up] - qz) <= (qz - g.z[dn - 1]);
    const uint32_t p = take_up ? up : dn - 1;
    if (axis_d2(g.z[p] - qz) > c.bound) {
      // This side is exhausted; the other side may still hold points.
      if (take_up) {
        up_open = false;
      } else {
        dn_open = false;
      }
      continue;
    }
    const float d = point_d2(g.x[p], g.y[p], g.z[p], qx, qy, qz);
    if (d <= c.bound) c.offer(d, g.index[p]);
    if (take_up) {
      ++up;
      up_open = up < e;
    } else {
      --dn;
      dn_open = dn > s;
    }
  }
}

// Distance from v to the interval of column `i` (open towards the outside at the grid edges,
// where clamping puts the points that rounding pushed out).
LIDARHD_HD inline float interval_gap(float v, int i, int count, float origin, float cell) {
  const float lo = origin + static_cast<float>(i) * cell;
  const float hi = origin + static_cast<float>(i + 1) * cell;
  if (i > 0 && v < lo) return lo - v;
  if (i < count - 1 && v > hi) return v - hi;
  return 0.0f;
}

// Calls f(i, j) for every in-grid column at Chebyshev distance m (>= 1) from (cx, cy).
template <class F>
LIDARHD_HD inline void for_ring(const GridView& g, int cx, int cy, int m, F&& f) {
  const int i0 = cx - m < 0 ? 0 : cx - m;
  const int i1 = cx + m >= g.nx ? g.nx - 1 : cx + m;
  if (cy - m >= 0) {
    for (int i = i0; i <= i1; ++i) f(i, cy - m);
  }
  if (cy + m < g.ny) {
    for (int i = i0; i <= i1; ++i) f(i, cy + m);
  }
  const int j0 = cy - m + 1 < 0 ? 0 : cy - m + 1;
  const int j1 = cy + m - 1 >= g.ny ? g.ny - 1 : cy + m - 1;
  for (int j = j0; j <= j1; ++j) {
    if (cx - m >= 0) f(cx - m, j);
    if (cx + m < g.nx) f(cx + m, j);
  }
}

// Margin for cell boundaries computed in float: a few ulps of the largest coordinate.
LIDARHD_HD inline float boundary_eps(const GridView& g, float qx, float qy) {
  const float ax = (qx < 0.0f ? -qx : qx) + (g.min_x < 0.0f ? -g.min_x : g.min_x);
  const float ay = (qy < 0.0f ? -qy : qy) + (g.min_y < 0.0f ? -g.min_y : g.min_y);
  const float span = static_cast<float>(g.nx > g.ny ? g.nx : g.ny) * g.cell;
  return (ax + ay + span + g.cell) * (1.0f / 1048576.0f);
}

// True when every point in a column at Chebyshev distance >= m (>= 1) from the query's column
// (cx, cy) has a computed d2 strictly above `bound`, or when there is no such column. Each
// in-grid column of ring m lies beyond one of the four sides that are inside the grid, and the
// outer rings beyond it.
LIDARHD_HD inline bool rings_beyond(const GridView& g, float qx, float qy, int cx, int cy, int m,
                                    float eps, float bound) {
  bool any = false;
  float lb = kInfD2;
  if (cx - m >= 0) {
    any = true;
    const float side = qx - (g.min_x + static_cast<float>(cx - m + 1) * g.cell);
    lb = side < lb ? side : lb;
  }
  if (cx + m < g.nx) {
    any = true;
    const float side = (g.min_x + static_cast<float>(cx + m) * g.cell) - qx;
    lb = side < lb ? side : lb;
  }
  if (cy - m >= 0) {
    any = true;
    const float side = qy - (g.min_y + static_cast<float>(cy - m + 1) * g.cell);
    lb = side < lb ? side : lb;
  }
  if (cy + m < g.ny) {
    any = true;
    const float side = (g.min_y + static_cast<float>(cy + m) * g.cell) - qy;
    lb = side < lb ? side : lb;
  }
  if (!any) return true;  // rings 0..m-1 cover the whole grid
  const double lbr = reduced_gap(lb, eps);
  return beyond(lbr * lbr, bound);
}

// Rings up to this one are visited nearest column first (8 m columns each).
constexpr int kSortedRings = 2;

struct RingCell {
  double gap2;
  uint32_t cell;
};

// Core search: fills keys[0, count) with the `cap` best points of d2 <= limit as
// candidate_key(d2, index), sorted, and returns count.
LIDARHD_HD inline int grid_search(const GridView& g, float qx, float qy, float qz, int cap,
                                  float limit, uint64_t* keys) {
  if (cap <= 0 || g.n == 0) return 0;
  Candidates c{keys, 0, cap, limit, limit};
  const int cx = grid_coord(qx, g.min_x, g.inv_cell, g.nx);
  const int cy = grid_coord(qy, g.min_y, g.inv_cell, g.ny);
  const float eps = boundary_eps(g, qx, qy);

  {
    const uint32_t cell = static_cast<uint32_t>(cy) * static_cast<uint32_t>(g.nx) +
                          static_cast<uint32_t>(cx);
    scan_own_column(g, g.cell_start[cell], g.cell_start[cell + 1], qx, qy, qz, c);
  }

  for (int m = 1;; ++m) {
    if (rings_beyond(g, qx, qy, cx, cy, m, eps, c.bound)) break;

    if (m <= kSortedRings) {
      // Inner rings nearest column first: the bound tightens sooner and later columns of the
      // ring are skipped outright.
      RingCell ring[8 * kSortedRings] = {};
      int count = 0;
      for_ring(g, cx, cy, m, [&](int i, int j) {
        const double gx = reduced_gap(interval_gap(qx, i, g.nx, g.min_x, g.cell), eps);
        const double gy = reduced_gap(interval_gap(qy, j, g.ny, g.min_y, g.cell), eps);
        const double g2 = gx * gx + gy * gy;
        if (beyond(g2, c.bound)) return;
        int at = count++;
        for (; at > 0 && ring[at - 1].gap2 > g2; --at) ring[at] = ring[at - 1];
        ring[at] = RingCell{g2, static_cast<uint32_t>(j) * static_cast<uint32_t>(g.nx) +
                                    static_cast<uint32_t>(i)};
      });
      for (int r = 0; r < count && !beyond(ring[r].gap2, c.bound); ++r) {
        const uint32_t s = g.cell_start[ring[r].cell];
        const uint32_t e = g.cell_start[ring[r].cell + 1];
        if (s != e) scan_column(g, s, e, qx, qy, qz, c);
      }
    } else {
      for_ring(g, cx, cy, m, [&](int i, int j) {
        const double gx = reduced_gap(interval_gap(qx, i, g.nx, g.min_x, g.cell), eps);
        const double gy = reduced_gap(interval_gap(qy, j, g.ny, g.min_y, g.cell), eps);
        if (beyond(gx * gx + gy * gy, c.bound)) return;
        const uint32_t cell = static_cast<uint32_t>(j) * static_cast<uint32_t>(g.nx) +
                              static_cast<uint32_t>(i);
        const uint32_t s = g.cell_start[cell];
        const uint32_t e = g.cell_start[cell + 1];
        if (s != e) scan_column(g, s, e, qx, qy, qz, c);
      });
    }
  }
  return c.count;
}

LIDARHD_HD inline void unpack_candidates(const uint64_t* keys, int count, uint32_t* idx,
                                         float* d2) {
  for (int j = 0; j < count; ++j) {
    idx[j] = static_cast<uint32_t>(keys[j]);
    d2[j] = float_from_bits(static_cast<uint32_t>(keys[j] >> 32));
  }
}

// The queries below keep their candidates in a local buffer of kCap entries (8 bytes each):
// k and max_k are clamped to it.

// The k nearest points of (qx, qy, qz), including the query point itself when it is in the
// cloud; exact; sorted by (d2, original index). Returns the count, below k only when the cloud
// has fewer than k points.
template <int kCap = 64>
LIDARHD_HD inline int knn_query(const GridView& g, float qx, float qy, float qz, int k,
                                uint32_t* idx, float* d2) {
  uint64_t keys[kCap];
  const int count = grid_search(g, qx, qy, qz, k < kCap ? k : kCap, kInfD2, keys);
  unpack_candidates(keys, count, idx, d2);
  return count;
}

// Points with d2 <= r * r (r * r rounded to float), nearest first; at most max_k are kept (the
// nearest, ties by index).
template <int kCap = 64>
LIDARHD_HD inline int radius_query(const GridView& g, float qx, float qy, float qz, float r,
                                   int max_k, uint32_t* idx, float* d2) {
  if (!(r >= 0.0f)) return 0;
  uint64_t keys[kCap];
  const int count = grid_search(g, qx, qy, qz, max_k < kCap ? max_k : kCap, r * r, keys);
  unpack_candidates(keys, count, idx, d2);
  return count;
}

// The k nearest points within radius r.
template <int kCap = 64>
LIDARHD_HD inline int hybrid_query(const GridView& g, float qx, float qy, float qz, int k,
                                   float r, uint32_t* idx, float* d2) {
  return radius_query<kCap>(g, qx, qy, qz, r, k, idx, d2);
}

// Grid geometry, chosen on the host from the cloud (same on every device).
struct GridGeometry {
  int nx = 1, ny = 1;
  float cell = 1.0f;
  float inv_cell = 1.0f;
  float min_x = 0.0f, min_y = 0.0f, min_z = 0.0f;
};

// A built grid: the sorted columns on one device, and the view over them.
struct GridStorage {
  DeviceBuffer<float> x, y, z;
  DeviceBuffer<uint32_t> index;
  DeviceBuffer<uint32_t> cell_start;
  GridView view{};
};

// Batch query parameters: the cloud's own points (q* null) or m external points, on the device
// that runs the batch.
struct QueryBatch {
  const float* qx = nullptr;
  const float* qy = nullptr;
  const float* qz = nullptr;
  size_t m = 0;
  int cap = 0;
  float limit = kInfD2;
};

// Writes one output row: the candidates, then padding up to `cap`.
LIDARHD_HD inline void write_row(const uint64_t* keys, int count, size_t cap, uint32_t* idx,
                                 float* d2) {
  unpack_candidates(keys, count, idx, d2);
  for (size_t j = static_cast<size_t>(count); j < cap; ++j) {
    idx[j] = kNoNeighbor;
    d2[j] = kInfD2;
  }
}

// Query t of a batch, written to its output row (own points: the row of the point's original
// index; they are visited in grid order, so consecutive queries share columns). Rows are `cap`
// (<= kCap) wide, padded with kNoNeighbor and +inf.
template <int kCap>
LIDARHD_HD inline void query_one(const GridView& g, const QueryBatch& q, int64_t t, uint32_t* idx,
                                 float* d2, uint32_t* counts) {
  const bool own = q.qx == nullptr;
  const size_t cap = static_cast<size_t>(q.cap);
  const size_t row = own ? g.index[t] : static_cast<size_t>(t);
  const float qx = own ? g.x[t] : q.qx[t];
  const float qy = own ? g.y[t] : q.qy[t];
  const float qz = own ? g.z[t] : q.qz[t];
  uint32_t* ri = idx + row * cap;
  float* rd = d2 + row * cap;
  // The candidates are reshuffled locally; the output row (usually a cache miss) is written once.
  uint64_t keys[kCap];
  const int count = grid_search(g, qx, qy, qz, q.cap, q.limit, keys);
  write_row(keys, count, cap, ri, rd);
  if (counts) counts[row] = static_cast<uint32_t>(count);
}

// Local candidate buffers come in a few sizes (a CUDA thread's local frame is sized for the
// largest buffer its kernel may use); a batch runs with the smallest that holds its cap.
constexpr int kCapacityClasses[] = {32, 64, 256, 1024};

// Back ends. Inputs and outputs are host memory; rows are `cap` wide, padded with kNoNeighbor
// and +inf; `counts` (m entries) may be null.
void build_grid_cpu(const float* x, const float* y, const float* z, size_t n,
                    const GridGeometry& geo, GridStorage& out);
void query_cpu(const GridView& g, const QueryBatch& q, uint32_t* idx, float* d2,
               uint32_t* counts);
#if LIDARHD_WITH_CUDA
void build_grid_cuda(const float* x, const float* y, const float* z, size_t n,
                     const GridGeometry& geo, int device_index, GridStorage& out);
void query_cuda(const GridView& g, const QueryBatch& q, int device_index, uint32_t* idx,
                float* d2, uint32_t* counts);
#endif

}  // namespace lidarhd::detail
