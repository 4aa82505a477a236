// Chunk table writing (laz-format.md section 3), the mirror of read_chunk_table in
// chunk_table.cpp: u32 version 0, u32 chunk count, then one arithmetic stream with the point
// count (variable-size chunks only) and the byte size of each chunk, each predicted from the
// previous chunk's.
#include <cstdint>
#include <string>
#include <vector>

#include "io/laz/arith_encoder.hpp"
#include "io/laz/chunk_encoder.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::laz::detail {
namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

uint32_t as_u32(uint64_t v, size_t chunk, const char* what) {
  if (v > UINT32_MAX) {
    throw ArgumentError("laz", "cannot write the chunk table: chunk " + std::to_string(chunk) +
                                   " has " + std::to_string(v) + " " + what +
                                   ", more than the table's 32-bit field holds");
  }
  return uint32_t(v);
}

}  // namespace

std::vector<uint8_t> encode_chunk_table(const std::vector<io::ChunkInfo>& chunks, bool variable) {
  if (chunks.size() > UINT32_MAX) {
    throw ArgumentError("laz", "cannot write the chunk table: " + std::to_string(chunks.size()) +
                                   " chunks exceed its 32-bit count");
  }
  std::vector<uint8_t> out;
  put_u32(out, 0);
  put_u32(out, uint32_t(chunks.size()));
  if (chunks.empty()) return out;

  ArithEncoder enc;
  IntegerEncoder ic(32, 2);
  uint32_t last_count = 0, last_bytes = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const uint32_t bytes = as_u32(chunks[i].bytes, i, "bytes");
    if (variable) {
      const uint32_t count = as_u32(chunks[i].point_count, i, "points");
      ic.encode(enc, int32_t(last_count), int32_t(count), 0);
      last_count = count;
    }
    ic.encode(enc, int32_t(last_bytes), int32_t(bytes), 1);
    last_bytes = bytes;
  }
  enc.done();
  out.insert(out.end(), enc.bytes().begin(), enc.bytes().end());
  return out;
}

}  // namespace lidarhd::laz::detail
