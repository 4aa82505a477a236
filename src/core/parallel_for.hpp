// One parallel_for for both devices (architecture.md convention 2). The CPU version uses OpenMP
// threads; in a .cu file (nvcc) the CUDA version launches a grid-stride kernel. The body must be
// safe to run concurrently for distinct indices. In a .cu file it must be a LIDARHD_HD lambda
// (nvcc --extended-lambda): the dispatcher instantiates both paths.
#pragma once

#include <cstdint>

#include "lidarhd/core/device.hpp"
#include "lidarhd/core/hd.hpp"

#if defined(__CUDACC__)
#include "core/parallel_for_cuda.cuh"
#else
#include "core/device_backend.hpp"
#endif

namespace lidarhd::detail {

template <class F>
void parallel_for_cpu(int64_t n, const F& f) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
  for (int64_t i = 0; i < n; ++i) f(i);
}

// The same with each index handed to the next free thread: for tasks of uneven cost (a town in
// one half of a tile, a forest in the other), where static halves would leave a thread idle.
template <class F>
void parallel_for_cpu_dynamic(int64_t n, const F& f) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Runs f(i) for every i in [0, n) on `device` (already resolved). On CUDA the launch is
// asynchronous on the default stream; the caller synchronises before reading results.
template <class F>
void parallel_for(const Device& device, int64_t n, const F& f) {
  if (device.is_cuda()) {
#if defined(__CUDACC__)
    parallel_for_cuda(n, f);
    return;
#else
    // Only a .cu translation unit can launch kernels; a .cpp reaching this is a wiring bug, and
    // in a CPU-only build the device was not resolvable in the first place.
    throw_no_cuda_support();
#endif
  }
  parallel_for_cpu(n, f);
}

}  // namespace lidarhd::detail
