#include "raster/crs_transform.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <vector>

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "lidarhd/core/error.hpp"
#include "raster/gdal_util.hpp"

namespace lidarhd::raster {

namespace {

int srs_epsg(OGRSpatialReferenceH srs) {
  const char* root = OSRIsProjected(srs) ? "PROJCS" : (OSRIsGeographic(srs) ? "GEOGCS" : nullptr);
  const char* auth = OSRGetAuthorityName(srs, root);
  const char* code = OSRGetAuthorityCode(srs, root);
  if (auth && code && std::strcmp(auth, "EPSG") == 0) return std::atoi(code);
  const char* name = OSRGetName(srs);
  if (name && std::strncmp(name, "EPSG:", 5) == 0) return std::atoi(name + 5);
  return 0;
}

}  // namespace

int crs_epsg(const std::string& crs) {
  if (crs.empty()) return 0;
  OGRSpatialReferenceH srs = detail::make_srs(crs);
  if (!srs) return 0;
  const int epsg = srs_epsg(srs);
  OSRDestroySpatialReference(srs);
  return epsg;
}

CoordTransform::CoordTransform(const std::string& from, const std::string& to) {
  if (from.empty() || to.empty()) return;
  OGRSpatialReferenceH a = detail::make_srs(from);
  OGRSpatialReferenceH b = detail::make_srs(to);
  if (!a || !b) {
    if (a) OSRDestroySpatialReference(a);
    if (b) OSRDestroySpatialReference(b);
    throw ArgumentError("raster", "cannot parse the CRS '" + (a ? to : from).substr(0, 80) + "'");
  }
  const int ea = srs_epsg(a), eb = srs_epsg(b);
  const bool same = (ea != 0 && ea == eb) || OSRIsSame(a, b);
  if (!same) {
    CPLErrorReset();
    handle_ = OCTNewCoordinateTransformation(a, b);
  }
  OSRDestroySpatialReference(a);
  OSRDestroySpatialReference(b);
  if (!same && !handle_) {
    throw ArgumentError("raster", "no coordinate transformation from EPSG:" + std::to_string(ea) +
                                      " to EPSG:" + std::to_string(eb) + " (" +
                                      detail::gdal_last_error() + ")");
  }
}

CoordTransform::~CoordTransform() {
  if (handle_) OCTDestroyCoordinateTransformation(static_cast<OGRCoordinateTransformationH>(handle_));
}

void CoordTransform::apply(double* x, double* y, size_t n) const {
  if (!handle_) return;
  auto ct = static_cast<OGRCoordinateTransformationH>(handle_);
  constexpr size_t kStep = 1 << 16;
  std::vector<int> ok(kStep);
  for (size_t at = 0; at < n; at += kStep) {
    const int m = static_cast<int>(std::min(kStep, n - at));
    OCTTransformEx(ct, m, x + at, y + at, nullptr, ok.data());
    for (int i = 0; i < m; ++i) {
      if (!ok[i]) x[at + i] = y[at + i] = std::nan("");
    }
  }
}

}  // namespace lidarhd::raster
