// CUDA back end of compute_features: the same fused kernel, one thread per point, points in
// grid order so that a warp's queries share columns.
#include <cuda_runtime.h>

#include "core/cuda_check.cuh"
#include "core/device_backend.hpp"
#include "core/parallel_for.hpp"
#include "features/features_impl.hpp"

namespace lidarhd::features::detail {

void compute_features_cuda(const KernelParams& P, int device_index) {
  lidarhd::detail::cuda_set_device(device_index);
  const KernelParams params = P;
  lidarhd::detail::parallel_for(Device::cuda(device_index), static_cast<int64_t>(P.n),
                                [params] LIDARHD_HD(int64_t p) {
                                  feature_point(params, static_cast<uint32_t>(p));
                                });
  LIDARHD_CUDA_CHECK(cudaStreamSynchronize(nullptr));  // surfaces kernel faults here
}

}  // namespace lidarhd::features::detail
