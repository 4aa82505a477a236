// Private to wms_source.cpp: decoding a GetMap answer (or a cache file) into a Block through
// GDAL's /vsimem/, and turning a non-image answer into a short readable excerpt for messages.
#pragma once

#include <string>

#include "lidarhd/raster/source.hpp"

namespace lidarhd::raster {

struct DecodeResult {
  std::string problem;    // "" = decoded
  bool retryable = true;  // false when a new copy of the same answer cannot help
};

// Decodes `bytes` into `out`: exactly size x size pixels, the first `bands` colour bands kept
// (a paletted image is expanded), an alpha band (or palette alpha) of 0 marking invalid pixels.
DecodeResult decode_image_checked(const std::string& bytes, int size, int bands, Block& out);
std::string decode_image(const std::string& bytes, int size, int bands, Block& out);

// A short quote of a non-image answer: the text of a WMS ServiceException, the text of an HTML
// page, or the start of other text; "" for binary bodies.
std::string body_excerpt(const std::string& body, const std::string& content_type);

// WMS 1.3.0 exception codes that the same request will get again.
bool permanent_service_exception(const std::string& body);

}  // namespace lidarhd::raster
