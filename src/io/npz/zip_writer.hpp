// A zip archive built in memory with libzip (deflate), with fixed timestamps so that the same
// entries give the same bytes: NPZ files are compared byte for byte across runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lidarhd::io::npz {

struct ZipEntry {
  std::string name;
  std::vector<uint8_t> data;
};

// Entries in the given order, each deflate-compressed at `level` (1 fastest .. 9 smallest).
// Throws IoError("npz", ...) naming `what` when libzip fails.
std::vector<uint8_t> build_zip(const std::vector<ZipEntry>& entries, int level,
                               const std::string& what);

}  // namespace lidarhd::io::npz
