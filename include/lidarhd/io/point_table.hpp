// Columnar point table (architecture.md convention 3): one typed column per dimension, named as
// in laspy (X, Y, Z raw int32 with scale/offset; intensity, return_number, ..., extra dims by
// their names), built from decoded LAS records.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "lidarhd/io/las.hpp"

namespace lidarhd::io {

enum class ColumnType : uint8_t { kU8, kI8, kU16, kI16, kU32, kI32, kU64, kI64, kF32, kF64 };
size_t column_type_size(ColumnType t);
const char* column_type_name(ColumnType t);

struct Column {
  std::string name;
  ColumnType type = ColumnType::kU8;
  std::vector<uint8_t> bytes;  // size() == points * column_type_size(type)
  template <class T> T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <class T> const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }
};

class PointTable {
 public:
  uint64_t size() const { return size_; }
  const std::vector<Column>& columns() const { return columns_; }
  bool has(const std::string& name) const;
  const Column& column(const std::string& name) const;  // throws ArgumentError when absent
  Column& column(const std::string& name);
  Column& add_column(const std::string& name, ColumnType type);  // zero-filled, size() rows
  void resize(uint64_t points);

  std::array<double, 3> scale{1, 1, 1};
  std::array<double, 3> offset{0, 0, 0};
  // World coordinate of point i (raw * scale + offset).
  double x(uint64_t i) const;
  double y(uint64_t i) const;
  double z(uint64_t i) const;

 private:
  uint64_t size_ = 0;
  std::vector<Column> columns_;
  int xyz_[3] = {-1, -1, -1};  // indices of the X, Y, Z columns (x()/y()/z() skip the lookup)
};

// Unpacks `count` records (LAS layout of `info`'s point format and record length) into a table
// with the standard dimensions of that format plus every extra dimension.
PointTable records_to_table(const LasFileInfo& info, const uint8_t* records, uint64_t count);
// Appends rows to an existing table built by records_to_table for the same file.
void append_records(PointTable& table, const LasFileInfo& info, const uint8_t* records,
                    uint64_t count);

}  // namespace lidarhd::io
