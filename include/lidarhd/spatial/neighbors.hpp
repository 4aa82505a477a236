// Exact neighbour search (features.md "Neighbourhoods"): k nearest, radius (capped) and hybrid
// neighbourhoods of every point of a cloud, or of external query points, on the CPU or a CUDA
// device, with identical results on both (ties broken by smaller original index).
//
// Coordinates are float32 relative to a local origin: the caller subtracts it from the doubles
// first (features.md "Coordinates and precision").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "lidarhd/core/device.hpp"

namespace lidarhd {

namespace detail {
struct GridView;     // src/spatial/grid_impl.hpp
struct GridStorage;  // src/spatial/grid_impl.hpp
}  // namespace detail

class NeighborIndex {
 public:
  static constexpr int kMaxK = 64;           // largest k for knn and hybrid
  static constexpr int kMaxRadiusK = 1024;   // largest max_k for radius
  static constexpr uint32_t kNoNeighbor = 0xFFFFFFFFu;  // pads rows with fewer neighbours

  // Builds the index over n host points (x, y, z may be null when n == 0). Throws
  // ArgumentError on null columns, non-finite coordinates, n >= 2^32 - 1 or a bad cell size,
  // DeviceError when `device` cannot be used. `cell_size` is the grid's column side in metres;
  // 0 chooses it from the point density (about a dozen points per occupied column).
  NeighborIndex(const float* x, const float* y, const float* z, size_t n,
                const Device& device = Device::cpu(), float cell_size = 0.0f);
  ~NeighborIndex();
  NeighborIndex(NeighborIndex&&) noexcept;
  NeighborIndex& operator=(NeighborIndex&&) noexcept;
  NeighborIndex(const NeighborIndex&) = delete;
  NeighborIndex& operator=(const NeighborIndex&) = delete;

  size_t size() const { return n_; }
  const Device& device() const { return device_; }
  float cell_size() const;

  // Neighbourhoods of the index's own points. Outputs are host arrays of n rows (row i for
  // point i), each `k` (or `max_k`) wide, sorted by (d2, index); d2 is the squared distance.
  // A row with fewer neighbours is padded with kNoNeighbor and +inf; `count_out` (n entries,
  // may be null) receives each row's count.

  // k nearest, including the point itself (1 <= k <= kMaxK).
  void knn(int k, uint32_t* idx_out, float* d2_out) const;
  // Points with d2 <= r * r, at most max_k (the nearest) kept (r >= 0, 1 <= max_k <=
  // kMaxRadiusK).
  void radius(float r, int max_k, uint32_t* idx_out, float* d2_out,
              uint32_t* count_out) const;
  // k nearest within r.
  void hybrid(int k, float r, uint32_t* idx_out, float* d2_out, uint32_t* count_out) const;

  // The same for m external host query points (rows follow the queries). A query point that
  // coincides with a cloud point has that point among its neighbours, at d2 = 0.
  void knn(const float* qx, const float* qy, const float* qz, size_t m, int k, uint32_t* idx_out,
           float* d2_out) const;
  void radius(const float* qx, const float* qy, const float* qz, size_t m, float r, int max_k,
              uint32_t* idx_out, float* d2_out, uint32_t* count_out) const;

  // The grid for kernels that query it themselves (knn_query & co. in grid_impl.hpp); its
  // pointers live on device().
  const detail::GridView& view() const;

 private:
  void run(const float* qx, const float* qy, const float* qz, size_t m, int cap, float limit,
           uint32_t* idx_out, float* d2_out, uint32_t* count_out) const;

  Device device_;
  size_t n_ = 0;
  std::unique_ptr<detail::GridStorage> grid_;
};

}  // namespace lidarhd
