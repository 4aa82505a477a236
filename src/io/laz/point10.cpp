// POINT10 item decoders: version 2 (laz-format.md 5.1) and version 1 (LASzip 1.x, compressor 1).
// Both keep the previous 20-byte record and patch the fields the stream says have changed.
#include <cstring>
#include <memory>

#include "io/laz/pointwise_items.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

using namespace point10;

class Point10V2 final : public PointwiseItemDecoder {
 public:
  void init(const uint8_t* first) override { s_.init(first); }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    Point10V2Core<IntegerDecoder>& s = s_;
    const uint32_t changed = dec.decode_symbol(s.changed);
    uint32_t bits = s.last[kBitByte];
    if (changed & 32) {
      bits = dec.decode_symbol(s.bit_byte.at(uint8_t(bits)));
      s.last[kBitByte] = uint8_t(bits);
    }
    const Point10Returns ret(bits);
    const uint32_t m = ret.m;
    if (changed != 0) {
      if (changed & 16) {
        const int32_t pred = s.last_intensity[m];
        s.last_intensity[m] = uint16_t(s.ic_intensity.decode(dec, pred, ret.intensity_context()));
      }
      le::store_u16(s.last + kIntensity, s.last_intensity[m]);
      if (changed & 8) {
        s.last[kClass] = uint8_t(dec.decode_symbol(s.classification.at(s.last[kClass])));
      }
      if (changed & 4) {
        const uint32_t dir = (bits >> 6) & 1;
        s.last[kScanAngle] = uint8_t(dec.decode_symbol(s.scan_angle[dir]) + s.last[kScanAngle]);
      }
      if (changed & 2) {
        s.last[kUserData] = uint8_t(dec.decode_symbol(s.user_data.at(s.last[kUserData])));
      }
      if (changed & 1) {
        const int32_t pred = le::load_u16(s.last + kPointSource);
        le::store_u16(s.last + kPointSource, uint32_t(s.ic_point_source.decode(dec, pred)));
      }
    }

    const int32_t dx = s.ic_dx.decode(dec, s.median_x[m].get(), ret.single);
    le::store_u32(s.last + kX, le::load_u32(s.last + kX) + uint32_t(dx));
    s.median_x[m].add(dx);

    const uint32_t kx = s.ic_dx.k();
    const int32_t dy = s.ic_dy.decode(dec, s.median_y[m].get(), ret.dy_context(kx));
    le::store_u32(s.last + kY, le::load_u32(s.last + kY) + uint32_t(dy));
    s.median_y[m].add(dy);

    const int32_t z = s.ic_z.decode(dec, s.last_height[ret.l], ret.z_context(kx, s.ic_dy.k()));
    le::store_u32(s.last + kZ, uint32_t(z));
    s.last_height[ret.l] = z;

    std::memcpy(item, s.last, 20);
  }

 private:
  Point10V2Core<IntegerDecoder> s_;
};

// Version 1 predicts X/Y from the median of the last three differences and codes the other
// fields after the coordinates.
class Point10V1 final : public PointwiseItemDecoder {
 public:
  Point10V1()
      : changed_(64),
        ic_dx_(32, 1),
        ic_dy_(32, 20),
        ic_z_(32, 20),
        ic_intensity_(16, 1),
        ic_scan_angle_(8, 2),
        ic_point_source_(16, 1) {}

  void init(const uint8_t* first) override {
    for (int i = 0; i < 3; ++i) last_dx_[i] = last_dy_[i] = 0;
    next_slot_ = 0;
    changed_.reset();
    bit_byte_.reset();
    classification_.reset();
    user_data_.reset();
    ic_dx_.reset();
    ic_dy_.reset();
    ic_z_.reset();
    ic_intensity_.reset();
    ic_scan_angle_.reset();
    ic_point_source_.reset();
    std::memcpy(last_, first, 20);
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    const int32_t dx = ic_dx_.decode(dec, median3(last_dx_));
    le::store_u32(last_ + kX, le::load_u32(last_ + kX) + uint32_t(dx));
    const uint32_t kx = ic_dx_.k();
    const int32_t dy = ic_dy_.decode(dec, median3(last_dy_), kx < 19 ? kx : 19);
    le::store_u32(last_ + kY, le::load_u32(last_ + kY) + uint32_t(dy));
    const uint32_t k = (kx + ic_dy_.k()) / 2;
    const int32_t z = ic_z_.decode(dec, int32_t(le::load_u32(last_ + kZ)), k < 19 ? k : 19);
    le::store_u32(last_ + kZ, uint32_t(z));

    const uint32_t changed = dec.decode_symbol(changed_);
    if (changed != 0) {
      if (changed & 32) {
        const int32_t pred = le::load_u16(last_ + kIntensity);
        le::store_u16(last_ + kIntensity, uint32_t(ic_intensity_.decode(dec, pred)));
      }
      if (changed & 16) {
        last_[kBitByte] = uint8_t(dec.decode_symbol(bit_byte_.at(last_[kBitByte])));
      }
      if (changed & 8) {
        last_[kClass] = uint8_t(dec.decode_symbol(classification_.at(last_[kClass])));
      }
      if (changed & 4) {
        // Predicted from the unsigned byte and wrapped into 0..255 by the 8-bit decoder.
        last_[kScanAngle] = uint8_t(ic_scan_angle_.decode(dec, last_[kScanAngle], k < 3 ? 1 : 0));
      }
      if (changed & 2) {
        last_[kUserData] = uint8_t(dec.decode_symbol(user_data_.at(last_[kUserData])));
      }
      if (changed & 1) {
        const int32_t pred = le::load_u16(last_ + kPointSource);
        le::store_u16(last_ + kPointSource, uint32_t(ic_point_source_.decode(dec, pred)));
      }
    }

    last_dx_[next_slot_] = dx;
    last_dy_[next_slot_] = dy;
    next_slot_ = next_slot_ == 2 ? 0 : next_slot_ + 1;
    std::memcpy(item, last_, 20);
  }

 private:
  static int32_t median3(const int32_t* v) {
    const int32_t a = v[0], b = v[1], c = v[2];
    if (a < b) return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
  }

  uint8_t last_[20] = {};
  int32_t last_dx_[3] = {}, last_dy_[3] = {};
  uint32_t next_slot_ = 0;
  SymbolModel changed_;
  LazyByteModels bit_byte_, classification_, user_data_;
  IntegerDecoder ic_dx_, ic_dy_, ic_z_, ic_intensity_, ic_scan_angle_, ic_point_source_;
};

}  // namespace

std::unique_ptr<PointwiseItemDecoder> make_point10_v1() { return std::make_unique<Point10V1>(); }
std::unique_ptr<PointwiseItemDecoder> make_point10_v2() { return std::make_unique<Point10V2>(); }

}  // namespace lidarhd::laz::detail
