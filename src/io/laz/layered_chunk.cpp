// Layered chunk decoder and the compressor-3 item factory.
#include "io/laz/layered_chunk.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "io/laz/laszip_vlr.hpp"
#include "io/laz/layered_items.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::laz::detail {
namespace {

// Points decoded between two checks for a truncated stream, so that a lying point count stops
// early instead of decoding zeros for the whole chunk.
constexpr uint64_t kOverrunCheckInterval = 4096;

}  // namespace

std::unique_ptr<LayeredItemDecoder> make_layered_decoder(const Item& item, uint32_t layers) {
  // Version 2 is what the "lasproto" prototype wrote; LASzip reads it as version 3.
  if (item.version < 2 || item.version > 4) {
    throw FormatError("laz", "item " + describe_item(item) +
                                 " has a version that layered (PDRF 6-10) chunks do not use; "
                                 "expected 2, 3 or 4");
  }
  auto bad_size = [&](unsigned expected) {
    return FormatError(
        "laz", "item " + describe_item(item) + " must be " + std::to_string(expected) + " bytes");
  };
  switch (item.type) {
    case kPoint14:
      if (item.size != 30) throw bad_size(30);
      return std::make_unique<Point14Decoder>(item.version, layers);
    case kRgb14:
      if (item.size != 6) throw bad_size(6);
      return std::make_unique<Rgb14Decoder>(false, item.version, layers);
    case kRgbNir14:
      if (item.size != 8) throw bad_size(8);
      return std::make_unique<Rgb14Decoder>(true, item.version, layers);
    case kWavepacket14:
      if (item.size != 29) throw bad_size(29);
      return std::make_unique<Wavepacket14Decoder>(item.version, layers);
    case kByte14:
      if (item.size == 0) {
        throw FormatError("laz", "item " + describe_item(item) + " must hold at least one byte");
      }
      return std::make_unique<Byte14Decoder>(item.size, item.version, layers);
    default:
      throw FormatError("laz", "item " + describe_item(item) +
                                   " cannot appear in a layered (compressor 3) point format");
  }
}

LayeredChunkDecoder::LayeredChunkDecoder(const std::vector<Item>& items, uint32_t layers) {
  if (items.empty()) throw FormatError("laz", "the LASzip item list is empty");
  size_t n_layers = 0;
  for (const Item& item : items) {
    decoders_.push_back(make_layered_decoder(item, layers));
    names_.push_back(item_type_name(item.type));
    offsets_.push_back(record_length_);
    layer_first_.push_back(n_layers);
    record_length_ += item.size;
    n_layers += decoders_.back()->num_layers();
  }
  spans_.resize(n_layers);
  if (items[0].type == kPoint14) point14_ = static_cast<Point14Decoder*>(decoders_[0].get());
}

LayeredChunkDecoder::~LayeredChunkDecoder() = default;

size_t LayeredChunkDecoder::decode(ByteSpan chunk, uint64_t n_points, uint8_t* out,
                                   const std::string& what) {
  if (n_points == 0) return 0;
  const size_t rl = record_length_;
  if (chunk.size < rl) {
    throw FormatError("laz", what + ": chunk is truncated (" + std::to_string(chunk.size) +
                                 " bytes, its first point alone needs " + std::to_string(rl) + ")");
  }
  std::memcpy(out, chunk.data, rl);

  // Point count (informational: the caller's count is authoritative) and layer sizes.
  size_t pos = rl;
  const uint64_t header = 4 + 4 * uint64_t(spans_.size());
  if (chunk.size - pos < header) {
    if (n_points == 1) return rl;
    throw FormatError("laz", what + ": chunk is truncated (" + std::to_string(chunk.size) +
                                 " bytes, too short for its " + std::to_string(spans_.size()) +
                                 " layer sizes)");
  }
  pos += 4;
  uint64_t total = 0;
  for (auto& span : spans_) {
    span.size = load_u32(chunk.data + pos);
    total += span.size;
    pos += 4;
  }
  if (total > chunk.size - pos) {
    if (n_points == 1) return rl;
    throw FormatError("laz", what + ": layer sizes add up to " + std::to_string(total) +
                                 " bytes but only " + std::to_string(chunk.size - pos) +
                                 " remain in the chunk");
  }
  for (auto& span : spans_) {
    span.data = chunk.data + pos;
    pos += span.size;
  }
  if (n_points == 1) return pos;

  uint32_t context = 0;
  for (size_t i = 0; i < decoders_.size(); ++i)
    decoders_[i]->init(out + offsets_[i], &spans_[layer_first_[i]], context);

  auto check = [&](uint64_t decoded) {
    for (size_t i = 0; i < decoders_.size(); ++i) {
      if (decoders_[i]->overrun()) {
        throw FormatError("laz", what + ": " + names_[i] + " layer data (item " +
                                     std::to_string(i) + ") is truncated or corrupt (a stream " +
                                     "ran out within the first " + std::to_string(decoded) +
                                     " of " + std::to_string(n_points) + " points)");
      }
    }
  };

  uint8_t* rec = out + rl;
  uint64_t done = 1;
  const size_t n_items = decoders_.size();
  while (done < n_points) {
    const uint64_t block = std::min<uint64_t>(n_points - done, kOverrunCheckInterval);
    if (point14_ && n_items == 1) {
      for (uint64_t p = 0; p < block; ++p, rec += rl) {
        uint32_t ctx = 0;
        point14_->decode_point(rec, ctx);
      }
    } else {
      for (uint64_t p = 0; p < block; ++p, rec += rl) {
        // The channel hand-off starts at 0 for every point (laz-format.md 5.6).
        uint32_t ctx = 0;
        size_t i = 0;
        if (point14_) {
          point14_->decode_point(rec, ctx);
          i = 1;
        }
        for (; i < n_items; ++i) decoders_[i]->decode(rec + offsets_[i], ctx);
      }
    }
    done += block;
    check(done);
  }
  return pos;
}

void decode_layered_chunk(const std::vector<Item>& items, ByteSpan chunk, uint64_t n_points,
                          uint32_t layers, uint8_t* out, const std::string& what) {
  LayeredChunkDecoder decoder(items, layers);
  decoder.decode(chunk, n_points, out, what);
}

}  // namespace lidarhd::laz::detail
