#include "io/npz/npy.hpp"

#include <algorithm>
#include <cstring>

#include "lidarhd/core/error.hpp"

namespace lidarhd::io::npy {

std::vector<uint8_t> encode(const std::string& descr, const std::vector<size_t>& shape,
                            const void* data, size_t bytes) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and
  // ended by '\n', as numpy writes it (aligned data).
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out;
  out.reserve(10 + header.size() + bytes);
  const uint8_t magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.insert(out.end(), magic, magic + 8);
  out.push_back(uint8_t(header.size() & 0xFF));
  out.push_back(uint8_t(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* p = static_cast<const uint8_t*>(data);
  if (bytes) out.insert(out.end(), p, p + bytes);
  return out;
}

std::vector<uint32_t> utf8_to_utf32(const std::string& s, const std::string& what) {
  std::vector<uint32_t> out;
  size_t i = 0;
  const auto fail = [&]() {
    throw ArgumentError("npy",
                        what + ": invalid UTF-8 at byte " + std::to_string(i) + " of '" + s + "'");
  };
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t extra = 0;
    if (b < 0x80) {
      cp = b, extra = 0;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1Fu, extra = 1;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0Fu, extra = 2;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07u, extra = 3;
    } else {
      fail();
    }
    if (i + extra >= s.size()) fail();  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) fail();
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail();
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

std::vector<uint8_t> encode_unicode(const std::vector<std::string>& strings, bool scalar) {
  if (scalar && strings.size() != 1)
    throw ArgumentError("npy", "a 0-d unicode array holds exactly one string");
  std::vector<std::vector<uint32_t>> points;
  size_t width = 1;  // numpy has no '<U0' arrays to speak of; '<U1' holds empty strings too
  for (const std::string& s : strings) {
    points.push_back(utf8_to_utf32(s, "string"));
    width = std::max(width, points.back().size());
  }
  std::vector<uint32_t> data(width * strings.size(), 0);  // zero-padded, UTF-32LE
  for (size_t i = 0; i < points.size(); ++i)
    std::copy(points[i].begin(), points[i].end(), data.begin() + long(i * width));
  const std::vector<size_t> shape =
      scalar ? std::vector<size_t>{} : std::vector<size_t>{strings.size()};
  return encode("<U" + std::to_string(width), shape, data);
}

}  // namespace lidarhd::io::npy
