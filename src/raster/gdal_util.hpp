// Small helpers around GDAL's C API shared by the file source, the CRS code and the WMS source.
#pragma once

#include <string>

#include <cpl_error.h>
#include <ogr_srs_api.h>

namespace lidarhd::raster::detail {

// Silences GDAL's own stderr messages while alive (per thread): our errors quote
// gdal_last_error() instead.
struct QuietGdal {
  QuietGdal() {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
  }
  ~QuietGdal() { CPLPopErrorHandler(); }
  QuietGdal(const QuietGdal&) = delete;
  QuietGdal& operator=(const QuietGdal&) = delete;
};

// GDALAllRegister() once per process.
void gdal_init();
// GDAL's last error message, or `fallback` when it has none.
std::string gdal_last_error(const std::string& fallback = "unknown GDAL error");
// WKT of a CRS given as WKT or user input ("EPSG:2154", PROJ string); "" when it cannot be parsed.
std::string crs_to_wkt(const std::string& crs);
// A spatial reference from WKT or user input, east/north axis order; null when unparsable. The
// caller destroys it (OSRDestroySpatialReference).
OGRSpatialReferenceH make_srs(const std::string& crs);

}  // namespace lidarhd::raster::detail
