// POINT10 version 2 encoder (laz-format.md 5.1), the mirror of Point10V2 in point10.cpp: the
// same state and contexts (Point10V2Core), with the "changed" flags computed from the record.
#include <cstring>
#include <memory>

#include "io/laz/pointwise_encoders.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

using namespace point10;

class Point10V2Encoder final : public PointwiseItemEncoder {
 public:
  void init(const uint8_t* first) override { s_.init(first); }

  void encode(ArithEncoder& enc, const uint8_t* item) override {
    Point10V2Core<IntegerEncoder>& s = s_;
    const uint32_t bits = item[kBitByte];
    const Point10Returns ret(bits);
    const uint32_t m = ret.m;
    const uint32_t intensity = le::load_u16(item + kIntensity);
    const uint32_t point_source = le::load_u16(item + kPointSource);
    const uint32_t last_point_source = le::load_u16(s.last + kPointSource);

    const uint32_t changed = (uint32_t(s.last[kBitByte] != bits) << 5) |
                             (uint32_t(s.last_intensity[m] != intensity) << 4) |
                             (uint32_t(s.last[kClass] != item[kClass]) << 3) |
                             (uint32_t(s.last[kScanAngle] != item[kScanAngle]) << 2) |
                             (uint32_t(s.last[kUserData] != item[kUserData]) << 1) |
                             uint32_t(last_point_source != point_source);
    enc.encode_symbol(s.changed, changed);
    if (changed != 0) {
      if (changed & 32) enc.encode_symbol(s.bit_byte.at(s.last[kBitByte]), bits);
      if (changed & 16) {
        s.ic_intensity.encode(enc, s.last_intensity[m], int32_t(intensity),
                              ret.intensity_context());
        s.last_intensity[m] = uint16_t(intensity);
      }
      if (changed & 8) enc.encode_symbol(s.classification.at(s.last[kClass]), item[kClass]);
      if (changed & 4) {
        const uint32_t dir = (bits >> 6) & 1;
        enc.encode_symbol(s.scan_angle[dir], uint8_t(item[kScanAngle] - s.last[kScanAngle]));
      }
      if (changed & 2) enc.encode_symbol(s.user_data.at(s.last[kUserData]), item[kUserData]);
      if (changed & 1) {
        s.ic_point_source.encode(enc, int32_t(last_point_source), int32_t(point_source));
      }
    }

    // Coordinate differences wrap like the reference's int32 subtraction.
    const int32_t dx = int32_t(le::load_u32(item + kX) - le::load_u32(s.last + kX));
    s.ic_dx.encode(enc, s.median_x[m].get(), dx, ret.single);
    s.median_x[m].add(dx);

    const uint32_t kx = s.ic_dx.k();
    const int32_t dy = int32_t(le::load_u32(item + kY) - le::load_u32(s.last + kY));
    s.ic_dy.encode(enc, s.median_y[m].get(), dy, ret.dy_context(kx));
    s.median_y[m].add(dy);

    const int32_t z = int32_t(le::load_u32(item + kZ));
    s.ic_z.encode(enc, s.last_height[ret.l], z, ret.z_context(kx, s.ic_dy.k()));
    s.last_height[ret.l] = z;

    std::memcpy(s.last, item, 20);
  }

 private:
  Point10V2Core<IntegerEncoder> s_;
};

}  // namespace

std::unique_ptr<PointwiseItemEncoder> make_point10_v2_encoder() {
  return std::make_unique<Point10V2Encoder>();
}

}  // namespace lidarhd::laz::detail
