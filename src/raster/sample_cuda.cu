// CUDA back end of Sampler::sample: one thread per point over the device copy of the window.
#include <cuda_runtime.h>

#include "core/cuda_timer.cuh"
#include "core/device_buffer.hpp"
#include "core/parallel_for_cuda.cuh"
#include "raster/sample_backend.hpp"

namespace lidarhd::raster::detail {

double sample_cuda(const WindowView& view, const double* x, const double* y, size_t n,
                   SampleMethod method, const SampleOut& host_out, int device_index) {
  using lidarhd::detail::DeviceBuffer;
  if (n == 0) return 0;
  const Device device = Device::cuda(device_index);
  lidarhd::detail::cuda_set_device(device_index);
  const auto dx = DeviceBuffer<double>::from_host(x, n, device);
  const auto dy = DeviceBuffer<double>::from_host(y, n, device);
  DeviceBuffer<float> values(n * host_out.out_bands, device);
  DeviceBuffer<uint8_t> status(n, device);
  SampleOut out = host_out;
  out.values = values.data();
  out.status = status.data();
  const double* px = dx.data();
  const double* py = dy.data();
  const auto count = static_cast<int64_t>(n);
  lidarhd::detail::KernelTimer timer;
  timer.start();
  if (method == SampleMethod::kNearest) {
    lidarhd::detail::parallel_for_cuda(
        count, [=] __device__(int64_t i) { sample_nearest(view, px[i], py[i], i, out); });
  } else {
    lidarhd::detail::parallel_for_cuda(
        count, [=] __device__(int64_t i) { sample_bilinear(view, px[i], py[i], i, out); });
  }
  timer.stop();
  const double seconds = timer.seconds();
  values.copy_to_host(host_out.values, values.size());
  status.copy_to_host(host_out.status, n);
  return seconds;
}

}  // namespace lidarhd::raster::detail
