// CUDA back end of the neighbour index: one radix sort (Thrust) of (column, z) keys with the
// original index as value, column starts by a vectorised lower_bound, one thread per query.
// The search itself is grid_impl.hpp, shared with the CPU.
#include <cuda_runtime.h>
#include <thrust/binary_search.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/sort.h>

#include "core/cuda_check.cuh"
#include "core/device_buffer.hpp"
#include "core/parallel_for.hpp"
#include "spatial/grid_impl.hpp"

namespace lidarhd::detail {
namespace {

struct ColumnOfKey {
  __host__ __device__ uint32_t operator()(uint64_t key) const {
    return static_cast<uint32_t>(key >> 32);
  }
};

// One kernel per capacity class: each sizes its threads' local frame for its own buffer.
template <int kCap>
void query_cuda_with(const GridView& view, const QueryBatch& batch, const Device& dev,
                     uint32_t* idx, float* d2, uint32_t* counts) {
  parallel_for(dev, static_cast<int64_t>(batch.m), [=] LIDARHD_HD(int64_t t) {
    query_one<kCap>(view, batch, t, idx, d2, counts);
  });
}

}  // namespace

void build_grid_cuda(const float* x, const float* y, const float* z, size_t n,
                     const GridGeometry& geo, int device_index, GridStorage& out) {
  cuda_set_device(device_index);
  const Device dev = Device::cuda(device_index);
  const size_t cells = static_cast<size_t>(geo.nx) * static_cast<size_t>(geo.ny);
  out.cell_start = DeviceBuffer<uint32_t>(cells + 1, dev);
  out.x = DeviceBuffer<float>(n, dev);
  out.y = DeviceBuffer<float>(n, dev);
  out.z = DeviceBuffer<float>(n, dev);
  out.index = DeviceBuffer<uint32_t>(n, dev);
  if (n == 0) {
    out.cell_start.fill(0u);
    return;
  }
  const auto hx = DeviceBuffer<float>::from_host(x, n, dev);
  const auto hy = DeviceBuffer<float>::from_host(y, n, dev);
  const auto hz = DeviceBuffer<float>::from_host(z, n, dev);
  DeviceBuffer<uint64_t> keys(n, dev);
  const float* px = hx.data();
  const float* py = hy.data();
  const float* pz = hz.data();
  uint64_t* k = keys.data();
  uint32_t* order = out.index.data();
  const GridGeometry g = geo;
  // Same key as the CPU build: (column, z order bits), ties kept in index order by the
  // stable sort, so both devices arrange the points identically.
  parallel_for(dev, static_cast<int64_t>(n), [=] LIDARHD_HD(int64_t i) {
    const uint32_t cx = static_cast<uint32_t>(grid_coord(px[i], g.min_x, g.inv_cell, g.nx));
    const uint32_t cy = static_cast<uint32_t>(grid_coord(py[i], g.min_y, g.inv_cell, g.ny));
    const uint64_t cell = static_cast<uint64_t>(cy) * static_cast<uint32_t>(g.nx) + cx;
    k[i] = (cell << 32) | float_order_bits(pz[i]);
    order[i] = static_cast<uint32_t>(i);
  });
  thrust::stable_sort_by_key(thrust::device, k, k + n, order);

  float* sx = out.x.data();
  float* sy = out.y.data();
  float* sz = out.z.data();
  parallel_for(dev, static_cast<int64_t>(n), [=] LIDARHD_HD(int64_t p) {
    const uint32_t i = order[p];
    sx[p] = px[i];
    sy[p] = py[i];
    sz[p] = pz[i];
  });
  const auto columns = thrust::make_transform_iterator(k, ColumnOfKey{});
  thrust::lower_bound(thrust::device, columns, columns + n, thrust::counting_iterator<uint32_t>(0),
                      thrust::counting_iterator<uint32_t>(static_cast<uint32_t>(cells + 1)),
                      out.cell_start.data());
  LIDARHD_CUDA_CHECK(cudaDeviceSynchronize());
}

void query_cuda(const GridView& g, const QueryBatch& q, int device_index, uint32_t* idx,
                float* d2, uint32_t* counts) {
  if (q.m == 0) return;
  cuda_set_device(device_index);
  const Device dev = Device::cuda(device_index);
  QueryBatch batch = q;
  DeviceBuffer<float> qx, qy, qz;
  if (q.qx) {
    qx = DeviceBuffer<float>::from_host(q.qx, q.m, dev);
    qy = DeviceBuffer<float>::from_host(q.qy, q.m, dev);
    qz = DeviceBuffer<float>::from_host(q.qz, q.m, dev);
    batch.qx = qx.data();
    batch.qy = qy.data();
    batch.qz = qz.data();
  }
  const size_t cells = q.m * static_cast<size_t>(q.cap);
  DeviceBuffer<uint32_t> out_idx(cells, dev);
  DeviceBuffer<float> out_d2(cells, dev);
  DeviceBuffer<uint32_t> out_counts(counts ? q.m : 0, dev);
  uint32_t* oi = out_idx.data();
  float* od = out_d2.data();
  uint32_t* oc = counts ? out_counts.data() : nullptr;
  if (q.cap <= kCapacityClasses[0]) {
    query_cuda_with<kCapacityClasses[0]>(g, batch, dev, oi, od, oc);
  } else if (q.cap <= kCapacityClasses[1]) {
    query_cuda_with<kCapacityClasses[1]>(g, batch, dev, oi, od, oc);
  } else if (q.cap <= kCapacityClasses[2]) {
    query_cuda_with<kCapacityClasses[2]>(g, batch, dev, oi, od, oc);
  } else {
    query_cuda_with<kCapacityClasses[3]>(g, batch, dev, oi, od, oc);
  }
  LIDARHD_CUDA_CHECK(cudaGetLastError());
  out_idx.copy_to_host(idx, cells);
  out_d2.copy_to_host(d2, cells);
  if (counts) out_counts.copy_to_host(counts, q.m);
}

}  // namespace lidarhd::detail
