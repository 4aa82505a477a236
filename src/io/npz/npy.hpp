// NumPy's .npy format (version 1.0): a magic string, a Python-dict header padded to 64 bytes,
// then the raw little-endian data. Enough for the dataset writers: numeric arrays of any shape
// and fixed-width unicode ('<U..', UTF-32) arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lidarhd::io::npy {

// descr: "<f4", "|u1", "<i8", ... ; shape: {} for a 0-d array. The data size must be the
// product of the shape times the element size of descr (checked by the caller).
std::vector<uint8_t> encode(const std::string& descr, const std::vector<size_t>& shape,
                            const void* data, size_t bytes);

template <class T>
std::vector<uint8_t> encode(const std::string& descr, const std::vector<size_t>& shape,
                            const std::vector<T>& v) {
  return encode(descr, shape, v.data(), v.size() * sizeof(T));
}

// A unicode array ('<U<max length>'), 1-d (shape {strings.size()}) or 0-d (`scalar`: exactly
// one string). Throws ArgumentError("npy", ...) on invalid UTF-8.
std::vector<uint8_t> encode_unicode(const std::vector<std::string>& strings, bool scalar);

// UTF-8 -> code points; throws ArgumentError naming `what` on invalid input.
std::vector<uint32_t> utf8_to_utf32(const std::string& s, const std::string& what);

}  // namespace lidarhd::io::npy
