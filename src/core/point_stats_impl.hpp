// Per-point logic of compute_point_stats, shared by point_stats_cpu.cpp and point_stats_cuda.cu
// (architecture.md convention 1). The `Ops` parameter says how a slot is updated: plainly when
// one thread owns the accumulator, atomically when threads share it (CUDA shared or global
// memory). Every operation is an exact integer min, max or sum, so the result does not depend
// on the order of updates: CPU and GPU agree bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lidarhd/core/hd.hpp"
#include "lidarhd/core/point_stats.hpp"

namespace lidarhd::detail {

constexpr int kClassCount = 256;
constexpr int32_t kInt32Max = 2147483647;
constexpr int32_t kInt32Min = -kInt32Max - 1;

struct Bounds3 {
  int32_t min[3];
  int32_t max[3];
};

// unsigned long long rather than uint64_t: it is the type CUDA's 64-bit atomicAdd takes.
struct StatsAccumulator {
  Bounds3 bounds;
  unsigned long long counts[kClassCount];
};

struct PlainOps {
  LIDARHD_HD static void min(int32_t* slot, int32_t v) {
    if (v < *slot) *slot = v;
  }
  LIDARHD_HD static void max(int32_t* slot, int32_t v) {
    if (v > *slot) *slot = v;
  }
  LIDARHD_HD static void add(unsigned long long* slot, unsigned long long v) { *slot += v; }
};

LIDARHD_HD inline void bounds_reset(Bounds3& b) {
  for (int k = 0; k < 3; ++k) {
    b.min[k] = kInt32Max;
    b.max[k] = kInt32Min;
  }
}

LIDARHD_HD inline void accumulator_reset(StatsAccumulator& a) {
  bounds_reset(a.bounds);
  for (int c = 0; c < kClassCount; ++c) a.counts[c] = 0;
}

template <class Ops>
LIDARHD_HD inline void bounds_add(Bounds3& b, int32_t x, int32_t y, int32_t z) {
  Ops::min(&b.min[0], x);
  Ops::min(&b.min[1], y);
  Ops::min(&b.min[2], z);
  Ops::max(&b.max[0], x);
  Ops::max(&b.max[1], y);
  Ops::max(&b.max[2], z);
}

template <class Ops>
LIDARHD_HD inline void bounds_merge(Bounds3& dst, const Bounds3& src) {
  for (int k = 0; k < 3; ++k) {
    Ops::min(&dst.min[k], src.min[k]);
    Ops::max(&dst.max[k], src.max[k]);
  }
}

// One point: bounds go to an accumulator of `BoundsOps`, its class to a count table of
// `CountOps` (on CUDA the bounds stay in registers while the counts are shared by the block).
template <class BoundsOps, class CountOps>
LIDARHD_HD inline void stats_add_point(Bounds3& bounds, unsigned long long* counts, int32_t x,
                                       int32_t y, int32_t z, uint8_t cls) {
  bounds_add<BoundsOps>(bounds, x, y, z);
  CountOps::add(&counts[cls], 1ull);
}

template <class Ops>
LIDARHD_HD inline void counts_merge(unsigned long long* dst, const unsigned long long* src) {
  for (int c = 0; c < kClassCount; ++c) {
    if (src[c]) Ops::add(&dst[c], src[c]);
  }
}

inline PointStats to_point_stats(const StatsAccumulator& a, uint64_t n) {
  PointStats s;
  s.count = n;
  if (n == 0) return s;
  for (int k = 0; k < 3; ++k) {
    s.min[k] = a.bounds.min[k];
    s.max[k] = a.bounds.max[k];
  }
  for (int c = 0; c < kClassCount; ++c) s.class_counts[c] = a.counts[c];
  return s;
}

// Back ends. Host columns for the CPU; device columns (already on `device_index`) for CUDA.
void point_stats_cpu(const int32_t* x, const int32_t* y, const int32_t* z, const uint8_t* cls,
                     size_t n, StatsAccumulator& out);
#if LIDARHD_WITH_CUDA
// `stream` is a cudaStream_t (nullptr: the default stream); returns once `out` is filled.
void point_stats_cuda(const int32_t* x, const int32_t* y, const int32_t* z, const uint8_t* cls,
                      size_t n, int device_index, void* stream, StatsAccumulator& out);
#endif

}  // namespace lidarhd::detail
