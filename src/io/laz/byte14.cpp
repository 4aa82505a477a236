// BYTE14 v3/v4 layered decoder (extra bytes, one layer per byte; laz-format.md 5.6). It keeps one
// model set and one last value per scanner channel, switched by the POINT14 hand-off.
#include "io/laz/layered_items.hpp"

namespace lidarhd::laz::detail {

// ---------------------------------------------------------------------------------------------
// BYTE14

Byte14Decoder::Byte14Decoder(uint16_t size, uint16_t version, uint32_t layers)
    : size_(size),
      v4_(version == 4),
      requested_((layers & kLayerExtraBytes) != 0),
      dec_(size),
      active_(size, 0) {
  active_list_.reserve(size);
}

bool Byte14Decoder::overrun() const {
  for (size_t i : active_list_)
    if (dec_[i].overrun()) return true;
  return false;
}

void Byte14Decoder::start(uint32_t channel, const uint8_t* seed) {
  Context& c = ctx_[channel];
  c.last.assign(seed, seed + size_);
  if (!active_list_.empty()) {
    if (c.models.empty()) {
      c.models.reserve(size_);
      for (size_t i = 0; i < size_; ++i) c.models.emplace_back(256);
    } else {
      for (size_t i : active_list_) c.models[i].reset();
    }
  }
  used_[channel] = true;
}

void Byte14Decoder::init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) {
  active_list_.clear();
  for (size_t i = 0; i < size_; ++i) {
    active_[i] = requested_ && layers[i].size > 0;
    if (active_[i]) {
      dec_[i].init(layers[i].data, layers[i].size);
      active_list_.push_back(i);
    }
  }
  for (auto& u : used_) u = false;
  current_ = context & 3;
  start(current_, first);
}

void Byte14Decoder::decode(uint8_t* item, uint32_t& context) {
  uint8_t* last = switch_channel(current_, used_, v4_, ctx_, context,
                                 [this](uint32_t ch, const uint8_t* seed) { start(ch, seed); });
  Context& c = ctx_[current_];
  for (size_t i : active_list_) last[i] = uint8_t(last[i] + dec_[i].decode_symbol(c.models[i]));
  std::memcpy(item, last, size_);
}

}  // namespace lidarhd::laz::detail
