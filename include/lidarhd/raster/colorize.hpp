// Colourisation (docs/features.md, "Colourisation conventions"): RGB from an orthophoto, NIR from
// band 1 of an IRC image, sampled at every point on CPU or CUDA, stored in the LAS RGB/NIR fields
// as 8-bit value x 256 and, optionally, ndvi as an extra dimension.
//
// Colorizer is the reusable core (the pipeline calls it on point batches); colorize_file is
// `lidarhd colorize`: it streams a LAS/LAZ file through it into a new file.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/raster/block_cache.hpp"
#include "lidarhd/raster/sample.hpp"
#include "lidarhd/raster/source.hpp"
#include "lidarhd/raster/wms.hpp"

namespace lidarhd::raster {

struct ColorizeOptions {
  // Each: "" (none), a raster file, a folder of rasters or a VRT, or "wms".
  std::string rgb, irc;
  WmsOptions wms_rgb;  // used when rgb == "wms" (layer HR.ORTHOIMAGERY.ORTHOPHOTOS)
  WmsOptions wms_irc;  // used when irc == "wms" (layer ORTHOIMAGERY.ORTHOPHOTOS.IRC)
  std::string raster_crs;  // overrides the rasters' CRS (files with none or a user-defined one)
  std::string points_crs;  // overrides the point cloud's CRS
  SampleMethod method = SampleMethod::kNearest;
  Device device;            // resolved by the caller
  float fill = 0;           // 8-bit value for points outside the rasters or on NoData
  // colorize_file: also write ndvi as a float32 extra dimension (needs rgb and irc). The
  // features red, green, blue, nir are the LAS fields / 65280; as extra dimensions their names
  // would clash with the standard fields.
  bool ndvi = false;
  unsigned threads = 1;     // LAZ decoding and encoding
  size_t host_cache_bytes = size_t(1) << 30;
  size_t device_cache_bytes = size_t(2) << 30;
  std::function<void(uint64_t done, uint64_t total)> progress;  // points; may be empty
};

// Per source (RGB, IRC): what the run did.
struct SourceReport {
  std::string source;          // describe()
  uint64_t sampled = 0;        // points given a pixel value
  uint64_t outside = 0;        // points with no raster under them (given the fill value)
  uint64_t nodata = 0;         // points on a NoData pixel (given the fill value)
  std::vector<double> mean;    // per band over sampled points, 8-bit units
  std::string crs_note;        // how the raster's CRS was matched to the cloud's
};

// Samples in 8-bit units (bilinear gives fractions), fill where the status is not kOk.
struct ColorSamples {
  std::vector<float> rgb;        // n * 3, empty without an RGB source
  std::vector<float> nir;        // n, empty without an IRC source
  std::vector<uint8_t> rgb_status, nir_status;
};

class Colorizer {
 public:
  // Opens the sources (no pixel is read yet). `points_crs` is the cloud's CRS (WKT or user
  // input; "" = unknown). Throws ArgumentError when both sources are empty or when the CRS cannot
  // be matched (the cloud has none but the raster has one: pass points_crs).
  Colorizer(const ColorizeOptions& options, const std::string& points_crs);
  ~Colorizer();
  bool has_rgb() const;
  bool has_irc() const;
  // x, y in the point cloud's CRS. Thread-compatible: one call at a time.
  ColorSamples sample(const double* x, const double* y, size_t n);
  const SourceReport& rgb_report() const;
  const SourceReport& irc_report() const;
  CacheStats cache_stats() const;
  std::vector<std::pair<std::string, WmsStats>> wms_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ColorizeSummary {
  std::string input, output;
  uint64_t points = 0;
  int point_format_in = 0, point_format_out = 0;
  std::string device, method;
  SourceReport rgb, irc;  // source == "" when not used
  CacheStats cache;
  std::vector<std::pair<std::string, WmsStats>> wms;
  double seconds_read = 0, seconds_sample = 0, seconds_write = 0, seconds_total = 0;
};

// Streams `input` into `output` (.las or .laz by the name; written atomically) with RGB/NIR
// filled in, upgrading the point format as needed (6 -> 7 for RGB, -> 8 for NIR; 0/1 -> 2/3;
// NIR on a legacy format -> 8).
ColorizeSummary colorize_file(const std::string& input, const std::string& output,
                              const ColorizeOptions& options);

// The CRS a Colorizer takes for a LAS file's points: "EPSG:<code>" when the file declares one,
// else its WKT, else "" (none).
std::string points_crs(const io::LasFileInfo& info);

// The point format that holds RGB (and NIR) while keeping every field of `format`: 6 -> 7 for
// RGB, -> 8 for NIR; 0/1/4/9 -> 2/3/5/10; NIR on a legacy format -> 8 (10 with wave packets).
int colour_point_format(int format, bool rgb, bool nir);
// An 8-bit sample as a LAS 16-bit colour field: value x 256 (IGN's and PDAL's convention),
// rounded and clamped.
uint16_t las_colour_value(float value);

// ndvi = (nir - red) / (nir + red), 0 where nir + red = 0 (docs/features.md).
inline float ndvi(float red, float nir) { return nir + red > 0 ? (nir - red) / (nir + red) : 0.0f; }

}  // namespace lidarhd::raster
