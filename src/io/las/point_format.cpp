// Point data record formats 0-10: base sizes and field offsets (laz-format.md 1.3).
#include <string>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/las.hpp"

namespace lidarhd::io {

uint32_t point_format_base_size(uint8_t point_format) {
  static constexpr uint32_t kSizes[11] = {20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67};
  if (point_format > 10) {
    throw FormatError("las", "point data record format " + std::to_string(point_format) +
                                 " is not supported (LAS defines formats 0 to 10)");
  }
  return kSizes[point_format];
}

PointLayout point_layout(uint8_t point_format) {
  PointLayout l;
  l.format = point_format;
  l.base_size = point_format_base_size(point_format);
  switch (point_format) {
    case 0:
      break;
    case 1:
      l.gps_time = 20;
      break;
    case 2:
      l.rgb = 20;
      break;
    case 3:
      l.gps_time = 20;
      l.rgb = 28;
      break;
    case 4:
      l.gps_time = 20;
      l.wavepacket = 28;
      break;
    case 5:
      l.gps_time = 20;
      l.rgb = 28;
      l.wavepacket = 34;
      break;
    case 6:
      l.gps_time = 22;
      break;
    case 7:
      l.gps_time = 22;
      l.rgb = 30;
      break;
    case 8:
      l.gps_time = 22;
      l.rgb = 30;
      l.nir = 36;
      break;
    case 9:
      l.gps_time = 22;
      l.wavepacket = 30;
      break;
    default:
      l.gps_time = 22;
      l.rgb = 30;
      l.nir = 36;
      l.wavepacket = 38;
      break;  // 10
  }
  l.extended = point_format >= 6;
  return l;
}

}  // namespace lidarhd::io
