// Pointwise chunk decoding (compressors 1 and 2) and the factory of pointwise item decoders.
#include "io/laz/pointwise_chunk.hpp"

#include <algorithm>
#include <cstring>

#include "io/laz/pointwise_items.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::laz::detail {
namespace {

// `where` prefixes the message with the file/chunk when the caller knows it.
[[noreturn]] void unsupported(const Item& item, const std::string& why, const std::string& where) {
  throw FormatError("laz", where + "LASzip item " + describe_item(item) + " " + why);
}

void require_size(const Item& item, uint16_t size, const std::string& where) {
  if (item.size != size) {
    unsupported(item, "has a wrong size (expected " + std::to_string(size) + " bytes)", where);
  }
}

std::unique_ptr<PointwiseItemDecoder> make_decoder(const Item& item, const std::string& where) {
  if (item.version != 1 && item.version != 2) {
    unsupported(item, "has a version that pointwise LAZ does not define (expected 1 or 2)", where);
  }
  const bool v2 = item.version == 2;
  switch (item.type) {
    case kPoint10:
      require_size(item, 20, where);
      return v2 ? make_point10_v2() : make_point10_v1();
    case kGpsTime11:
      require_size(item, 8, where);
      return v2 ? make_gpstime11_v2() : make_gpstime11_v1();
    case kRgb12:
      require_size(item, 6, where);
      return v2 ? make_rgb12_v2() : make_rgb12_v1();
    case kByte:
      if (item.size == 0) unsupported(item, "has size 0", where);
      return v2 ? make_byte_v2(item.size) : make_byte_v1(item.size);
    case kWavepacket13:
      require_size(item, 29, where);
      return make_wavepacket13_v1();
    default:
      unsupported(item, "cannot appear in a pointwise (compressor 1/2) LAZ file", where);
  }
}

// How often (in points) the chunk loop looks for an overrun: often enough to stop early on a
// truncated chunk, rarely enough to cost nothing.
constexpr uint64_t kOverrunCheckInterval = 1024;

}  // namespace

std::unique_ptr<PointwiseItemDecoder> make_pointwise_decoder(const Item& item) {
  return make_decoder(item, "");
}

PointwiseChunkDecoder::PointwiseChunkDecoder(const std::vector<Item>& items,
                                             const std::string& what) {
  if (items.empty()) throw FormatError("laz", what + ": the LASzip item list is empty");
  decoders_.reserve(items.size());
  for (const Item& item : items) {
    decoders_.push_back(make_decoder(item, what + ": "));
    offsets_.push_back(record_length_);
    sizes_.push_back(item.size);
    record_length_ += item.size;
  }
}

PointwiseChunkDecoder::~PointwiseChunkDecoder() = default;

size_t PointwiseChunkDecoder::decode(ByteSpan chunk, uint64_t n_points, uint8_t* out,
                                     const std::string& what) {
  if (n_points == 0) return 0;
  const size_t rl = record_length_;
  if (chunk.size < rl) {
    throw FormatError("laz", what + " is truncated: " + std::to_string(chunk.size) +
                                 " bytes, the raw first point alone needs " + std::to_string(rl));
  }
  std::memcpy(out, chunk.data, rl);
  const size_t n_items = decoders_.size();
  for (size_t j = 0; j < n_items; ++j) decoders_[j]->init(out + offsets_[j]);
  // LASzip starts (and flushes) the coder even for a one-point chunk: its 4 bytes belong to the
  // chunk when present, so a sequential walk lands on the next chunk.
  if (n_points == 1) return std::min(chunk.size, rl + 4);

  ArithDecoder dec;
  dec.init(chunk.data + rl, chunk.size - rl);
  uint8_t* record = out + rl;
  for (uint64_t i = 1; i < n_points; ++i, record += rl) {
    // The single-item case (PDRF 0) is common enough to skip the inner loop.
    if (n_items == 1) {
      decoders_[0]->decode(dec, record);
    } else {
      for (size_t j = 0; j < n_items; ++j) decoders_[j]->decode(dec, record + offsets_[j]);
    }
    if (i % kOverrunCheckInterval == 0 && dec.overrun()) {
      throw FormatError("laz", what + " is truncated or corrupt: its " +
                                   std::to_string(chunk.size) + " bytes end before point " +
                                   std::to_string(i) + " of " + std::to_string(n_points));
    }
  }
  if (dec.overrun()) {
    throw FormatError("laz", what + " is truncated or corrupt: its " + std::to_string(chunk.size) +
                                 " bytes end before its " + std::to_string(n_points) +
                                 " points are decoded");
  }
  return size_t(dec.position() - chunk.data);
}

size_t decode_pointwise_chunk_consumed(const std::vector<Item>& items, ByteSpan chunk,
                                       uint64_t n_points, uint8_t* out, const std::string& what) {
  if (n_points == 0) return 0;
  PointwiseChunkDecoder decoder(items, what);
  return decoder.decode(chunk, n_points, out, what);
}

void decode_pointwise_chunk(const std::vector<Item>& items, ByteSpan chunk, uint64_t n_points,
                            uint8_t* out, const std::string& what) {
  decode_pointwise_chunk_consumed(items, chunk, n_points, out, what);
}

}  // namespace lidarhd::laz::detail
