// Record conversion between point formats, world -> stored coordinates, extra-dimension values.
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>

#include "io/las/le_bytes.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/writer.hpp"

namespace lidarhd::io {
namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

template <class T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Copies `bytes` bytes of an optional field when both layouts have it; zero otherwise (the output
// record was zeroed before).
void copy_field(const uint8_t* in, int32_t from, uint8_t* out, int32_t to, size_t bytes) {
  if (from >= 0 && to >= 0) std::memcpy(out + to, in + from, bytes);
}

}  // namespace

int32_t to_stored(double world, double scale, double offset, char axis) {
  const double q = std::round((world - offset) / scale);
  if (!(q >= -2147483648.0 && q <= 2147483647.0)) {
    throw ArgumentError("las", std::string(1, axis) + " = " + fmt(world) +
                                   " does not fit a 32-bit integer with scale " + fmt(scale) +
                                   " and offset " + fmt(offset) +
                                   "; choose a larger scale or an offset near the data");
  }
  return int32_t(q);
}

RecordConverter::RecordConverter(const LasFileInfo& source, const LasHeader& target)
    : file_(source.path),
      src_(point_layout(source.header.point_format)),
      dst_(point_layout(target.point_format)),
      src_len_(source.header.record_length),
      dst_len_(target.record_length) {
  if (src_len_ < src_.base_size)
    throw ArgumentError("las", file_ + ": record length " + std::to_string(src_len_) +
                                   " is shorter than point format " +
                                   std::to_string(src_.format));
  extra_bytes_ = src_len_ - src_.base_size;
  if (uint64_t(dst_.base_size) + extra_bytes_ > dst_len_)
    throw ArgumentError("las", "records of " + std::to_string(dst_len_) + " bytes (point format " +
                                   std::to_string(dst_.format) + ") cannot hold the " +
                                   std::to_string(extra_bytes_) + " extra bytes of " + file_);
  src_scale_ = source.header.scale;
  src_offset_ = source.header.offset;
  dst_scale_ = target.scale;
  dst_offset_ = target.offset;
  requantise_ = src_scale_ != dst_scale_ || src_offset_ != dst_offset_;
  identity_ = !requantise_ && src_.format == dst_.format && src_len_ == dst_len_;
  const auto lost = [&](int32_t from, int32_t to, const char* name) {
    if (from >= 0 && to < 0) dropped_.push_back(name);
  };
  lost(src_.gps_time, dst_.gps_time, "gps_time");
  lost(src_.rgb, dst_.rgb, "rgb");
  lost(src_.nir, dst_.nir, "nir");
  lost(src_.wavepacket, dst_.wavepacket, "wavepacket");
}

void RecordConverter::fail(uint64_t index, const std::string& problem) const {
  throw ArgumentError("las", file_ + ": point " + std::to_string(index) + ": " + problem +
                                 ", which point format " + std::to_string(dst_.format) +
                                 " cannot store; keep point format " +
                                 std::to_string(src_.format) + " or choose one of 6-10");
}

void RecordConverter::convert(const uint8_t* in, uint64_t n, uint8_t* out,
                              uint64_t first_index) const {
  if (identity_) {
    if (n) std::memcpy(out, in, size_t(n) * src_len_);
    return;
  }
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t* s = in + i * src_len_;
    uint8_t* d = out + i * dst_len_;
    std::memset(d, 0, dst_len_);
    if (requantise_) {
      for (int a = 0; a < 3; ++a) {
        const double world = detail::i32_at(s + 4 * a) * src_scale_[a] + src_offset_[a];
        store<int32_t>(d + 4 * a, to_stored(world, dst_scale_[a], dst_offset_[a], "xyz"[a]));
      }
    } else {
      std::memcpy(d, s, 12);
    }
    std::memcpy(d + 12, s + 12, 2);  // intensity
    if (src_.extended == dst_.extended) {
      // Same family: bytes 14-19 (legacy) or 14-29 (extended, GPS time included) are identical.
      std::memcpy(d + 14, s + 14, src_.extended ? 16 : 6);
    } else if (!src_.extended) {
      const uint8_t b14 = s[14], b15 = s[15];
      d[14] = uint8_t((b14 & 7) | (((b14 >> 3) & 7) << 4));
      d[15] = uint8_t(((b15 >> 5) & 7) | (b14 & 0xC0));  // flags; channel 0; direction, edge
      d[16] = b15 & 31;
      d[17] = s[17];
      const int16_t angle = int16_t(std::lround(int8_t(s[16]) / 0.006));
      store<int16_t>(d + 18, angle);
      std::memcpy(d + 20, s + 18, 2);  // point source id
    } else {
      const uint8_t ret = s[14] & 15, nret = s[14] >> 4, flags = s[15] & 15;
      const uint8_t channel = (s[15] >> 4) & 3, cls = s[16];
      const uint64_t index = first_index + i;
      if (ret > 7) fail(index, "return number " + std::to_string(ret) + " is over 7");
      if (nret > 7) fail(index, "number of returns " + std::to_string(nret) + " is over 7");
      if (cls > 31) fail(index, "classification " + std::to_string(cls) + " is over 31");
      if (flags & 8) fail(index, "the overlap flag is set");
      if (channel) fail(index, "scanner channel " + std::to_string(channel) + " is not 0");
      int16_t angle;
      std::memcpy(&angle, s + 18, 2);
      const long degrees = std::lround(angle * 0.006);
      if (degrees < -128 || degrees > 127)
        fail(index, "scan angle " + fmt(angle * 0.006) + " degrees is beyond +-127");
      d[14] = uint8_t(ret | (nret << 3) | (s[15] & 0xC0));
      d[15] = uint8_t(cls | ((flags & 7) << 5));
      d[16] = uint8_t(int8_t(degrees));
      d[17] = s[17];
      std::memcpy(d + 18, s + 20, 2);
    }
    if (!(src_.extended && dst_.extended)) copy_field(s, src_.gps_time, d, dst_.gps_time, 8);
    copy_field(s, src_.rgb, d, dst_.rgb, 6);
    copy_field(s, src_.nir, d, dst_.nir, 2);
    copy_field(s, src_.wavepacket, d, dst_.wavepacket, 29);
    if (extra_bytes_) std::memcpy(d + dst_.base_size, s + src_.base_size, extra_bytes_);
  }
}

namespace {

// The representable range of an integer type, as doubles (the u64/i64 upper ends are exclusive).
void int_range(ExtraType t, double& lo, double& hi) {
  switch (t) {
    case ExtraType::kU8: lo = 0, hi = 255; break;
    case ExtraType::kI8: lo = -128, hi = 127; break;
    case ExtraType::kU16: lo = 0, hi = 65535; break;
    case ExtraType::kI16: lo = -32768, hi = 32767; break;
    case ExtraType::kU32: lo = 0, hi = 4294967295.0; break;
    case ExtraType::kI32: lo = -2147483648.0, hi = 2147483647.0; break;
    case ExtraType::kU64: lo = 0, hi = 18446744073709549568.0; break;
    default: lo = -9223372036854775808.0, hi = 9223372036854774784.0; break;  // kI64
  }
}

}  // namespace

void set_extra_value(uint8_t* record, const ExtraDim& dim, double value, uint32_t element) {
  if (dim.type == ExtraType::kUndocumented)
    throw ArgumentError("las", "extra dimension '" + dim.name + "' has no type (raw bytes)");
  if (element >= dim.elements)
    throw ArgumentError("las", "extra dimension '" + dim.name + "' has " +
                                   std::to_string(dim.elements) + " element(s), not " +
                                   std::to_string(element + 1));
  const uint32_t e = std::min<uint32_t>(element, 2);
  double raw = value;
  if (dim.has_offset()) raw -= dim.offset_value[e];
  if (dim.has_scale()) raw /= dim.scale[e];
  uint8_t* p = record + dim.offset + extra_type_size(dim.type) * element;
  const auto bad = [&] {
    throw ArgumentError("las", "extra dimension '" + dim.name + "': value " + fmt(value) +
                                   " does not fit type " + extra_type_short_name(dim.type) +
                                   (dim.has_scale() || dim.has_offset()
                                        ? " with scale " + fmt(dim.scale[e]) + " and offset " +
                                              fmt(dim.offset_value[e])
                                        : std::string()));
  };
  if (dim.type == ExtraType::kF64) return store<double>(p, raw);
  if (dim.type == ExtraType::kF32) {
    if (std::isfinite(raw) && std::fabs(raw) > double(std::numeric_limits<float>::max())) bad();
    return store<float>(p, float(raw));
  }
  const double q = std::round(raw);
  double lo, hi;
  int_range(dim.type, lo, hi);
  if (!(q >= lo && q <= hi)) bad();
  switch (dim.type) {
    case ExtraType::kU8: return store<uint8_t>(p, uint8_t(q));
    case ExtraType::kI8: return store<int8_t>(p, int8_t(q));
    case ExtraType::kU16: return store<uint16_t>(p, uint16_t(q));
    case ExtraType::kI16: return store<int16_t>(p, int16_t(q));
    case ExtraType::kU32: return store<uint32_t>(p, uint32_t(q));
    case ExtraType::kI32: return store<int32_t>(p, int32_t(q));
    case ExtraType::kU64: return store<uint64_t>(p, uint64_t(q));
    default: return store<int64_t>(p, int64_t(q));
  }
}

double get_extra_value(const uint8_t* record, const ExtraDim& dim, uint32_t element) {
  if (dim.type == ExtraType::kUndocumented || element >= dim.elements)
    throw ArgumentError("las", "extra dimension '" + dim.name + "' has no typed element " +
                                   std::to_string(element));
  const uint8_t* p = record + dim.offset + extra_type_size(dim.type) * element;
  double raw;
  switch (dim.type) {
    case ExtraType::kU8: raw = detail::load_le<uint8_t>(p); break;
    case ExtraType::kI8: raw = detail::load_le<int8_t>(p); break;
    case ExtraType::kU16: raw = detail::load_le<uint16_t>(p); break;
    case ExtraType::kI16: raw = detail::load_le<int16_t>(p); break;
    case ExtraType::kU32: raw = detail::load_le<uint32_t>(p); break;
    case ExtraType::kI32: raw = detail::load_le<int32_t>(p); break;
    case ExtraType::kU64: raw = double(detail::load_le<uint64_t>(p)); break;
    case ExtraType::kI64: raw = double(detail::load_le<int64_t>(p)); break;
    case ExtraType::kF32: raw = detail::load_le<float>(p); break;
    default: raw = detail::load_le<double>(p); break;
  }
  const uint32_t e = std::min<uint32_t>(element, 2);
  if (dim.has_scale()) raw *= dim.scale[e];
  if (dim.has_offset()) raw += dim.offset_value[e];
  return raw;
}

ExtraType parse_extra_type(const std::string& name) {
  static const struct {
    const char* short_name;
    const char* long_name;
    ExtraType type;
  } kTypes[] = {
      {"u8", "uint8", ExtraType::kU8},    {"i8", "int8", ExtraType::kI8},
      {"u16", "uint16", ExtraType::kU16}, {"i16", "int16", ExtraType::kI16},
      {"u32", "uint32", ExtraType::kU32}, {"i32", "int32", ExtraType::kI32},
      {"u64", "uint64", ExtraType::kU64}, {"i64", "int64", ExtraType::kI64},
      {"f32", "float32", ExtraType::kF32}, {"f64", "float64", ExtraType::kF64},
  };
  for (const auto& t : kTypes)
    if (name == t.short_name || name == t.long_name) return t.type;
  throw ArgumentError("las", "unknown extra dimension type '" + name +
                                 "' (expected u8, i8, u16, i16, u32, i32, u64, i64, f32 or f64)");
}

const char* extra_type_short_name(ExtraType t) {
  static const char* kNames[] = {"bytes", "u8", "i8", "u16", "i16", "u32",
                                 "i32",   "u64", "i64", "f32", "f64"};
  const size_t i = size_t(t);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "?";
}

}  // namespace lidarhd::io
