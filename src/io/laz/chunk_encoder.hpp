// LAZ encoding entry points (the writer side of laz-format.md sections 3-5). Chunks are pure
// functions of their records, so a writer encodes them on any number of threads and concatenates
// the results: the output is byte-identical whatever the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "io/laz/items.hpp"
#include "lidarhd/io/reader.hpp"

namespace lidarhd::laz::detail {

// One compressor-2 chunk (PDRF 0-5 items, version 2): the first record raw, then one arithmetic
// stream for the other n - 1 records. `records` holds n records of the items' total size.
std::vector<uint8_t> encode_pointwise_chunk(const std::vector<Item>& items, const uint8_t* records,
                                            uint64_t n);

// One compressor-3 chunk (PDRF 6-10 items, version 3): raw first record, u32 count, the layer
// sizes, then the layers, emitted by LASzip's rules (laz-format.md 5.5).
std::vector<uint8_t> encode_layered_chunk(const std::vector<Item>& items, const uint8_t* records,
                                          uint64_t n);

// The chunk table that follows the chunks (laz-format.md section 3): version 0, count, then the
// arithmetic-coded (point count if `variable`,) byte size of each chunk.
std::vector<uint8_t> encode_chunk_table(const std::vector<io::ChunkInfo>& chunks, bool variable);

}  // namespace lidarhd::laz::detail
