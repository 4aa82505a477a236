// Random-access bytes: a file (pread, safe from several threads) or a memory block (tests,
// fuzzing). Readers never trust sizes from a header without checking them against size().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lidarhd::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Copies [offset, offset + n) into dst; throws FormatError ("<name> is truncated ...") when the
  // range goes past the end, IoError on a read failure. Thread-safe.
  virtual void read(uint64_t offset, size_t n, uint8_t* dst) const = 0;
  const std::string& name() const { return name_; }

  std::vector<uint8_t> read_vector(uint64_t offset, size_t n) const {
    std::vector<uint8_t> out(n);
    if (n) read(offset, n, out.data());
    return out;
  }

 protected:
  std::string name_;
};

std::unique_ptr<ByteSource> open_file_source(const std::string& path);
std::unique_ptr<ByteSource> memory_source(const uint8_t* data, size_t size, std::string name);

}  // namespace lidarhd::io
