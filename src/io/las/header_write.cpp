#include "io/las/header_write.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "io/laz/items.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::io::detail {
namespace {

constexpr size_t kDescriptorBytes = 192;

template <class T>
void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));  // little-endian host (le_bytes.hpp)
}

void put_string(uint8_t* p, const std::string& s, size_t field) {
  std::memcpy(p, s.data(), std::min(s.size(), field));  // the rest stays NUL
}

bool is_signed(ExtraType t) {
  return t == ExtraType::kI8 || t == ExtraType::kI16 || t == ExtraType::kI32 ||
         t == ExtraType::kI64;
}
bool is_float(ExtraType t) { return t == ExtraType::kF32 || t == ExtraType::kF64; }

// no_data is stored widened to 8 bytes by the type's family.
// Out-of-range values are clamped (a cast would be undefined behaviour).
void put_widened(uint8_t* p, ExtraType t, double v) {
  if (is_float(t)) {
    put<double>(p, v);
  } else if (is_signed(t)) {
    const double c =
        v != v ? 0.0 : std::min(std::max(v, -9.2233720368547758e18), 9.2233720368547748e18);
    put<int64_t>(p, int64_t(c));
  } else {
    const double c = v != v ? 0.0 : std::min(std::max(v, 0.0), 1.8446744073709550e19);
    put<uint64_t>(p, uint64_t(c));
  }
}

void check_ids(const Vlr& v) {
  if (v.user_id.size() > 16)
    throw ArgumentError("las", "VLR user id '" + v.user_id + "' is longer than 16 bytes");
}

}  // namespace

uint16_t header_size_for(uint8_t version_minor) {
  return version_minor >= 4 ? 375 : version_minor == 3 ? 235 : 227;
}

std::vector<uint8_t> serialize_header(const LasHeader& h, bool compressed) {
  std::vector<uint8_t> b(header_size_for(h.version_minor), 0);
  uint8_t* p = b.data();
  std::memcpy(p, "LASF", 4);
  put<uint16_t>(p + 4, h.file_source_id);
  put<uint16_t>(p + 6, h.global_encoding);
  std::memcpy(p + 8, h.guid.data(), 16);
  p[24] = h.version_major;
  p[25] = h.version_minor;
  put_string(p + 26, h.system_id, 32);
  put_string(p + 58, h.software, 32);
  put<uint16_t>(p + 90, h.creation_day);
  put<uint16_t>(p + 92, h.creation_year);
  put<uint16_t>(p + 94, uint16_t(b.size()));
  put<uint32_t>(p + 96, h.offset_to_points);
  put<uint32_t>(p + 100, h.vlr_count);
  p[104] = uint8_t(h.point_format | (compressed ? 0x80 : 0));
  put<uint16_t>(p + 105, h.record_length);
  put<uint32_t>(p + 107, h.legacy_point_count);
  for (int i = 0; i < 5; ++i) put<uint32_t>(p + 111 + 4 * i, h.legacy_points_by_return[i]);
  for (int i = 0; i < 3; ++i) {
    put<double>(p + 131 + 8 * i, h.scale[i]);
    put<double>(p + 155 + 8 * i, h.offset[i]);
    put<double>(p + 179 + 16 * i, h.max[i]);
    put<double>(p + 187 + 16 * i, h.min[i]);
  }
  if (h.version_minor >= 3) put<uint64_t>(p + 227, h.waveform_start);
  if (h.version_minor >= 4) {
    put<uint64_t>(p + 235, h.evlr_start);
    put<uint32_t>(p + 243, h.evlr_count);
    put<uint64_t>(p + 247, h.point_count);
    for (int i = 0; i < 15; ++i) put<uint64_t>(p + 255 + 8 * i, h.points_by_return[i]);
  }
  return b;
}

void append_vlr(std::vector<uint8_t>& out, const Vlr& v) {
  check_ids(v);
  if (v.data.size() > 0xFFFF)
    throw ArgumentError("las", "VLR " + v.user_id + "/" + std::to_string(v.record_id) + " is " +
                                   std::to_string(v.data.size()) +
                                   " bytes, over the 65535 a VLR can hold (write LAS 1.4, "
                                   "which stores it as an EVLR)");
  uint8_t h[kVlrHeaderBytes] = {};
  put_string(h + 2, v.user_id, 16);
  put<uint16_t>(h + 18, v.record_id);
  put<uint16_t>(h + 20, uint16_t(v.data.size()));
  put_string(h + 22, v.description, 32);
  out.insert(out.end(), h, h + kVlrHeaderBytes);
  out.insert(out.end(), v.data.begin(), v.data.end());
}

std::vector<uint8_t> evlr_header(const Vlr& v, uint64_t size) {
  check_ids(v);
  std::vector<uint8_t> h(kEvlrHeaderBytes, 0);
  put_string(h.data() + 2, v.user_id, 16);
  put<uint16_t>(h.data() + 18, v.record_id);
  put<uint64_t>(h.data() + 20, size);
  put_string(h.data() + 28, v.description, 32);
  return h;
}

Vlr make_extra_bytes_vlr(const std::vector<ExtraDim>& dims) {
  Vlr v;
  v.user_id = "LASF_Spec";
  v.record_id = 4;
  v.description = "Extra Bytes Record";
  for (const ExtraDim& d : dims) {
    if (d.type == ExtraType::kUndocumented) {
      for (uint32_t done = 0, piece = 0; done < d.size; ++piece) {
        const uint32_t n = std::min<uint32_t>(255, d.size - done);
        std::vector<uint8_t> desc(kDescriptorBytes, 0);
        desc[2] = 0;
        desc[3] = uint8_t(n);  // type 0: options holds the byte count
        put_string(desc.data() + 4, piece ? d.name + "_" + std::to_string(piece + 1) : d.name, 32);
        put_string(desc.data() + 160, d.description, 32);
        v.data.insert(v.data.end(), desc.begin(), desc.end());
        done += n;
      }
      continue;
    }
    std::vector<uint8_t> desc(kDescriptorBytes, 0);
    uint8_t* p = desc.data();
    p[2] = uint8_t(uint32_t(d.type) + 10 * (d.elements - 1));
    // min/max (bits 1, 2) are not carried: the writer does not recompute them.
    p[3] = uint8_t(d.options & 0x19);
    put_string(p + 4, d.name, 32);
    if ((d.options & 0x01) && d.no_data)
      for (uint32_t e = 0; e < d.elements; ++e) put_widened(p + 40 + 8 * e, d.type, *d.no_data);
    for (uint32_t e = 0; e < d.elements && e < 3; ++e) {
      if (d.options & 0x08) put<double>(p + 112 + 8 * e, d.scale[e]);
      if (d.options & 0x10) put<double>(p + 136 + 8 * e, d.offset_value[e]);
    }
    put_string(p + 160, d.description, 32);
    v.data.insert(v.data.end(), desc.begin(), desc.end());
  }
  return v;
}

LaszipInfo laszip_info_for(uint8_t point_format, uint32_t extra_bytes, uint32_t chunk_size) {
  using namespace laz::detail;  // the ItemType numbers
  LaszipInfo z;
  z.coder = 0;
  z.version_major = 3;  // as LASzip 3.4r3 writes
  z.version_minor = 4;
  z.version_revision = 3;
  z.options = 0;
  z.chunk_size = chunk_size;
  const PointLayout l = point_layout(point_format);
  if (!l.extended) {
    z.compressor = 2;
    z.items.push_back({kPoint10, 20, 2});
    if (l.gps_time >= 0) z.items.push_back({kGpsTime11, 8, 2});
    if (l.rgb >= 0) z.items.push_back({kRgb12, 6, 2});
    if (l.wavepacket >= 0) z.items.push_back({kWavepacket13, 29, 1});
    if (extra_bytes) z.items.push_back({kByte, uint16_t(extra_bytes), 2});
  } else {
    z.compressor = 3;
    z.items.push_back({kPoint14, 30, 3});
    if (l.nir >= 0) z.items.push_back({kRgbNir14, 8, 3});
    else if (l.rgb >= 0) z.items.push_back({kRgb14, 6, 3});
    if (l.wavepacket >= 0) z.items.push_back({kWavepacket14, 29, 3});
    if (extra_bytes) z.items.push_back({kByte14, uint16_t(extra_bytes), 3});
  }
  return z;
}

Vlr make_laszip_vlr(const LaszipInfo& z) {
  Vlr v;
  v.user_id = "laszip encoded";
  v.record_id = 22204;
  v.description = "lidarhd LAZ (LASzip format)";
  v.data.assign(34 + 6 * z.items.size(), 0);
  uint8_t* p = v.data.data();
  put<uint16_t>(p, z.compressor);
  put<uint16_t>(p + 2, z.coder);
  p[4] = z.version_major;
  p[5] = z.version_minor;
  put<uint16_t>(p + 6, z.version_revision);
  put<uint32_t>(p + 8, z.options);
  put<uint32_t>(p + 12, z.chunk_size);
  put<int64_t>(p + 16, -1);  // no special EVLRs
  put<int64_t>(p + 24, -1);
  put<uint16_t>(p + 32, uint16_t(z.items.size()));
  for (size_t i = 0; i < z.items.size(); ++i) {
    put<uint16_t>(p + 34 + 6 * i, z.items[i].type);
    put<uint16_t>(p + 36 + 6 * i, z.items[i].size);
    put<uint16_t>(p + 38 + 6 * i, z.items[i].version);
  }
  return v;
}

}  // namespace lidarhd::io::detail
