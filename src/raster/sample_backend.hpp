// The CPU and CUDA back ends of Sampler::sample; sample.cpp builds the view and dispatches.
#pragma once

#include <cstddef>

#include "lidarhd/raster/sample.hpp"
#include "raster/sample_impl.hpp"

namespace lidarhd::raster::detail {

void sample_cpu(const WindowView& view, const double* x, const double* y, size_t n,
                SampleMethod method, const SampleOut& out);

#if LIDARHD_WITH_CUDA
// `view` holds device pointers (its pointer tables too); x, y and the outputs are host memory.
// Returns the kernel's device time in seconds.
double sample_cuda(const WindowView& view, const double* x, const double* y, size_t n,
                 SampleMethod method, const SampleOut& host_out, int device_index);
#endif

}  // namespace lidarhd::raster::detail
