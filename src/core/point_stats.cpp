// compute_point_stats: validates, resolves the device and forwards to a back end
// (architecture.md convention 5).
#include "lidarhd/core/point_stats.hpp"

#include <string>

#include "core/device_buffer.hpp"
#include "core/point_stats_impl.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd {

PointStats compute_point_stats(const int32_t* x, const int32_t* y, const int32_t* z,
                               const uint8_t* classification, size_t n, const Device& device) {
  if (n > 0 && (!x || !y || !z || !classification)) {
    throw ArgumentError("core", "compute_point_stats: a column pointer is null for " +
                                    std::to_string(n) + " points");
  }
  const Device where = resolve(device);
  detail::StatsAccumulator acc;
  if (where.is_cpu()) {
    detail::point_stats_cpu(x, y, z, classification, n, acc);
  } else {
#if LIDARHD_WITH_CUDA
    using detail::DeviceBuffer;
    const auto dx = DeviceBuffer<int32_t>::from_host(x, n, where);
    const auto dy = DeviceBuffer<int32_t>::from_host(y, n, where);
    const auto dz = DeviceBuffer<int32_t>::from_host(z, n, where);
    const auto dc = DeviceBuffer<uint8_t>::from_host(classification, n, where);
    detail::point_stats_cuda(dx.data(), dy.data(), dz.data(), dc.data(), n, where.index, nullptr,
                             acc);
#else
    detail::throw_no_cuda_support();  // unreachable: resolve() already threw
#endif
  }
  return detail::to_point_stats(acc, n);
}

}  // namespace lidarhd
