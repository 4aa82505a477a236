// CUDA runtime side of the device layer: the probe, memory and copies used by DeviceBuffer.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
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

namespace {

// Large copies between pageable host memory and a device go through two pinned staging buffers
// of the calling thread, on a stream of its own: the host memcpy of one slice overlaps the DMA
// of the other, at pinned-memory bandwidth, and a worker thread per GPU copies without waiting
// for the others. The stream is a blocking one (it synchronises with the legacy default stream
// that kernels use), and each copy returns only when complete, so callers see synchronous
// copies ordered with their kernels, as with cudaMemcpy.
constexpr size_t kStagingSlice = size_t(8) << 20;
constexpr size_t kStagedFrom = size_t(1) << 20;  // smaller copies: plain cudaMemcpy

struct Staging {
  int device = -1;
  void* pinned[2] = {nullptr, nullptr};
  cudaStream_t stream = nullptr;
  cudaEvent_t done[2] = {nullptr, nullptr};
  bool usable = false;
  ~Staging() {
    for (int b = 0; b < 2; ++b) {
      if (pinned[b]) cudaFreeHost(pinned[b]);
      if (done[b]) cudaEventDestroy(done[b]);
    }
    if (stream) cudaStreamDestroy(stream);
  }
};

// The calling thread's staging for the current device; null when pinned memory or a stream
// cannot be had (the copy then falls back to cudaMemcpy).
Staging* staging(const void* device_ptr) {
  int device = 0;
  cudaPointerAttributes attributes{};
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaPointerGetAttributes(&attributes, device_ptr) != cudaSuccess ||
      attributes.type != cudaMemoryTypeDevice || attributes.device != device) {
    cudaGetLastError();
    return nullptr;  // memory of another device than the current one: plain cudaMemcpy
  }
  thread_local std::unique_ptr<Staging> slots[16];
  if (device < 0 || device >= 16) return nullptr;
  std::unique_ptr<Staging>& s = slots[device];
  if (!s) {
    s = std::make_unique<Staging>();
    s->device = device;
    bool ok = cudaStreamCreate(&s->stream) == cudaSuccess;
    for (int b = 0; ok && b < 2; ++b) {
      ok = cudaHostAlloc(&s->pinned[b], kStagingSlice, cudaHostAllocPortable) == cudaSuccess &&
           cudaEventCreateWithFlags(&s->done[b], cudaEventDisableTiming) == cudaSuccess;
    }
    s->usable = ok;
    if (!ok) cudaGetLastError();  // a failed pinned allocation is not an error for the caller
  }
  return s->usable ? s.get() : nullptr;
}

}  // namespace

void cuda_copy_to_device(void* dst, const void* src, size_t bytes) {
  Staging* s = bytes >= kStagedFrom ? staging(dst) : nullptr;
  if (!s) {
    LIDARHD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    return;
  }
  const auto* from = static_cast<const unsigned char*>(src);
  auto* to = static_cast<unsigned char*>(dst);
  for (size_t at = 0, k = 0; at < bytes; at += kStagingSlice, ++k) {
    const size_t n = std::min(kStagingSlice, bytes - at);
    const int b = int(k & 1);
    // The buffer's previous DMA (two slices ago) must be over before it is refilled.
    LIDARHD_CUDA_CHECK(cudaEventSynchronize(s->done[b]));
    std::memcpy(s->pinned[b], from + at, n);
    LIDARHD_CUDA_CHECK(cudaMemcpyAsync(to + at, s->pinned[b], n, cudaMemcpyHostToDevice, s->stream));
    LIDARHD_CUDA_CHECK(cudaEventRecord(s->done[b], s->stream));
  }
  LIDARHD_CUDA_CHECK(cudaStreamSynchronize(s->stream));
}

void cuda_copy_to_host(void* dst, const void* src, size_t bytes) {
  Staging* s = bytes >= kStagedFrom ? staging(src) : nullptr;
  if (!s) {
    LIDARHD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
    return;
  }
  const auto* from = static_cast<const unsigned char*>(src);
  auto* to = static_cast<unsigned char*>(dst);
  const size_t slices = (bytes + kStagingSlice - 1) / kStagingSlice;
  auto issue = [&](size_t k) {
    const size_t at = k * kStagingSlice, n = std::min(kStagingSlice, bytes - at);
    LIDARHD_CUDA_CHECK(cudaMemcpyAsync(s->pinned[k & 1], from + at, n, cudaMemcpyDeviceToHost, s->stream));
    LIDARHD_CUDA_CHECK(cudaEventRecord(s->done[k & 1], s->stream));
  };
  // Slice k + 1 is in flight while slice k is copied out of its pinned buffer.
  issue(0);
  for (size_t k = 0; k < slices; ++k) {
    if (k + 1 < slices) issue(k + 1);
    LIDARHD_CUDA_CHECK(cudaEventSynchronize(s->done[k & 1]));
    const size_t at = k * kStagingSlice;
    std::memcpy(to + at, s->pinned[k & 1], std::min(kStagingSlice, bytes - at));
  }
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
