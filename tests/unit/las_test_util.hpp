// Helpers shared by the LAS container tests: synthetic LAS files built in memory (the shared-data
// folder and REQUIRE_DATA come from real_files.hpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "real_files.hpp"

namespace lidarhd::test {

using namespace ::lidarhd::io;  // test-only header: keeps the helpers short

inline bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

template <class T>
inline void put(std::vector<uint8_t>& b, size_t off, T v) {
  if (b.size() < off + sizeof(T)) b.resize(off + sizeof(T));
  std::memcpy(b.data() + off, &v, sizeof(T));
}

inline void put_str(std::vector<uint8_t>& b, size_t off, const std::string& s) {
  if (b.size() < off + s.size()) b.resize(off + s.size());
  std::memcpy(b.data() + off, s.data(), s.size());
}

struct Record {
  std::string user;
  uint16_t id;
  std::vector<uint8_t> data;
};

// A well-formed uncompressed file: header, VLRs, `count` zeroed records, EVLRs (1.4).
inline std::vector<uint8_t> make_las(uint8_t minor, uint8_t format, uint16_t record_length,
                                     uint64_t count, const std::vector<Record>& vlrs = {},
                                     const std::vector<Record>& evlrs = {}) {
  const uint16_t header_size = minor >= 4 ? 375 : minor == 3 ? 235 : 227;
  std::vector<uint8_t> b(header_size, 0);
  put_str(b, 0, "LASF");
  b[24] = 1;
  b[25] = minor;
  put<uint16_t>(b, 94, header_size);
  put<uint32_t>(b, 100, uint32_t(vlrs.size()));
  b[104] = format;
  put<uint16_t>(b, 105, record_length);
  put<uint32_t>(b, 107, format < 6 ? uint32_t(count) : 0);
  for (int i = 0; i < 3; ++i) put<double>(b, 131 + 8 * i, 0.01);
  for (const Record& r : vlrs) {
    const size_t at = b.size();
    b.resize(at + 54);
    put_str(b, at + 2, r.user);
    put<uint16_t>(b, at + 18, r.id);
    put<uint16_t>(b, at + 20, uint16_t(r.data.size()));
    b.insert(b.end(), r.data.begin(), r.data.end());
  }
  put<uint32_t>(b, 96, uint32_t(b.size()));
  b.resize(b.size() + count * record_length, 0);
  if (minor >= 4) {
    put<uint64_t>(b, 247, count);
    put<uint64_t>(b, 235, evlrs.empty() ? 0 : b.size());
    put<uint32_t>(b, 243, uint32_t(evlrs.size()));
    for (const Record& r : evlrs) {
      const size_t at = b.size();
      b.resize(at + 60);
      put_str(b, at + 2, r.user);
      put<uint16_t>(b, at + 18, r.id);
      put<uint64_t>(b, at + 20, r.data.size());
      b.insert(b.end(), r.data.begin(), r.data.end());
    }
  }
  return b;
}

inline io::LasFileInfo info_of(const std::vector<uint8_t>& bytes) {
  auto src = memory_source(bytes.data(), bytes.size(), "mem.las");
  return read_las_info(*src);
}

// Expects a FormatError whose message contains `needle`.
inline void expect_format_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    info_of(bytes);
    ADD_FAILURE() << "accepted; expected an error containing '" << needle << "'";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mem.las"), std::string::npos) << e.what();
  }
}

inline std::vector<uint8_t> laszip_payload(uint16_t compressor, std::vector<LaszipItemInfo> items) {
  std::vector<uint8_t> p(34, 0);
  put<uint16_t>(p, 0, compressor);
  p[4] = 3;
  p[5] = 4;
  put<uint32_t>(p, 12, 50000);
  put<int64_t>(p, 16, -1);
  put<int64_t>(p, 24, -1);
  put<uint16_t>(p, 32, uint16_t(items.size()));
  for (const auto& it : items) {
    const size_t at = p.size();
    put<uint16_t>(p, at, it.type);
    put<uint16_t>(p, at + 2, it.size);
    put<uint16_t>(p, at + 4, it.version);
  }
  return p;
}

inline std::vector<uint8_t> extra_descriptor(uint8_t type, const std::string& name,
                                             uint8_t options = 0) {
  std::vector<uint8_t> d(192, 0);
  d[2] = type;
  d[3] = options;
  put_str(d, 4, name);
  return d;
}

}  // namespace lidarhd::test
