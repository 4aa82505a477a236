// Binning and sampling logic shared by patches_cpu.cpp and patches_cuda.cu (architecture.md
// conventions 1 and 2): per-point functions are LIDARHD_HD, the passes are parallel_for bodies,
// and the only device-specific piece is the exclusive scan each back end passes in.
//
// Binning is a stable counting sort written once: the points are split into `chunks` contiguous
// ranges; pass 1 counts, per (cell, chunk), the points of the chunk in the cell; an exclusive
// scan of those counts laid out cell-major gives every (cell, chunk) its first slot; pass 2
// writes the point indices there. Every cell's list therefore comes out in point-index order on
// any device and with any chunk count, so CPU and CUDA produce the same bytes.
//
// Sampling draws come from counter-based hashes (splitmix64 finaliser) keyed by
// (seed, gx, gy, augmentation, purpose); random sampling without replacement is a seeded
// Feistel permutation of the cell's list (cycle-walking to the list's length), so every output
// slot is computed independently, in parallel, with integers only.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/device_buffer.hpp"
#include "core/parallel_for.hpp"
#include "core/rounded_math.hpp"
#include "lidarhd/core/hd.hpp"

namespace lidarhd::patches::detail {

// ---- hashing ---------------------------------------------------------------------------------

LIDARHD_HD inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// What a random stream is for: one stream per (cell, augmentation, purpose).
enum Purpose : uint64_t {
  kPurposePermute = 1,    // random sampling: the permutation of the cell's points
  kPurposeExtra = 2,      // draws with replacement when the cell has too few points
  kPurposeFpsStart = 3,   // the first point of farthest-point sampling
  kPurposeVoxel = 4,      // which point represents its voxel
  kPurposeTransform = 5,  // augmentation: angle and scale of a copy
  kPurposeJitter = 6,
  kPurposeDropout = 7,
};

inline uint64_t stream_key(uint64_t seed, int64_t gx, int64_t gy, int augmentation,
                           uint64_t purpose) {
  uint64_t k = mix64(seed ^ 0x6C69646172686470ull);  // "lidarhdp"
  k = mix64(k ^ static_cast<uint64_t>(gx));
  k = mix64(k ^ static_cast<uint64_t>(gy));
  k = mix64(k ^ static_cast<uint64_t>(augmentation));
  return mix64(k ^ purpose);
}

// The counter-th 64-bit draw of a stream.
LIDARHD_HD inline uint64_t draw(uint64_t key, uint64_t counter) {
  return mix64(key ^ mix64(counter));
}

// A draw mapped to [0, m), m <= 2^32 (multiply-shift on the draw's top 32 bits).
LIDARHD_HD inline uint64_t draw_below(uint64_t key, uint64_t counter, uint64_t m) {
  return ((draw(key, counter) >> 32) * m) >> 32;
}

// A draw in [0, 1) with 53 random bits (exact in double on every device).
LIDARHD_HD inline double draw_unit(uint64_t key, uint64_t counter) {
  return static_cast<double>(draw(key, counter) >> 11) * (1.0 / 9007199254740992.0);
}

// Feistel network over `bits` bits (a bijection for any key): the halves may differ by one bit,
// so the domain is the smallest power of two >= m and cycle-walking needs < 2 steps on average.
LIDARHD_HD inline uint64_t feistel(uint64_t v, int bits, uint64_t key) {
  int lb = bits - bits / 2, rb = bits / 2;  // widths of the left and right parts
  uint64_t l = v >> rb, r = v & ((uint64_t{1} << rb) - 1);
  for (uint64_t round = 0; round < 4; ++round) {
    // (l, r) -> (r, l ^ F(r)): the widths swap each round and are back after four.
    const uint64_t f = mix64(r ^ (key + round * 0xD1B54A32D192ED03ull)) & ((uint64_t{1} << lb) - 1);
    const uint64_t next = l ^ f;
    l = r;
    r = next;
    const int w = lb;
    lb = rb;
    rb = w;
  }
  return (l << rb) | r;
}

// Bit width of the permutation domain for m >= 1 items: smallest power of two >= m, at least 2.
LIDARHD_HD inline int feistel_bits(uint64_t m) {
  int bits = 1;
  while ((uint64_t{1} << bits) < m) ++bits;
  return bits;
}

// Position j (< m) of a seeded permutation of [0, m). Cycle-walking keeps the bijection on
// [0, m): the cycle through j contains j itself, so the walk ends.
LIDARHD_HD inline uint64_t permute(uint64_t j, uint64_t m, int bits, uint64_t key) {
  uint64_t v = j;
  do {
    v = feistel(v, bits, key);
  } while (v >= m);
  return v;
}

// Exact float arithmetic (no contraction into FMA on the GPU): core/rounded_math.hpp.
using lidarhd::detail::add_rn;
using lidarhd::detail::mul_rn;

// ---- the grid --------------------------------------------------------------------------------

struct CellGrid {
  double stride = 1, size = 1;
  double inv_stride = 1;     // 1 / stride: estimates only, membership is decided exactly
  int64_t gx0 = 0, gy0 = 0;  // first cell of the window
  int64_t ncx = 0, ncy = 0;  // cells across and down
};

// Beyond this magnitude a coordinate is ignored (cell indices would overflow int64 arithmetic).
constexpr double kMaxCoordinate = 1e15;

LIDARHD_HD inline double cell_lo(int64_t g, double stride) {
  return mul_rn(static_cast<double>(g), stride);
}
LIDARHD_HD inline double cell_hi(int64_t g, double stride, double size) {
  return add_rn(cell_lo(g, stride), size);
}

struct AxisRange {
  int64_t first = 1, last = 0;  // empty when first > last
};

// The cells g along one axis with cell_lo(g) <= v < cell_hi(g): an interval, since both bounds
// grow with g. Membership is decided by that exact test, so every point of a cell's list passes
// the same test a user would apply to Patch::bounds.
LIDARHD_HD inline AxisRange axis_cells(double v, double stride, double inv_stride, double size) {
  AxisRange r;
  if (!(v > -kMaxCoordinate && v < kMaxCoordinate)) return r;  // NaN, inf, absurd values
  // An estimate (the exact tests below correct it): truncation, then floor for negatives.
  const double q = v * inv_stride;
  int64_t last = static_cast<int64_t>(q);
  if (static_cast<double>(last) > q) --last;
  while (cell_lo(last + 1, stride) <= v) ++last;  // undo rounding of the division
  while (cell_lo(last, stride) > v) --last;
  if (!(v < cell_hi(last, stride, size))) return r;
  int64_t first = last;
  while (v < cell_hi(first - 1, stride, size)) --first;
  r.first = first;
  r.last = last;
  return r;
}

// Calls f(cell id) for every cell of the window containing (x, y); cell id = row-major in the
// window, so ascending ids are (gy, gx) order.
template <class F>
LIDARHD_HD void for_point_cells(const CellGrid& g, double x, double y, const F& f) {
  const AxisRange ax = axis_cells(x, g.stride, g.inv_stride, g.size);
  if (ax.first > ax.last) return;
  const AxisRange ay = axis_cells(y, g.stride, g.inv_stride, g.size);
  // The window covers every point by construction; clamping keeps a miscount impossible.
  const int64_t x0 = ax.first > g.gx0 ? ax.first : g.gx0;
  const int64_t x1 = ax.last < g.gx0 + g.ncx - 1 ? ax.last : g.gx0 + g.ncx - 1;
  const int64_t y0 = ay.first > g.gy0 ? ay.first : g.gy0;
  const int64_t y1 = ay.last < g.gy0 + g.ncy - 1 ? ay.last : g.gy0 + g.ncy - 1;
  for (int64_t gy = y0; gy <= y1; ++gy) {
    for (int64_t gx = x0; gx <= x1; ++gx) {
      f((gy - g.gy0) * g.ncx + (gx - g.gx0));
    }
  }
}

// ---- binning ---------------------------------------------------------------------------------

struct Binned {
  lidarhd::detail::DeviceBuffer<uint64_t> cell_start;  // cells + 1 entries
  lidarhd::detail::DeviceBuffer<uint32_t> members;     // point indices, cell by cell
};

// `scan(data, count)` replaces data with its exclusive prefix sum and returns the total.
// x and y live on `device`; chunks >= 1.
template <class Scan>
Binned bin_points(const Device& device, const double* x, const double* y, int64_t n,
                  const CellGrid& grid, int64_t chunks, const Scan& scan) {
  using lidarhd::detail::DeviceBuffer;
  using lidarhd::detail::parallel_for;
  const int64_t cells = grid.ncx * grid.ncy;
  const int64_t chunk = (n + chunks - 1) / chunks;
  DeviceBuffer<uint64_t> slot(static_cast<size_t>(cells * chunks), device);
  slot.fill(0);
  uint64_t* s = slot.data();
  const CellGrid g = grid;
  parallel_for(device, chunks, [=] LIDARHD_HD(int64_t t) {
    const int64_t end = (t + 1) * chunk < n ? (t + 1) * chunk : n;
    for (int64_t i = t * chunk; i < end; ++i) {
      for_point_cells(g, x[i], y[i], [&](int64_t c) { ++s[c * chunks + t]; });
    }
  });
  const uint64_t total = scan(s, static_cast<size_t>(cells * chunks));

  Binned out;
  out.cell_start = DeviceBuffer<uint64_t>(static_cast<size_t>(cells + 1), device);
  out.members = DeviceBuffer<uint32_t>(static_cast<size_t>(total), device);
  uint64_t* start = out.cell_start.data();
  parallel_for(device, cells + 1,
               [=] LIDARHD_HD(int64_t c) { start[c] = c < cells ? s[c * chunks] : total; });
  uint32_t* members = out.members.data();
  parallel_for(device, chunks, [=] LIDARHD_HD(int64_t t) {
    const int64_t end = (t + 1) * chunk < n ? (t + 1) * chunk : n;
    for (int64_t i = t * chunk; i < end; ++i) {
      for_point_cells(g, x[i], y[i],
                      [&](int64_t c) { members[s[c * chunks + t]++] = static_cast<uint32_t>(i); });
    }
  });
  return out;
}

// ---- sampling --------------------------------------------------------------------------------

// One patch to sample: `count` candidates at list[start, start + count).
struct Job {
  uint64_t start = 0;
  uint64_t count = 0;
  uint64_t permute_key = 0;
  uint64_t extra_key = 0;
};

// Slot j of a patch sampled at random from m >= 1 candidates: a permutation of the candidates
// while j < m, then uniform draws with replacement.
LIDARHD_HD inline uint64_t random_slot(uint64_t j, uint64_t m, uint64_t permute_key,
                                       uint64_t extra_key) {
  if (j < m) return permute(j, m, feistel_bits(m), permute_key);
  return draw_below(extra_key, j - m, m);
}

// out[job * n_out + j] = list[start + slot] for every job and slot. A template on the back end
// (its Scan type) so that the CPU and CUDA translation units instantiate distinct functions: a
// plain inline function would be compiled differently by g++ and nvcc under one name.
template <class Backend>
void sample_random(const Device& device, const Job* jobs, int64_t n_jobs, const uint32_t* list,
                   uint32_t n_out, uint32_t* out) {
  const int64_t per = n_out;
  lidarhd::detail::parallel_for(device, n_jobs * per, [=] LIDARHD_HD(int64_t k) {
    const Job job = jobs[k / per];
    const uint64_t j = static_cast<uint64_t>(k % per);
    out[k] = list[job.start + random_slot(j, job.count, job.permute_key, job.extra_key)];
  });
}

// ---- voxel sampling --------------------------------------------------------------------------

constexpr uint64_t kEmptySlot = ~uint64_t{0};

LIDARHD_HD inline uint64_t atomic_cas_u64(uint64_t* p, uint64_t expected, uint64_t desired) {
#if defined(__CUDA_ARCH__)
  return atomicCAS(reinterpret_cast<unsigned long long*>(p), expected, desired);
#else
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
#endif
}

LIDARHD_HD inline uint64_t atomic_load_u64(const uint64_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const volatile uint64_t*>(p);
#else
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#endif
}

LIDARHD_HD inline void atomic_min_u64(uint64_t* p, uint64_t v) {
  // Most points lose to the one already there: a read first saves the atomic.
  if (v >= atomic_load_u64(p)) return;
#if defined(__CUDA_ARCH__)
  atomicMin(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
#else
  uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < cur &&
         !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
#endif
}

struct VoxelGrid {
  double voxel = 0.5;     // divided by, not multiplied by an inverse: exact on every device
  double x0 = 0, y0 = 0;  // the square's lower-left corner
};

// Voxel of a point as 63 bits: 21 bits each for x and y relative to the square's corner, 21 bits
// of absolute z (offset by 2^20, clamped: z beyond +-2^20 voxels shares the last layer).
LIDARHD_HD inline uint64_t voxel_key(const VoxelGrid& v, double x, double y, double z) {
  const double fx = std::floor((x - v.x0) / v.voxel);
  const double fy = std::floor((y - v.y0) / v.voxel);
  double fz = std::floor(z / v.voxel) + 1048576.0;
  fz = fz < 0 ? 0 : (fz > 2097151.0 ? 2097151.0 : fz);
  const auto ix = static_cast<uint64_t>(fx < 0 ? 0 : (fx > 2097151.0 ? 2097151.0 : fx));
  const auto iy = static_cast<uint64_t>(fy < 0 ? 0 : (fy > 2097151.0 ? 2097151.0 : fy));
  return (ix << 42) | (iy << 21) | static_cast<uint64_t>(fz);
}

// The hash table: slot k holds (voxel key, best rank) at table[2k], table[2k + 1], so that an
// insertion touches one cache line. Finds the slot of `key`, inserting it if new; the
// capacity is a power of two larger than the number of keys, so a free slot always exists. A
// slot goes from empty to its key once; a stale empty read is settled by the CAS.
LIDARHD_HD inline uint64_t voxel_slot(uint64_t* table, uint64_t mask, uint64_t key) {
  uint64_t at = mix64(key) & mask;
  for (;;) {
    uint64_t seen = atomic_load_u64(&table[2 * at]);
    if (seen == kEmptySlot) {
      seen = atomic_cas_u64(&table[2 * at], kEmptySlot, key);
      if (seen == kEmptySlot) return at;
    }
    if (seen == key) return at;
    at = (at + 1) & mask;
  }
}

// Writes to reps[0, V) one point per voxel of list[0, m) (that with the smallest
// (draw, point index)), in point-index order, and returns V.
template <class Scan>
uint64_t voxel_representatives(const Device& device, const double* x, const double* y,
                               const double* z, const uint32_t* list, uint64_t m,
                               const VoxelGrid& grid, uint64_t key, uint32_t* reps,
                               const Scan& scan) {
  using lidarhd::detail::DeviceBuffer;
  using lidarhd::detail::parallel_for;
  uint64_t capacity = 2;
  while (capacity < 2 * m) capacity *= 2;
  const uint64_t mask = capacity - 1;
  DeviceBuffer<uint64_t> table(2 * capacity, device), flags(m, device), slots(m, device);
  table.fill(kEmptySlot);
  uint64_t* t = table.data();
  uint64_t* f = flags.data();
  uint64_t* at_of = slots.data();  // each point's slot, so the second pass gathers no coordinates
  const VoxelGrid v = grid;
  const auto count = static_cast<int64_t>(m);
  // A point's rank: its draw's top 32 bits, then its index (unique, so the minimum is one point).
  parallel_for(device, count, [=] LIDARHD_HD(int64_t p) {
    const uint32_t i = list[p];
    const uint64_t at = voxel_slot(t, mask, voxel_key(v, x[i], y[i], z[i]));
    atomic_min_u64(&t[2 * at + 1], ((draw(key, i) >> 32) << 32) | i);
    at_of[p] = at;
  });
  parallel_for(device, count, [=] LIDARHD_HD(int64_t p) {
    const uint32_t i = list[p];
    f[p] = static_cast<uint32_t>(t[2 * at_of[p] + 1]) == i ? 1 : 0;
  });
  // The flag of the last point is needed after the scan overwrote it.
  const uint64_t total = scan(f, m);
  parallel_for(device, count, [=] LIDARHD_HD(int64_t p) {
    const uint64_t next = p + 1 < count ? f[p + 1] : total;
    if (next != f[p]) reps[f[p]] = list[p];
  });
  return total;
}

}  // namespace lidarhd::patches::detail
