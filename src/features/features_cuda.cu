// CUDA back end of compute_features: the same fused kernel, one thread per point, points in
// grid order so that a warp's queries share columns. The kernel is built for two neighbour
// capacities: its per-thread arrays are local memory, so k <= 32 runs with half of it.
#include <cuda_runtime.h>

#include "core/cuda_check.cuh"
#include "core/cuda_timer.cuh"
#include "core/device_backend.hpp"
#include "core/parallel_for.hpp"
#include "features/features_impl.hpp"

namespace lidarhd::features::detail {

double compute_features_cuda(const KernelParams& P, int device_index) {
  lidarhd::detail::cuda_set_device(device_index);
  const KernelParams params = P;
  lidarhd::detail::KernelTimer timer;
  timer.start();
  const Device device = Device::cuda(device_index);
  const int64_t n = static_cast<int64_t>(P.n);
  if (P.cap <= kSmallNeighborCap) {
    lidarhd::detail::parallel_for(device, n, [params] LIDARHD_HD(int64_t p) {
      feature_point<kSmallNeighborCap>(params, static_cast<uint32_t>(p));
    });
  } else {
    lidarhd::detail::parallel_for(device, n, [params] LIDARHD_HD(int64_t p) {
      feature_point<kNeighborCap>(params, static_cast<uint32_t>(p));
    });
  }
  timer.stop();
  LIDARHD_CUDA_CHECK(cudaStreamSynchronize(nullptr));  // surfaces kernel faults here
  return timer.seconds();
}

}  // namespace lidarhd::features::detail
