// CUDA back end of extract_patches: patches_run.hpp on the GPU, with Thrust's scan.
#include <cuda_runtime.h>
#include <thrust/execution_policy.h>
#include <thrust/scan.h>

#include "core/cuda_check.cuh"
#include "patches/patches_run.hpp"

namespace lidarhd::patches::detail {

namespace {

struct DeviceScan {
  uint64_t operator()(uint64_t* data, size_t count) const {
    if (count == 0) return 0;
    uint64_t last = 0, last_scanned = 0;
    LIDARHD_CUDA_CHECK(
        cudaMemcpy(&last, data + count - 1, sizeof(uint64_t), cudaMemcpyDeviceToHost));
    thrust::exclusive_scan(thrust::device, data, data + count, data);
    LIDARHD_CUDA_CHECK(
        cudaMemcpy(&last_scanned, data + count - 1, sizeof(uint64_t), cudaMemcpyDeviceToHost));
    return last + last_scanned;
  }
};

}  // namespace

CellSamples sample_cells_cuda(const SampleInput& input, int device_index) {
  lidarhd::detail::cuda_set_device(device_index);
  // Small chunks: one GPU thread walks each chunk, and the GPU wants tens of thousands of them.
  CellSamples out = run_sampling(Device::cuda(device_index), input, int64_t{1} << 9, DeviceScan{});
  LIDARHD_CUDA_CHECK(cudaDeviceSynchronize());
  return out;
}

}  // namespace lidarhd::patches::detail
