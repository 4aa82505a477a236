// Layered (compressor 3) item decoders for PDRF 6-10: POINT14, RGB14, RGBNIR14, BYTE14 and
// WAVEPACKET14, versions 3 and 4 (laz-format.md 5.5-5.6). Declared here, rather than hidden in
// their .cpp files, so that the chunk decoder can call POINT14 without a virtual dispatch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

#include "io/laz/arith_decoder.hpp"
#include "io/laz/items.hpp"

namespace lidarhd::laz::detail {

// Running approximate median of the last five values, bit-exact with LASzip's StreamingMedian5:
// the sorted window drops its top or bottom element depending on which side of the middle the
// previous insertions landed.
struct Median5 {
  int32_t v[5] = {0, 0, 0, 0, 0};
  bool high = true;

  void reset() {
    for (auto& x : v) x = 0;
    high = true;
  }
  int32_t get() const { return v[2]; }
  void add(int32_t x) {
    if (high) {
      if (x < v[2]) {
        v[4] = v[3];
        v[3] = v[2];
        if (x < v[0]) {
          v[2] = v[1];
          v[1] = v[0];
          v[0] = x;
        } else if (x < v[1]) {
          v[2] = v[1];
          v[1] = x;
        } else {
          v[2] = x;
        }
      } else {
        if (x < v[3]) {
          v[4] = v[3];
          v[3] = x;
        } else {
          v[4] = x;
        }
        high = false;
      }
    } else {
      if (v[2] < x) {
        v[0] = v[1];
        v[1] = v[2];
        if (v[4] < x) {
          v[2] = v[3];
          v[3] = v[4];
          v[4] = x;
        } else if (v[3] < x) {
          v[2] = v[3];
          v[3] = x;
        } else {
          v[2] = x;
        }
      } else {
        if (v[1] < x) {
          v[0] = v[1];
          v[1] = x;
        } else {
          v[0] = x;
        }
        high = true;
      }
    }
  }
};

// A symbol model that LASzip creates on first use inside a chunk. Kept allocated across chunks
// (decoders are reused) and reset instead of reallocated; `live` says whether it was touched
// since the last chunk start.
struct LazyModel {
  std::unique_ptr<SymbolModel> model;
  bool live = false;

  SymbolModel& get(uint32_t symbols) {
    if (!live) activate(symbols);
    return *model;
  }
  void activate(uint32_t symbols);
};

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void store_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void store_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// ---------------------------------------------------------------------------------------------
// POINT14 (30 bytes, PDRF 6 base), 9 layers.

// The fields of one point that the predictors look at, unpacked from the 30-byte record.
struct Point14Fields {
  uint32_t x = 0, y = 0, z = 0;  // unsigned: coordinate deltas wrap
  uint16_t intensity = 0;
  uint8_t ret = 0, nret = 0;  // return number, number of returns (4 bits each)
  uint8_t flags15 = 0;        // byte 15: class flags | channel << 4 | scan dir << 6 | edge << 7
  uint8_t classification = 0, user_data = 0;
  uint16_t scan_angle = 0, point_source = 0;
  uint64_t gps = 0;          // bit pattern of the f64
  bool gps_changed = false;  // not in the record: "GPS time changed" of this point

  void load(const uint8_t* rec);
  void store(uint8_t* rec) const {
    store_u32(rec + 0, x);
    store_u32(rec + 4, y);
    store_u32(rec + 8, z);
    store_u16(rec + 12, intensity);
    rec[14] = uint8_t(ret | (nret << 4));
    rec[15] = flags15;
    rec[16] = classification;
    rec[17] = user_data;
    store_u16(rec + 18, scan_angle);
    store_u16(rec + 20, point_source);
    store_u64(rec + 22, gps);
  }
};

// Context for X/Y medians, by [number of returns][return number] (laz-format.md 5.5
// number_return_map_6ctx). Shared by the POINT14 decoder and encoder.
inline constexpr uint8_t kPoint14ReturnMap[16][16] = {
    {0, 1, 2, 3, 4, 5, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5},
    {1, 0, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
    {2, 1, 2, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3},
    {3, 3, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
    {4, 3, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
    {5, 3, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
    {3, 3, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4},
    {4, 3, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4},
    {4, 3, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4},
    {5, 3, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4},
    {5, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 4, 4, 4},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4, 4},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5},
};

// Return level |n - r| capped at 7, the slot of the Z predictor.
inline uint32_t point14_return_level(uint32_t n, uint32_t r) {
  const uint32_t d = n > r ? n - r : r - n;
  return d < 7 ? d : 7;
}

// GPS time symbols of the v3 multi model: 0..499 multiplier of the last delta, 500 for 500 and
// above, 501..509 multipliers -1..-9, 510 for -10 and below, 511 new sequence, 512..514 switch
// to another sequence.
constexpr uint32_t kGps14Multi = 500;
constexpr uint32_t kGps14CodeFull = 511;

inline int32_t wrap_mul32(int32_t a, int32_t b) { return int32_t(uint32_t(a) * uint32_t(b)); }

// Everything one scanner channel remembers and adapts (laz-format.md 5.5 "Contexts") except the
// integer coders, so that the decoder and the encoder share it.
struct Point14State {
  Point14State();

  Point14Fields last;
  uint32_t last_z[8];
  uint16_t last_intensity[8];
  Median5 median_x[12], median_y[12];
  uint64_t gps_seq[4];
  int32_t gps_diff[4];
  int32_t gps_extreme[4];
  uint32_t gps_last = 0, gps_next = 0;

  std::vector<SymbolModel> changed;  // 8 x 128, by last point's return context
  SymbolModel scanner_channel{3};
  SymbolModel return_gps_same{13};
  SymbolModel gps_multi{515};
  SymbolModel gps_0diff{5};
  LazyModel number_of_returns[16], return_number[16];
  LazyModel classification[64], flags[64], user_data[64];

  // Starts predictors and symbol models for a chunk from a seed point.
  void start_state(const Point14Fields& seed);
};

// IntCoder is IntegerDecoder or IntegerEncoder (same constructor arguments, same reset()).
template <class IntCoder>
struct Point14ContextT : Point14State {
  IntCoder ic_dx{32, 2}, ic_dy{32, 22}, ic_z{32, 20};
  IntCoder ic_intensity{16, 4}, ic_scan_angle{16, 2}, ic_point_source{16, 1};
  IntCoder ic_gps{32, 9};

  // Starts this context for a chunk from a seed point (fresh models, predictors from the seed).
  void start(const Point14Fields& seed) {
    start_state(seed);
    ic_dx.reset();
    ic_dy.reset();
    ic_z.reset();
    ic_intensity.reset();
    ic_scan_angle.reset();
    ic_point_source.reset();
    ic_gps.reset();
  }
};
using Point14Context = Point14ContextT<IntegerDecoder>;

class Point14Decoder final : public LayeredItemDecoder {
 public:
  static constexpr size_t kLayers = 9;
  Point14Decoder(uint16_t version, uint32_t layers);

  size_t num_layers() const override { return kLayers; }
  void init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) override;
  void decode(uint8_t* item, uint32_t& context) override { decode_point(item, context); }
  bool overrun() const override;

  // Non-virtual entry for the chunk loop.
  void decode_point(uint8_t* item, uint32_t& context);

 private:
  Point14Context& context_for(uint32_t channel, const Point14Fields& seed);
  void decode_gps(Point14Context& c);

  bool v4_;
  uint32_t requested_;  // LayerBits of this item
  // Layer index: 0 XY/returns/channel, 1 Z, 2 classification, 3 flags, 4 intensity,
  // 5 scan angle, 6 user data, 7 point source, 8 GPS time.
  ArithDecoder dec_[kLayers];
  bool active_[kLayers] = {};
  bool corrupt_ = false;
  uint32_t current_ = 0;
  bool used_[4] = {};
  std::unique_ptr<Point14Context> ctx_[4];
};

// ---------------------------------------------------------------------------------------------
// RGB14 / RGBNIR14 / BYTE14 / WAVEPACKET14: per-channel contexts driven by the POINT14 hand-off.

struct RgbModels {
  RgbModels();
  void reset();
  SymbolModel byte_used{128};
  std::vector<SymbolModel> diff;  // 6 x 256
};

struct NirModels {
  NirModels();
  void reset();
  SymbolModel byte_used{4};
  SymbolModel diff_lo{256}, diff_hi{256};
};

// The scanner-channel switch of the RGB14, BYTE14 and WAVEPACKET14 coders (laz-format.md 5.6),
// decoder and encoder alike. `ctx` holds one Context per channel, each with a `last` array or
// vector; `start(channel, seed)` starts a channel from seed values. Returns the last values to
// predict from (and update): a channel new to the chunk starts from the current ones; version 4
// then predicts from the new channel's own; version 3 (LASzip's quirk, kept for bit-exactness)
// takes an existing channel's models but predicts from the previous channel's values.
template <class Context, class Start>
auto* switch_channel(uint32_t& current, const bool (&used)[4], bool v4, Context (&ctx)[4],
                     uint32_t context, Start&& start) {
  auto* last = std::data(ctx[current].last);
  if (current != context) {
    current = context & 3;
    if (!used[current]) {
      start(current, last);
      last = std::data(ctx[current].last);
    } else if (v4) {
      last = std::data(ctx[current].last);
    }
  }
  return last;
}

// WAVEPACKET14 models and per-channel state; IntCoder is IntegerDecoder or IntegerEncoder.
template <class IntCoder>
struct Wavepacket14Models {
  Wavepacket14Models() {
    offset_diff.reserve(4);
    for (int i = 0; i < 4; ++i) offset_diff.emplace_back(4);
  }
  void reset() {
    packet_index.reset();
    for (auto& m : offset_diff) m.reset();
    ic_offset_diff.reset();
    ic_packet_size.reset();
    ic_return_point.reset();
    ic_xyz.reset();
  }
  SymbolModel packet_index{256};
  std::vector<SymbolModel> offset_diff;  // 4 x 4, by last offset symbol
  IntCoder ic_offset_diff{32, 1}, ic_packet_size{32, 1}, ic_return_point{32, 1};
  IntCoder ic_xyz{32, 3};
};

template <class IntCoder>
struct Wavepacket14Context {
  uint8_t last[29] = {};
  int32_t last_diff_32 = 0;
  uint32_t sym_last_offset_diff = 0;
  std::unique_ptr<Wavepacket14Models<IntCoder>> models;
};

// Decodes one RGB triple predicted from `last` (RGB12 v2 algorithm, laz-format.md 5.3).
void decode_rgb(ArithDecoder& dec, RgbModels& m, const uint16_t* last, uint16_t* out);
// Decodes one NIR value predicted from `last`.
uint16_t decode_nir(ArithDecoder& dec, NirModels& m, uint16_t last);

// RGB14 (6 bytes, 1 layer) and RGBNIR14 (8 bytes, 2 layers: RGB then NIR).
class Rgb14Decoder final : public LayeredItemDecoder {
 public:
  Rgb14Decoder(bool nir, uint16_t version, uint32_t layers);
  size_t num_layers() const override { return nir_ ? 2 : 1; }
  void init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) override;
  void decode(uint8_t* item, uint32_t& context) override;
  bool overrun() const override;

 private:
  struct Context {
    uint16_t last[4] = {0, 0, 0, 0};  // R, G, B, NIR
    std::unique_ptr<RgbModels> rgb;
    std::unique_ptr<NirModels> nir;
  };
  void start(uint32_t channel, const uint16_t* seed);

  bool nir_, v4_, want_rgb_, want_nir_;
  ArithDecoder dec_rgb_, dec_nir_;
  bool active_rgb_ = false, active_nir_ = false;
  uint32_t current_ = 0;
  bool used_[4] = {};
  Context ctx_[4];
};

// BYTE14: n extra bytes, one layer (and one coder) per byte.
class Byte14Decoder final : public LayeredItemDecoder {
 public:
  Byte14Decoder(uint16_t size, uint16_t version, uint32_t layers);
  size_t num_layers() const override { return size_; }
  void init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) override;
  void decode(uint8_t* item, uint32_t& context) override;
  bool overrun() const override;

 private:
  struct Context {
    std::vector<uint8_t> last;
    std::vector<SymbolModel> models;  // one per byte, 256 symbols; empty until first used
  };
  void start(uint32_t channel, const uint8_t* seed);

  size_t size_;
  bool v4_, requested_;
  std::vector<ArithDecoder> dec_;
  std::vector<uint8_t> active_;
  std::vector<size_t> active_list_;  // indices of decoded bytes, for the hot loop
  uint32_t current_ = 0;
  bool used_[4] = {};
  Context ctx_[4];
};

// WAVEPACKET14 (29 bytes, 1 layer).
class Wavepacket14Decoder final : public LayeredItemDecoder {
 public:
  Wavepacket14Decoder(uint16_t version, uint32_t layers);
  size_t num_layers() const override { return 1; }
  void init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) override;
  void decode(uint8_t* item, uint32_t& context) override;
  bool overrun() const override { return active_ && dec_.overrun(); }

 private:
  using Models = Wavepacket14Models<IntegerDecoder>;
  using Context = Wavepacket14Context<IntegerDecoder>;
  void start(uint32_t channel, const uint8_t* seed);

  bool v4_, requested_;
  ArithDecoder dec_;
  bool active_ = false;
  uint32_t current_ = 0;
  bool used_[4] = {};
  Context ctx_[4];
};

}  // namespace lidarhd::laz::detail
