// Helpers shared by the LAZ codec tests: file loading, a LAZ container read through the library
// (read_las_info + read_chunk_table), raw little-endian reads for the independent .las twin
// checks, and the exit status of the Python generators.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef _WIN32
#include <sys/wait.h>
#endif

#include "io/laz/chunk_table.hpp"
#include "io/laz/items.hpp"
#include "lidarhd/io/byte_source.hpp"
#include "lidarhd/io/las.hpp"
#include "real_files.hpp"

namespace lidarhd::test {

inline bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// A little-endian value at `off`; throws (a test failure) past the end.
template <typename T>
T get(const std::vector<uint8_t>& b, size_t off) {
  if (off + sizeof(T) > b.size()) throw std::runtime_error("test parser: read past end of file");
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

// The point records of an uncompressed LAS 1.0-1.3 file, read straight from the header fields
// (offset to points, record length, legacy count) so that twin checks do not go through the
// library's reader.
inline std::vector<uint8_t> las_records(const std::vector<uint8_t>& las) {
  const uint32_t off = get<uint32_t>(las, 96);
  const uint16_t rl = get<uint16_t>(las, 105);
  const uint32_t n = get<uint32_t>(las, 107);
  if (off + uint64_t(n) * rl > las.size()) throw std::runtime_error("test parser: LAS truncated");
  return std::vector<uint8_t>(las.begin() + off, las.begin() + off + size_t(n) * rl);
}

inline std::vector<laz::detail::Item> items_of(const io::LasFileInfo& info) {
  std::vector<laz::detail::Item> items;
  for (const auto& it : info.laszip->items) items.push_back({it.type, it.size, it.version});
  return items;
}

// A LAZ file in memory with what the chunk decoders need.
struct LazFile {
  std::vector<uint8_t> bytes;
  io::LasFileInfo info;
  laz::ChunkTable table;
  std::vector<laz::detail::Item> items;
  uint16_t record_length = 0;
  uint64_t point_count = 0;
  uint16_t compressor = 0;
  std::vector<io::ChunkInfo>& chunks() { return table.chunks; }
  const std::vector<io::ChunkInfo>& chunks() const { return table.chunks; }
};

// Reads the container of `bytes` with the library; throws lidarhd::Error when it is rejected.
inline LazFile parse_laz(std::vector<uint8_t> bytes, const std::string& name) {
  LazFile laz;
  laz.bytes = std::move(bytes);
  const auto source = io::memory_source(laz.bytes.data(), laz.bytes.size(), name);
  laz.info = io::read_las_info(*source);
  if (!laz.info.laszip) throw std::runtime_error(name + " is not a LAZ file");
  laz.table = laz::read_chunk_table(*source, laz.info);
  laz.items = items_of(laz.info);
  laz.record_length = laz.info.header.record_length;
  laz.point_count = laz.info.header.point_count;
  laz.compressor = laz.info.laszip->compressor;
  return laz;
}

// Exit status of a std::system call, or -1 when the command did not run to completion.
inline int exit_status(int raw) {
#ifdef _WIN32
  return raw;
#else
  return raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
#endif
}

// Writes `script` into the test temp folder as `name` and runs it with python3 and `args`;
// returns its exit status and its output in `log`. The scripts exit 77 when numpy, laspy or lazrs
// is missing and the shell says 127 without python3: callers skip on python_missing() and fail
// on any other non-zero status, so a broken generator never passes as a skip.
inline int run_python(const char* script, const std::string& name, const std::string& args,
                      std::string& log) {
  const std::string path = ::testing::TempDir() + "/" + name;
  {
    std::ofstream py(path);
    py << script;
  }
  const std::string log_path = path + ".log";
  const int status =
      exit_status(std::system(("python3 " + path + " " + args + " > " + log_path + " 2>&1").c_str()));
  std::ifstream in(log_path);
  log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::remove(log_path.c_str());
  std::remove(path.c_str());
  return status;
}
inline bool python_missing(int status) { return status == 77 || status == 127; }

}  // namespace lidarhd::test

// Declares `bytes` with the content of data_dir()/rel; skips the test when it is missing.
#define LOAD_OR_SKIP(rel, bytes)                                                           \
  std::vector<uint8_t> bytes;                                                              \
  if (!::lidarhd::test::read_file(::lidarhd::test::data_dir() + "/" + (rel), bytes)) {     \
    GTEST_SKIP() << "test data not found: " << ::lidarhd::test::data_dir() << "/" << (rel) \
                 << " (set LIDARHD_TEST_DATA to the shared data folder)";                  \
  }

// Declares `laz`, data_dir()/rel read through the library; skips the test when the file is
// missing and fails it when the chunk table is not usable.
#define OPEN_LAZ_OR_SKIP(rel, laz)                                                          \
  LOAD_OR_SKIP(rel, laz##_bytes);                                                           \
  ::lidarhd::test::LazFile laz = ::lidarhd::test::parse_laz(std::move(laz##_bytes), (rel)); \
  ASSERT_TRUE(laz.table.usable) << (rel) << ": " << laz.table.problem
