// GPSTIME11 version 2 encoder (laz-format.md 5.2), the mirror of GpsTime11V2 in gpstime11.cpp.
// The choice of symbol follows LASzip's writer exactly (including its float32 ratio), since any
// other valid choice would still decode but would not reproduce LASzip's bytes.
#include <cstdint>
#include <memory>

#include "io/laz/pointwise_encoders.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

using namespace gps11;

// True when the 64-bit difference is a sign-extended 32-bit value.
inline bool fits_i32(uint64_t diff) { return diff + 0x80000000u < 0x100000000u; }

// LASzip rounds the float32 ratio of the deltas half away from zero (I32_QUANTIZE). Its float to
// int conversion of a ratio outside the int32 range gives INT32_MIN on x86 (cvttss2si); doing
// that explicitly keeps the bytes identical on every host, and avoids the UB of the cast.
inline int32_t quantized_ratio(int32_t diff, int32_t last_delta) {
  const float ratio = float(diff) / float(last_delta);
  const float rounded = ratio >= 0.0f ? ratio + 0.5f : ratio - 0.5f;
  if (!(rounded >= -2147483648.0f && rounded < 2147483648.0f)) return INT32_MIN;
  return int32_t(rounded);
}

// The multi-model symbol of a multiplier (the inverse of GpsTime11V2Core::multi_case).
inline uint32_t multi_symbol(int32_t multi) {
  if (multi > 0) return multi < kMulti ? uint32_t(multi) : uint32_t(kMulti);
  if (multi < 0) return uint32_t(kMulti - (multi > kMultiMinus ? multi : kMultiMinus));
  return 0;
}

class GpsTime11V2Encoder final : public PointwiseItemEncoder {
 public:
  void init(const uint8_t* first) override { s_.init(first); }

  void encode(ArithEncoder& enc, const uint8_t* item) override {
    GpsTime11V2Core<IntegerEncoder>& s = s_;
    const uint64_t t = le::load_u64(item);
    // A time that belongs to another sequence is sent as a switch, then coded there; the second
    // pass always finds a 32-bit difference, so the loop runs at most twice.
    for (int pass = 0; pass < 2; ++pass) {
      const bool no_delta = s.delta[s.last] == 0;
      SymbolModel& model = no_delta ? s.zero_diff_model : s.multi_model;
      if (t == s.time[s.last]) {
        enc.encode_symbol(model, no_delta ? 0 : kUnchanged);
        return;
      }
      const uint64_t diff64 = t - s.time[s.last];
      if (fits_i32(diff64)) {
        const int32_t diff = int32_t(uint32_t(diff64));
        if (no_delta) {
          enc.encode_symbol(model, 1);
          s.ic.encode(enc, 0, diff, 0);
          s.apply_first_delta(diff);
        } else {
          const uint32_t sym = multi_symbol(quantized_ratio(diff, s.delta[s.last]));
          enc.encode_symbol(model, sym);
          const GpsMultiCase c = s.multi_case(sym);
          s.ic.encode(enc, c.pred, diff, c.context);
          s.apply_multi(c, diff);
        }
        return;
      }
      uint32_t other = 0;
      for (uint32_t i = 1; i < 4 && other == 0; ++i) {
        if (fits_i32(t - s.time[(s.last + i) & 3])) other = i;
      }
      if (other == 0 || pass == 1) {
        // No sequence is close: open a new one, high half predicted, low half raw.
        enc.encode_symbol(model, no_delta ? 2 : kCodeFull);
        s.ic.encode(enc, s.full_high_prediction(), int32_t(uint32_t(t >> 32)), 8);
        enc.write_int(uint32_t(t));
        s.open_sequence(t);
        return;
      }
      enc.encode_symbol(model, no_delta ? other + 2 : kCodeFull + other);
      s.last = (s.last + other) & 3;
    }
  }

 private:
  GpsTime11V2Core<IntegerEncoder> s_;
};

}  // namespace

std::unique_ptr<PointwiseItemEncoder> make_gpstime11_v2_encoder() {
  return std::make_unique<GpsTime11V2Encoder>();
}

}  // namespace lidarhd::laz::detail
