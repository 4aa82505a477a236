// File and memory byte sources. Every read is range-checked against size() first, so a lying
// header turns into a "truncated" FormatError instead of a short read or an out-of-bounds copy.
#include "lidarhd/io/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lidarhd/core/error.hpp"

namespace lidarhd::io {
namespace {

void check_range(const std::string& name, uint64_t offset, size_t n, uint64_t size) {
  if (offset > size || n > size - offset) {
    throw FormatError("las", name + " is truncated: needs bytes " + std::to_string(offset) + ".." +
                                 std::to_string(offset + uint64_t(n)) + ", file has " +
                                 std::to_string(size));
  }
}

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, uint64_t size, std::string path) : fd_(fd), size_(size) {
    name_ = std::move(path);
  }
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }

  // pread keeps no shared file position, so concurrent readers need no lock.
  void read(uint64_t offset, size_t n, uint8_t* dst) const override {
    check_range(name_, offset, n, size_);
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, dst + done, n - done, off_t(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        throw IoError("io", "cannot read " + name_ + " at offset " + std::to_string(offset + done) +
                                ": " + std::strerror(errno));
      }
      if (got == 0) {
        throw IoError("io", name_ + " became shorter while reading (offset " +
                                std::to_string(offset + done) + ", expected " +
                                std::to_string(size_) + " bytes)");
      }
      done += size_t(got);
    }
  }

 private:
  int fd_;
  uint64_t size_;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(const uint8_t* data, size_t size, std::string name) : data_(data), size_(size) {
    name_ = std::move(name);
  }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, uint8_t* dst) const override {
    check_range(name_, offset, n, size_);
    if (n) std::memcpy(dst, data_ + offset, n);
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
};

}  // namespace

std::unique_ptr<ByteSource> open_file_source(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw IoError("io", "cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("io", "cannot stat " + path + ": " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw IoError("io", "cannot read " + path + ": it is a directory");
  }
  return std::make_unique<FileSource>(fd, uint64_t(st.st_size), path);
}

std::unique_ptr<ByteSource> memory_source(const uint8_t* data, size_t size, std::string name) {
  return std::make_unique<MemorySource>(data, size, std::move(name));
}

}  // namespace lidarhd::io
