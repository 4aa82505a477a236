// GeoTIFF output of synthetic orthophotos, through GDAL's C API. GDAL encodes the file in memory
// (/vsimem/), then the bytes go through AtomicFile, so the target appears complete or not at all
// and no GDAL side file (.aux.xml) lands next to it.
#include <atomic>
#include <cstdio>
#include <string>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "io/atomic_file.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/synth/ortho.hpp"

namespace lidarhd::synth {
namespace {

bool ends_with_ci(const std::string& s, const std::string& tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i) {
    const char a = s[s.size() - tail.size() + i];
    if ((a >= 'A' && a <= 'Z' ? char(a - 'A' + 'a') : a) != tail[i]) return false;
  }
  return true;
}

std::string gdal_message(const std::string& what) {
  const char* msg = CPLGetLastErrorMsg();
  return what + (msg && *msg ? std::string(" (GDAL: ") + msg + ")" : std::string());
}

// EPSG:2154 from GDAL's CRS database; the project's own Lambert-93 WKT (which carries the EPSG
// authority, so the GeoTIFF keys are the same) where PROJ's database is missing.
std::string lambert93_wkt() {
  std::string wkt = kLambert93Wkt;
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  if (!srs) return wkt;
  CPLPushErrorHandler(CPLQuietErrorHandler);
  if (OSRImportFromEPSG(srs, 2154) == OGRERR_NONE) {
    char* text = nullptr;
    if (OSRExportToWkt(srs, &text) == OGRERR_NONE && text && *text) wkt = text;
    CPLFree(text);
  }
  CPLPopErrorHandler();
  OSRDestroySpatialReference(srs);
  return wkt;
}

// Frees a /vsimem/ file however the writer leaves.
struct MemFile {
  std::string path;
  ~MemFile() { VSIUnlink(path.c_str()); }
};

}  // namespace

uint64_t write_ortho_geotiff(const OrthoImage& image, OrthoKind kind, const std::string& path,
                             unsigned threads) {
  if (!ends_with_ci(path, ".tif") && !ends_with_ci(path, ".tiff"))
    throw ArgumentError("synth", path +
                                     ": the orthophoto name must end in .tif or .tiff "
                                     "(GeoTIFF)");
  if (image.bands != 3 || image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != size_t(image.width) * size_t(image.height) * 3)
    throw ArgumentError("synth", "cannot write " + path + ": the image is empty or malformed");
  GDALAllRegister();
  GDALDriverH driver = GDALGetDriverByName("GTiff");
  if (!driver) throw IoError("synth", "cannot write " + path + ": GDAL has no GTiff driver");

  static std::atomic<uint64_t> counter{0};
  char name[96];
  std::snprintf(name, sizeof name, "/vsimem/lidarhd_ortho_%p_%llu.tif",
                static_cast<const void*>(&image),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  MemFile mem{name};

  const std::string num_threads = "NUM_THREADS=" + std::to_string(threads < 1 ? 1 : threads);
  // No TIFFTAG_DATETIME or other run-dependent field: the bytes depend on the pixels only.
  const char* options[] = {"TILED=YES",        "BLOCKXSIZE=256",    "BLOCKYSIZE=256",
                           "COMPRESS=DEFLATE", "PREDICTOR=2",       "INTERLEAVE=PIXEL",
                           "PHOTOMETRIC=RGB",  num_threads.c_str(), nullptr};
  CPLErrorReset();
  GDALDatasetH ds =
      GDALCreate(driver, name, image.width, image.height, 3, GDT_Byte, const_cast<char**>(options));
  if (!ds) throw IoError("synth", gdal_message("cannot create the GeoTIFF for " + path));

  const std::string wkt = lambert93_wkt();
  double transform[6] = {image.x0, image.res, 0, image.y0, 0, -image.res};
  bool ok = GDALSetGeoTransform(ds, transform) == CE_None &&
            GDALSetProjection(ds, wkt.c_str()) == CE_None;
  // Band names say what the bands hold (an IRC file's first band is near infrared, not red).
  const char* names[2][3] = {{"Red", "Green", "Blue"}, {"Near infrared", "Red", "Green"}};
  for (int b = 0; ok && b < 3; ++b)
    GDALSetDescription(GDALGetRasterBand(ds, b + 1), names[kind == OrthoKind::kIrc][b]);
  if (ok) {
    const int pixel = 3, line = image.width * 3, band = 1;
    ok = GDALDatasetRasterIO(ds, GF_Write, 0, 0, image.width, image.height,
                             const_cast<uint8_t*>(image.pixels.data()), image.width, image.height,
                             GDT_Byte, 3, nullptr, pixel, line, band) == CE_None;
  }
  const std::string failure = ok ? "" : gdal_message("cannot encode the GeoTIFF for " + path);
  CPLErrorReset();
  GDALClose(ds);  // flushes the last tiles
  if (!ok) throw IoError("synth", failure);
  if (CPLGetLastErrorType() == CE_Failure)
    throw IoError("synth", gdal_message("cannot encode the GeoTIFF for " + path));

  vsi_l_offset size = 0;
  const GByte* bytes = VSIGetMemFileBuffer(name, &size, FALSE);
  if (!bytes || size == 0)
    throw IoError("synth", "cannot write " + path + ": GDAL produced no GeoTIFF bytes");
  io::detail::AtomicFile out(path);
  out.write(bytes, size_t(size));
  out.commit();
  return uint64_t(size);
}

}  // namespace lidarhd::synth
