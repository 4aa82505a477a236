// Colourisation against real IGN data (../shared/data README: reference pixels and means), GDAL
// sources (file, folder mosaic, reprojection), CRS rules and errors, CPU vs CUDA.
#include <gtest/gtest.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "device_test.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/point_table.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/raster/colorize.hpp"
#include "lidarhd/raster/file_source.hpp"
#include "real_files.hpp"

namespace lidarhd::raster {
namespace {

namespace fs = std::filesystem;
const char* kTile = "ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz";
const char* kRgb = "ign-pdal-tools/test_data_rgb.tif";
const char* kIrc = "ign-pdal-tools/test_data_irc.tif";

std::string tmp(const std::string& name) { return ::testing::TempDir() + "/colorize_" + name; }

io::PointTable read(const std::string& path) { return io::PointReader(path).read_table(); }

ColorizeOptions ign_options(const std::string& data, Device device = Device::cpu()) {
  ColorizeOptions o;
  o.rgb = data + "/" + kRgb;
  o.irc = data + "/" + kIrc;
  o.fill = 255;  // = the rasters' NoData value: points on NoData keep the raw pixel value
  o.device = device;
  return o;
}

// The whole raster, band-interleaved, read with GDAL directly (independent of the sources).
struct Raster {
  int w = 0, h = 0, bands = 0;
  double gt[6];
  std::vector<uint8_t> px;
  uint8_t at(int band, int64_t col, int64_t row) const { return px[size_t(band) * w * h + size_t(row) * w + col]; }
};
Raster load(const std::string& path) {
  GDALAllRegister();
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  Raster r;
  r.w = GDALGetRasterXSize(ds), r.h = GDALGetRasterYSize(ds), r.bands = GDALGetRasterCount(ds);
  GDALGetGeoTransform(ds, r.gt);
  r.px.resize(size_t(r.w) * r.h * r.bands);
  EXPECT_EQ(CE_None, GDALDatasetRasterIO(ds, GF_Read, 0, 0, r.w, r.h, r.px.data(), r.w, r.h,
                                         GDT_Byte, r.bands, nullptr, 0, 0, 0));
  GDALClose(ds);
  return r;
}

class IgnColorize : public lidarhd::testing::DeviceTest {};

TEST_P(IgnColorize, ReproducesTheReferencePixelsAndMeans) {
  REQUIRE_DATA(kTile);
  const std::string data = lidarhd::test::data_dir();
  const std::string out = tmp("ign_" + device_.to_string().substr(0, 3) + ".laz");
  const ColorizeSummary s = colorize_file(path, out, ign_options(data, device_));
  EXPECT_EQ(s.points, 60653u);
  EXPECT_EQ(s.point_format_out, 8);
  EXPECT_EQ(s.rgb.outside, 0u);
  const io::PointTable t = read(out);
  const auto* red = t.column("red").data<uint16_t>();
  const auto* green = t.column("green").data<uint16_t>();
  const auto* blue = t.column("blue").data<uint16_t>();
  const auto* nir = t.column("nir").data<uint16_t>();
  // README table: point, R, G, B, NIR (8-bit).
  const int ref[6][5] = {{0, 201, 198, 193, 150}, {1, 203, 200, 195, 153}, {2, 200, 197, 192, 150},
                         {4, 146, 142, 137, 92},  {5, 146, 142, 137, 92},  {6, 181, 178, 173, 128}};
  for (const auto& r : ref) {
    EXPECT_EQ(red[r[0]], r[1] * 256) << "point " << r[0];
    EXPECT_EQ(green[r[0]], r[2] * 256) << "point " << r[0];
    EXPECT_EQ(blue[r[0]], r[3] * 256) << "point " << r[0];
    EXPECT_EQ(nir[r[0]], r[4] * 256) << "point " << r[0];
  }
  // Every point off a pixel edge equals GDAL's pixel; edge points (about 5961) depend on rounding
  // and only count in the means, which the README gives to 3 decimals.
  const Raster rgb = load(data + "/" + kRgb), irc = load(data + "/" + kIrc);
  double sum[4] = {0, 0, 0, 0};
  uint64_t checked = 0;
  for (uint64_t i = 0; i < t.size(); ++i) {
    sum[0] += red[i] / 256.0, sum[1] += green[i] / 256.0, sum[2] += blue[i] / 256.0;
    sum[3] += nir[i] / 256.0;
    const double u = (t.x(i) - rgb.gt[0]) / rgb.gt[1], v = (t.y(i) - rgb.gt[3]) / rgb.gt[5];
    if (std::fabs(u - std::round(u)) < 1e-6 || std::fabs(v - std::round(v)) < 1e-6) continue;
    const auto col = static_cast<int64_t>(std::floor(u)), row = static_cast<int64_t>(std::floor(v));
    ASSERT_EQ(red[i], rgb.at(0, col, row) * 256) << "point " << i;
    ASSERT_EQ(blue[i], rgb.at(2, col, row) * 256) << "point " << i;
    ASSERT_EQ(nir[i], irc.at(0, col, row) * 256) << "point " << i;
    ++checked;
  }
  EXPECT_GT(checked, 54000u);
  const double n = double(t.size());
  EXPECT_NEAR(sum[0] / n, 127.880, 0.05);
  EXPECT_NEAR(sum[1] / n, 122.900, 0.05);
  EXPECT_NEAR(sum[2] / n, 113.308, 0.05);
  EXPECT_NEAR(sum[3] / n, 135.808, 0.05);
}

TEST_P(IgnColorize, DeviceMatchesCpuWithBothMethods) {
  if (device_.is_cpu()) GTEST_SKIP() << "compares a device with the CPU";
  REQUIRE_DATA(kTile);
  const std::string data = lidarhd::test::data_dir();
  const io::PointTable t = read(path);
  std::vector<double> x(t.size()), y(t.size());
  for (uint64_t i = 0; i < t.size(); ++i) x[i] = t.x(i), y[i] = t.y(i);
  for (SampleMethod m : {SampleMethod::kNearest, SampleMethod::kBilinear}) {
    ColorizeOptions a = ign_options(data), b = ign_options(data, device_);
    a.method = b.method = m;
    const ColorSamples ca = Colorizer(a, "EPSG:2154").sample(x.data(), y.data(), x.size());
    const ColorSamples cb = Colorizer(b, "EPSG:2154").sample(x.data(), y.data(), x.size());
    ASSERT_EQ(ca.rgb_status, cb.rgb_status);
    ASSERT_EQ(0, std::memcmp(ca.rgb.data(), cb.rgb.data(), ca.rgb.size() * sizeof(float)));
    ASSERT_EQ(0, std::memcmp(ca.nir.data(), cb.nir.data(), ca.nir.size() * sizeof(float)));
  }
}

LIDARHD_DEVICE_TESTS(IgnColorize);

TEST(Colorize, KeepsEveryOtherFieldAndWritesNdvi) {
  REQUIRE_DATA(kTile);
  ColorizeOptions o = ign_options(lidarhd::test::data_dir());
  o.ndvi = true;
  const std::string out = tmp("ndvi.las");
  colorize_file(path, out, o);
  const io::PointTable in = read(path), t = read(out);
  ASSERT_EQ(in.size(), t.size());
  for (const char* name : {"X", "Y", "Z", "intensity", "classification", "gps_time"}) {
    EXPECT_EQ(in.column(name).bytes, t.column(name).bytes) << name;
  }
  const auto* red = t.column("red").data<uint16_t>();
  const auto* nir = t.column("nir").data<uint16_t>();
  const float* nd = t.column("ndvi").data<float>();
  for (uint64_t i = 0; i < t.size(); ++i) {
    ASSERT_NEAR(nd[i], ndvi(red[i] / 256.0f, nir[i] / 256.0f), 1e-6) << i;
  }
}

TEST(Colorize, FolderMosaicGivesTheSameColoursAsTheFile) {
  REQUIRE_DATA(kTile);
  const std::string data = lidarhd::test::data_dir();
  // Four quadrants of the RGB image as separate GeoTIFFs in a folder.
  const fs::path dir = tmp("mosaic");
  fs::remove_all(dir);
  fs::create_directories(dir);
  GDALAllRegister();
  GDALDatasetH src = GDALOpen((data + "/" + kRgb).c_str(), GA_ReadOnly);
  ASSERT_NE(src, nullptr);
  const char* wins[4][4] = {{"0", "0", "126", "126"}, {"126", "0", "126", "126"},
                            {"0", "126", "126", "126"}, {"126", "126", "126", "126"}};
  for (int q = 0; q < 4; ++q) {
    const char* argv[] = {"-srcwin", wins[q][0], wins[q][1], wins[q][2], wins[q][3], nullptr};
    GDALTranslateOptions* opt = GDALTranslateOptionsNew(const_cast<char**>(argv), nullptr);
    const std::string name = (dir / ("q" + std::to_string(q) + ".tif")).string();
    GDALDatasetH part = GDALTranslate(name.c_str(), src, opt, nullptr);
    GDALTranslateOptionsFree(opt);
    ASSERT_NE(part, nullptr);
    GDALClose(part);
  }
  GDALClose(src);
  ColorizeOptions file = ign_options(data), folder = ign_options(data);
  file.irc = folder.irc = "";
  folder.rgb = dir.string();
  colorize_file(path, tmp("file.laz"), file);
  const ColorizeSummary s = colorize_file(path, tmp("folder.laz"), folder);
  EXPECT_EQ(s.rgb.outside, 0u);
  EXPECT_EQ(read(tmp("file.laz")).column("red").bytes, read(tmp("folder.laz")).column("red").bytes);
}

TEST(Colorize, ReprojectsPointsIntoTheRasterCrs) {
  REQUIRE_DATA(kTile);
  // A WGS 84 raster around the tile whose pixels encode their column and row: the sampled pixel
  // must be the one containing the point transformed by PROJ (east/north axis order).
  GDALAllRegister();
  const std::string name = tmp("wgs84.tif");
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), name.c_str(), 200, 200, 2, GDT_Byte, nullptr);
  OGRSpatialReferenceH wgs = OSRNewSpatialReference(nullptr), l93 = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(wgs, 4326);
  OSRImportFromEPSG(l93, 2154);
  OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
  OSRSetAxisMappingStrategy(l93, OAMS_TRADITIONAL_GIS_ORDER);
  char* wkt = nullptr;
  OSRExportToWkt(wgs, &wkt);
  GDALSetProjection(ds, wkt);
  CPLFree(wkt);
  OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(l93, wgs);
  double cx = 770575, cy = 6277575;
  OCTTransform(ct, 1, &cx, &cy, nullptr);
  const double res = 0.000005;  // about 0.4 m x 0.55 m
  double gt[6] = {cx - 100 * res, res, 0, cy + 100 * res, 0, -res};
  GDALSetGeoTransform(ds, gt);
  std::vector<uint8_t> px(200 * 200 * 2);
  for (int r = 0; r < 200; ++r)
    for (int c = 0; c < 200; ++c) px[size_t(r) * 200 + c] = uint8_t(c), px[40000 + size_t(r) * 200 + c] = uint8_t(r);
  ASSERT_EQ(CE_None, GDALDatasetRasterIO(ds, GF_Write, 0, 0, 200, 200, px.data(), 200, 200, GDT_Byte, 2, nullptr, 0, 0, 0));
  GDALClose(ds);

  const io::PointTable t = read(path);
  std::vector<double> x, y;
  for (uint64_t i = 0; i < t.size(); i += 50) x.push_back(t.x(i)), y.push_back(t.y(i));
  ColorizeOptions o;
  o.rgb = name;  // 2 bands: too few for RGB
  EXPECT_THROW(Colorizer(o, "EPSG:2154"), FormatError);
  o.rgb = "";
  o.irc = name;
  Colorizer colorizer(o, "EPSG:2154");
  EXPECT_NE(colorizer.irc_report().crs_note.find("reprojected"), std::string::npos);
  const ColorSamples s = colorizer.sample(x.data(), y.data(), x.size());
  std::vector<double> lon = x, lat = y;
  OCTTransform(ct, static_cast<int>(x.size()), lon.data(), lat.data(), nullptr);
  size_t checked = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double u = (lon[i] - gt[0]) / gt[1];
    if (std::fabs(u - std::round(u)) < 1e-6) continue;
    ASSERT_EQ(s.nir_status[i], 0) << i;
    EXPECT_EQ(s.nir[i], float(std::floor(u))) << i;
    ++checked;
  }
  EXPECT_GT(checked, 1000u);
  OCTDestroyCoordinateTransformation(ct);
  OSRDestroySpatialReference(wgs);
  OSRDestroySpatialReference(l93);
}

TEST(Colorize, CloudWithoutCrsNeedsOne) {
  REQUIRE_DATA("ign-pdal-tools/test_noepsg_043500_629205_IGN69.laz");
  const std::string raster = lidarhd::test::data_dir() + "/ign-pdal-tools/colored.tif";
  ColorizeOptions o;
  o.rgb = raster;
  fs::remove(tmp("noepsg.laz"));
  try {
    colorize_file(path, tmp("noepsg.laz"), o);
    FAIL() << "expected an error";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("--crs"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp("noepsg.laz")));
  o.points_crs = "EPSG:2154";
  const ColorizeSummary s = colorize_file(path, tmp("noepsg.laz"), o);
  EXPECT_EQ(s.point_format_out, 3);
  EXPECT_GT(s.rgb.sampled, 0u);
}

TEST(Colorize, PointsOutsideTheRasterGetTheFillValueAndAreCounted) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77050_627760_LA93_IGN69.laz");
  ColorizeOptions o;
  o.rgb = lidarhd::test::data_dir() + "/" + kRgb;  // covers x >= 770549.8 only
  o.fill = 7;
  const ColorizeSummary s = colorize_file(path, tmp("outside.laz"), o);
  EXPECT_GT(s.rgb.outside, s.points / 2);
  EXPECT_EQ(s.rgb.outside + s.rgb.sampled + s.rgb.nodata, s.points);
  const io::PointTable t = read(tmp("outside.laz"));
  const auto* red = t.column("red").data<uint16_t>();
  uint64_t filled = 0;
  for (uint64_t i = 0; i < t.size(); ++i) filled += t.x(i) < 770549.8 && red[i] == 7 * 256;
  EXPECT_GT(filled, s.points / 2);
}

TEST(Colorize, ClearErrors) {
  REQUIRE_DATA(kTile);
  ColorizeOptions o;
  fs::remove(tmp("none.laz"));
  EXPECT_THROW(colorize_file(path, tmp("none.laz"), o), ArgumentError);  // no source
  o.rgb = "/nonexistent/ortho.tif";
  try {
    colorize_file(path, tmp("none.laz"), o);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ortho.tif"), std::string::npos);
  }
  o.rgb = path;  // a LAZ file is not a raster
  EXPECT_THROW(colorize_file(path, tmp("none.laz"), o), IoError);
  EXPECT_FALSE(fs::exists(tmp("none.laz")));
}

}  // namespace
}  // namespace lidarhd::raster
