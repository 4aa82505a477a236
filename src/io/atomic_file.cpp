#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "lidarhd/core/error.hpp"

namespace lidarhd::io::detail {
namespace {


std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

uint64_t random_bits() {
  uint64_t r = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device rd;
    r ^= (uint64_t(rd()) << 32) ^ rd();
  } catch (...) {
    // No entropy source: the clock and the pid still make the name unique enough (O_EXCL
    // catches the rest).
  }
  return r;
}

}  // namespace

AtomicFile::AtomicFile(std::string target, size_t buffer_bytes)
    : target_(std::move(target)), buffer_bytes_(std::max<size_t>(1, buffer_bytes)) {
  if (target_.empty() || target_.back() == '/')
    throw IoError("io", "cannot write '" + target_ + "': not a file name");
  const std::string folder = folder_of(target_);
  const std::string base = base_of(target_);
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[64];
    std::snprintf(suffix, sizeof(suffix), ".tmp-%ld-%08llx", long(::getpid()),
                  static_cast<unsigned long long>(random_bits() & 0xFFFFFFFFull));
    temp_ = (folder == "/" ? "/" : folder + "/") + "." + base + suffix;
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    if (errno != EEXIST) {
      const int err = errno;
      throw IoError("io", "cannot create " + target_ + " (temporary file in " + folder +
                              "): " + std::strerror(err));
    }
  }
  if (fd_ < 0)
    throw IoError("io", "cannot create " + target_ + ": no free temporary file name in " + folder);
  buffer_.reserve(buffer_bytes_);
}

AtomicFile::~AtomicFile() { abort(); }

void AtomicFile::fail(const std::string& what, int err) {
  abort();
  throw IoError("io", "cannot " + what + " " + target_ + ": " + std::strerror(err));
}

void AtomicFile::write_all(const uint8_t* p, size_t left) {
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write", errno);
    }
    if (w == 0) fail("write", EIO);
    p += w;
    left -= size_t(w);
    flushed_ += uint64_t(w);
  }
}

void AtomicFile::flush() {
  write_all(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void AtomicFile::write(const void* data, size_t n) {
  if (fd_ < 0) throw IoError("io", "cannot write " + target_ + ": the file is already closed");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  if (buffer_.size() + n > buffer_bytes_) {
    flush();
    if (n >= buffer_bytes_) {
      // Large blocks (encoded chunks, record batches) skip the copy into the buffer.
      write_all(p, n);
      return;
    }
  }
  buffer_.insert(buffer_.end(), p, p + n);
}

void AtomicFile::write_at(uint64_t offset, const void* data, size_t n) {
  if (fd_ < 0) throw IoError("io", "cannot write " + target_ + ": the file is already closed");
  flush();
  if (offset + n > flushed_)
    throw IoError("io", "internal: patch of " + target_ + " past the bytes written");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd_, p, n, off_t(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write", errno);
    }
    if (w == 0) fail("write", EIO);
    p += w;
    n -= size_t(w);
    offset += uint64_t(w);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) throw IoError("io", "cannot write " + target_ + ": the file is already closed");
  flush();
  if (::fsync(fd_) != 0) fail("write (fsync)", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    throw IoError("io", "cannot write " + target_ + " (close): " + std::strerror(err));
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    throw IoError("io", "cannot write " + target_ + " (rename from " + temp_ +
                            "): " + std::strerror(err));
  }
  temp_.clear();
  // Make the rename itself durable; a failure here does not lose data already renamed.
  const int dir = ::open(folder_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void AtomicFile::abort() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
  buffer_.clear();
}

}  // namespace lidarhd::io::detail
