// Predictor state, models and context rules of the version 2 pointwise items (laz-format.md
// 5.1-5.4), shared by the decoders (point10.cpp, gpstime11.cpp, rgb12.cpp, byte10.cpp) and the
// encoders (*_enc.cpp). Both directions must update their state identically, point by point, so
// that state lives here once; each side only adds its own coding calls. The integer coders are
// template parameters (IntegerDecoder or IntegerEncoder) so that their shapes are declared once.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "io/laz/arith_decoder.hpp"
#include "io/laz/layered_items.hpp"  // Median5: the same LASzip filter serves POINT10 and POINT14
#include "io/laz/pointwise_items.hpp"

namespace lidarhd::laz::detail {

// ---- POINT10 v2 -------------------------------------------------------------------------------

// Record offsets of the 20-byte POINT10 layout (laz-format.md 1.3).
namespace point10 {
constexpr size_t kX = 0, kY = 4, kZ = 8, kIntensity = 12, kBitByte = 14, kClass = 15,
                 kScanAngle = 16, kUserData = 17, kPointSource = 18;
}

// Context index per (number of returns, return number); the table is part of the format.
// clang-format off
constexpr uint8_t kPoint10ReturnMap[8][8] = {
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

// 256 symbol models indexed by the previous value of a byte field. Most files only ever use a
// handful of previous values, so models are created on first use and kept (reset) across chunks;
// a reset model codes exactly like LASzip's freshly created one.
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

// The contexts one point's returns select: m (intensity and X/Y medians), l (Z level) and
// whether the pulse has a single return.
struct Point10Returns {
  uint32_t m, l, single;

  explicit Point10Returns(uint32_t bit_byte) {
    const uint32_t r = bit_byte & 7, n = (bit_byte >> 3) & 7;
    m = kPoint10ReturnMap[n][r];
    l = n > r ? n - r : r - n;
    single = n == 1 ? 1 : 0;
  }
  uint32_t intensity_context() const { return m < 3 ? m : 3; }
  // kx, ky: the bit lengths (k) of the X and Y residuals of this point.
  uint32_t dy_context(uint32_t kx) const { return single + (kx < 20 ? (kx & ~1u) : 20); }
  uint32_t z_context(uint32_t kx, uint32_t ky) const {
    const uint32_t k = (kx + ky) / 2;
    return single + (k < 18 ? (k & ~1u) : 18);
  }
};

template <class IC>
struct Point10V2Core {
  // Previous record; its intensity bytes are unused (last_intensity holds the predictions).
  uint8_t last[20] = {};
  uint16_t last_intensity[16] = {};
  int32_t last_height[8] = {};
  Median5 median_x[16], median_y[16];

  SymbolModel changed{64};
  SymbolModel scan_angle[2] = {SymbolModel(256), SymbolModel(256)};
  LazyByteModels bit_byte, classification, user_data;
  IC ic_intensity{16, 4}, ic_point_source{16, 1}, ic_dx{32, 2}, ic_dy{32, 22}, ic_z{32, 20};

  void init(const uint8_t* first) {
    for (int i = 0; i < 16; ++i) {
      median_x[i].reset();
      median_y[i].reset();
      last_intensity[i] = 0;
    }
    for (auto& h : last_height) h = 0;
    changed.reset();
    scan_angle[0].reset();
    scan_angle[1].reset();
    bit_byte.reset();
    classification.reset();
    user_data.reset();
    ic_intensity.reset();
    ic_point_source.reset();
    ic_dx.reset();
    ic_dy.reset();
    ic_z.reset();
    std::memcpy(last, first, 20);
    // Intensity predictions start from 0, not from the raw point.
    last[point10::kIntensity] = last[point10::kIntensity + 1] = 0;
  }
};

// ---- GPSTIME11 v2 -----------------------------------------------------------------------------

namespace gps11 {
constexpr int32_t kMulti = 500;
constexpr int32_t kMultiMinus = -10;
constexpr uint32_t kUnchanged = kMulti - kMultiMinus + 1;   // 511
constexpr uint32_t kCodeFull = kMulti - kMultiMinus + 2;    // 512
constexpr uint32_t kMultiTotal = kMulti - kMultiMinus + 6;  // 516

// Multiplies a 32-bit delta like the reference's int32 product (wrapping, no UB).
inline int32_t times(int32_t multi, int32_t delta) {
  return int32_t(uint32_t(multi) * uint32_t(delta));
}
inline uint64_t add_delta(uint64_t time, int32_t delta) { return time + uint64_t(int64_t(delta)); }
}  // namespace gps11

// What a multi symbol below kUnchanged means: the prediction and context of the coded delta,
// and what it does to the sequence's extreme counter.
struct GpsMultiCase {
  enum Counter : uint8_t { kKeep, kReset, kExtreme };
  int32_t pred;
  uint32_t context;
  Counter counter;
};

// Up to four interleaved time sequences (e.g. several flight lines), times as f64 bit patterns.
template <class IC>
struct GpsTime11V2Core {
  uint64_t time[4] = {};
  int32_t delta[4] = {};
  uint32_t extreme[4] = {};
  uint32_t last = 0, next = 0;
  SymbolModel multi_model{gps11::kMultiTotal}, zero_diff_model{6};
  IC ic{32, 9};

  void init(const uint8_t* first) {
    last = next = 0;
    for (int i = 0; i < 4; ++i) {
      time[i] = 0;
      delta[i] = 0;
      extreme[i] = 0;
    }
    time[0] = le::load_u64(first);
    multi_model.reset();
    zero_diff_model.reset();
    ic.reset();
  }

  // `sym` < kUnchanged, coded while the current sequence has a non-zero delta.
  GpsMultiCase multi_case(uint32_t sym) const {
    using namespace gps11;
    const int32_t d = delta[last];
    if (sym == 1) return {d, 1, GpsMultiCase::kReset};
    if (sym == 0) return {0, 7, GpsMultiCase::kExtreme};
    if (sym < uint32_t(kMulti))
      return {times(int32_t(sym), d), sym < 10 ? 2u : 3u, GpsMultiCase::kKeep};
    if (sym == uint32_t(kMulti)) return {times(kMulti, d), 4, GpsMultiCase::kExtreme};
    const int32_t multi = kMulti - int32_t(sym);
    if (multi > kMultiMinus) return {times(multi, d), 5, GpsMultiCase::kKeep};
    return {times(kMultiMinus, d), 6, GpsMultiCase::kExtreme};
  }
  // After a multi-coded delta `diff`: advances the time; four extreme multiples in a row make
  // `diff` the sequence's new delta.
  void apply_multi(const GpsMultiCase& c, int32_t diff) {
    time[last] = gps11::add_delta(time[last], diff);
    if (c.counter == GpsMultiCase::kReset) {
      extreme[last] = 0;
    } else if (c.counter == GpsMultiCase::kExtreme && ++extreme[last] > 3) {
      delta[last] = diff;
      extreme[last] = 0;
    }
  }
  // After a delta coded while the sequence delta was 0 (zero-diff symbol 1).
  void apply_first_delta(int32_t diff) {
    delta[last] = diff;
    time[last] = gps11::add_delta(time[last], diff);
    extreme[last] = 0;
  }
  // The high half of a new sequence's time is predicted from the current sequence.
  int32_t full_high_prediction() const { return int32_t(uint32_t(time[last] >> 32)); }
  // A time that fits no sequence's 32-bit delta opens the next slot.
  void open_sequence(uint64_t t) {
    next = (next + 1) & 3;
    last = next;
    time[last] = t;
    delta[last] = 0;
    extreme[last] = 0;
  }
};

// ---- RGB12 v2 ---------------------------------------------------------------------------------

struct Rgb12V2Core {
  uint16_t last[3] = {};  // R, G, B
  SymbolModel byte_used{128};
  SymbolModel diff[6] = {SymbolModel(256), SymbolModel(256), SymbolModel(256),
                         SymbolModel(256), SymbolModel(256), SymbolModel(256)};

  void init(const uint8_t* first) {
    for (int i = 0; i < 3; ++i) last[i] = le::load_u16(first + 2 * i);
    byte_used.reset();
    for (auto& m : diff) m.reset();
  }
  // Green's byte is predicted from red's change of the same byte, blue's from the mean of red's
  // and green's changes (C division, truncating toward zero).
  static uint32_t green_prediction(int32_t d_red, uint32_t last_green) {
    return clamp8(d_red + int32_t(last_green));
  }
  static uint32_t blue_prediction(int32_t d_red, int32_t d_green, uint32_t last_blue) {
    return clamp8((d_red + d_green) / 2 + int32_t(last_blue));
  }
};

// ---- BYTE v2 ----------------------------------------------------------------------------------

struct ByteV2Core {
  std::vector<uint8_t> last;
  std::vector<SymbolModel> models;  // one per byte position

  explicit ByteV2Core(uint16_t size) : last(size) {
    models.reserve(size);
    for (uint16_t i = 0; i < size; ++i) models.emplace_back(256);
  }
  void init(const uint8_t* first) {
    std::memcpy(last.data(), first, last.size());
    for (auto& m : models) m.reset();
  }
};

}  // namespace lidarhd::laz::detail
