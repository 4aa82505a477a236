// LIDARHD_HD marks per-point functions that both the CPU build (g++) and the CUDA kernels (nvcc)
// compile from the same source (architecture.md convention 1).
#pragma once

#if defined(__CUDACC__)
#define LIDARHD_HD __host__ __device__
#define LIDARHD_DEVICE_CODE 1
#else
#define LIDARHD_HD
#define LIDARHD_DEVICE_CODE 0
#endif
