// POINT10 item decoders: version 2 (laz-format.md 5.1) and version 1 (LASzip 1.x, compressor 1).
// Both keep the previous 20-byte record and patch the fields the stream says have changed.
#include <array>
#include <cstring>
#include <memory>

#include "io/laz/pointwise_items.hpp"

namespace lidarhd::laz::detail {
namespace {

// Record offsets of the 20-byte POINT10 layout (laz-format.md 1.3).
constexpr size_t kX = 0, kY = 4, kZ = 8, kIntensity = 12, kBitByte = 14, kClass = 15,
                 kScanAngle = 16, kUserData = 17, kPointSource = 18;

// Context index per (number of returns, return number); the table is part of the format.
// clang-format off
constexpr uint8_t kReturnMap[8][8] = {
    {15, 14, 13, 12, 11, 10,  9,  8},
    {14,  0,  1,  3,  6, 10, 10,  9},
    {13,  1,  2,  4,  7, 11, 11, 10},
    {12,  3,  4,  5,  8, 12, 12, 11},
    {11,  6,  7,  8,  9, 13, 13, 12},
    {10, 10, 11, 12, 13, 14, 14, 13},
    { 9, 10, 11, 12, 13, 14, 15, 14},
    { 8,  9, 10, 11, 12, 13, 14, 15},
};
// clang-format on

// Approximate running median of the last differences. LASzip's exact insertion rule decides the
// predictions, so it is reproduced as is rather than replaced by a true median.
class Median5 {
 public:
  void reset() {
    v_[0] = v_[1] = v_[2] = v_[3] = v_[4] = 0;
    high_ = true;
  }
  int32_t get() const { return v_[2]; }
  void add(int32_t x) {
    if (high_) {
      if (x < v_[2]) {
        v_[4] = v_[3];
        v_[3] = v_[2];
        if (x < v_[0]) {
          v_[2] = v_[1];
          v_[1] = v_[0];
          v_[0] = x;
        } else if (x < v_[1]) {
          v_[2] = v_[1];
          v_[1] = x;
        } else {
          v_[2] = x;
        }
      } else {
        if (x < v_[3]) {
          v_[4] = v_[3];
          v_[3] = x;
        } else {
          v_[4] = x;
        }
        high_ = false;
      }
    } else {
      if (v_[2] < x) {
        v_[0] = v_[1];
        v_[1] = v_[2];
        if (v_[4] < x) {
          v_[2] = v_[3];
          v_[3] = v_[4];
          v_[4] = x;
        } else if (v_[3] < x) {
          v_[2] = v_[3];
          v_[3] = x;
        } else {
          v_[2] = x;
        }
      } else {
        if (v_[1] < x) {
          v_[0] = v_[1];
          v_[1] = x;
        } else {
          v_[0] = x;
        }
        high_ = true;
      }
    }
  }

 private:
  int32_t v_[5] = {0, 0, 0, 0, 0};
  bool high_ = true;
};

// 256 symbol models indexed by the previous value of a byte field. Most files only ever use a
// handful of previous values, so models are created on first use and kept (reset) across chunks.
class LazyByteModels {
 public:
  SymbolModel& at(uint8_t prev) {
    auto& m = models_[prev];
    if (!m) m = std::make_unique<SymbolModel>(256);
    return *m;
  }
  void reset() {
    for (auto& m : models_)
      if (m) m->reset();
  }

 private:
  std::array<std::unique_ptr<SymbolModel>, 256> models_;
};

inline int32_t as_i32(uint32_t v) { return int32_t(v); }

class Point10V2 final : public PointwiseItemDecoder {
 public:
  Point10V2()
      : changed_(64),
        scan_angle_{SymbolModel(256), SymbolModel(256)},
        ic_intensity_(16, 4),
        ic_point_source_(16, 1),
        ic_dx_(32, 2),
        ic_dy_(32, 22),
        ic_z_(32, 20) {}

  void init(const uint8_t* first) override {
    for (int i = 0; i < 16; ++i) {
      median_x_[i].reset();
      median_y_[i].reset();
      last_intensity_[i] = 0;
    }
    for (auto& h : last_height_) h = 0;
    changed_.reset();
    scan_angle_[0].reset();
    scan_angle_[1].reset();
    bit_byte_.reset();
    classification_.reset();
    user_data_.reset();
    ic_intensity_.reset();
    ic_point_source_.reset();
    ic_dx_.reset();
    ic_dy_.reset();
    ic_z_.reset();
    std::memcpy(last_, first, 20);
    // The encoder's "intensity unchanged" state starts from 0, not from the raw point.
    last_[kIntensity] = last_[kIntensity + 1] = 0;
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    const uint32_t changed = dec.decode_symbol(changed_);
    uint32_t bits = last_[kBitByte];
    if (changed != 0) {
      if (changed & 32) {
        bits = dec.decode_symbol(bit_byte_.at(uint8_t(bits)));
        last_[kBitByte] = uint8_t(bits);
      }
      const uint32_t m = kReturnMap[(bits >> 3) & 7][bits & 7];
      if (changed & 16) {
        const int32_t pred = last_intensity_[m];
        last_intensity_[m] = uint16_t(ic_intensity_.decode(dec, pred, m < 3 ? m : 3));
      }
      le::store_u16(last_ + kIntensity, last_intensity_[m]);
      if (changed & 8) {
        last_[kClass] = uint8_t(dec.decode_symbol(classification_.at(last_[kClass])));
      }
      if (changed & 4) {
        const uint32_t dir = (bits >> 6) & 1;
        last_[kScanAngle] = uint8_t(dec.decode_symbol(scan_angle_[dir]) + last_[kScanAngle]);
      }
      if (changed & 2) {
        last_[kUserData] = uint8_t(dec.decode_symbol(user_data_.at(last_[kUserData])));
      }
      if (changed & 1) {
        const int32_t pred = le::load_u16(last_ + kPointSource);
        le::store_u16(last_ + kPointSource, uint32_t(ic_point_source_.decode(dec, pred)));
      }
    }
    const uint32_t r = bits & 7, n = (bits >> 3) & 7;
    const uint32_t m = kReturnMap[n][r];
    const uint32_t l = n > r ? n - r : r - n;
    const uint32_t single = n == 1 ? 1 : 0;

    const int32_t dx = ic_dx_.decode(dec, median_x_[m].get(), single);
    le::store_u32(last_ + kX, le::load_u32(last_ + kX) + uint32_t(dx));
    median_x_[m].add(dx);

    const uint32_t kx = ic_dx_.k();
    const int32_t dy = ic_dy_.decode(dec, median_y_[m].get(), single + (kx < 20 ? (kx & ~1u) : 20));
    le::store_u32(last_ + kY, le::load_u32(last_ + kY) + uint32_t(dy));
    median_y_[m].add(dy);

    const uint32_t kz = (kx + ic_dy_.k()) / 2;
    const int32_t z = ic_z_.decode(dec, last_height_[l], single + (kz < 18 ? (kz & ~1u) : 18));
    le::store_u32(last_ + kZ, uint32_t(z));
    last_height_[l] = z;

    std::memcpy(item, last_, 20);
  }

 private:
  uint8_t last_[20] = {};
  uint16_t last_intensity_[16] = {};
  int32_t last_height_[8] = {};
  Median5 median_x_[16], median_y_[16];
  SymbolModel changed_;
  SymbolModel scan_angle_[2];
  LazyByteModels bit_byte_, classification_, user_data_;
  IntegerDecoder ic_intensity_, ic_point_source_, ic_dx_, ic_dy_, ic_z_;
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
    const int32_t z = ic_z_.decode(dec, as_i32(le::load_u32(last_ + kZ)), k < 19 ? k : 19);
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
