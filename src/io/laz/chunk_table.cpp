#include "io/laz/chunk_table.hpp"

#include <algorithm>

#include "io/las/le_bytes.hpp"
#include "io/laz/arith_decoder.hpp"
#include "io/laz/laszip_vlr.hpp"

namespace lidarhd::laz {
namespace {

std::string num(uint64_t v) { return std::to_string(v); }

// The fixed-size chunk layout implied by the header count, used when the table is absent: the
// byte ranges stay unknown (0) until a sequential walk finds them.
// `max_chunks` (what the data area can hold) keeps a lying point count from sizing the vector.
std::vector<io::ChunkInfo> fixed_layout(uint64_t points, uint64_t chunk_size, uint64_t max_chunks) {
  std::vector<io::ChunkInfo> out;
  if (points == 0 || chunk_size == 0) return out;
  const uint64_t n = points / chunk_size + (points % chunk_size != 0);
  if (n > max_chunks) return out;
  out.reserve(size_t(n));
  for (uint64_t i = 0; i < n; ++i) {
    io::ChunkInfo c;
    c.first_point = i * chunk_size;
    c.point_count = std::min(chunk_size, points - c.first_point);
    out.push_back(c);
  }
  return out;
}

}  // namespace

uint64_t point_area_end(const io::LasFileInfo& info) {
  const auto& h = info.header;
  if (h.evlr_count > 0 && h.evlr_start >= h.offset_to_points && h.evlr_start <= info.file_size)
    return h.evlr_start;
  return info.file_size;
}

ChunkTable read_chunk_table(const io::ByteSource& source, const io::LasFileInfo& info) {
  const auto& h = info.header;
  const std::string& file = info.path;
  const uint64_t count = h.point_count;
  const uint64_t area_end = point_area_end(info);
  ChunkTable t;

  if (!info.laszip || info.laszip->compressor == kCompressorPointwise) {
    // Uncompressed records, or LASzip 1.x's single stream: one run, no table.
    t.data_start = h.offset_to_points;
    t.data_end = info.laszip ? area_end : h.offset_to_points + count * h.record_length;
    if (count > 0) t.chunks.push_back({0, count, t.data_start, t.data_end - t.data_start});
    t.usable = true;
    return t;
  }

  const bool variable = info.laszip->variable_chunks();
  const uint64_t chunk_size = info.laszip->chunk_size;
  t.data_start = uint64_t(h.offset_to_points) + 8;
  t.data_end = area_end;
  const auto no_table = [&](const std::string& why) {
    t.usable = false;
    t.problem = file + ": " + why;
    const uint64_t room = area_end > t.data_start ? area_end - t.data_start : 0;
    t.chunks = variable ? std::vector<io::ChunkInfo>{}
                        : fixed_layout(count, chunk_size, room / h.record_length + 1);
    return t;
  };
  if (t.data_start > area_end) return no_table("no room for the chunk table offset");

  uint8_t ptr_bytes[8];
  source.read(h.offset_to_points, 8, ptr_bytes);
  int64_t table_offset = io::detail::i64_at(ptr_bytes);
  if (table_offset == -1) {
    // Writer could not seek back: the table offset is the last 8 bytes of the file.
    if (info.file_size < t.data_start + 8) {
      return no_table("chunk table offset is -1 and the file has no room for the trailer");
    }
    source.read(info.file_size - 8, 8, ptr_bytes);
    table_offset = io::detail::i64_at(ptr_bytes);
  }
  if (uint64_t(table_offset) == h.offset_to_points) {
    return no_table("chunk table offset points at itself (the writer did not finish the file)");
  }
  if (table_offset < int64_t(t.data_start) || uint64_t(table_offset) > area_end ||
      area_end - uint64_t(table_offset) < 8) {
    return no_table("chunk table offset " + num(uint64_t(table_offset)) +
                    " lies outside the point data area (" + num(t.data_start) + ".." +
                    num(area_end) + ")");
  }
  const uint64_t table_pos = uint64_t(table_offset);
  t.data_end = table_pos;

  uint8_t head[8];
  source.read(table_pos, 8, head);
  const uint32_t version = io::detail::u32_at(head);
  const uint32_t n_chunks = io::detail::u32_at(head + 4);
  if (version != 0) return no_table("chunk table version " + num(version) + " is not 0");

  // Every chunk starts with a raw point, so the chunk data bounds the chunk count before any
  // allocation depends on it.
  const uint64_t data_bytes = table_pos - t.data_start;
  if (n_chunks > data_bytes / h.record_length) {
    return no_table("chunk table lists " + num(n_chunks) + " chunks but the " + num(data_bytes) +
                    " bytes of chunk data can hold at most " + num(data_bytes / h.record_length));
  }
  if (n_chunks == 0) {
    if (count != 0) {
      return no_table("chunk table is empty but the header declares " + num(count) + " points");
    }
    t.usable = true;
    return t;
  }

  const uint64_t stream_pos = table_pos + 8;
  // A 32-bit residual never takes more than about 6 coded bytes, so this bounds the read even
  // when the table offset is wrong and the "table" would run to the end of a large file.
  const uint64_t stream_len =
      std::min<uint64_t>(area_end - stream_pos, 16 + uint64_t(n_chunks) * 16);
  std::vector<uint8_t> stream = source.read_vector(stream_pos, size_t(stream_len));
  detail::ArithDecoder dec;
  dec.init(stream.data(), stream.size());
  detail::IntegerDecoder ic(32, 2);

  std::vector<io::ChunkInfo> chunks(n_chunks);
  uint32_t last_count = 0, last_bytes = 0;
  uint64_t first_point = 0, offset = t.data_start;
  for (uint32_t i = 0; i < n_chunks; ++i) {
    io::ChunkInfo& c = chunks[i];
    if (variable) {
      last_count = uint32_t(ic.decode(dec, int32_t(last_count), 0));
      c.point_count = last_count;
    } else {
      c.point_count = std::min<uint64_t>(chunk_size, count > first_point ? count - first_point : 0);
    }
    last_bytes = uint32_t(ic.decode(dec, int32_t(last_bytes), 1));
    c.bytes = last_bytes;
    c.first_point = first_point;
    c.offset = offset;
    first_point += c.point_count;
    offset += c.bytes;
  }
  if (dec.overrun()) {
    return no_table("chunk table is truncated (its coded stream runs past the end of the data)");
  }

  // Consistency with the file and the header (laz-format.md section 8, pitfall 4). A chunk
  // without points is legal (lazrs ends some tables with one) and is dropped; a chunk with
  // points needs bytes.
  for (uint32_t i = 0; i < n_chunks; ++i) {
    if (chunks[i].bytes == 0 && chunks[i].point_count > 0) {
      return no_table("chunk " + num(i) + " of " + num(n_chunks) + " in the chunk table has " +
                      num(chunks[i].point_count) + " points and 0 bytes");
    }
  }
  chunks.erase(std::remove_if(chunks.begin(), chunks.end(),
                              [](const io::ChunkInfo& c) { return c.point_count == 0; }),
               chunks.end());
  if (offset != table_pos) {
    return no_table("chunk sizes in the chunk table add up to end at byte " + num(offset) +
                    " but the table starts at byte " + num(table_pos));
  }
  if (variable && first_point != count) {
    return no_table("chunk table counts " + num(first_point) + " points in " + num(n_chunks) +
                    " chunks but the header declares " + num(count));
  }
  if (!variable) {
    const uint64_t expected = (count + chunk_size - 1) / chunk_size;
    if (chunks.size() != expected) {
      return no_table("chunk table lists " + num(chunks.size()) + " chunks with points but " + num(count) +
                      " points in chunks of " + num(chunk_size) + " need " + num(expected));
    }
  }
  t.chunks = std::move(chunks);
  t.usable = true;
  return t;
}

}  // namespace lidarhd::laz
