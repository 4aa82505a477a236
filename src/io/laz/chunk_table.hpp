// LAZ chunk table (laz-format.md section 3 and section 8 pitfalls 1-4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/io/reader.hpp"

namespace lidarhd::laz {

struct ChunkTable {
  // True when `chunks` is trustworthy: the table was read and is consistent with the file and
  // the header (offsets increasing, sizes ending exactly at the table, counts summing to the
  // header's point count). When false, `problem` says why and the caller walks the chunks
  // sequentially from `data_start` (possible for layered chunks, which store their point count,
  // and for fixed-size chunks), or reports `problem`.
  bool usable = false;
  std::string problem;
  uint64_t data_start = 0;  // first chunk (offset_to_points + 8; offset_to_points for comp. 1)
  uint64_t data_end = 0;    // table offset when known, else where the point data area ends
  std::vector<io::ChunkInfo> chunks;
};

// Reads the chunk table of a LAZ file. Uncompressed LAS and LASzip compressor 1 (one stream, no
// table) yield one run covering all points. Throws only for I/O errors: a missing, truncated or
// inconsistent table is reported through usable/problem.
ChunkTable read_chunk_table(const io::ByteSource& source, const io::LasFileInfo& info);

// Where the point data of `info` can end at the latest: the EVLR start or the file size.
uint64_t point_area_end(const io::LasFileInfo& info);

}  // namespace lidarhd::laz
