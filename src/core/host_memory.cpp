// zero_fill: zeroes large host arrays from every OpenMP thread (see HostVector for why).
#include <cstring>

#include "core/device_buffer.hpp"
#include "core/parallel_for.hpp"

namespace lidarhd::detail {

void zero_fill(void* data, size_t bytes) {
  // Below this a single memset is quicker than waking the threads.
  constexpr size_t kParallelBytes = size_t{4} << 20;
  constexpr size_t kPiece = size_t{1} << 20;
  char* p = static_cast<char*>(data);
  if (bytes < kParallelBytes) {
    if (bytes) std::memset(p, 0, bytes);
    return;
  }
  const int64_t pieces = static_cast<int64_t>((bytes + kPiece - 1) / kPiece);
  parallel_for_cpu(pieces, [&](int64_t i) {
    const size_t at = static_cast<size_t>(i) * kPiece;
    std::memset(p + at, 0, bytes - at < kPiece ? bytes - at : kPiece);
  });
}

}  // namespace lidarhd::detail
