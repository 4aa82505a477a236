// Item decoders: one small class per LASzip item codec (laz-format.md section 5), created per
// chunk decoder and re-initialised at every chunk start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/laz/arith_decoder.hpp"

namespace lidarhd::laz::detail {

// LASzip item types (laz-format.md section 2).
enum ItemType : uint16_t {
  kByte = 0,
  kPoint10 = 6,
  kGpsTime11 = 7,
  kRgb12 = 8,
  kWavepacket13 = 9,
  kPoint14 = 10,
  kRgb14 = 11,
  kRgbNir14 = 12,
  kWavepacket14 = 13,
  kByte14 = 14,
};

struct Item {
  uint16_t type = 0;
  uint16_t size = 0;
  uint16_t version = 0;
};

// "POINT14 (type 10, size 30, version 3)", for error messages (defined in laszip_vlr.cpp, next to
// item_type_name).
std::string describe_item(const Item& item);

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Layer selection for layered (PDRF 6-10) chunks. Skipped layers are not decoded: their fields
// keep the chunk's first point's value. XY/returns/channel is always decoded.
enum LayerBits : uint32_t {
  kLayerZ = 1u << 0,
  kLayerClassification = 1u << 1,
  kLayerFlags = 1u << 2,
  kLayerIntensity = 1u << 3,
  kLayerScanAngle = 1u << 4,
  kLayerUserData = 1u << 5,
  kLayerPointSource = 1u << 6,
  kLayerGpsTime = 1u << 7,
  kLayerRgb = 1u << 8,
  kLayerNir = 1u << 9,
  kLayerWavepacket = 1u << 10,
  kLayerExtraBytes = 1u << 11,
  kLayerAll = 0xFFFFFFFFu,
};

// v1/v2 items of compressors 1 and 2: every item of a point reads from one shared stream.
class PointwiseItemDecoder {
 public:
  virtual ~PointwiseItemDecoder() = default;
  // Resets every model and predictor from the chunk's first (raw) point; `first` is this item's
  // slice of that record.
  virtual void init(const uint8_t* first) = 0;
  // Decodes this item of the next point into `item` (this item's slice of the output record).
  virtual void decode(ArithDecoder& dec, uint8_t* item) = 0;
};

// v3/v4 items of compressor 3: each item owns one or more layers, each an independent stream.
// `context` is the scanner-channel hand-off variable of laz-format.md 5.6: POINT14 writes it,
// the other items read it.
class LayeredItemDecoder {
 public:
  virtual ~LayeredItemDecoder() = default;
  virtual size_t num_layers() const = 0;
  // `layers` holds num_layers() spans (this item's layers, in file order); a span of size 0 is a
  // constant layer. Resets every model from the chunk's first point.
  virtual void init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) = 0;
  virtual void decode(uint8_t* item, uint32_t& context) = 0;
  // True when a layer stream was read past its end (truncated or corrupt data).
  virtual bool overrun() const = 0;
};

// Factories; they throw lidarhd::FormatError for an unsupported item type/version.
std::unique_ptr<PointwiseItemDecoder> make_pointwise_decoder(const Item& item);
std::unique_ptr<LayeredItemDecoder> make_layered_decoder(const Item& item, uint32_t layers);

}  // namespace lidarhd::laz::detail
