// A build without GDAL (LIDARHD_GDAL=OFF, e.g. on machines without the package): the sampler and
// caches work on blocks given by the caller, but no raster can be opened and no CRS transformed.
#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/file_source.hpp"
#include "lidarhd/raster/wms.hpp"
#include "lidarhd/synth/ortho.hpp"
#include "raster/crs_transform.hpp"

namespace lidarhd::raster {
[[noreturn]] static void no_gdal(const std::string& what) {
  throw ArgumentError("raster", what + ": this build has no GDAL support (configured with "
                                       "-DLIDARHD_GDAL=OFF); install libgdal-dev and "
                                       "libcurl4-openssl-dev and rebuild");
}

std::unique_ptr<RasterSource> open_raster_file(const std::string& path, const FileSourceOptions&) {
  no_gdal(path);
}

std::unique_ptr<WmsSource> WmsSource::open(const WmsOptions& options) { no_gdal(options.url); }

int crs_epsg(const std::string&) { return 0; }

CoordTransform::CoordTransform(const std::string& from, const std::string& to) {
  if (!from.empty() && !to.empty() && from != to) no_gdal("coordinate transformation");
}
CoordTransform::~CoordTransform() = default;
void CoordTransform::apply(double*, double*, size_t) const {}

}  // namespace lidarhd::raster

namespace lidarhd::synth {
uint64_t write_ortho_geotiff(const OrthoImage&, OrthoKind, const std::string& path, unsigned) {
  raster::no_gdal(path);
}
}  // namespace lidarhd::synth
