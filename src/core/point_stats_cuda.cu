// CUDA back end of compute_point_stats: each thread keeps its bounds in registers, each block
// counts classes in shared memory, and blocks merge into one global accumulator with atomics.
#include <cuda_runtime.h>

#include "core/cuda_check.cuh"
#include "core/device_buffer.hpp"
#include "core/parallel_for_cuda.cuh"
#include "core/point_stats_impl.hpp"

namespace lidarhd::detail {
namespace {

struct AtomicOps {
  __device__ static void min(int32_t* slot, int32_t v) { atomicMin(slot, v); }
  __device__ static void max(int32_t* slot, int32_t v) { atomicMax(slot, v); }
  __device__ static void add(unsigned long long* slot, unsigned long long v) { atomicAdd(slot, v); }
};

constexpr int kThreads = 256;

__global__ void point_stats_kernel(const int32_t* x, const int32_t* y, const int32_t* z,
                                   const uint8_t* cls, size_t n, StatsAccumulator* out) {
  __shared__ Bounds3 block_bounds;
  __shared__ unsigned long long block_counts[kClassCount];
  for (int c = threadIdx.x; c < kClassCount; c += blockDim.x) block_counts[c] = 0;
  if (threadIdx.x == 0) bounds_reset(block_bounds);
  __syncthreads();

  Bounds3 mine;
  bounds_reset(mine);
  const size_t stride = static_cast<size_t>(blockDim.x) * gridDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    stats_add_point<PlainOps, AtomicOps>(mine, block_counts, x[i], y[i], z[i], cls[i]);
  }
  bounds_merge<AtomicOps>(block_bounds, mine);
  __syncthreads();

  if (threadIdx.x == 0) bounds_merge<AtomicOps>(out->bounds, block_bounds);
  for (int c = threadIdx.x; c < kClassCount; c += blockDim.x) {
    if (block_counts[c]) atomicAdd(&out->counts[c], block_counts[c]);
  }
}

}  // namespace

void point_stats_cuda(const int32_t* x, const int32_t* y, const int32_t* z, const uint8_t* cls,
                      size_t n, int device_index, void* stream_ptr, StatsAccumulator& out) {
  accumulator_reset(out);
  if (n == 0) return;
  auto stream = static_cast<cudaStream_t>(stream_ptr);
  cuda_set_device(device_index);
  DeviceBuffer<StatsAccumulator> acc(1, Device::cuda(device_index));
  LIDARHD_CUDA_CHECK(
      cudaMemcpyAsync(acc.data(), &out, sizeof(out), cudaMemcpyHostToDevice, stream));
  const int blocks = grid_stride_blocks(static_cast<int64_t>(n), kThreads);
  point_stats_kernel<<<blocks, kThreads, 0, stream>>>(x, y, z, cls, n, acc.data());
  LIDARHD_CUDA_CHECK(cudaGetLastError());
  LIDARHD_CUDA_CHECK(
      cudaMemcpyAsync(&out, acc.data(), sizeof(out), cudaMemcpyDeviceToHost, stream));
  LIDARHD_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace lidarhd::detail
