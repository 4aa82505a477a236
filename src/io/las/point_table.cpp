// Columnar point table built from LAS records: one pass per column over the records, so the
// inner loops are simple strided copies or bit extractions (no per-point dispatch).
#include "lidarhd/io/point_table.hpp"

#include <cstring>

#include "lidarhd/core/error.hpp"

namespace lidarhd::io {
namespace {

// How one column is read from a record.
struct Field {
  std::string name;
  ColumnType type;
  uint32_t offset;
  uint8_t shift = 0;  // bit fields: (byte >> shift) & mask, stored as u8
  uint8_t mask = 0;   // 0: plain little-endian copy of column_type_size(type) bytes
};

Field copy(const char* name, ColumnType t, uint32_t off) { return {name, t, off, 0, 0}; }
Field bits(const char* name, uint32_t off, uint8_t shift, uint8_t mask) {
  return {name, ColumnType::kU8, off, shift, mask};
}

ColumnType column_type_of(ExtraType t) {
  switch (t) {
    case ExtraType::kI8:
      return ColumnType::kI8;
    case ExtraType::kU16:
      return ColumnType::kU16;
    case ExtraType::kI16:
      return ColumnType::kI16;
    case ExtraType::kU32:
      return ColumnType::kU32;
    case ExtraType::kI32:
      return ColumnType::kI32;
    case ExtraType::kU64:
      return ColumnType::kU64;
    case ExtraType::kI64:
      return ColumnType::kI64;
    case ExtraType::kF32:
      return ColumnType::kF32;
    case ExtraType::kF64:
      return ColumnType::kF64;
    default:
      return ColumnType::kU8;  // kU8 and undocumented bytes
  }
}

std::vector<Field> fields_for(const LasFileInfo& info) {
  const PointLayout l = point_layout(info.header.point_format);
  std::vector<Field> f = {copy("X", ColumnType::kI32, 0), copy("Y", ColumnType::kI32, 4),
                          copy("Z", ColumnType::kI32, 8), copy("intensity", ColumnType::kU16, 12)};
  if (!l.extended) {
    f.push_back(bits("return_number", 14, 0, 7));
    f.push_back(bits("number_of_returns", 14, 3, 7));
    f.push_back(bits("scan_direction_flag", 14, 6, 1));
    f.push_back(bits("edge_of_flight_line", 14, 7, 1));
    f.push_back(bits("classification", 15, 0, 31));
    f.push_back(bits("synthetic", 15, 5, 1));
    f.push_back(bits("key_point", 15, 6, 1));
    f.push_back(bits("withheld", 15, 7, 1));
    f.push_back(copy("scan_angle_rank", ColumnType::kI8, 16));
    f.push_back(copy("user_data", ColumnType::kU8, 17));
    f.push_back(copy("point_source_id", ColumnType::kU16, 18));
  } else {
    f.push_back(bits("return_number", 14, 0, 15));
    f.push_back(bits("number_of_returns", 14, 4, 15));
    f.push_back(bits("synthetic", 15, 0, 1));
    f.push_back(bits("key_point", 15, 1, 1));
    f.push_back(bits("withheld", 15, 2, 1));
    f.push_back(bits("overlap", 15, 3, 1));
    f.push_back(bits("scanner_channel", 15, 4, 3));
    f.push_back(bits("scan_direction_flag", 15, 6, 1));
    f.push_back(bits("edge_of_flight_line", 15, 7, 1));
    f.push_back(copy("classification", ColumnType::kU8, 16));
    f.push_back(copy("user_data", ColumnType::kU8, 17));
    f.push_back(copy("scan_angle", ColumnType::kI16, 18));
    f.push_back(copy("point_source_id", ColumnType::kU16, 20));
  }
  if (l.gps_time >= 0) f.push_back(copy("gps_time", ColumnType::kF64, l.gps_time));
  if (l.rgb >= 0) {
    f.push_back(copy("red", ColumnType::kU16, l.rgb));
    f.push_back(copy("green", ColumnType::kU16, l.rgb + 2));
    f.push_back(copy("blue", ColumnType::kU16, l.rgb + 4));
  }
  if (l.nir >= 0) f.push_back(copy("nir", ColumnType::kU16, l.nir));
  if (l.wavepacket >= 0) {
    const uint32_t w = l.wavepacket;
    f.push_back(copy("wavepacket_index", ColumnType::kU8, w));
    f.push_back(copy("wavepacket_offset", ColumnType::kU64, w + 1));
    f.push_back(copy("wavepacket_size", ColumnType::kU32, w + 9));
    f.push_back(copy("return_point_wave_location", ColumnType::kF32, w + 13));
    f.push_back(copy("x_t", ColumnType::kF32, w + 17));
    f.push_back(copy("y_t", ColumnType::kF32, w + 21));
    f.push_back(copy("z_t", ColumnType::kF32, w + 25));
  }
  const size_t standard = f.size();
  const auto taken = [&](const std::string& n) {
    for (const Field& x : f)
      if (x.name == n) return true;
    return false;
  };
  for (const ExtraDim& d : info.extra_dims) {
    std::string base = d.name;
    // An extra dimension may not shadow a standard column.
    for (size_t i = 0; i < standard; ++i)
      if (f[i].name == base) base += "_extra";
    const bool raw = d.type == ExtraType::kUndocumented;
    const uint32_t count = raw ? d.size : d.elements;
    const uint32_t step = raw ? 1 : extra_type_size(d.type);
    for (uint32_t e = 0; e < count; ++e) {
      std::string name = count == 1 ? base : base + "[" + std::to_string(e) + "]";
      while (taken(name)) name += "_";
      f.push_back({name, column_type_of(d.type), d.offset + e * step, 0, 0});
    }
  }
  // Fields must lie inside the record (extra dims were validated by the header reader; this
  // guards tables built from hand-made infos).
  for (const Field& x : f) {
    if (uint64_t(x.offset) + column_type_size(x.type) > info.header.record_length) {
      throw ArgumentError("las", "column '" + x.name + "' lies outside the " +
                                     std::to_string(info.header.record_length) +
                                     "-byte records of " + info.path);
    }
  }
  return f;
}

template <size_t N>
void copy_column(uint8_t* dst, const uint8_t* src, uint64_t count, size_t stride) {
  for (uint64_t i = 0; i < count; ++i) std::memcpy(dst + i * N, src + i * stride, N);
}

void fill_column(Column& col, uint64_t row, const Field& f, const uint8_t* records, uint64_t count,
                 size_t stride) {
  const size_t width = column_type_size(f.type);
  uint8_t* dst = col.bytes.data() + row * width;
  const uint8_t* src = records + f.offset;
  if (f.mask) {
    for (uint64_t i = 0; i < count; ++i) dst[i] = uint8_t((src[i * stride] >> f.shift) & f.mask);
    return;
  }
  switch (width) {
    case 1:
      copy_column<1>(dst, src, count, stride);
      break;
    case 2:
      copy_column<2>(dst, src, count, stride);
      break;
    case 4:
      copy_column<4>(dst, src, count, stride);
      break;
    default:
      copy_column<8>(dst, src, count, stride);
      break;
  }
}

}  // namespace

size_t column_type_size(ColumnType t) {
  switch (t) {
    case ColumnType::kU8:
    case ColumnType::kI8:
      return 1;
    case ColumnType::kU16:
    case ColumnType::kI16:
      return 2;
    case ColumnType::kU32:
    case ColumnType::kI32:
    case ColumnType::kF32:
      return 4;
    default:
      return 8;
  }
}

const char* column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::kU8:
      return "uint8";
    case ColumnType::kI8:
      return "int8";
    case ColumnType::kU16:
      return "uint16";
    case ColumnType::kI16:
      return "int16";
    case ColumnType::kU32:
      return "uint32";
    case ColumnType::kI32:
      return "int32";
    case ColumnType::kU64:
      return "uint64";
    case ColumnType::kI64:
      return "int64";
    case ColumnType::kF32:
      return "float32";
    default:
      return "float64";
  }
}

bool PointTable::has(const std::string& name) const {
  for (const Column& c : columns_)
    if (c.name == name) return true;
  return false;
}

const Column& PointTable::column(const std::string& name) const {
  for (const Column& c : columns_)
    if (c.name == name) return c;
  throw ArgumentError("table", "no column named '" + name + "'");
}

Column& PointTable::column(const std::string& name) {
  return const_cast<Column&>(static_cast<const PointTable&>(*this).column(name));
}

Column& PointTable::add_column(const std::string& name, ColumnType type) {
  if (has(name)) throw ArgumentError("table", "column '" + name + "' already exists");
  Column c;
  c.name = name;
  c.type = type;
  c.bytes.assign(size_t(size_ * column_type_size(type)), 0);
  columns_.push_back(std::move(c));
  static const char* const kAxes[3] = {"X", "Y", "Z"};
  for (int i = 0; i < 3; ++i)
    if (name == kAxes[i] && type == ColumnType::kI32) xyz_[i] = int(columns_.size() - 1);
  return columns_.back();
}

void PointTable::resize(uint64_t points) {
  for (Column& c : columns_) c.bytes.resize(size_t(points * column_type_size(c.type)));
  size_ = points;
}

namespace {
const int32_t* axis_column(const std::vector<Column>& columns, int index, const char* name) {
  if (index < 0) throw ArgumentError("table", std::string("the table has no int32 column ") + name);
  return columns[size_t(index)].data<int32_t>();
}
}  // namespace

double PointTable::x(uint64_t i) const {
  return double(axis_column(columns_, xyz_[0], "X")[i]) * scale[0] + offset[0];
}
double PointTable::y(uint64_t i) const {
  return double(axis_column(columns_, xyz_[1], "Y")[i]) * scale[1] + offset[1];
}
double PointTable::z(uint64_t i) const {
  return double(axis_column(columns_, xyz_[2], "Z")[i]) * scale[2] + offset[2];
}

PointTable records_to_table(const LasFileInfo& info, const uint8_t* records, uint64_t count) {
  PointTable table;
  table.scale = info.header.scale;
  table.offset = info.header.offset;
  for (const Field& f : fields_for(info)) table.add_column(f.name, f.type);
  append_records(table, info, records, count);
  return table;
}

void append_records(PointTable& table, const LasFileInfo& info, const uint8_t* records,
                    uint64_t count) {
  const std::vector<Field> fields = fields_for(info);
  // Look every column up before resizing so that a mismatched table is left untouched.
  std::vector<Column*> cols;
  cols.reserve(fields.size());
  for (const Field& f : fields) {
    Column& c = table.column(f.name);
    if (c.type != f.type) {
      throw ArgumentError("table", "column '" + f.name + "' has type " + column_type_name(c.type) +
                                       ", the records of " + info.path + " give " +
                                       column_type_name(f.type));
    }
    cols.push_back(&c);
  }
  if (count == 0) return;
  const uint64_t row = table.size();
  table.resize(row + count);
  const size_t stride = info.header.record_length;
  for (size_t i = 0; i < fields.size(); ++i)
    fill_column(*cols[i], row, fields[i], records, count, stride);
}

}  // namespace lidarhd::io
