// Layered chunk encoder (compressor 3, PDRF 6-10; laz-format.md 5.5) and the compressor-3 item
// encoder factory. The chunk layout follows LASzip's writer: raw first record, u32 point count
// (the raw one included), u32 size of every layer (items in VLR order), then the layer bytes.
// LASzip writes the count and sizes even for a one-point chunk, so we do too.
#include <cstring>
#include <limits>
#include <string>

#include "io/laz/chunk_encoder.hpp"
#include "io/laz/layered_encoders.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::laz::detail {
namespace {

std::string describe(const Item& item) {
  return "type " + std::to_string(item.type) + ", size " + std::to_string(item.size) +
         ", version " + std::to_string(item.version);
}

void append_u32(std::vector<uint8_t>& out, uint32_t v) {
  const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  out.insert(out.end(), b, b + 4);
}

}  // namespace

std::unique_ptr<LayeredItemEncoder> make_layered_encoder(const Item& item) {
  if (item.version != 3 && item.version != 4) {
    throw ArgumentError("laz", "cannot encode item (" + describe(item) +
                                   ") in a layered chunk: layered items are version 3 or 4");
  }
  auto bad_size = [&](unsigned expected) {
    return ArgumentError("laz", "cannot encode item (" + describe(item) + "): it must be " +
                                    std::to_string(expected) + " bytes");
  };
  switch (item.type) {
    case kPoint14:
      if (item.size != 30) throw bad_size(30);
      return std::make_unique<Point14Encoder>(item.version);
    case kRgb14:
      if (item.size != 6) throw bad_size(6);
      return std::make_unique<Rgb14Encoder>(false, item.version);
    case kRgbNir14:
      if (item.size != 8) throw bad_size(8);
      return std::make_unique<Rgb14Encoder>(true, item.version);
    case kWavepacket14:
      if (item.size != 29) throw bad_size(29);
      return std::make_unique<Wavepacket14Encoder>(item.version);
    case kByte14:
      if (item.size == 0) {
        throw ArgumentError("laz", "cannot encode item (" + describe(item) +
                                       "): BYTE14 must hold at least one byte");
      }
      return std::make_unique<Byte14Encoder>(item.size, item.version);
    default:
      throw ArgumentError("laz", "cannot encode item (" + describe(item) +
                                     ") in a layered (compressor 3) chunk");
  }
}

LayeredChunkEncoder::LayeredChunkEncoder(const std::vector<Item>& items) {
  if (items.empty()) throw ArgumentError("laz", "cannot encode a chunk: the item list is empty");
  for (const Item& item : items) {
    encoders_.push_back(make_layered_encoder(item));
    offsets_.push_back(record_length_);
    record_length_ += item.size;
  }
  if (items[0].type == kPoint14) point14_ = static_cast<Point14Encoder*>(encoders_[0].get());
}

LayeredChunkEncoder::~LayeredChunkEncoder() = default;

void LayeredChunkEncoder::encode(const uint8_t* records, uint64_t n, std::vector<uint8_t>& out) {
  if (n == 0) return;
  if (n > std::numeric_limits<uint32_t>::max()) {
    throw ArgumentError("laz", "cannot encode a chunk of " + std::to_string(n) +
                                   " points: its point count must fit in 32 bits");
  }
  const size_t rl = record_length_;
  uint32_t context = 0;
  for (size_t i = 0; i < encoders_.size(); ++i) encoders_[i]->init(records + offsets_[i], context);

  const uint8_t* rec = records + rl;
  const size_t n_items = encoders_.size();
  if (point14_ && n_items == 1) {
    for (uint64_t p = 1; p < n; ++p, rec += rl) {
      uint32_t ctx = 0;
      point14_->encode_point(rec, ctx);
    }
  } else {
    for (uint64_t p = 1; p < n; ++p, rec += rl) {
      // The channel hand-off starts at 0 for every point (laz-format.md 5.6).
      uint32_t ctx = 0;
      size_t i = 0;
      if (point14_) {
        point14_->encode_point(rec, ctx);
        i = 1;
      }
      for (; i < n_items; ++i) encoders_[i]->encode(rec + offsets_[i], ctx);
    }
  }

  size_t n_layers = 0, payload = 0;
  for (auto& e : encoders_) {
    e->finish();
    for (size_t l = 0; l < e->num_layers(); ++l) {
      const size_t size = e->layer(l).size;
      if (size > std::numeric_limits<uint32_t>::max()) {
        throw ArgumentError("laz", "cannot encode a chunk of " + std::to_string(n) +
                                       " points: a layer exceeds 4 GiB; use smaller chunks");
      }
      payload += size;
    }
    n_layers += e->num_layers();
  }
  out.reserve(out.size() + rl + 4 + 4 * n_layers + payload);
  out.insert(out.end(), records, records + rl);
  append_u32(out, uint32_t(n));
  for (auto& e : encoders_)
    for (size_t l = 0; l < e->num_layers(); ++l) append_u32(out, uint32_t(e->layer(l).size));
  for (auto& e : encoders_) {
    for (size_t l = 0; l < e->num_layers(); ++l) {
      const ByteSpan s = e->layer(l);
      if (s.size) out.insert(out.end(), s.data, s.data + s.size);
    }
  }
}

std::vector<uint8_t> encode_layered_chunk(const std::vector<Item>& items, const uint8_t* records,
                                          uint64_t n) {
  LayeredChunkEncoder encoder(items);
  std::vector<uint8_t> out;
  encoder.encode(records, n, out);
  return out;
}

}  // namespace lidarhd::laz::detail
