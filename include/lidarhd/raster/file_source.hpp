// GDAL-readable orthophotos as raster sources: one file (GeoTIFF, JPEG 2000, JPEG + world file,
// VRT), or a folder of them mosaicked through an in-memory VRT.
#pragma once

#include <memory>
#include <string>

#include "lidarhd/raster/source.hpp"

namespace lidarhd::raster {

struct FileSourceOptions {
  // A CRS for rasters that have none or only a user-defined one ("EPSG:2154", WKT or PROJ
  // string); "" keeps the file's.
  std::string crs;
  int block_size = 512;
  int bands = 0;  // bands kept, from band 1 (0 = all, at most 3); IRC needs only band 1 (NIR)
  // Caps GDAL's block cache, which is process-wide (default: 5 % of RAM), at this many bytes; 0
  // leaves it. Blocks we read are decoded into our own cache anyway (block_cache.hpp).
  size_t gdal_cache_bytes = 0;
};

// Throws IoError naming the path when it cannot be opened, FormatError when the raster is
// rotated, has no georeferencing, or its bands are not 8-bit.
std::unique_ptr<RasterSource> open_raster_file(const std::string& path,
                                               const FileSourceOptions& options = {});

}  // namespace lidarhd::raster
