// BYTE14 and WAVEPACKET14 v3/v4 layered encoders (laz-format.md 5.6), the mirrors of byte14.cpp
// and wavepacket14.cpp. Both keep one model set and one last value per scanner channel,
// switched by the POINT14 hand-off.
#include <cstring>

#include "io/laz/layered_encoders.hpp"

namespace lidarhd::laz::detail {

// ---------------------------------------------------------------------------------------------
// BYTE14: one layer (and one coder) per extra byte.

Byte14Encoder::Byte14Encoder(uint16_t size, uint16_t version)
    : size_(size), v4_(version == 4), enc_(size), emit_(size, 0) {}

void Byte14Encoder::start(uint32_t channel, const uint8_t* seed) {
  Context& c = ctx_[channel];
  c.last.assign(seed, seed + size_);
  if (c.models.empty()) {
    c.models.reserve(size_);
    for (size_t i = 0; i < size_; ++i) c.models.emplace_back(256);
  } else {
    for (auto& m : c.models) m.reset();
  }
  used_[channel] = true;
}

void Byte14Encoder::init(const uint8_t* first, uint32_t& context) {
  for (auto& e : enc_) e.reset();
  for (auto& e : emit_) e = 0;
  for (auto& u : used_) u = false;
  current_ = context & 3;
  start(current_, first);
}

void Byte14Encoder::encode(const uint8_t* item, uint32_t& context) {
  uint8_t* last = switch_channel(current_, used_, v4_, ctx_, context,
                                 [this](uint32_t ch, const uint8_t* seed) { start(ch, seed); });
  SymbolModel* models = ctx_[current_].models.data();
  for (size_t i = 0; i < size_; ++i) {
    const uint32_t diff = uint32_t(item[i] - last[i]) & 0xFFu;
    enc_[i].encode_symbol(models[i], diff);
    if (diff != 0) {
      emit_[i] = 1;
      last[i] = item[i];
    }
  }
}

void Byte14Encoder::finish() {
  for (size_t i = 0; i < size_; ++i)
    if (emit_[i]) enc_[i].done();
}

ByteSpan Byte14Encoder::layer(size_t i) const {
  if (i >= size_ || !emit_[i]) return {};
  return {enc_[i].bytes().data(), enc_[i].bytes().size()};
}

// ---------------------------------------------------------------------------------------------
// WAVEPACKET14: descriptor index u8, offset u64, packet size u32, return point f32, dx/dy/dz
// f32; the floats are predicted as their 32-bit integer patterns.

Wavepacket14Encoder::Wavepacket14Encoder(uint16_t version) : v4_(version == 4) {}

void Wavepacket14Encoder::start(uint32_t channel, const uint8_t* seed) {
  Context& c = ctx_[channel];
  std::memcpy(c.last, seed, 29);
  c.last_diff_32 = 0;
  c.sym_last_offset_diff = 0;
  if (c.models)
    c.models->reset();
  else
    c.models = std::make_unique<Models>();
  used_[channel] = true;
}

void Wavepacket14Encoder::init(const uint8_t* first, uint32_t& context) {
  enc_.reset();
  emit_ = false;
  for (auto& u : used_) u = false;
  current_ = context & 3;
  start(current_, first);
}

void Wavepacket14Encoder::encode(const uint8_t* item, uint32_t& context) {
  uint8_t* last = switch_channel(current_, used_, v4_, ctx_, context,
                                 [this](uint32_t ch, const uint8_t* seed) { start(ch, seed); });
  Context& c = ctx_[current_];
  Models& m = *c.models;
  if (std::memcmp(item, last, 29) != 0) emit_ = true;

  enc_.encode_symbol(m.packet_index, item[0]);
  const uint64_t offset = load_u64(item + 1), last_offset = load_u64(last + 1);
  const uint32_t last_size = load_u32(last + 9);
  const int64_t diff64 = int64_t(offset - last_offset);
  const int32_t diff32 = int32_t(diff64);
  uint32_t sym;
  if (diff64 == int64_t(diff32)) {
    // "Previous packet's end" is only taken when the decoder's unsigned sum gives this offset
    // back (LASzip also takes it for sizes >= 2^31, where its decoder then disagrees).
    if (diff32 == 0)
      sym = 0;
    else if (offset == last_offset + last_size)
      sym = 1;
    else
      sym = 2;
  } else {
    sym = 3;
  }
  enc_.encode_symbol(m.offset_diff[c.sym_last_offset_diff], sym);
  c.sym_last_offset_diff = sym;
  if (sym == 2) {
    m.ic_offset_diff.encode(enc_, c.last_diff_32, diff32, 0);
    c.last_diff_32 = diff32;
  } else if (sym == 3) {
    enc_.write_int64(offset);
  }
  m.ic_packet_size.encode(enc_, int32_t(last_size), int32_t(load_u32(item + 9)), 0);
  m.ic_return_point.encode(enc_, int32_t(load_u32(last + 13)), int32_t(load_u32(item + 13)), 0);
  for (uint32_t i = 0; i < 3; ++i) {
    const size_t at = 17 + 4 * i;
    m.ic_xyz.encode(enc_, int32_t(load_u32(last + at)), int32_t(load_u32(item + at)), i);
  }
  std::memcpy(last, item, 29);
}

void Wavepacket14Encoder::finish() {
  if (emit_) enc_.done();
}

ByteSpan Wavepacket14Encoder::layer(size_t i) const {
  if (i != 0 || !emit_) return {};
  return {enc_.bytes().data(), enc_.bytes().size()};
}

}  // namespace lidarhd::laz::detail
