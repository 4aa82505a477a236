// Converts CUDA runtime status codes into DeviceError once, at the host boundary
// (architecture.md convention 6). Only for .cu files.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "lidarhd/core/error.hpp"

namespace lidarhd::detail {

inline void cuda_check(cudaError_t status, const char* what, const char* file, int line) {
  if (status == cudaSuccess) return;
  throw DeviceError("cuda", std::string(what) + " failed: " + cudaGetErrorString(status) + " (" +
                                file + ":" + std::to_string(line) + ")");
}

}  // namespace lidarhd::detail

#define LIDARHD_CUDA_CHECK(expr) ::lidarhd::detail::cuda_check((expr), #expr, __FILE__, __LINE__)
