// Point statistics of a point table: bounds of the raw X/Y/Z integers and the number of points
// per classification code. The first kernel family on both devices; also what `lidarhd info`
// reports without converting coordinates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "lidarhd/core/device.hpp"

namespace lidarhd {

struct PointStats {
  uint64_t count = 0;
  // Raw (unscaled) bounds. With count == 0 they keep these sentinels (min > max).
  std::array<int32_t, 3> min{std::numeric_limits<int32_t>::max(),
                             std::numeric_limits<int32_t>::max(),
                             std::numeric_limits<int32_t>::max()};
  std::array<int32_t, 3> max{std::numeric_limits<int32_t>::min(),
                             std::numeric_limits<int32_t>::min(),
                             std::numeric_limits<int32_t>::min()};
  std::array<uint64_t, 256> class_counts{};  // indexed by classification code

  bool empty() const { return count == 0; }
};

// Columns are host memory, `n` entries each (they may be null when n == 0). The result is the
// same on every device. Throws ArgumentError on null columns, DeviceError when `device` cannot
// be used (see resolve(); no fallback here: the caller decides that).
PointStats compute_point_stats(const int32_t* x, const int32_t* y, const int32_t* z,
                               const uint8_t* classification, size_t n,
                               const Device& device = Device::cpu());

}  // namespace lidarhd
