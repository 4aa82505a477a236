// WAVEPACKET14 v3/v4 layered decoder (laz-format.md 5.6; follows LASzip's WAVEPACKET14 reader).
// It keeps one model set and one last value per scanner channel, switched by the POINT14 hand-off.
#include "io/laz/layered_items.hpp"

namespace lidarhd::laz::detail {

// WAVEPACKET14: descriptor index u8, offset u64, packet size u32, return point f32, dx/dy/dz f32.
// The floats are predicted as their 32-bit integer patterns.

Wavepacket14Decoder::Wavepacket14Decoder(uint16_t version, uint32_t layers)
    : v4_(version == 4), requested_((layers & kLayerWavepacket) != 0) {}

void Wavepacket14Decoder::start(uint32_t channel, const uint8_t* seed) {
  Context& c = ctx_[channel];
  std::memcpy(c.last, seed, 29);
  c.last_diff_32 = 0;
  c.sym_last_offset_diff = 0;
  if (active_) {
    if (c.models)
      c.models->reset();
    else
      c.models = std::make_unique<Models>();
  }
  used_[channel] = true;
}

void Wavepacket14Decoder::init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) {
  active_ = requested_ && layers[0].size > 0;
  if (active_) dec_.init(layers[0].data, layers[0].size);
  for (auto& u : used_) u = false;
  current_ = context & 3;
  start(current_, first);
}

void Wavepacket14Decoder::decode(uint8_t* item, uint32_t& context) {
  uint8_t* last = switch_channel(current_, used_, v4_, ctx_, context,
                                 [this](uint32_t ch, const uint8_t* seed) { start(ch, seed); });
  Context& c = ctx_[current_];
  if (active_) {
    Models& m = *c.models;
    uint8_t out[29];
    out[0] = uint8_t(dec_.decode_symbol(m.packet_index));
    const uint64_t last_offset = load_u64(last + 1);
    const uint32_t last_size = load_u32(last + 9);
    c.sym_last_offset_diff = dec_.decode_symbol(m.offset_diff[c.sym_last_offset_diff]);
    uint64_t offset;
    switch (c.sym_last_offset_diff) {
      case 0:
        offset = last_offset;
        break;
      case 1:
        offset = last_offset + last_size;
        break;
      case 2:
        c.last_diff_32 = m.ic_offset_diff.decode(dec_, c.last_diff_32, 0);
        offset = last_offset + uint64_t(int64_t(c.last_diff_32));
        break;
      default:
        offset = dec_.read_int64();
        break;
    }
    store_u64(out + 1, offset);
    store_u32(out + 9, uint32_t(m.ic_packet_size.decode(dec_, int32_t(last_size), 0)));
    store_u32(out + 13, uint32_t(m.ic_return_point.decode(dec_, int32_t(load_u32(last + 13)), 0)));
    for (uint32_t i = 0; i < 3; ++i) {
      const uint8_t* lp = last + 17 + 4 * i;
      store_u32(out + 17 + 4 * i, uint32_t(m.ic_xyz.decode(dec_, int32_t(load_u32(lp)), i)));
    }
    std::memcpy(last, out, 29);
  }
  std::memcpy(item, last, 29);
}

}  // namespace lidarhd::laz::detail
