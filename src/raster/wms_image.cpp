// Decoding GetMap answers and cache files through GDAL's /vsimem/, and readable excerpts of
// non-image answers (wms_image.hpp).
#include "raster/wms_image.hpp"

#include <cpl_vsi.h>
#include <gdal.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "raster/gdal_util.hpp"

namespace lidarhd::raster {

namespace {

struct OpenImage {
  std::string name;
  GDALDatasetH ds = nullptr;
  ~OpenImage() {
    if (ds) GDALClose(ds);
    if (!name.empty()) VSIUnlink(name.c_str());
  }
};

std::string collapse_spaces(const std::string& s, size_t max_chars) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isspace(c) || c < 32) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(c);
    }
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string strip_tags(const std::string& s) {
  std::string out;
  bool in_tag = false;
  for (const char c : s) {
    if (c == '<') {
      in_tag = true;
      out += ' ';
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      out += c;
    }
  }
  return out;
}

}  // namespace

// Decodes `bytes` into `out`: exactly size x size pixels, the first `bands` colour bands kept
// (a paletted image is expanded), an alpha band (or palette alpha) of 0 marking invalid pixels.
DecodeResult decode_image_checked(const std::string& bytes, int size, int bands,
                                         Block& out) {
  detail::gdal_init();
  static std::atomic<uint64_t> serial{0};
  DecodeResult result;
  if (bytes.empty()) {
    result.problem = "the answer is empty";
    return result;
  }
  detail::QuietGdal quiet;
  OpenImage image;
  image.name = "/vsimem/lidarhd_wms_" + std::to_string(serial++);
  // GDAL only reads the buffer (bTakeOwnership = FALSE), and the file is unlinked before return.
  VSILFILE* mem = VSIFileFromMemBuffer(image.name.c_str(),
                                       reinterpret_cast<GByte*>(const_cast<char*>(bytes.data())),
                                       bytes.size(), FALSE);
  if (!mem) {
    image.name.clear();
    result.problem = "GDAL cannot map the answer in memory";
    return result;
  }
  VSIFCloseL(mem);
  image.ds =
      GDALOpenEx(image.name.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (!image.ds) {
    result.problem = "the image does not decode (" + detail::gdal_last_error("unknown format") + ")";
    return result;
  }
  const int w = GDALGetRasterXSize(image.ds), h = GDALGetRasterYSize(image.ds);
  if (w != size || h != size) {
    result.retryable = false;
    result.problem = "the image is " + std::to_string(w) + " x " + std::to_string(h) +
                     " pixels, expected " + std::to_string(size) + " x " + std::to_string(size) +
                     " (a server size limit? use smaller blocks)";
    return result;
  }
  std::vector<int> colour;
  int alpha = 0;
  const int count = GDALGetRasterCount(image.ds);
  for (int b = 1; b <= count; ++b) {
    GDALRasterBandH band = GDALGetRasterBand(image.ds, b);
    if (GDALGetRasterDataType(band) != GDT_Byte) {
      result.retryable = false;
      result.problem = std::string("band ") + std::to_string(b) + " is " +
                       GDALGetDataTypeName(GDALGetRasterDataType(band)) + ", not 8-bit";
      return result;
    }
    if (GDALGetRasterColorInterpretation(band) == GCI_AlphaBand && !alpha) {
      alpha = b;
    } else {
      colour.push_back(b);
    }
  }
  const size_t n = static_cast<size_t>(size) * static_cast<size_t>(size);
  GDALColorTableH palette = colour.size() == 1
                                ? GDALGetRasterColorTable(GDALGetRasterBand(image.ds, colour[0]))
                                : nullptr;
  const size_t have = palette ? 3 : colour.size();
  if (have < static_cast<size_t>(bands)) {
    result.retryable = false;
    result.problem = "the image has " + std::to_string(have) + " colour band(s), " +
                     std::to_string(bands) + " needed";
    return result;
  }
  out.size = size;
  out.bands = bands;
  out.pixels.assign(n * static_cast<size_t>(bands), 0);
  out.valid.assign(n, 1);
  const auto read_failed = [&] {
    result.problem =
        "the image does not decode (" + detail::gdal_last_error("read error") + "; truncated?)";
    return result;
  };
  if (palette) {
    std::vector<uint8_t> index(n);
    if (GDALRasterIO(GDALGetRasterBand(image.ds, colour[0]), GF_Read, 0, 0, size, size,
                     index.data(), size, size, GDT_Byte, 0, 0) != CE_None) {
      return read_failed();
    }
    const bool rgb = GDALGetPaletteInterpretation(palette) == GPI_RGB;
    const int entries = GDALGetColorEntryCount(palette);
    uint8_t lut[256][4] = {};
    for (int e = 0; e < 256 && e < entries; ++e) {
      GDALColorEntry c;
      GDALGetColorEntryAsRGB(palette, e, &c);
      lut[e][0] = static_cast<uint8_t>(c.c1);
      lut[e][1] = static_cast<uint8_t>(c.c2);
      lut[e][2] = static_cast<uint8_t>(c.c3);
      lut[e][3] = rgb ? static_cast<uint8_t>(c.c4) : 255;
    }
    for (size_t i = 0; i < n; ++i) {
      for (int b = 0; b < bands; ++b) out.pixels[i * bands + b] = lut[index[i]][b];
      out.valid[i] = lut[index[i]][3] != 0;
    }
  } else {
    if (GDALDatasetRasterIO(image.ds, GF_Read, 0, 0, size, size, out.pixels.data(), size, size,
                            GDT_Byte, bands, colour.data(), bands, bands * size, 1) != CE_None) {
      return read_failed();
    }
  }
  if (alpha) {
    std::vector<uint8_t> a(n);
    if (GDALRasterIO(GDALGetRasterBand(image.ds, alpha), GF_Read, 0, 0, size, size, a.data(), size,
                     size, GDT_Byte, 0, 0) != CE_None) {
      return read_failed();
    }
    for (size_t i = 0; i < n; ++i) out.valid[i] = out.valid[i] && a[i] != 0;
  }
  return result;
}

std::string decode_image(const std::string& bytes, int size, int bands, Block& out) {
  return decode_image_checked(bytes, size, bands, out).problem;
}

// A short quote of a non-image answer: the text of a WMS ServiceException, the text of an HTML
// page, or the start of other text; "" for binary bodies.
std::string body_excerpt(const std::string& body, const std::string& content_type) {
  if (body.empty()) return "";
  size_t tag = body.find("<ServiceException");
  while (tag != std::string::npos && tag + 17 < body.size() && body[tag + 17] != '>' &&
         !std::isspace(static_cast<unsigned char>(body[tag + 17]))) {
    tag = body.find("<ServiceException", tag + 17);  // skip <ServiceExceptionReport>
  }
  if (tag != std::string::npos) {
    const size_t start = body.find('>', tag);
    const size_t end = body.find("</ServiceException", tag);
    std::string code;
    const size_t code_at = body.find("code=", tag);
    if (code_at != std::string::npos && code_at < start && code_at + 6 < body.size()) {
      const char quote = body[code_at + 5];
      const size_t close = body.find(quote, code_at + 6);
      if (close != std::string::npos) code = body.substr(code_at + 6, close - code_at - 6);
    }
    std::string text = start == std::string::npos
                           ? std::string()
                           : body.substr(start + 1, end == std::string::npos ? std::string::npos
                                                                             : end - start - 1);
    text = collapse_spaces(strip_tags(text), 200);
    return "service exception" + (code.empty() ? std::string() : " " + code) + ": \"" + text + "\"";
  }
  size_t printable = 0;
  for (size_t i = 0; i < body.size() && i < 512; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    printable += (c >= 32 && c < 127) || std::isspace(c) || c >= 128;
  }
  if (printable < std::min<size_t>(body.size(), 512)) {
    return std::to_string(body.size()) + " bytes of " +
           (content_type.empty() ? std::string("binary data") : content_type);
  }
  const bool markup = content_type.find("html") != std::string::npos ||
                      content_type.find("xml") != std::string::npos || body[0] == '<';
  return "\"" + collapse_spaces(markup ? strip_tags(body) : body, 160) + "\"";
}

// WMS 1.3.0 exception codes that the same request will get again.
bool permanent_service_exception(const std::string& body) {
  static const char* codes[] = {"InvalidFormat",
                                "InvalidCRS",
                                "InvalidSRS",
                                "LayerNotDefined",
                                "StyleNotDefined",
                                "LayerNotQueryable",
                                "MissingDimensionValue",
                                "InvalidDimensionValue",
                                "OperationNotSupported",
                                "InvalidUpdateSequence"};
  for (const char* code : codes) {
    if (body.find(std::string("code=\"") + code + "\"") != std::string::npos ||
        body.find(std::string("code='") + code + "'") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace lidarhd::raster
