// RGB12 version 2 encoder (laz-format.md 5.3), the mirror of Rgb12V2 in rgb12.cpp.
#include <memory>

#include "io/laz/pointwise_encoders.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

class Rgb12V2Encoder final : public PointwiseItemEncoder {
 public:
  void init(const uint8_t* first) override { s_.init(first); }

  void encode(ArithEncoder& enc, const uint8_t* item) override {
    Rgb12V2Core& s = s_;
    const uint32_t r = le::load_u16(item), g = le::load_u16(item + 2), b = le::load_u16(item + 4);
    const int32_t r_lo = int32_t(r & 0xFF), r_hi = int32_t(r >> 8);
    const int32_t g_lo = int32_t(g & 0xFF), g_hi = int32_t(g >> 8);
    const int32_t b_lo = int32_t(b & 0xFF), b_hi = int32_t(b >> 8);
    const int32_t r_lo_last = s.last[0] & 0xFF, r_hi_last = s.last[0] >> 8;
    const int32_t g_lo_last = s.last[1] & 0xFF, g_hi_last = s.last[1] >> 8;
    const int32_t b_lo_last = s.last[2] & 0xFF, b_hi_last = s.last[2] >> 8;

    const bool grey = r == g && r == b;
    const uint32_t sym = uint32_t(r_lo != r_lo_last) | (uint32_t(r_hi != r_hi_last) << 1) |
                         (uint32_t(g_lo != g_lo_last) << 2) | (uint32_t(g_hi != g_hi_last) << 3) |
                         (uint32_t(b_lo != b_lo_last) << 4) | (uint32_t(b_hi != b_hi_last) << 5) |
                         (uint32_t(!grey) << 6);
    enc.encode_symbol(s.byte_used, sym);
    // Unchanged red bytes count as a zero change in the green/blue predictions.
    const int32_t d_lo = r_lo - r_lo_last, d_hi = r_hi - r_hi_last;
    if (sym & 1) enc.encode_symbol(s.diff[0], fold8(d_lo));
    if (sym & 2) enc.encode_symbol(s.diff[1], fold8(d_hi));
    if (sym & 64) {
      if (sym & 4) {
        const uint32_t pred = Rgb12V2Core::green_prediction(d_lo, uint32_t(g_lo_last));
        enc.encode_symbol(s.diff[2], fold8(g_lo - int32_t(pred)));
      }
      if (sym & 16) {
        const uint32_t pred =
            Rgb12V2Core::blue_prediction(d_lo, g_lo - g_lo_last, uint32_t(b_lo_last));
        enc.encode_symbol(s.diff[4], fold8(b_lo - int32_t(pred)));
      }
      if (sym & 8) {
        const uint32_t pred = Rgb12V2Core::green_prediction(d_hi, uint32_t(g_hi_last));
        enc.encode_symbol(s.diff[3], fold8(g_hi - int32_t(pred)));
      }
      if (sym & 32) {
        const uint32_t pred =
            Rgb12V2Core::blue_prediction(d_hi, g_hi - g_hi_last, uint32_t(b_hi_last));
        enc.encode_symbol(s.diff[5], fold8(b_hi - int32_t(pred)));
      }
    }
    s.last[0] = uint16_t(r);
    s.last[1] = uint16_t(g);
    s.last[2] = uint16_t(b);
  }

 private:
  Rgb12V2Core s_;
};

}  // namespace

std::unique_ptr<PointwiseItemEncoder> make_rgb12_v2_encoder() {
  return std::make_unique<Rgb12V2Encoder>();
}

}  // namespace lidarhd::laz::detail
