// Device time of the work queued between start() and stop() on the default stream, from two
// CUDA events: what benchmarks and run summaries report as a kernel's time, without the copies
// and allocations around it. Only for .cu files.
#pragma once

#include <cuda_runtime.h>

#include "core/cuda_check.cuh"

namespace lidarhd::detail {

class KernelTimer {
 public:
  KernelTimer() {
    LIDARHD_CUDA_CHECK(cudaEventCreate(&start_));
    const cudaError_t status = cudaEventCreate(&stop_);
    if (status != cudaSuccess) {
      cudaEventDestroy(start_);
      LIDARHD_CUDA_CHECK(status);
    }
  }
  ~KernelTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;
  void start() { LIDARHD_CUDA_CHECK(cudaEventRecord(start_)); }
  void stop() { LIDARHD_CUDA_CHECK(cudaEventRecord(stop_)); }
  // Waits for stop() and returns the time between the two events.
  double seconds() {
    LIDARHD_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    LIDARHD_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return static_cast<double>(ms) / 1e3;
  }

 private:
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace lidarhd::detail
