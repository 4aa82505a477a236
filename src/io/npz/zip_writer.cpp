#include "io/npz/zip_writer.hpp"

#include <zip.h>

#include "lidarhd/core/error.hpp"

namespace lidarhd::io::npz {
namespace {

// 1980-01-01 00:00:00, the first MS-DOS date: no clock or time zone in the output.
constexpr zip_uint16_t kDosTime = 0;
constexpr zip_uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

[[noreturn]] void fail(const std::string& what, const std::string& step, zip_error_t* error) {
  const std::string reason = error ? zip_error_strerror(error) : "unknown error";
  throw IoError("npz", "cannot build " + what + " (" + step + "): " + reason);
}

}  // namespace

std::vector<uint8_t> build_zip(const std::vector<ZipEntry>& entries, int level,
                               const std::string& what) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) fail(what, "memory buffer", &error);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!archive) {
    zip_source_free(buffer);
    fail(what, "open", &error);
  }
  zip_source_keep(buffer);  // read the archive back after zip_close()
  const auto archive_fail = [&](const std::string& step) {
    const std::string reason = zip_strerror(archive);
    zip_discard(archive);
    zip_source_free(buffer);
    zip_error_fini(&error);
    throw IoError("npz", "cannot build " + what + " (" + step + "): " + reason);
  };
  for (const ZipEntry& e : entries) {
    // The data outlives zip_close(), so libzip may read it in place (freep = 0).
    zip_source_t* src = zip_source_buffer(archive, e.data.data(), e.data.size(), 0);
    if (!src) archive_fail("entry " + e.name);
    const zip_int64_t index = zip_file_add(archive, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      archive_fail("entry " + e.name);
    }
    if (zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_DEFLATE,
                                 zip_uint32_t(level)) != 0 ||
        zip_file_set_dostime(archive, zip_uint64_t(index), kDosTime, kDosDate, 0) != 0)
      archive_fail("entry " + e.name);
  }
  if (zip_close(archive) != 0) archive_fail("compress");

  std::vector<uint8_t> bytes;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(buffer, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
      zip_source_open(buffer) != 0) {
    zip_source_free(buffer);
    throw IoError("npz", "cannot build " + what + ": in-memory archive unreadable");
  }
  bytes.resize(size_t(st.size));
  const zip_int64_t got = bytes.empty() ? 0 : zip_source_read(buffer, bytes.data(), st.size);
  zip_source_close(buffer);
  zip_source_free(buffer);
  zip_error_fini(&error);
  if (got != zip_int64_t(st.size))
    throw IoError("npz", "cannot build " + what + ": short read of the in-memory archive");
  return bytes;
}

}  // namespace lidarhd::io::npz
