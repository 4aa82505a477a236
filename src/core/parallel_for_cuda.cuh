// The CUDA half of parallel_for: a grid-stride kernel, so any n fits a grid sized to the GPU
// rather than to the data.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda_check.cuh"

namespace lidarhd::detail {

template <class F>
__global__ void grid_stride_kernel(int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    f(i);
  }
}

// Blocks for a grid-stride launch: enough to fill every SM several times over, never more than
// the data needs.
inline int grid_stride_blocks(int64_t n, int threads) {
  int device = 0;
  int sms = 0;
  LIDARHD_CUDA_CHECK(cudaGetDevice(&device));
  LIDARHD_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int64_t wanted = (n + threads - 1) / threads;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(wanted, int64_t{sms} * 8)));
}

template <class F>
void parallel_for_cuda(int64_t n, const F& f, cudaStream_t stream = nullptr) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  grid_stride_kernel<<<grid_stride_blocks(n, kThreads), kThreads, 0, stream>>>(n, f);
  LIDARHD_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lidarhd::detail
