// Layered chunk decoding (compressor 3, PDRF 6-10; laz-format.md 5.5): raw first point, point
// count, per-layer byte sizes of every item, then the independent layer streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/laz/items.hpp"

namespace lidarhd::laz::detail {

// Decodes one compressor-3 chunk: raw first point (record_length bytes), u32 point count, u32
// layer sizes of every item in VLR order, then the layer bytes. Writes n_points records to
// `out`. `layers` is a LayerBits mask for selective decoding: unrequested layers are not decoded
// (their fields keep the value of the chunk's first point). Throws FormatError mentioning `what`
// ("file.laz chunk 3") when sizes don't fit in the chunk or a layer stream overruns.
void decode_layered_chunk(const std::vector<Item>& items, ByteSpan chunk, uint64_t n_points,
                          uint32_t layers, uint8_t* out, const std::string& what);

class Point14Decoder;

// Reusable form of decode_layered_chunk: keeps the item decoders (and their models) between
// chunks, which matters for COPC nodes and other small chunks. Not thread-safe; use one per
// thread.
class LayeredChunkDecoder {
 public:
  // Throws FormatError for items that compressor 3 cannot carry (type, size or version).
  LayeredChunkDecoder(const std::vector<Item>& items, uint32_t layers);
  ~LayeredChunkDecoder();
  LayeredChunkDecoder(const LayeredChunkDecoder&) = delete;
  LayeredChunkDecoder& operator=(const LayeredChunkDecoder&) = delete;

  size_t record_length() const { return record_length_; }

  // Same contract as decode_layered_chunk; returns how many bytes of `chunk` the chunk occupies
  // (raw point, count, layer sizes and every layer, skipped ones included), so that a sequential
  // walk finds the next chunk there. A one-point chunk counts its sizes and layers only when
  // they are present and fit, else just the raw point.
  size_t decode(ByteSpan chunk, uint64_t n_points, uint8_t* out, const std::string& what);

 private:
  std::vector<std::unique_ptr<LayeredItemDecoder>> decoders_;
  std::vector<size_t> offsets_;      // byte offset of each item inside a record
  std::vector<size_t> layer_first_;  // index of each item's first layer in spans_
  std::vector<ByteSpan> spans_;
  std::vector<std::string> names_;  // item names for error messages
  size_t record_length_ = 0;
  Point14Decoder* point14_ = nullptr;  // set when the first item is POINT14 (the usual case)
};

}  // namespace lidarhd::laz::detail
