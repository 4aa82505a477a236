// The CUDA runtime calls that host code (.cpp files, DeviceBuffer) needs, behind plain
// declarations so that no CUDA header reaches a g++ translation unit. Implemented in
// device_cuda.cu; only declared when the library is built with CUDA.
#pragma once

#include <cstddef>
#include <string>

namespace lidarhd::detail {

// Thrown wherever a CPU-only build is asked to run something on a CUDA device.
[[noreturn]] void throw_no_cuda_support();

#if LIDARHD_WITH_CUDA
// cudaGetDeviceCount; on failure returns 0 and describes the failure in `reason`.
int cuda_probe_device_count(std::string& reason);
void cuda_set_device(int index);
void* cuda_malloc(size_t bytes, int device_index);
void cuda_free(void* ptr) noexcept;
void cuda_copy_to_device(void* dst, const void* src, size_t bytes);
void cuda_copy_to_host(void* dst, const void* src, size_t bytes);
// Writes `count` copies of the `elem_size`-byte pattern at `value` (host memory, at most 16
// bytes) to memory of device `device_index` at `dst`, through parallel_for.
void cuda_fill(void* dst, size_t count, const void* value, size_t elem_size, int device_index);
#endif

}  // namespace lidarhd::detail
