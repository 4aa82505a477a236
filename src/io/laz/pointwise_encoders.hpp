// Item encoders of the pointwise LAZ layout (compressor 2, PDRF 0-5 items, version 2): the
// mirrors of the version 2 decoders, sharing their state (pointwise_v2_state.hpp). Encoding the
// records a decoder produced reproduces LASzip's bytes exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/laz/arith_encoder.hpp"
#include "io/laz/items.hpp"

namespace lidarhd::laz::detail {

class PointwiseItemEncoder {
 public:
  virtual ~PointwiseItemEncoder() = default;
  // Resets every model and predictor from the chunk's first (raw) point; `first` is this item's
  // slice of that record.
  virtual void init(const uint8_t* first) = 0;
  // Codes this item of the next point (`item` = this item's slice of its record).
  virtual void encode(ArithEncoder& enc, const uint8_t* item) = 0;
};

std::unique_ptr<PointwiseItemEncoder> make_point10_v2_encoder();
std::unique_ptr<PointwiseItemEncoder> make_gpstime11_v2_encoder();
std::unique_ptr<PointwiseItemEncoder> make_rgb12_v2_encoder();
std::unique_ptr<PointwiseItemEncoder> make_byte_v2_encoder(uint16_t size);

// Picks the encoder of one item; throws lidarhd::ArgumentError for an item that compressor 2
// cannot write (other types, versions other than 2, wrong sizes).
std::unique_ptr<PointwiseItemEncoder> make_pointwise_encoder(const Item& item);

// Encodes chunks of one item list; keeps its item encoders (and their models) between chunks,
// so a writer encoding many chunks on one thread does not rebuild them. Not thread-safe: use one
// per thread. The output depends only on the records of each chunk.
class PointwiseChunkEncoder {
 public:
  explicit PointwiseChunkEncoder(const std::vector<Item>& items);
  ~PointwiseChunkEncoder();
  PointwiseChunkEncoder(const PointwiseChunkEncoder&) = delete;
  PointwiseChunkEncoder& operator=(const PointwiseChunkEncoder&) = delete;

  size_t record_length() const { return record_length_; }

  // Appends one chunk (n records of record_length() bytes) to `out`: the raw first record,
  // then the arithmetic stream of the others (4 bytes even for a one-point chunk, as LASzip
  // writes). Nothing for n = 0.
  void encode(const uint8_t* records, uint64_t n, std::vector<uint8_t>& out);

 private:
  std::vector<std::unique_ptr<PointwiseItemEncoder>> encoders_;
  std::vector<size_t> offsets_;
  size_t record_length_ = 0;
  ArithEncoder enc_;
};

}  // namespace lidarhd::laz::detail
