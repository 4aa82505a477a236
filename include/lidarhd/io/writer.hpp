// Writing LAS 1.2-1.4 and LAZ files: point formats 0-10 (4/5/9/10 records passed through as
// bytes), VLRs/EVLRs carried over from a source file, extra dimensions added as typed columns with
// a regenerated Extra Bytes VLR, header statistics recomputed from the records, LAZ chunks encoded
// on several threads (output byte-identical for any thread count), and atomic output (a hidden
// temporary file renamed onto the target by close()).
//
// Typical use (enriching a tile):
//   PointReader reader(in);
//   WriteOptions opt;
//   opt.compressed = true;
//   LasWriter writer(out, reader.info(), opt);
//   ExtraDim dim;
//   dim.name = "height", dim.type = ExtraType::kF32;
//   const ExtraDim h = writer.add_extra_dim(dim);
//   RecordConverter conv(reader.info(), writer.header());
//   while ((n = reader.read_batch(batch, 1 << 20)) > 0) {
//     out_records.resize(n * writer.record_length());
//     conv.convert(batch.data(), n, out_records.data());
//     for (i...) set_extra_value(&out_records[i * writer.record_length()], h, value_i);
//     writer.write_records(out_records.data(), n);
//   }
//   writer.close();
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lidarhd/io/las.hpp"

namespace lidarhd::io {

constexpr uint32_t kDefaultChunkSize = 50000;
constexpr uint32_t kVariableChunks = 0xFFFFFFFFu;  // LASzip's "variable-size chunks" marker

struct WriteOptions {
  // LAS 1.x minor version (2, 3 or 4); -1 = the source's, raised to what the point format needs
  // (1.3 for PDRF 4/5, 1.4 for PDRF 6-10) and to at least 1.2 (laspy's rule).
  int version_minor = -1;
  int point_format = -1;       // -1 = the source's
  bool compressed = false;     // LAZ
  // Points per LAZ chunk. kVariableChunks writes a table with per-chunk counts; chunks then end
  // at end_chunk() calls and, at the latest, every kDefaultChunkSize points.
  uint32_t chunk_size = kDefaultChunkSize;
  unsigned threads = 1;        // LAZ chunks encoded in parallel
  // LAZ chunks buffered per thread before a parallel encoding round: memory is this x threads x
  // chunk_size records (and their encoded bytes); the output does not depend on it.
  unsigned chunks_per_round = 16;
  // Output scale/offset (the records given to write_records must use them); default: source's.
  std::optional<std::array<double, 3>> scale;
  std::optional<std::array<double, 3>> offset;
  std::string software = "lidarhd 0.1.0";  // generating software field
};

// A header for a file made from scratch (no source file): PDRF, scale, offset, today's date.
LasFileInfo make_las_info(uint8_t point_format, const std::array<double, 3>& scale,
                          const std::array<double, 3>& offset);

class LasWriter {
 public:
  // `source` gives the header fields, VLRs, EVLRs and extra dimensions to carry over; the LASzip,
  // Extra Bytes and COPC records are dropped (the first two are regenerated). EVLRs too large to
  // have been loaded are copied from source.path. Throws IoError when the output cannot be
  // created, ArgumentError for impossible options (PDRF 6 in LAS 1.2, ...).
  LasWriter(const std::string& path, const LasFileInfo& source, WriteOptions options = {});
  ~LasWriter();  // without close(): the temporary file is removed, the target is untouched
  LasWriter(LasWriter&&) noexcept;
  LasWriter& operator=(LasWriter&&) noexcept;

  // Appends a dimension after the existing extra bytes (before the first write_records()).
  // `dim.name` must be 1-32 bytes and unique, `dim.description` at most 32 bytes; options bits
  // for scale/offset/no_data are set from the fields. Returns the dimension with its record
  // offset and size filled in.
  ExtraDim add_extra_dim(ExtraDim dim);

  // The output header as it stands (version, format, record length, scale, offset).
  const LasHeader& header() const;
  const std::vector<ExtraDim>& extra_dims() const;
  uint16_t record_length() const;
  uint8_t point_format() const;
  const std::string& path() const;
  uint64_t points_written() const;

  // Appends n records in the output layout (record_length() bytes each). Streaming: LAZ buffers
  // at most threads x chunk_size records.
  void write_records(const uint8_t* records, uint64_t n);
  // Variable-chunk LAZ only: ends the current chunk here (no-op when it is empty).
  void end_chunk();
  // Encodes what is buffered, writes the chunk table and EVLRs, patches the header, then
  // renames the file onto its target. On error the temporary file is removed.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether an output name asks for LAZ: true for ".laz", false for ".las" (any case). Throws
// ArgumentError prefixed with `component` for other names and for ".copc.laz" (not written).
bool output_is_laz(const std::string& path, const std::string& component);

// World coordinate -> stored int32: round((world - offset) / scale). Throws ArgumentError
// ("las: x = 1e+12 does not fit a 32-bit integer with scale 0.01 and offset 0; choose a larger
// scale or an offset near the data") on overflow or a non-finite value. `axis` is 'x', 'y' or 'z'.
int32_t to_stored(double world, double scale, double offset, char axis);

// Converts records between point formats (0-10, same family or 0-5 <-> 6-10), re-quantises
// X/Y/Z when the scale/offset differ, copies the source's extra bytes right after the target's
// standard fields and zero-fills the rest of the target record (added extra dimensions).
// Legacy -> extended: return numbers, classification (0-31) and its flag bits, scan direction,
// edge, scan angle (degrees -> 0.006 degree units) as PDAL does; fields the target lacks (GPS
// time, RGB, NIR, wave packet) are dropped, those the source lacks are zero. Extended -> legacy
// refuses what would change values: return number or count > 7, classification > 31, the
// overlap flag, a scanner channel, a scan angle beyond +-127 degrees.
class RecordConverter {
 public:
  RecordConverter(const LasFileInfo& source, const LasHeader& target);
  // `first_index` is the index of in[0] in the source, for error messages.
  void convert(const uint8_t* in, uint64_t n, uint8_t* out, uint64_t first_index = 0) const;
  // True when records pass unchanged (same format, length, scale and offset).
  bool identity() const { return identity_; }
  // Standard fields of the source that the target format cannot hold ("gps_time", "rgb", ...).
  const std::vector<std::string>& dropped_fields() const { return dropped_; }

 private:
  void fail(uint64_t index, const std::string& problem) const;

  std::string file_;
  PointLayout src_, dst_;
  uint32_t src_len_ = 0, dst_len_ = 0, extra_bytes_ = 0;
  bool requantise_ = false, identity_ = false;
  std::array<double, 3> src_scale_{}, src_offset_{}, dst_scale_{}, dst_offset_{};
  std::vector<std::string> dropped_;
};

// Writes `value` (real units: raw * scale + offset) into `record` at `dim`'s place: inverse
// scale/offset, rounding for integer types. Throws ArgumentError when it does not fit the type.
void set_extra_value(uint8_t* record, const ExtraDim& dim, double value, uint32_t element = 0);
// Reads a value in real units (scale/offset applied).
double get_extra_value(const uint8_t* record, const ExtraDim& dim, uint32_t element = 0);

// "u8".."f64" / "uint8".."float64" -> type; throws ArgumentError for other names.
ExtraType parse_extra_type(const std::string& name);
const char* extra_type_short_name(ExtraType t);  // "u8", ..., "f64", "bytes"

}  // namespace lidarhd::io
