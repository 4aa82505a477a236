// An output file that appears under its final name only when complete: bytes go to a hidden
// temporary file in the target's folder (same file system, so rename() is atomic), which is
// fsync'ed and renamed onto the target by commit(). Destroying the object without commit()
// removes the temporary file; a killed process leaves at most the hidden ".NAME.tmp-..." file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lidarhd::io::detail {

class AtomicFile {
 public:
  // Creates the temporary file; throws IoError naming `target` and strerror when it cannot.
  explicit AtomicFile(std::string target, size_t buffer_bytes = size_t(1) << 20);
  ~AtomicFile();  // abort() unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends bytes (buffered); every system call's result is checked (disk full, I/O error).
  void write(const void* data, size_t n);
  void write(const std::vector<uint8_t>& v) { write(v.data(), v.size()); }
  // Overwrites bytes already written (header fields patched at the end).
  void write_at(uint64_t offset, const void* data, size_t n);
  // Writes the buffer out: what was written so far can then be read from temp_path().
  void flush();
  uint64_t position() const { return flushed_ + buffer_.size(); }

  // Flushes, fsyncs and renames onto the target. The object is then closed.
  void commit();
  // Closes and removes the temporary file; never throws. Idempotent.
  void abort() noexcept;

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }

 private:
  void write_all(const uint8_t* p, size_t n);
  [[noreturn]] void fail(const std::string& what, int err);

  std::string target_;
  std::string temp_;
  int fd_ = -1;
  uint64_t flushed_ = 0;
  std::vector<uint8_t> buffer_;
  size_t buffer_bytes_;
};

}  // namespace lidarhd::io::detail
