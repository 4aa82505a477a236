// RGB12 item decoders: version 2 (laz-format.md 5.3) and version 1 (LASzip 1.x).
// Colours are three u16 (R, G, B); both versions work byte by byte.
#include <memory>

#include "io/laz/pointwise_items.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

class Rgb12V2 final : public PointwiseItemDecoder {
 public:
  void init(const uint8_t* first) override { s_.init(first); }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    Rgb12V2Core& s = s_;
    const uint32_t sym = dec.decode_symbol(s.byte_used);
    const int32_t r_lo_last = s.last[0] & 0xFF, r_hi_last = s.last[0] >> 8;
    const int32_t g_lo_last = s.last[1] & 0xFF, g_hi_last = s.last[1] >> 8;
    const int32_t b_lo_last = s.last[2] & 0xFF, b_hi_last = s.last[2] >> 8;

    const int32_t r_lo = (sym & 1) ? residual(dec, 0, uint32_t(r_lo_last)) : r_lo_last;
    const int32_t r_hi = (sym & 2) ? residual(dec, 1, uint32_t(r_hi_last)) : r_hi_last;
    int32_t g_lo = r_lo, g_hi = r_hi, b_lo = r_lo, b_hi = r_hi;
    if (sym & 64) {
      // Not grey: green and blue are predicted from red's change, blue also from green's.
      const int32_t d_lo = r_lo - r_lo_last;
      g_lo =
          (sym & 4) ? residual(dec, 2, Rgb12V2Core::green_prediction(d_lo, g_lo_last)) : g_lo_last;
      b_lo = (sym & 16)
                 ? residual(dec, 4, Rgb12V2Core::blue_prediction(d_lo, g_lo - g_lo_last, b_lo_last))
                 : b_lo_last;
      const int32_t d_hi = r_hi - r_hi_last;
      g_hi =
          (sym & 8) ? residual(dec, 3, Rgb12V2Core::green_prediction(d_hi, g_hi_last)) : g_hi_last;
      b_hi = (sym & 32)
                 ? residual(dec, 5, Rgb12V2Core::blue_prediction(d_hi, g_hi - g_hi_last, b_hi_last))
                 : b_hi_last;
    }
    s.last[0] = uint16_t(r_lo | (r_hi << 8));
    s.last[1] = uint16_t(g_lo | (g_hi << 8));
    s.last[2] = uint16_t(b_lo | (b_hi << 8));
    for (int i = 0; i < 3; ++i) le::store_u16(item + 2 * i, s.last[i]);
  }

 private:
  // The byte is coded as its difference to `pred`, modulo 256.
  int32_t residual(ArithDecoder& dec, int model, uint32_t pred) {
    return int32_t(fold8(int32_t(dec.decode_symbol(s_.diff[model]) + pred)));
  }

  Rgb12V2Core s_;
};

// Version 1: each byte that changed is coded against its previous value with an 8-bit integer
// decoder, one context per byte.
class Rgb12V1 final : public PointwiseItemDecoder {
 public:
  Rgb12V1() : byte_used_(64), ic_(8, 6) {}

  void init(const uint8_t* first) override {
    for (int i = 0; i < 6; ++i) last_[i] = first[i];
    byte_used_.reset();
    ic_.reset();
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    const uint32_t sym = dec.decode_symbol(byte_used_);
    // Byte order inside the record: R lo, R hi, G lo, G hi, B lo, B hi = flag bits 0..5.
    for (uint32_t i = 0; i < 6; ++i) {
      if (sym & (1u << i)) last_[i] = uint8_t(ic_.decode(dec, last_[i], i));
      item[i] = last_[i];
    }
  }

 private:
  uint8_t last_[6] = {};
  SymbolModel byte_used_;
  IntegerDecoder ic_;
};

}  // namespace

std::unique_ptr<PointwiseItemDecoder> make_rgb12_v1() { return std::make_unique<Rgb12V1>(); }
std::unique_ptr<PointwiseItemDecoder> make_rgb12_v2() { return std::make_unique<Rgb12V2>(); }

}  // namespace lidarhd::laz::detail
