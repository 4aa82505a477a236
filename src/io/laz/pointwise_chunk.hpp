// Chunk decoder of the pointwise LAZ layouts: compressor 2 (one chunk per chunk-table entry) and
// compressor 1 (the whole point area is a single chunk). laz-format.md section 3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/laz/items.hpp"

namespace lidarhd::laz::detail {

// Decodes chunks of one item list; keeps its item decoders (and their models) between chunks so
// that a reader walking many chunks does not rebuild them. Not thread-safe: use one per thread.
class PointwiseChunkDecoder {
 public:
  // Throws FormatError mentioning `what` when the list is empty or holds an unsupported item.
  PointwiseChunkDecoder(const std::vector<Item>& items, const std::string& what);
  ~PointwiseChunkDecoder();
  PointwiseChunkDecoder(const PointwiseChunkDecoder&) = delete;
  PointwiseChunkDecoder& operator=(const PointwiseChunkDecoder&) = delete;

  size_t record_length() const { return record_length_; }

  // Writes n_points records to `out` (n_points * record_length() bytes) and returns how many
  // bytes of `chunk` were consumed: the raw first point plus the arithmetic stream, so that the
  // next chunk of a sequential walk starts right there. Throws FormatError mentioning `what`
  // when the chunk is shorter than needed or the stream runs past its end.
  size_t decode(ByteSpan chunk, uint64_t n_points, uint8_t* out, const std::string& what);

 private:
  std::vector<std::unique_ptr<PointwiseItemDecoder>> decoders_;
  std::vector<size_t> offsets_;
  std::vector<size_t> sizes_;
  size_t record_length_ = 0;
};

// Decodes one chunk of compressor 1 or 2: the first point raw (record_length bytes = sum of item
// sizes), then one arithmetic stream shared by all items for the remaining points. Writes n_points
// records to `out`. Throws FormatError mentioning `what` (e.g. "file.laz chunk 3") if the chunk is
// shorter than needed or the stream overruns its bytes.
void decode_pointwise_chunk(const std::vector<Item>& items, ByteSpan chunk, uint64_t n_points,
                            uint8_t* out, const std::string& what);

// Same, returning the number of bytes of `chunk` the decoder consumed.
size_t decode_pointwise_chunk_consumed(const std::vector<Item>& items, ByteSpan chunk,
                                       uint64_t n_points, uint8_t* out, const std::string& what);

}  // namespace lidarhd::laz::detail
