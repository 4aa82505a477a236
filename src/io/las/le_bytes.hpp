// Little-endian loads from byte buffers (memcpy: no alignment or aliasing assumptions).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lidarhd reads LAS fields with memcpy and needs a little-endian host"
#endif

namespace lidarhd::io::detail {

template <class T>
inline T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // the project targets little-endian hosts only
  return v;
}
inline uint16_t u16_at(const uint8_t* p) { return load_le<uint16_t>(p); }
inline uint32_t u32_at(const uint8_t* p) { return load_le<uint32_t>(p); }
inline uint64_t u64_at(const uint8_t* p) { return load_le<uint64_t>(p); }
inline int32_t i32_at(const uint8_t* p) { return load_le<int32_t>(p); }
inline int64_t i64_at(const uint8_t* p) { return load_le<int64_t>(p); }
inline double f64_at(const uint8_t* p) { return load_le<double>(p); }

// A fixed-size char field: up to the first NUL, trailing spaces kept.
inline std::string fixed_string(const uint8_t* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len] != 0) ++len;
  return std::string(reinterpret_cast<const char*>(p), len);
}

}  // namespace lidarhd::io::detail
