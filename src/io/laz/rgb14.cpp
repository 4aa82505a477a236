// RGB14 and RGBNIR14 v3/v4 layered decoders (laz-format.md 5.6): the RGB12 v2 colour predictor
// with one model set and one last colour per scanner channel.
#include "io/laz/layered_items.hpp"

namespace lidarhd::laz::detail {
namespace {

inline uint32_t clamp8(int32_t v) { return v <= 0 ? 0u : (v >= 255 ? 255u : uint32_t(v)); }

}  // namespace

RgbModels::RgbModels() {
  diff.reserve(6);
  for (int i = 0; i < 6; ++i) diff.emplace_back(256);
}

void RgbModels::reset() {
  byte_used.reset();
  for (auto& m : diff) m.reset();
}

NirModels::NirModels() = default;

void NirModels::reset() {
  byte_used.reset();
  diff_lo.reset();
  diff_hi.reset();
}

void decode_rgb(ArithDecoder& dec, RgbModels& m, const uint16_t* last, uint16_t* out) {
  const uint32_t sym = dec.decode_symbol(m.byte_used);
  uint32_t r_lo = last[0] & 0xFF, r_hi = last[0] >> 8;
  if (sym & 1) r_lo = (r_lo + dec.decode_symbol(m.diff[0])) & 0xFF;
  if (sym & 2) r_hi = (r_hi + dec.decode_symbol(m.diff[1])) & 0xFF;
  if (!(sym & (1u << 6))) {
    // Grey: the same value in all three channels.
    out[0] = out[1] = out[2] = uint16_t(r_lo | (r_hi << 8));
    return;
  }
  uint32_t g_lo = last[1] & 0xFF, g_hi = last[1] >> 8;
  uint32_t b_lo = last[2] & 0xFF, b_hi = last[2] >> 8;
  // Green and blue are predicted from red's change; the blue average truncates toward zero.
  int32_t d = int32_t(r_lo) - int32_t(last[0] & 0xFF);
  if (sym & 4) g_lo = (clamp8(d + int32_t(g_lo)) + dec.decode_symbol(m.diff[2])) & 0xFF;
  if (sym & 16) {
    d = (d + (int32_t(g_lo) - int32_t(last[1] & 0xFF))) / 2;
    b_lo = (clamp8(d + int32_t(b_lo)) + dec.decode_symbol(m.diff[4])) & 0xFF;
  }
  d = int32_t(r_hi) - int32_t(last[0] >> 8);
  if (sym & 8) g_hi = (clamp8(d + int32_t(g_hi)) + dec.decode_symbol(m.diff[3])) & 0xFF;
  if (sym & 32) {
    d = (d + (int32_t(g_hi) - int32_t(last[1] >> 8))) / 2;
    b_hi = (clamp8(d + int32_t(b_hi)) + dec.decode_symbol(m.diff[5])) & 0xFF;
  }
  out[0] = uint16_t(r_lo | (r_hi << 8));
  out[1] = uint16_t(g_lo | (g_hi << 8));
  out[2] = uint16_t(b_lo | (b_hi << 8));
}

uint16_t decode_nir(ArithDecoder& dec, NirModels& m, uint16_t last) {
  const uint32_t sym = dec.decode_symbol(m.byte_used);
  uint32_t lo = last & 0xFF, hi = last >> 8;
  if (sym & 1) lo = (lo + dec.decode_symbol(m.diff_lo)) & 0xFF;
  if (sym & 2) hi = (hi + dec.decode_symbol(m.diff_hi)) & 0xFF;
  return uint16_t(lo | (hi << 8));
}

Rgb14Decoder::Rgb14Decoder(bool nir, uint16_t version, uint32_t layers)
    : nir_(nir),
      v4_(version == 4),
      want_rgb_((layers & kLayerRgb) != 0),
      want_nir_(nir && (layers & kLayerNir) != 0) {}

bool Rgb14Decoder::overrun() const {
  return (active_rgb_ && dec_rgb_.overrun()) || (active_nir_ && dec_nir_.overrun());
}

void Rgb14Decoder::start(uint32_t channel, const uint16_t* seed) {
  Context& c = ctx_[channel];
  for (int i = 0; i < 4; ++i) c.last[i] = seed[i];
  if (active_rgb_) {
    if (c.rgb)
      c.rgb->reset();
    else
      c.rgb = std::make_unique<RgbModels>();
  }
  if (active_nir_) {
    if (c.nir)
      c.nir->reset();
    else
      c.nir = std::make_unique<NirModels>();
  }
  used_[channel] = true;
}

void Rgb14Decoder::init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) {
  active_rgb_ = want_rgb_ && layers[0].size > 0;
  if (active_rgb_) dec_rgb_.init(layers[0].data, layers[0].size);
  active_nir_ = want_nir_ && layers[1].size > 0;
  if (active_nir_) dec_nir_.init(layers[1].data, layers[1].size);
  for (auto& u : used_) u = false;
  uint16_t seed[4] = {load_u16(first), load_u16(first + 2), load_u16(first + 4), 0};
  if (nir_) seed[3] = load_u16(first + 6);
  current_ = context & 3;
  start(current_, seed);
}

void Rgb14Decoder::decode(uint8_t* item, uint32_t& context) {
  uint16_t* last = switch_channel(current_, used_, v4_, ctx_, context,
                                  [this](uint32_t ch, const uint16_t* seed) { start(ch, seed); });
  Context& c = ctx_[current_];
  if (active_rgb_) decode_rgb(dec_rgb_, *c.rgb, last, last);
  if (active_nir_) last[3] = decode_nir(dec_nir_, *c.nir, last[3]);
  store_u16(item, last[0]);
  store_u16(item + 2, last[1]);
  store_u16(item + 4, last[2]);
  if (nir_) store_u16(item + 6, last[3]);
}

}  // namespace lidarhd::laz::detail
