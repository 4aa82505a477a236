// CUDA back end of compute_features: the same fused kernel, one thread per point, points in
// grid order so that a warp's queries share columns.
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
  lidarhd::detail::parallel_for(Device::cuda(device_index), static_cast<int64_t>(P.n),
                                [params] LIDARHD_HD(int64_t p) {
                                  feature_point(params, static_cast<uint32_t>(p));
                                });
  timer.stop();
  LIDARHD_CUDA_CHECK(cudaStreamSynchronize(nullptr));  // surfaces kernel faults here
  return timer.seconds();
}

}  // namespace lidarhd::features::detail
