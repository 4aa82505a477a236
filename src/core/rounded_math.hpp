// Double arithmetic rounded once per operation on every device: nvcc contracts a * b + c into a
// fused multiply-add by default, which rounds differently from the CPU. Kernels whose results
// must be bit-identical on CPU and GPU (sampling weights, patch membership) use these.
#pragma once

#include "lidarhd/core/hd.hpp"

namespace lidarhd::detail {

#if defined(__CUDA_ARCH__)
LIDARHD_HD inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
LIDARHD_HD inline double add_rn(double a, double b) { return __dadd_rn(a, b); }
#else
LIDARHD_HD inline double mul_rn(double a, double b) { return a * b; }
LIDARHD_HD inline double add_rn(double a, double b) { return a + b; }
#endif

}  // namespace lidarhd::detail
