// LAS container: public header, VLRs/EVLRs, point formats, extra dimensions and CRS
// (laz-format.md section 1). Parsing validates every offset and size against the file size.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lidarhd/io/byte_source.hpp"

namespace lidarhd::io {

struct Vlr {
  std::string user_id;      // NUL padding removed
  uint16_t record_id = 0;
  std::string description;  // NUL padding removed
  std::vector<uint8_t> data;
  bool extended = false;    // EVLR
  uint64_t data_offset = 0; // absolute file offset of `data`
  uint64_t data_size = 0;   // payload bytes in the file; `data` is left empty for EVLRs larger
                            // than kMaxLoadedEvlr (waveform packets): read them from the source
};

constexpr uint64_t kMaxLoadedEvlr = uint64_t(64) << 20;

struct LasHeader {
  uint16_t file_source_id = 0;
  uint16_t global_encoding = 0;
  std::array<uint8_t, 16> guid{};
  uint8_t version_major = 1;
  uint8_t version_minor = 2;
  std::string system_id;
  std::string software;
  uint16_t creation_day = 0;
  uint16_t creation_year = 0;
  uint16_t header_size = 0;
  uint32_t offset_to_points = 0;
  uint32_t vlr_count = 0;
  uint8_t point_format = 0;   // PDRF, compression bits masked off
  bool compressed = false;    // bit 7 or 6 of the PDRF byte was set
  uint16_t record_length = 0; // uncompressed bytes per point
  uint32_t legacy_point_count = 0;
  std::array<uint32_t, 5> legacy_points_by_return{};
  uint64_t point_count = 0;   // the count to use (laz-format.md 1.1 rule)
  std::array<uint64_t, 15> points_by_return{};
  std::array<double, 3> scale{1, 1, 1};
  std::array<double, 3> offset{0, 0, 0};
  std::array<double, 3> min{0, 0, 0};
  std::array<double, 3> max{0, 0, 0};
  uint64_t waveform_start = 0;
  uint64_t evlr_start = 0;
  uint32_t evlr_count = 0;
};

// Extra-bytes data types (LAS 1.4 Extra Bytes VLR). kUndocumented = raw bytes.
enum class ExtraType : uint8_t {
  kUndocumented = 0, kU8 = 1, kI8 = 2, kU16 = 3, kI16 = 4, kU32 = 5, kI32 = 6,
  kU64 = 7, kI64 = 8, kF32 = 9, kF64 = 10,
};

struct ExtraDim {
  std::string name;
  std::string description;
  ExtraType type = ExtraType::kUndocumented;
  uint32_t elements = 1;     // 2 or 3 for the deprecated array types 11-30
  uint32_t offset = 0;       // byte offset inside the point record
  uint32_t size = 0;         // total bytes in the record
  uint8_t options = 0;
  std::array<double, 3> scale{1, 1, 1};
  std::array<double, 3> offset_value{0, 0, 0};
  bool has_scale() const { return options & 0x08; }
  bool has_offset() const { return options & 0x10; }
  std::optional<double> no_data;  // when options bit 0 is set
};

struct Crs {
  int epsg = 0;            // 0 when no EPSG code could be read (horizontal part of a compound CRS)
  int vertical_epsg = 0;   // vertical part of a compound CRS (COMPD_CS / COMPOUNDCRS), else 0
  std::string name;        // from the WKT, when there is one
  std::string wkt;         // the WKT VLR payload, when there is one
  std::string source;      // where epsg came from: "wkt", "geotiff" or "" (none declared)
  // "EPSG:2154", "EPSG:2991+6360" (compound), or "none" when no EPSG code is declared (the data
  // README's convention; the WKT name, if any, stays in `name`).
  std::string to_string() const;
};

// Parses the CRS from the WKT (LASF_Projection/2112, VLR or EVLR) or, when the WKT gives no EPSG
// code, the GeoTIFF keys (LASF_Projection/34735: ProjectedCSTypeGeoKey, GeographicTypeGeoKey).
Crs parse_crs(const std::vector<Vlr>& vlrs, const std::vector<Vlr>& evlrs);
// EPSG codes of a WKT string (WKT1 AUTHORITY or WKT2 ID of the outermost node, or of the
// horizontal and vertical parts of a compound CRS) and its name. Never throws.
Crs parse_wkt_crs(const std::string& wkt);

struct LaszipItemInfo {
  uint16_t type = 0, size = 0, version = 0;
};

struct LaszipInfo {
  uint16_t compressor = 0;   // 1 pointwise, 2 pointwise chunked, 3 layered chunked
  uint16_t coder = 0;
  uint8_t version_major = 0, version_minor = 0;
  uint16_t version_revision = 0;
  uint32_t options = 0;
  uint32_t chunk_size = 0;   // 0xFFFFFFFF (or 0) = variable-size chunks
  std::vector<LaszipItemInfo> items;
  bool variable_chunks() const { return chunk_size == 0xFFFFFFFFu || chunk_size == 0; }
};

struct CopcInfo {
  std::array<double, 3> center{};
  double halfsize = 0, spacing = 0;
  uint64_t root_hier_offset = 0, root_hier_size = 0;
  double gpstime_min = 0, gpstime_max = 0;
};

// Everything known about a file before decoding points.
struct LasFileInfo {
  std::string path;
  uint64_t file_size = 0;
  LasHeader header;
  std::vector<Vlr> vlrs;
  std::vector<Vlr> evlrs;
  std::vector<ExtraDim> extra_dims;   // from the Extra Bytes VLR, or one undocumented block
  Crs crs;
  std::optional<LaszipInfo> laszip;   // set for LAZ files
  std::optional<CopcInfo> copc;       // set for COPC files
};

// Size of the standard part of a point record for PDRF 0-10 (20, 28, 26, 34, 57, 63, 30, 36, 38,
// 59, 67); throws FormatError for other formats.
uint32_t point_format_base_size(uint8_t point_format);

// Byte offsets of the optional fields of a PDRF (laz-format.md 1.3); -1 when absent.
struct PointLayout {
  uint8_t format = 0;
  bool extended = false;       // PDRF 6-10 (30-byte base, 4-bit returns, i16 scan angle)
  uint32_t base_size = 20;
  int32_t gps_time = -1;       // f64
  int32_t rgb = -1;            // 3 x u16
  int32_t nir = -1;            // u16
  int32_t wavepacket = -1;     // 29 bytes
};
PointLayout point_layout(uint8_t point_format);  // throws FormatError for formats > 10

// Parses the Extra Bytes VLRs (LASF_Spec/4, in file order) for records of `record_length` bytes
// of `point_format`; bytes left without a descriptor become one undocumented ExtraDim named
// "extra_bytes_<offset>". Throws FormatError naming `file` when descriptors are invalid.
std::vector<ExtraDim> parse_extra_bytes(const std::vector<Vlr>& vlrs, uint8_t point_format,
                                        uint16_t record_length, const std::string& file);
// Size in bytes of one element of an extra-bytes type (0 for kUndocumented).
uint32_t extra_type_size(ExtraType t);

// Reads and validates the header, VLRs and EVLRs; parses the LASzip VLR, COPC info, extra bytes and
// CRS. Throws FormatError / IoError with the file name and the problem.
LasFileInfo read_las_info(ByteSource& source);
LasFileInfo read_las_info(const std::string& path);

}  // namespace lidarhd::io
