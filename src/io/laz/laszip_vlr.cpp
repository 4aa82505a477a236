#include "io/laz/laszip_vlr.hpp"

#include <vector>

#include "io/las/le_bytes.hpp"
#include "io/laz/items.hpp"
#include "lidarhd/core/error.hpp"

namespace lidarhd::laz {

using namespace detail;  // the ItemType numbers

namespace {

using io::detail::u16_at;
using io::detail::u32_at;

// Fixed size of an item type; 0 for the variable-size byte items and unknown types.
uint16_t item_fixed_size(uint16_t type) {
  switch (type) {
    case kPoint10:
      return 20;
    case kGpsTime11:
      return 8;
    case kRgb12:
      return 6;
    case kWavepacket13:
      return 29;
    case kPoint14:
      return 30;
    case kRgb14:
      return 6;
    case kRgbNir14:
      return 8;
    case kWavepacket14:
      return 29;
    default:
      return 0;
  }
}

bool version_supported(uint16_t type, uint16_t version) {
  switch (type) {
    case kByte:
    case kPoint10:
    case kGpsTime11:
    case kRgb12:
      return version == 1 || version == 2;
    // LASzip writes WAVEPACKET13 as version 1 only; lazrs labels the same bitstream version 2.
    case kWavepacket13:
      return version == 1 || version == 2;
    // "lasproto" version 2 of the v3 items is the same bitstream as version 3.
    case kPoint14:
    case kRgb14:
    case kRgbNir14:
    case kWavepacket14:
    case kByte14:
      return version >= 2 && version <= 4;
    default:
      return false;
  }
}

// The non-byte items LASzip writes for each format, in record order.
std::vector<uint16_t> expected_items(uint8_t format) {
  switch (format) {
    case 0:
      return {kPoint10};
    case 1:
      return {kPoint10, kGpsTime11};
    case 2:
      return {kPoint10, kRgb12};
    case 3:
      return {kPoint10, kGpsTime11, kRgb12};
    case 4:
      return {kPoint10, kGpsTime11, kWavepacket13};
    case 5:
      return {kPoint10, kGpsTime11, kRgb12, kWavepacket13};
    case 6:
      return {kPoint14};
    case 7:
      return {kPoint14, kRgb14};
    case 8:
      return {kPoint14, kRgbNir14};
    case 9:
      return {kPoint14, kWavepacket14};
    case 10:
      return {kPoint14, kRgbNir14, kWavepacket14};
    default:
      return {};
  }
}

std::string item_list(const std::vector<uint16_t>& types) {
  std::string s;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) s += ", ";
    s += item_type_name(types[i]);
  }
  return s;
}

}  // namespace

const char* compressor_name(uint16_t compressor) {
  switch (compressor) {
    case kCompressorNone:
      return "none";
    case kCompressorPointwise:
      return "pointwise";
    case kCompressorPointwiseChunked:
      return "pointwise_chunked";
    case kCompressorLayeredChunked:
      return "layered_chunked";
    default:
      return "?";
  }
}

const char* item_type_name(uint16_t type) {
  switch (type) {
    case kByte:
      return "BYTE";
    case 1:
      return "SHORT";
    case 2:
      return "INT";
    case 3:
      return "LONG";
    case 4:
      return "FLOAT";
    case 5:
      return "DOUBLE";
    case kPoint10:
      return "POINT10";
    case kGpsTime11:
      return "GPSTIME11";
    case kRgb12:
      return "RGB12";
    case kWavepacket13:
      return "WAVEPACKET13";
    case kPoint14:
      return "POINT14";
    case kRgb14:
      return "RGB14";
    case kRgbNir14:
      return "RGBNIR14";
    case kWavepacket14:
      return "WAVEPACKET14";
    case kByte14:
      return "BYTE14";
    default:
      return "?";
  }
}

std::string detail::describe_item(const Item& item) {
  return std::string(item_type_name(item.type)) + " (type " + std::to_string(item.type) +
         ", size " + std::to_string(item.size) + ", version " + std::to_string(item.version) + ")";
}

std::string describe_items(const io::LaszipInfo& info) {
  std::string s;
  for (size_t i = 0; i < info.items.size(); ++i) {
    const auto& it = info.items[i];
    if (i) s += ", ";
    s += std::string(item_type_name(it.type)) + "(size=" + std::to_string(it.size) + ",v" +
         std::to_string(it.version) + ")";
  }
  return s;
}

io::LaszipInfo parse_laszip_vlr(const uint8_t* data, size_t size, const std::string& file) {
  if (size < 34) {
    throw FormatError("laz", file + ": LASzip VLR is " + std::to_string(size) +
                                 " bytes, shorter than its fixed 34-byte part");
  }
  io::LaszipInfo info;
  info.compressor = u16_at(data);
  info.coder = u16_at(data + 2);
  info.version_major = data[4];
  info.version_minor = data[5];
  info.version_revision = u16_at(data + 6);
  info.options = u32_at(data + 8);
  info.chunk_size = u32_at(data + 12);
  const uint16_t num_items = u16_at(data + 32);
  const size_t needed = 34 + size_t(num_items) * 6;
  if (size < needed) {
    throw FormatError("laz", file + ": LASzip VLR lists " + std::to_string(num_items) +
                                 " items (needs " + std::to_string(needed) +
                                 " bytes) but is only " + std::to_string(size) + " bytes");
  }
  info.items.reserve(num_items);
  for (size_t i = 0; i < num_items; ++i) {
    const uint8_t* p = data + 34 + 6 * i;
    info.items.push_back({u16_at(p), u16_at(p + 2), u16_at(p + 4)});
  }
  return info;
}

void validate_laszip(const io::LaszipInfo& info, uint8_t point_format, uint16_t record_length,
                     const std::string& file) {
  const std::string where = file + ": LASzip VLR: ";
  if (info.coder != 0) {
    throw FormatError("laz", where + "coder " + std::to_string(info.coder) +
                                 " is not supported (only 0 = arithmetic exists)");
  }
  const bool extended = point_format >= 6;
  if (info.compressor == kCompressorNone || info.compressor > kCompressorLayeredChunked) {
    throw FormatError("laz", where + "compressor " + std::to_string(info.compressor) +
                                 " is not supported (expected 1, 2 or 3)");
  }
  if (extended && info.compressor != kCompressorLayeredChunked) {
    throw FormatError("laz", where + "point format " + std::to_string(point_format) +
                                 " needs the layered chunked compressor (3), the VLR says " +
                                 std::to_string(info.compressor) + " (" +
                                 compressor_name(info.compressor) + ")");
  }
  if (!extended && info.compressor == kCompressorLayeredChunked) {
    throw FormatError("laz",
                      where + "point format " + std::to_string(point_format) +
                          " cannot use the layered compressor (3), which is for formats 6-10");
  }
  if (info.items.empty()) throw FormatError("laz", where + "the item list is empty");

  uint32_t total = 0;
  std::vector<uint16_t> fixed_types;
  for (size_t i = 0; i < info.items.size(); ++i) {
    const auto& it = info.items[i];
    const std::string item_desc = "item " + std::to_string(i) + " (" + item_type_name(it.type) +
                                  ", type " + std::to_string(it.type) + ", size " +
                                  std::to_string(it.size) + ", version " +
                                  std::to_string(it.version) + ")";
    if (!version_supported(it.type, it.version)) {
      throw FormatError("laz", where + item_desc + " is an unknown item type or version");
    }
    const uint16_t fixed = item_fixed_size(it.type);
    const bool is_byte = it.type == kByte || it.type == kByte14;
    if (is_byte) {
      if (it.size == 0) throw FormatError("laz", where + item_desc + " has size 0");
      if (i + 1 != info.items.size()) {
        throw FormatError("laz", where + item_desc + " must be the last item");
      }
      if ((it.type == kByte14) != extended) {
        throw FormatError("laz", where + item_desc + " does not fit point format " +
                                     std::to_string(point_format) +
                                     " (BYTE is for formats 0-5, BYTE14 for 6-10)");
      }
    } else {
      if (it.size != fixed) {
        throw FormatError("laz", where + item_desc + " has the wrong size (expected " +
                                     std::to_string(fixed) + ")");
      }
      fixed_types.push_back(it.type);
    }
    total += it.size;
  }
  const std::vector<uint16_t> expected = expected_items(point_format);
  if (fixed_types != expected) {
    throw FormatError("laz", where + "items [" + item_list(fixed_types) +
                                 "] do not match point format " + std::to_string(point_format) +
                                 " (expected [" + item_list(expected) +
                                 "] plus optional extra bytes)");
  }
  if (total != record_length) {
    throw FormatError("laz", where + "item sizes sum to " + std::to_string(total) +
                                 " bytes but the header's record length is " +
                                 std::to_string(record_length));
  }
}

}  // namespace lidarhd::laz
