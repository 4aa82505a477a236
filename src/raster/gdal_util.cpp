// GDAL helpers shared by the raster sources and the CRS code.
#include "raster/gdal_util.hpp"

#include <mutex>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

namespace lidarhd::raster {
namespace detail {

void gdal_init() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

std::string gdal_last_error(const std::string& fallback) {
  const char* msg = CPLGetLastErrorMsg();
  return msg && *msg ? std::string(msg) : fallback;
}

// An OGRSpatialReferenceH from WKT or user input, with GIS (east, north) axis order; null on error.
OGRSpatialReferenceH make_srs(const std::string& crs) {
  gdal_init();
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OGRErr err;
  {
    QuietGdal quiet;
    err = OSRSetFromUserInput(srs, crs.c_str());
  }
  if (err != OGRERR_NONE) {
    OSRDestroySpatialReference(srs);
    return nullptr;
  }
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

std::string crs_to_wkt(const std::string& crs) {
  OGRSpatialReferenceH srs = make_srs(crs);
  if (!srs) return "";
  char* wkt = nullptr;
  std::string out;
  if (OSRExportToWkt(srs, &wkt) == OGRERR_NONE && wkt) out = wkt;
  CPLFree(wkt);
  OSRDestroySpatialReference(srs);
  return out;
}

}  // namespace detail

}  // namespace lidarhd::raster
