// CUDA runtime side of the device layer: the probe, memory and copies used by DeviceBuffer.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/cuda_check.cuh"
#include "core/device_backend.hpp"
#include "core/parallel_for.hpp"

namespace lidarhd::detail {

int cuda_probe_device_count(std::string& reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    // Clears the error so that it does not resurface from an unrelated later call.
    cudaGetLastError();
    reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
    return 0;
  }
  if (count == 0) reason = "cudaGetDeviceCount reports 0 devices";
  return count;
}

void cuda_set_device(int index) { LIDARHD_CUDA_CHECK(cudaSetDevice(index)); }

void* cuda_malloc(size_t bytes, int device_index) {
  cuda_set_device(device_index);
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw DeviceError("cuda", "cannot allocate " + std::to_string(bytes) +
                                  " bytes on cuda:" + std::to_string(device_index) + " (" +
                                  cudaGetErrorString(status) + "); use smaller batches or tiles");
  }
  return ptr;
}

void cuda_free(void* ptr) noexcept { cudaFree(ptr); }

void cuda_copy_to_device(void* dst, const void* src, size_t bytes) {
  LIDARHD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void cuda_copy_to_host(void* dst, const void* src, size_t bytes) {
  LIDARHD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

namespace {
struct Pattern {
  unsigned char bytes[16];
};
}  // namespace

void cuda_fill(void* dst, size_t count, const void* value, size_t elem_size, int device_index) {
  if (elem_size == 0 || elem_size > sizeof(Pattern::bytes)) {
    throw ArgumentError("core", "cuda_fill: unsupported element size " + std::to_string(elem_size));
  }
  cuda_set_device(device_index);
  Pattern pattern{};
  std::memcpy(pattern.bytes, value, elem_size);
  auto* out = static_cast<unsigned char*>(dst);
  parallel_for(Device::cuda(), static_cast<int64_t>(count), [=] LIDARHD_HD(int64_t i) {
    unsigned char* slot = out + static_cast<size_t>(i) * elem_size;
    for (size_t b = 0; b < elem_size; ++b) slot[b] = pattern.bytes[b];
  });
  // DeviceBuffer's copies are synchronous; keep fill ordered the same way for its callers.
  LIDARHD_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

}  // namespace lidarhd::detail
