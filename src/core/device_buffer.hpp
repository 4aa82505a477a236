// A typed array on one device: a host vector for the CPU, cudaMalloc'd memory for a CUDA device.
// Kernels get raw pointers from data(); moving data between host and device is explicit.
// Copies are synchronous for now: a stream-ordered variant comes with the pipeline's streams.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/device_backend.hpp"
#include "lidarhd/core/device.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/core/host_vector.hpp"

namespace lidarhd::detail {

// Zeroes [data, data + bytes): large arrays from every CPU thread, so that their pages are
// first touched in parallel (host_memory.cpp).
void zero_fill(void* data, size_t bytes);

template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "DeviceBuffer holds plain data only");

 public:
  DeviceBuffer() = default;
  // `device` must be resolved. CPU memory is zero-initialised; CUDA memory is not initialised.
  DeviceBuffer(size_t count, const Device& device) : device_(device), size_(count) {
    if (count > std::numeric_limits<size_t>::max() / sizeof(T)) {
      throw ArgumentError("core", "buffer of " + std::to_string(count) + " elements of " +
                                      std::to_string(sizeof(T)) + " bytes overflows size_t");
    }
    if (device.is_cpu()) {
      host_.resize(count);
      zero_fill(host_.data(), count * sizeof(T));
      return;
    }
#if LIDARHD_WITH_CUDA
    if (count) cuda_ = static_cast<T*>(cuda_malloc(count * sizeof(T), device.index));
#else
    throw_no_cuda_support();
#endif
  }

  static DeviceBuffer from_host(const T* src, size_t count, const Device& device) {
    DeviceBuffer buffer(count, device);
    buffer.copy_from_host(src, count);
    return buffer;
  }

  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept { swap(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      DeviceBuffer gone(std::move(other));
      swap(gone);
    }
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t bytes() const { return size_ * sizeof(T); }
  const Device& device() const { return device_; }
  // Host pointer on the CPU, device pointer on CUDA (null when empty on CUDA).
  T* data() { return device_.is_cpu() ? host_.data() : cuda_; }
  const T* data() const { return device_.is_cpu() ? host_.data() : cuda_; }

  // Copies `count` elements from host memory into [offset, offset + count).
  void copy_from_host(const T* src, size_t count, size_t offset = 0) {
    check_range(count, offset);
    if (count == 0) return;
    if (device_.is_cpu()) {
      std::copy(src, src + count, host_.begin() + static_cast<std::ptrdiff_t>(offset));
      return;
    }
#if LIDARHD_WITH_CUDA
    cuda_copy_to_device(cuda_ + offset, src, count * sizeof(T));
#endif
  }

  // Copies [offset, offset + count) into host memory at `dst`.
  void copy_to_host(T* dst, size_t count, size_t offset = 0) const {
    check_range(count, offset);
    if (count == 0) return;
    if (device_.is_cpu()) {
      std::copy(host_.begin() + static_cast<std::ptrdiff_t>(offset),
                host_.begin() + static_cast<std::ptrdiff_t>(offset + count), dst);
      return;
    }
#if LIDARHD_WITH_CUDA
    cuda_copy_to_host(dst, cuda_ + offset, count * sizeof(T));
#endif
  }

  std::vector<T> to_host() const {
    std::vector<T> out(size_);
    copy_to_host(out.data(), size_);
    return out;
  }

  void fill(const T& value) {
    if (device_.is_cpu()) {
      std::fill(host_.begin(), host_.end(), value);
      return;
    }
#if LIDARHD_WITH_CUDA
    static_assert(sizeof(T) <= 16, "fill on CUDA supports elements of at most 16 bytes");
    if (size_) cuda_fill(cuda_, size_, &value, sizeof(T), device_.index);
#endif
  }

 private:
  void check_range(size_t count, size_t offset) const {
    if (offset > size_ || count > size_ - offset) {
      throw ArgumentError("core", "copy of " + std::to_string(count) + " elements at " +
                                      std::to_string(offset) + " overruns a buffer of " +
                                      std::to_string(size_));
    }
  }

  void release() noexcept {
#if LIDARHD_WITH_CUDA
    if (cuda_) cuda_free(cuda_);
#endif
    cuda_ = nullptr;
    host_.clear();
    host_.shrink_to_fit();
    size_ = 0;
  }

  void swap(DeviceBuffer& other) noexcept {
    std::swap(device_, other.device_);
    std::swap(size_, other.size_);
    host_.swap(other.host_);
    std::swap(cuda_, other.cuda_);
  }

  Device device_;
  size_t size_ = 0;
  HostVector<T> host_;
  T* cuda_ = nullptr;
};

}  // namespace lidarhd::detail
