// Item decoders of the pointwise LAZ layouts (compressors 1 and 2, PDRF 0-5): POINT10, GPSTIME11,
// RGB12 and BYTE, each in version 1 (LASzip 1.x) and version 2 (laz-format.md 5.1-5.4), and
// WAVEPACKET13, whose only codec is version 1.
// make_pointwise_decoder (items.hpp) picks one of these factories.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "io/laz/items.hpp"

namespace lidarhd::laz::detail {

// Each factory expects an item whose size has already been checked (20 for POINT10, 8 for
// GPSTIME11, 6 for RGB12, at least 1 for BYTE, 29 for WAVEPACKET13).
std::unique_ptr<PointwiseItemDecoder> make_point10_v1();
std::unique_ptr<PointwiseItemDecoder> make_point10_v2();
std::unique_ptr<PointwiseItemDecoder> make_gpstime11_v1();
std::unique_ptr<PointwiseItemDecoder> make_gpstime11_v2();
std::unique_ptr<PointwiseItemDecoder> make_rgb12_v1();
std::unique_ptr<PointwiseItemDecoder> make_rgb12_v2();
std::unique_ptr<PointwiseItemDecoder> make_byte_v1(uint16_t size);
std::unique_ptr<PointwiseItemDecoder> make_byte_v2(uint16_t size);
// Serves items of version 1 (LASzip) and 2 (laz-rs): both name the same bitstream.
std::unique_ptr<PointwiseItemDecoder> make_wavepacket13_v1();

// Little-endian field access on raw records. memcpy keeps it free of alignment and aliasing UB;
// compilers turn it into single loads/stores on little-endian hosts.
namespace le {

inline bool host_is_little() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

inline uint16_t load_u16(const uint8_t* p) { return uint16_t(p[0] | (uint32_t(p[1]) << 8)); }
inline void store_u16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
inline uint32_t load_u32(const uint8_t* p) {
  if (host_is_little()) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline void store_u32(uint8_t* p, uint32_t v) {
  if (host_is_little()) {
    std::memcpy(p, &v, 4);
    return;
  }
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint64_t load_u64(const uint8_t* p) {
  return uint64_t(load_u32(p)) | (uint64_t(load_u32(p + 4)) << 32);
}
inline void store_u64(uint8_t* p, uint64_t v) {
  store_u32(p, uint32_t(v));
  store_u32(p + 4, uint32_t(v >> 32));
}

}  // namespace le

// Byte arithmetic shared by the v2 items: a residual added modulo 256, and a predictor clamped to
// a byte (laz-format.md 5, fold8/clamp8).
inline uint32_t fold8(int32_t v) { return uint32_t(v) & 0xFFu; }
inline uint32_t clamp8(int32_t v) { return v < 0 ? 0u : (v > 255 ? 255u : uint32_t(v)); }

}  // namespace lidarhd::laz::detail
