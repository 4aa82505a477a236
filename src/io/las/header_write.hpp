// Serialising the LAS public header, VLR/EVLR headers, the Extra Bytes VLR and the LASzip VLR
// (the writer side of laz-format.md sections 1.1, 1.2, 1.6 and 2).
#pragma once

#include <cstdint>
#include <vector>

#include "lidarhd/io/las.hpp"

namespace lidarhd::io::detail {

constexpr uint32_t kVlrHeaderBytes = 54;
constexpr uint32_t kEvlrHeaderBytes = 60;

// 227 / 235 / 375 bytes for LAS 1.2 / 1.3 / 1.4.
uint16_t header_size_for(uint8_t version_minor);

// The public header (header_size_for(h.version_minor) bytes). The PDRF byte gets bit 7 when
// `compressed`. Strings longer than their 32-byte fields are cut.
std::vector<uint8_t> serialize_header(const LasHeader& h, bool compressed);

// Appends a VLR (54-byte header + payload); throws ArgumentError when the user id is over 16
// bytes or the payload over 65535 bytes.
void append_vlr(std::vector<uint8_t>& out, const Vlr& v);
// The 60-byte EVLR header for a payload of `size` bytes.
std::vector<uint8_t> evlr_header(const Vlr& v, uint64_t size);

// LASF_Spec/4 with one 192-byte descriptor per dimension (undocumented blocks as type 0, split
// into pieces of at most 255 bytes).
Vlr make_extra_bytes_vlr(const std::vector<ExtraDim>& dims);

// The items LASzip 3.4 writes for `point_format` with `extra_bytes` trailing bytes: compressor 2
// with v2 items (WAVEPACKET13 v1) for PDRF 0-5, compressor 3 with v3 items for PDRF 6-10.
LaszipInfo laszip_info_for(uint8_t point_format, uint32_t extra_bytes, uint32_t chunk_size);
Vlr make_laszip_vlr(const LaszipInfo& info);

inline bool is_laszip_vlr(const Vlr& v) {
  return v.user_id == "laszip encoded" && v.record_id == 22204;
}
inline bool is_extra_bytes_vlr(const Vlr& v) {
  return v.user_id == "LASF_Spec" && v.record_id == 4;
}
inline bool is_copc_vlr(const Vlr& v) { return v.user_id == "copc"; }
inline bool is_wkt_vlr(const Vlr& v) {
  return v.user_id == "LASF_Projection" && v.record_id == 2112;
}

}  // namespace lidarhd::io::detail
