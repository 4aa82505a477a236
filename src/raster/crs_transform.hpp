// Coordinates from the point cloud's CRS to a raster's (PROJ through GDAL's OGR API). Rasters and
// clouds of the same CRS (the usual IGN case) get an identity that touches nothing.
#pragma once

#include <cstddef>
#include <string>

namespace lidarhd::raster {

// The EPSG code of a CRS given as WKT or user input ("EPSG:2154", PROJ string): the authority
// code when there is one, else a name of the form "EPSG:<code>" (GDAL names IGN's user-defined
// GeoTIFF CRS after its citation "EPSG:2154|"); 0 when neither. Never throws.
int crs_epsg(const std::string& crs);

class CoordTransform {
 public:
  // `from` / `to`: WKT or user input. Identity when they are the same CRS (same EPSG code, or
  // OSRIsSame), or when either is "" (unknown: the caller decides whether that is acceptable).
  // Throws ArgumentError when a CRS cannot be parsed or PROJ has no transformation.
  CoordTransform(const std::string& from, const std::string& to);
  ~CoordTransform();
  CoordTransform(const CoordTransform&) = delete;
  CoordTransform& operator=(const CoordTransform&) = delete;

  bool identity() const { return handle_ == nullptr; }
  // In place, easting/northing order. Points PROJ cannot transform become NaN (sampled as
  // outside the raster).
  void apply(double* x, double* y, size_t n) const;

 private:
  void* handle_ = nullptr;  // OGRCoordinateTransformationH
};

}  // namespace lidarhd::raster
