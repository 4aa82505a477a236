// Compressor-2 chunk encoding (PDRF 0-5 items, version 2; laz-format.md section 3): the raw first
// record, then one arithmetic stream shared by all items for the other records.
#include <cstring>
#include <string>

#include "io/laz/chunk_encoder.hpp"
#include "io/laz/pointwise_encoders.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::laz::detail {
namespace {

[[noreturn]] void cannot_encode(const Item& item, const std::string& why) {
  throw ArgumentError("laz", "cannot write LASzip item (type " + std::to_string(item.type) +
                                 ", size " + std::to_string(item.size) + ", version " +
                                 std::to_string(item.version) + ") in a pointwise chunk: " + why);
}

void require_size(const Item& item, uint16_t size) {
  if (item.size != size) cannot_encode(item, "its size must be " + std::to_string(size));
}

}  // namespace

std::unique_ptr<PointwiseItemEncoder> make_pointwise_encoder(const Item& item) {
  if (item.version != 2) cannot_encode(item, "only version 2 items are written");
  switch (item.type) {
    case kPoint10:
      require_size(item, 20);
      return make_point10_v2_encoder();
    case kGpsTime11:
      require_size(item, 8);
      return make_gpstime11_v2_encoder();
    case kRgb12:
      require_size(item, 6);
      return make_rgb12_v2_encoder();
    case kByte:
      if (item.size == 0) cannot_encode(item, "extra bytes need a size of at least 1");
      return make_byte_v2_encoder(item.size);
    default:
      cannot_encode(item, "the type is not a PDRF 0-3 item (POINT10, GPSTIME11, RGB12, BYTE)");
  }
}

PointwiseChunkEncoder::PointwiseChunkEncoder(const std::vector<Item>& items) {
  if (items.empty()) throw ArgumentError("laz", "cannot write a pointwise chunk: no items");
  encoders_.reserve(items.size());
  for (const Item& item : items) {
    encoders_.push_back(make_pointwise_encoder(item));
    offsets_.push_back(record_length_);
    record_length_ += item.size;
  }
}

PointwiseChunkEncoder::~PointwiseChunkEncoder() = default;

void PointwiseChunkEncoder::encode(const uint8_t* records, uint64_t n, std::vector<uint8_t>& out) {
  if (n == 0) return;
  const size_t rl = record_length_;
  const size_t n_items = encoders_.size();
  out.insert(out.end(), records, records + rl);
  for (size_t j = 0; j < n_items; ++j) encoders_[j]->init(records + offsets_[j]);

  enc_.reset();
  const uint8_t* record = records + rl;
  for (uint64_t i = 1; i < n; ++i, record += rl) {
    // The single-item case (PDRF 0) is common enough to skip the inner loop.
    if (n_items == 1) {
      encoders_[0]->encode(enc_, record);
    } else {
      for (size_t j = 0; j < n_items; ++j) encoders_[j]->encode(enc_, record + offsets_[j]);
    }
  }
  enc_.done();
  const std::vector<uint8_t>& stream = enc_.bytes();
  out.insert(out.end(), stream.begin(), stream.end());
}

std::vector<uint8_t> encode_pointwise_chunk(const std::vector<Item>& items, const uint8_t* records,
                                            uint64_t n) {
  std::vector<uint8_t> out;
  if (n == 0) return out;
  PointwiseChunkEncoder encoder(items);
  encoder.encode(records, n, out);
  return out;
}

}  // namespace lidarhd::laz::detail
