// LAS public header, VLRs and EVLRs (laz-format.md sections 1.1, 1.2, 1.5), plus the records
// that other modules interpret (LASzip, COPC info, extra bytes, CRS). Every size and offset is
// checked against the file size before it drives a read or an allocation.
#include <cmath>
#include <cstring>
#include <string>

#include "io/las/le_bytes.hpp"
#include "io/laz/laszip_vlr.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/las.hpp"

namespace lidarhd::io {
namespace {

using detail::f64_at;
using detail::fixed_string;
using detail::u16_at;
using detail::u32_at;
using detail::u64_at;

constexpr uint32_t kVlrHeaderSize = 54;
constexpr uint32_t kEvlrHeaderSize = 60;
constexpr uint32_t kCopcInfoSize = 160;

std::string num(uint64_t v) { return std::to_string(v); }

uint16_t min_header_size(uint8_t minor) { return minor >= 4 ? 375 : minor == 3 ? 235 : 227; }

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw FormatError("las", file + ": " + problem);
}

std::string printable_signature(const uint8_t* p, size_t n) {
  std::string s = "\"";
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 32 && p[i] < 127 && p[i] != '"' && p[i] != '\\') {
      s += char(p[i]);
    } else {
      static const char kHex[] = "0123456789abcdef";
      s += "\\x";
      s += kHex[p[i] >> 4];
      s += kHex[p[i] & 15];
    }
  }
  return s + "\"";
}

LasHeader parse_public_header(const uint8_t* h, uint64_t file_size, const std::string& file) {
  LasHeader hd;
  hd.file_source_id = u16_at(h + 4);
  hd.global_encoding = u16_at(h + 6);
  std::memcpy(hd.guid.data(), h + 8, 16);
  hd.version_major = h[24];
  hd.version_minor = h[25];
  if (hd.version_major != 1 || hd.version_minor > 4) {
    fail(file, "LAS version " + num(hd.version_major) + "." + num(hd.version_minor) +
                   " is not supported (1.0 to 1.4)");
  }
  hd.system_id = fixed_string(h + 26, 32);
  hd.software = fixed_string(h + 58, 32);
  hd.creation_day = u16_at(h + 90);
  hd.creation_year = u16_at(h + 92);
  hd.header_size = u16_at(h + 94);
  hd.offset_to_points = u32_at(h + 96);
  hd.vlr_count = u32_at(h + 100);
  const uint8_t format_byte = h[104];
  hd.record_length = u16_at(h + 105);

  const uint16_t needed = min_header_size(hd.version_minor);
  if (hd.header_size < needed) {
    std::string msg = "corrupt header: header size field is " + num(hd.header_size) +
                      " but a LAS 1." + num(hd.version_minor) + " header is at least " +
                      num(needed) + " bytes";
    if (hd.offset_to_points < needed) {
      msg += " (offset to point data is " + num(hd.offset_to_points) + ", also inside the header)";
    }
    fail(file, msg);
  }
  if (hd.header_size > file_size) {
    fail(file, "header size field is " + num(hd.header_size) + " but the file has only " +
                   num(file_size) + " bytes");
  }
  // LASzip marks compression with bit 7 (bit 6 in early experimental files); both are masked.
  hd.compressed = (format_byte & 0xC0) != 0;
  hd.point_format = format_byte & 0x3F;
  if (hd.point_format > 10) {
    fail(file, "point data record format " + num(hd.point_format) + " (byte 104 = " +
                   num(format_byte) + ") is not supported (LAS defines formats 0 to 10)");
  }
  const uint32_t base = point_format_base_size(hd.point_format);
  if (hd.record_length < base) {
    fail(file, "point record length " + num(hd.record_length) + " is smaller than the " +
                   num(base) + " bytes of point format " + num(hd.point_format));
  }
  hd.legacy_point_count = u32_at(h + 107);
  for (int i = 0; i < 5; ++i) hd.legacy_points_by_return[i] = u32_at(h + 111 + 4 * i);
  for (int i = 0; i < 3; ++i) {
    hd.scale[i] = f64_at(h + 131 + 8 * i);
    hd.offset[i] = f64_at(h + 155 + 8 * i);
    hd.max[i] = f64_at(h + 179 + 16 * i);
    hd.min[i] = f64_at(h + 187 + 16 * i);
  }
  for (int i = 0; i < 3; ++i) {
    if (!std::isfinite(hd.scale[i]) || hd.scale[i] == 0.0 || !std::isfinite(hd.offset[i])) {
      fail(file, std::string("corrupt header: ") + "XYZ"[i] + " scale/offset (" +
                     std::to_string(hd.scale[i]) + ", " + std::to_string(hd.offset[i]) +
                     ") cannot map stored integers to coordinates");
    }
  }
  if (hd.version_minor >= 3) hd.waveform_start = u64_at(h + 227);
  uint64_t extended_count = 0;
  if (hd.version_minor >= 4) {
    hd.evlr_start = u64_at(h + 235);
    hd.evlr_count = u32_at(h + 243);
    extended_count = u64_at(h + 247);
    for (int i = 0; i < 15; ++i) hd.points_by_return[i] = u64_at(h + 255 + 8 * i);
  }
  // laz-format.md 1.1: 1.4 files carry the count in the u64 field (legacy is 0 for PDRF 6-10).
  if (hd.version_minor >= 4 && extended_count != 0) {
    hd.point_count = extended_count;
  } else {
    hd.point_count = hd.legacy_point_count;
    if (hd.version_minor < 4)
      for (int i = 0; i < 5; ++i) hd.points_by_return[i] = hd.legacy_points_by_return[i];
  }
  if (hd.offset_to_points < hd.header_size) {
    fail(file, "offset to point data (" + num(hd.offset_to_points) +
                   ") lies inside the public header (" + num(hd.header_size) + " bytes)");
  }
  if (hd.offset_to_points > file_size) {
    fail(file, "offset to point data (" + num(hd.offset_to_points) +
                   ") is past the end of the file (" + num(file_size) + " bytes)");
  }
  return hd;
}

std::vector<Vlr> read_vlrs(const ByteSource& src, const LasHeader& hd, const std::string& file) {
  const uint64_t area = uint64_t(hd.offset_to_points) - hd.header_size;
  if (uint64_t(hd.vlr_count) * kVlrHeaderSize > area) {
    fail(file, "header declares " + num(hd.vlr_count) + " VLRs but only " + num(area) +
                   " bytes lie between the header and the point data (" + num(kVlrHeaderSize) +
                   " bytes per VLR header at least)");
  }
  // Read the whole VLR area at once: it is bounded by offset_to_points (< 4 GiB) and, being
  // within the file, by the file size.
  const std::vector<uint8_t> bytes = src.read_vector(hd.header_size, size_t(area));
  std::vector<Vlr> vlrs;
  vlrs.reserve(hd.vlr_count);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < hd.vlr_count; ++i) {
    if (area - pos < kVlrHeaderSize) {
      fail(file, "VLR " + num(i) + " header (at byte " + num(hd.header_size + pos) +
                     ") extends past the offset to point data (" + num(hd.offset_to_points) + ")");
    }
    const uint8_t* p = bytes.data() + pos;
    Vlr v;
    v.user_id = fixed_string(p + 2, 16);
    v.record_id = u16_at(p + 18);
    const uint16_t length = u16_at(p + 20);
    v.description = fixed_string(p + 22, 32);
    pos += kVlrHeaderSize;
    if (length > area - pos) {
      fail(file, "VLR " + num(i) + " (" + v.user_id + "/" + num(v.record_id) + ", " + num(length) +
                     " bytes at byte " + num(hd.header_size + pos) +
                     ") extends past the offset to point data (" + num(hd.offset_to_points) + ")");
    }
    v.data_offset = hd.header_size + pos;
    v.data_size = length;
    v.data.assign(bytes.begin() + pos, bytes.begin() + pos + length);
    pos += length;
    vlrs.push_back(std::move(v));
  }
  return vlrs;
}

std::vector<Vlr> read_evlrs(const ByteSource& src, const LasHeader& hd, uint64_t points_end,
                            const std::string& file) {
  std::vector<Vlr> evlrs;
  if (hd.evlr_count == 0) return evlrs;
  const uint64_t size = src.size();
  if (hd.evlr_start < points_end || hd.evlr_start > size) {
    fail(file,
         "start of the " + num(hd.evlr_count) + " EVLRs (" + num(hd.evlr_start) + ") is " +
             (hd.evlr_start > size ? "past the end of the file (" + num(size) + " bytes)"
                                   : "before the end of the point data (" + num(points_end) + ")"));
  }
  if (uint64_t(hd.evlr_count) * kEvlrHeaderSize > size - hd.evlr_start) {
    fail(file, "header declares " + num(hd.evlr_count) + " EVLRs starting at " +
                   num(hd.evlr_start) + " but only " + num(size - hd.evlr_start) +
                   " bytes follow (60 bytes per EVLR header at least)");
  }
  evlrs.reserve(hd.evlr_count);
  uint64_t pos = hd.evlr_start;
  for (uint32_t i = 0; i < hd.evlr_count; ++i) {
    if (size - pos < kEvlrHeaderSize) {
      fail(file, "EVLR " + num(i) + " header at byte " + num(pos) +
                     " extends past the end of the file (" + num(size) + " bytes)");
    }
    uint8_t h[kEvlrHeaderSize];
    src.read(pos, kEvlrHeaderSize, h);
    Vlr v;
    v.extended = true;
    v.user_id = fixed_string(h + 2, 16);
    v.record_id = u16_at(h + 18);
    const uint64_t length = u64_at(h + 20);
    v.description = fixed_string(h + 28, 32);
    pos += kEvlrHeaderSize;
    if (length > size - pos) {
      fail(file, "EVLR " + num(i) + " (" + v.user_id + "/" + num(v.record_id) + ", " + num(length) +
                     " bytes at byte " + num(pos) + ") extends past the end of the file (" +
                     num(size) + " bytes)");
    }
    v.data_offset = pos;
    v.data_size = length;
    if (length <= kMaxLoadedEvlr) v.data = src.read_vector(pos, size_t(length));
    pos += length;
    evlrs.push_back(std::move(v));
  }
  return evlrs;
}

bool is_laszip_vlr(const Vlr& v) { return v.user_id == "laszip encoded" && v.record_id == 22204; }

CopcInfo parse_copc_info(const Vlr& v, const LasHeader& hd, uint64_t file_size,
                         const std::string& file) {
  const uint8_t* p = v.data.data();
  CopcInfo c;
  for (int i = 0; i < 3; ++i) c.center[i] = f64_at(p + 8 * i);
  c.halfsize = f64_at(p + 24);
  c.spacing = f64_at(p + 32);
  c.root_hier_offset = u64_at(p + 40);
  c.root_hier_size = u64_at(p + 48);
  c.gpstime_min = f64_at(p + 56);
  c.gpstime_max = f64_at(p + 64);
  const auto bad = [&](const std::string& what) { throw FormatError("copc", file + ": " + what); };
  if (hd.version_minor != 4 || hd.point_format < 6 || hd.point_format > 8) {
    bad("COPC needs LAS 1.4 with point format 6, 7 or 8, the file is LAS 1." +
        num(hd.version_minor) + " format " + num(hd.point_format));
  }
  if (!(std::isfinite(c.halfsize) && c.halfsize > 0) || !std::isfinite(c.center[0]) ||
      !std::isfinite(c.center[1]) || !std::isfinite(c.center[2])) {
    bad("COPC info has an invalid octree cube (halfsize " + std::to_string(c.halfsize) + ")");
  }
  if (c.root_hier_size % 32 != 0 || c.root_hier_offset > file_size ||
      c.root_hier_size > file_size - c.root_hier_offset) {
    bad("COPC root hierarchy page (" + num(c.root_hier_size) + " bytes at " +
        num(c.root_hier_offset) + ") is not a whole number of 32-byte entries inside the file (" +
        num(file_size) + " bytes)");
  }
  return c;
}

}  // namespace

LasFileInfo read_las_info(ByteSource& source) {
  LasFileInfo info;
  info.path = source.name();
  info.file_size = source.size();
  const std::string& file = info.path;

  uint8_t h[375] = {};
  const size_t avail = size_t(std::min<uint64_t>(info.file_size, sizeof(h)));
  source.read(0, avail, h);
  if (avail < 4 || std::memcmp(h, "LASF", 4) != 0) {
    throw FormatError("las", file + " is not a LAS file (signature " +
                                 printable_signature(h, std::min<size_t>(avail, 4)) +
                                 ", expected \"LASF\")");
  }
  if (avail < 227) {
    fail(file, "file is truncated: " + num(info.file_size) +
                   " bytes, shorter than the 227-byte LAS public header");
  }
  if (h[24] == 1 && h[25] >= 3 && avail < min_header_size(h[25])) {
    fail(file, "file is truncated: " + num(info.file_size) + " bytes, shorter than the " +
                   num(min_header_size(h[25])) + "-byte LAS 1." + num(h[25]) + " header");
  }
  LasHeader& hd = info.header;
  hd = parse_public_header(h, info.file_size, file);

  info.vlrs = read_vlrs(source, hd, file);

  const Vlr* laszip_vlr = nullptr;
  for (const Vlr& v : info.vlrs)
    if (is_laszip_vlr(v)) laszip_vlr = &v;
  if (hd.compressed && !laszip_vlr) {
    fail(file, "point format byte " + num(hd.point_format | 0x80u) +
                   " marks the points as LAZ-compressed but there is no LASzip VLR "
                   "(\"laszip encoded\"/22204)");
  }
  // A LASzip VLR without the compression bit (copied by a non-LAZ writer) describes nothing.
  if (hd.compressed) {
    info.laszip = laz::parse_laszip_vlr(laszip_vlr->data.data(), laszip_vlr->data.size(), file);
    laz::validate_laszip(*info.laszip, hd.point_format, hd.record_length, file);
  }

  // Where the point data ends (EVLRs must not overlap it).
  const uint64_t avail_points = info.file_size - hd.offset_to_points;
  uint64_t points_end = hd.offset_to_points;
  if (!hd.compressed) {
    if (hd.point_count > avail_points / hd.record_length) {
      fail(file, "header declares " + num(hd.point_count) + " points x " + num(hd.record_length) +
                     " bytes after offset " + num(hd.offset_to_points) +
                     ", but the file has only " + num(info.file_size) +
                     " bytes: truncated file or wrong point count" +
                     (laszip_vlr ? " (the file has a LASzip VLR but byte 104 lacks the "
                                   "compression bit: is it a mislabelled LAZ file?)"
                                 : ""));
    }
    points_end += hd.point_count * hd.record_length;
  } else if (info.laszip->compressor != laz::kCompressorPointwise) {
    // The chunk table pointer (i64) always follows offset_to_points, even with 0 points.
    if (avail_points < 8) {
      fail(file, "LAZ point data at offset " + num(hd.offset_to_points) +
                     " has no room for the 8-byte chunk table offset (file has " +
                     num(info.file_size) + " bytes)");
    }
    points_end += 8;
  }
  if (hd.compressed && hd.point_count > 0 && avail_points < hd.record_length) {
    fail(file, "header declares " + num(hd.point_count) + " points but the LAZ point data (" +
                   num(avail_points) + " bytes after offset " + num(hd.offset_to_points) +
                   ") cannot even hold the first raw point (" + num(hd.record_length) + " bytes)");
  }

  if (hd.version_minor >= 4) info.evlrs = read_evlrs(source, hd, points_end, file);

  if (!info.vlrs.empty() && info.vlrs.front().user_id == "copc" &&
      info.vlrs.front().record_id == 1) {
    const Vlr& v = info.vlrs.front();
    if (v.data.size() != kCopcInfoSize) {
      throw FormatError("copc", file + ": COPC info VLR is " + num(v.data.size()) +
                                    " bytes, expected " + num(kCopcInfoSize));
    }
    if (!hd.compressed) {
      throw FormatError("copc", file + ": COPC info VLR present but the points are not LAZ");
    }
    info.copc = parse_copc_info(v, hd, info.file_size, file);
  }

  std::vector<Vlr> extra_records;
  for (const auto* list : {&info.vlrs, &info.evlrs})
    for (const Vlr& v : *list)
      if (v.user_id == "LASF_Spec" && v.record_id == 4) extra_records.push_back(v);
  info.extra_dims = parse_extra_bytes(extra_records, hd.point_format, hd.record_length, file);
  info.crs = parse_crs(info.vlrs, info.evlrs);
  return info;
}

LasFileInfo read_las_info(const std::string& path) {
  auto source = open_file_source(path);
  return read_las_info(*source);
}

}  // namespace lidarhd::io
