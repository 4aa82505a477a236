// A WMS 1.3.0 layer as a raster source (IGN Géoplateforme by default): the layer's pixel grid at a
// fixed resolution, anchored at (0, 0) in the request CRS, cut into blocks of block_size pixels,
// each block one GetMap request. Requests run in parallel over a bounded number of connections,
// with timeouts and retries (exponential backoff with jitter on timeouts, 429 and 5xx, honouring
// Retry-After); a body that is not a decodable image of the requested size is an error, never a
// block. Fetched images go to a disk cache (atomic writes) that `offline` reads exclusively.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lidarhd/raster/source.hpp"

namespace lidarhd::raster {

constexpr const char* kIgnWmsUrl = "https://data.geopf.fr/wms-r";
constexpr const char* kIgnRgbLayer = "HR.ORTHOIMAGERY.ORTHOPHOTOS";
constexpr const char* kIgnIrcLayer = "ORTHOIMAGERY.ORTHOPHOTOS.IRC";

struct WmsOptions {
  std::string url = kIgnWmsUrl;
  std::string layer = kIgnRgbLayer;
  std::string crs = "EPSG:2154";     // CRS= parameter; axis order east, north
  std::string format = "image/png";  // FORMAT= parameter; lossless by default
  double resolution = 0.2;           // metres per pixel (IGN's native 0.2 m)
  int block_size = 1000;             // pixels per GetMap side: 200 m at 0.2 m
  int bands = 3;                     // bands kept from each image (RGB; IRC band 1 is NIR)
  std::string cache_dir;             // "" = no disk cache
  bool offline = false;              // only the disk cache; a missing block is an error
  int connections = 4;               // concurrent requests
  double timeout_s = 60;             // per request
  int retries = 5;                   // after the first attempt
  double backoff_s = 1.0;            // first retry delay; doubles each time, with jitter
  double max_backoff_s = 60;         // cap on one delay (also on Retry-After)
  std::function<void(const std::string&)> warn;  // one line per retry; may be empty
};

struct WmsStats {
  uint64_t requests = 0;    // HTTP requests sent (retries included)
  uint64_t retries = 0;
  uint64_t cache_hits = 0;  // blocks read from the disk cache
  uint64_t bytes = 0;       // bytes downloaded
};

class WmsSource : public RasterSource {
 public:
  // Validates the options (ArgumentError); makes no request.
  static std::unique_ptr<WmsSource> open(const WmsOptions& options);
  virtual WmsStats stats() const = 0;
};

}  // namespace lidarhd::raster
