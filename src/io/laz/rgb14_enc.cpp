// RGB14 and RGBNIR14 v3/v4 layered encoders (laz-format.md 5.6), the mirror of rgb14.cpp: the
// RGB12 v2 colour predictor with one model set and one last colour per scanner channel.
#include "io/laz/layered_encoders.hpp"

namespace lidarhd::laz::detail {
namespace {

inline int32_t clamp8(int32_t v) { return v <= 0 ? 0 : (v >= 255 ? 255 : v); }
// Residuals are coded modulo 256.
inline uint32_t fold8(int32_t v) { return uint32_t(v) & 0xFFu; }

}  // namespace

uint32_t encode_rgb(ArithEncoder& enc, RgbModels& m, const uint16_t* last, const uint16_t* cur) {
  const uint32_t lo_changed = uint32_t((last[0] ^ cur[0]) & 0xFF ? 1 : 0) |
                              uint32_t((last[1] ^ cur[1]) & 0xFF ? 4 : 0) |
                              uint32_t((last[2] ^ cur[2]) & 0xFF ? 16 : 0);
  const uint32_t hi_changed = uint32_t((last[0] ^ cur[0]) & 0xFF00 ? 2 : 0) |
                              uint32_t((last[1] ^ cur[1]) & 0xFF00 ? 8 : 0) |
                              uint32_t((last[2] ^ cur[2]) & 0xFF00 ? 32 : 0);
  const uint32_t not_grey = (cur[0] != cur[1] || cur[0] != cur[2]) ? 64u : 0u;
  const uint32_t sym = lo_changed | hi_changed | not_grey;
  enc.encode_symbol(m.byte_used, sym);

  const int32_t r_lo = cur[0] & 0xFF, r_hi = cur[0] >> 8;
  const int32_t g_lo = cur[1] & 0xFF, g_hi = cur[1] >> 8;
  const int32_t b_lo = cur[2] & 0xFF, b_hi = cur[2] >> 8;
  const int32_t lr_lo = last[0] & 0xFF, lr_hi = last[0] >> 8;
  const int32_t lg_lo = last[1] & 0xFF, lg_hi = last[1] >> 8;
  const int32_t lb_lo = last[2] & 0xFF, lb_hi = last[2] >> 8;

  int32_t d_lo = 0, d_hi = 0;
  if (sym & 1) {
    d_lo = r_lo - lr_lo;
    enc.encode_symbol(m.diff[0], fold8(d_lo));
  }
  if (sym & 2) {
    d_hi = r_hi - lr_hi;
    enc.encode_symbol(m.diff[1], fold8(d_hi));
  }
  if (sym & 64) {
    // Green is predicted from red's change, blue from the average of red's and green's
    // (truncating toward zero, as the decoder does).
    if (sym & 4) enc.encode_symbol(m.diff[2], fold8(g_lo - clamp8(d_lo + lg_lo)));
    if (sym & 16) {
      d_lo = (d_lo + (g_lo - lg_lo)) / 2;
      enc.encode_symbol(m.diff[4], fold8(b_lo - clamp8(d_lo + lb_lo)));
    }
    if (sym & 8) enc.encode_symbol(m.diff[3], fold8(g_hi - clamp8(d_hi + lg_hi)));
    if (sym & 32) {
      d_hi = (d_hi + (g_hi - lg_hi)) / 2;
      enc.encode_symbol(m.diff[5], fold8(b_hi - clamp8(d_hi + lb_hi)));
    }
  }
  return sym;
}

uint32_t encode_nir(ArithEncoder& enc, NirModels& m, uint16_t last, uint16_t cur) {
  const uint32_t sym = ((last ^ cur) & 0xFF ? 1u : 0u) | ((last ^ cur) & 0xFF00 ? 2u : 0u);
  enc.encode_symbol(m.byte_used, sym);
  if (sym & 1) enc.encode_symbol(m.diff_lo, fold8(int32_t(cur & 0xFF) - int32_t(last & 0xFF)));
  if (sym & 2) enc.encode_symbol(m.diff_hi, fold8(int32_t(cur >> 8) - int32_t(last >> 8)));
  return sym;
}

Rgb14Encoder::Rgb14Encoder(bool nir, uint16_t version) : nir_(nir), v4_(version == 4) {}

void Rgb14Encoder::start(uint32_t channel, const uint16_t* seed) {
  Context& c = ctx_[channel];
  for (int i = 0; i < 4; ++i) c.last[i] = seed[i];
  if (c.rgb)
    c.rgb->reset();
  else
    c.rgb = std::make_unique<RgbModels>();
  if (nir_) {
    if (c.nir)
      c.nir->reset();
    else
      c.nir = std::make_unique<NirModels>();
  }
  used_[channel] = true;
}

void Rgb14Encoder::init(const uint8_t* first, uint32_t& context) {
  enc_rgb_.reset();
  enc_nir_.reset();
  emit_rgb_ = emit_nir_ = false;
  for (auto& u : used_) u = false;
  uint16_t seed[4] = {load_u16(first), load_u16(first + 2), load_u16(first + 4), 0};
  if (nir_) seed[3] = load_u16(first + 6);
  current_ = context & 3;
  start(current_, seed);
}

void Rgb14Encoder::encode(const uint8_t* item, uint32_t& context) {
  uint16_t* last = switch_channel(current_, used_, v4_, ctx_, context,
                                  [this](uint32_t ch, const uint16_t* seed) { start(ch, seed); });
  Context& c = ctx_[current_];
  const uint16_t cur[4] = {load_u16(item), load_u16(item + 2), load_u16(item + 4),
                           nir_ ? load_u16(item + 6) : uint16_t(0)};
  if (encode_rgb(enc_rgb_, *c.rgb, last, cur) != 0) emit_rgb_ = true;
  if (nir_ && encode_nir(enc_nir_, *c.nir, last[3], cur[3]) != 0) emit_nir_ = true;
  for (int i = 0; i < 4; ++i) last[i] = cur[i];
}

void Rgb14Encoder::finish() {
  if (emit_rgb_) enc_rgb_.done();
  if (emit_nir_) enc_nir_.done();
}

ByteSpan Rgb14Encoder::layer(size_t i) const {
  const ArithEncoder& e = i == 0 ? enc_rgb_ : enc_nir_;
  const bool emit = i == 0 ? emit_rgb_ : (nir_ && i == 1 && emit_nir_);
  if (!emit) return {};
  return {e.bytes().data(), e.bytes().size()};
}

}  // namespace lidarhd::laz::detail
