// Extra Bytes VLR (LASF_Spec/4) -> ExtraDim list (laz-format.md 1.6).
#include <set>
#include <string>

#include "io/las/le_bytes.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/las.hpp"

namespace lidarhd::io {
namespace {

constexpr size_t kDescriptorSize = 192;

bool is_extra_bytes_vlr(const Vlr& v) { return v.user_id == "LASF_Spec" && v.record_id == 4; }

bool is_signed(ExtraType t) {
  return t == ExtraType::kI8 || t == ExtraType::kI16 || t == ExtraType::kI32 ||
         t == ExtraType::kI64;
}
bool is_float(ExtraType t) { return t == ExtraType::kF32 || t == ExtraType::kF64; }

// no_data, min and max are stored widened to 8 bytes according to the base type.
double widened_value(const uint8_t* p, ExtraType t) {
  if (is_float(t)) return detail::f64_at(p);
  if (is_signed(t)) return double(detail::i64_at(p));
  return double(detail::u64_at(p));
}

}  // namespace

uint32_t extra_type_size(ExtraType t) {
  switch (t) {
    case ExtraType::kU8:
    case ExtraType::kI8:
      return 1;
    case ExtraType::kU16:
    case ExtraType::kI16:
      return 2;
    case ExtraType::kU32:
    case ExtraType::kI32:
    case ExtraType::kF32:
      return 4;
    case ExtraType::kU64:
    case ExtraType::kI64:
    case ExtraType::kF64:
      return 8;
    default:
      return 0;
  }
}

std::vector<ExtraDim> parse_extra_bytes(const std::vector<Vlr>& vlrs, uint8_t point_format,
                                        uint16_t record_length, const std::string& file) {
  const uint32_t base = point_format_base_size(point_format);
  const uint32_t available = record_length > base ? record_length - base : 0;
  std::vector<ExtraDim> dims;
  std::set<std::string> names;
  uint32_t offset = base;  // descriptors follow the record's extra area in order
  for (const Vlr& v : vlrs) {
    if (!is_extra_bytes_vlr(v)) continue;
    if (v.data.size() % kDescriptorSize != 0) {
      throw FormatError("las", file + ": Extra Bytes VLR is " + std::to_string(v.data.size()) +
                                   " bytes, not a multiple of the 192-byte descriptor size");
    }
    const size_t count = v.data.size() / kDescriptorSize;
    for (size_t i = 0; i < count; ++i) {
      const uint8_t* d = v.data.data() + i * kDescriptorSize;
      const uint8_t data_type = d[2];
      ExtraDim dim;
      dim.options = d[3];
      dim.name = detail::fixed_string(d + 4, 32);
      dim.description = detail::fixed_string(d + 160, 32);
      if (data_type > 30) {
        throw FormatError("las", file + ": extra dimension '" + dim.name + "' has data type " +
                                     std::to_string(data_type) + " (valid types are 0 to 30)");
      }
      if (data_type == 0) {
        // Undocumented bytes: the options field is the byte count.
        dim.type = ExtraType::kUndocumented;
        dim.size = dim.options;
        dim.elements = 1;
        dim.options = 0;
        if (dim.size == 0) continue;  // nothing in the record belongs to it
      } else {
        // 11-20: two elements, 21-30: three elements (deprecated array types).
        dim.elements = 1 + (data_type - 1) / 10;
        dim.type = ExtraType(((data_type - 1) % 10) + 1);
        dim.size = extra_type_size(dim.type) * dim.elements;
        for (uint32_t e = 0; e < dim.elements; ++e) {
          if (dim.has_scale()) dim.scale[e] = detail::f64_at(d + 112 + 8 * e);
          if (dim.has_offset()) dim.offset_value[e] = detail::f64_at(d + 136 + 8 * e);
        }
        if (dim.options & 0x01) dim.no_data = widened_value(d + 40, dim.type);
      }
      dim.offset = offset;
      if (uint64_t(offset) + dim.size > uint64_t(base) + available) {
        throw FormatError("las", file + ": extra dimension '" + dim.name + "' (" +
                                     std::to_string(dim.size) + " bytes at record offset " +
                                     std::to_string(offset) + ") does not fit in the " +
                                     std::to_string(available) + " extra bytes of the " +
                                     std::to_string(record_length) +
                                     "-byte records (point format " + std::to_string(point_format) +
                                     " uses " + std::to_string(base) + ")");
      }
      offset += dim.size;
      if (dim.name.empty()) dim.name = "extra_bytes_" + std::to_string(dim.offset);
      // Column names must be unique; a repeated name (seen in the wild) gets a suffix.
      if (names.count(dim.name)) {
        std::string unique;
        for (int k = 2;; ++k) {
          unique = dim.name + "_" + std::to_string(k);
          if (!names.count(unique)) break;
        }
        dim.name = unique;
      }
      names.insert(dim.name);
      dims.push_back(std::move(dim));
    }
  }
  if (offset < uint64_t(base) + available) {
    ExtraDim rest;
    rest.type = ExtraType::kUndocumented;
    rest.offset = offset;
    rest.size = base + available - offset;
    rest.name = "extra_bytes_" + std::to_string(offset);
    while (names.count(rest.name)) rest.name += "_";
    rest.description = "bytes without an Extra Bytes descriptor";
    dims.push_back(std::move(rest));
  }
  return dims;
}

}  // namespace lidarhd::io
