// Synthetic orthophotos (`lidarhd synth --ortho / --irc`): size and georeferencing of the images,
// determinism (same seed and any thread count -> same pixels, another seed -> other pixels), IRC
// = the RGB image's red and green plus a near-infrared band, colours that agree with the classes
// of the scene's own points (vegetation NDVI high, water NDVI negative, roofs and roads below
// vegetation), bad resolutions refused; in GDAL builds, the GeoTIFF read back by GDAL
// (geotransform, EPSG:2154, pixels, tiling and compression, identical bytes twice, no temporary
// file left).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lidarhd/core/error.hpp"
#include "lidarhd/synth/ortho.hpp"
#include "lidarhd/synth/scene.hpp"
#include "synth/scene_impl.hpp"
#include "temp_dir.hpp"

#if defined(LIDARHD_WITH_GDAL)
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#endif

namespace {

namespace fs = std::filesystem;
using namespace lidarhd;

synth::SceneOptions small(uint64_t seed = 7, double size = 100) {
  synth::SceneOptions o;
  o.size = size;
  o.density = 10;
  o.seed = seed;
  o.threads = 2;
  return o;
}

TEST(SynthOrtho, SizeAndGeoreferencing) {
  const synth::Scene scene = synth::build_scene(small());
  synth::OrthoOptions o;
  const synth::Orthophoto photo = synth::render_ortho(scene, o);
  for (const synth::OrthoImage* im : {&photo.rgb, &photo.irc}) {
    EXPECT_EQ(im->width, 500);
    EXPECT_EQ(im->height, 500);
    EXPECT_EQ(im->bands, 3);
    EXPECT_EQ(im->pixels.size(), size_t(500) * 500 * 3);
    EXPECT_DOUBLE_EQ(im->x0, 650000.0);
    EXPECT_DOUBLE_EQ(im->y0, 6860100.0);
    EXPECT_DOUBLE_EQ(im->res, 0.2);
  }
  // IRC = NIR, R, G: its red and green are the RGB image's.
  size_t differ = 0;
  for (int row = 0; row < 500; row += 7)
    for (int col = 0; col < 500; col += 3) {
      ASSERT_EQ(photo.irc.at(row, col, 1), photo.rgb.at(row, col, 0));
      ASSERT_EQ(photo.irc.at(row, col, 2), photo.rgb.at(row, col, 1));
      differ += photo.irc.at(row, col, 0) != photo.rgb.at(row, col, 0);
    }
  EXPECT_GT(differ, 1000u);

  o.resolution = 0.5;
  o.irc = false;
  const synth::Orthophoto coarse = synth::render_ortho(scene, o);
  EXPECT_EQ(coarse.rgb.width, 200);
  EXPECT_TRUE(coarse.irc.empty());
}

TEST(SynthOrtho, DeterministicAnyThreadCount) {
  const synth::Scene scene = synth::build_scene(small(11));
  synth::OrthoOptions o;
  o.threads = 1;
  const synth::Orthophoto a = synth::render_ortho(scene, o);
  o.threads = 3;
  const synth::Orthophoto b = synth::render_ortho(synth::build_scene(small(11)), o);
  EXPECT_EQ(a.rgb.pixels, b.rgb.pixels);
  EXPECT_EQ(a.irc.pixels, b.irc.pixels);
  const synth::Orthophoto c = synth::render_ortho(synth::build_scene(small(12)), o);
  size_t same = 0;
  for (size_t i = 0; i < a.rgb.pixels.size(); ++i) same += a.rgb.pixels[i] == c.rgb.pixels[i];
  EXPECT_LT(same, a.rgb.pixels.size() / 2);
}

// Colours under the scene's own points, grouped by what the point is.
TEST(SynthOrtho, ColoursMatchThePointClasses) {
  const synth::SceneOptions so = small(5, 200);
  const synth::Scene scene = synth::build_scene(so);
  const synth::Orthophoto photo = synth::render_ortho(scene);
  const synth::OrthoImage& im = photo.irc;  // NIR, R, G
  enum Group { kHighVeg, kWater, kBuilding, kRoad, kField, kGroups };
  double ndvi[kGroups] = {}, nir[kGroups] = {};
  size_t count[kGroups] = {};
  synth::generate_points(scene, [&](const uint8_t* rec, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* r = rec + i * 30;
      int32_t xi, yi;
      std::memcpy(&xi, r, 4);
      std::memcpy(&yi, r + 4, 4);
      const double x = xi * 0.01, y = yi * 0.01;
      const int ret = r[14] & 15, cls = r[16];
      if (ret != 1) continue;  // first returns: the surface a camera sees
      const double u = x - so.origin_x, v = y - so.origin_y;
      int g;
      if (cls == 5)
        g = kHighVeg;
      else if (cls == 9)
        g = kWater;
      else if (cls == 6)
        g = kBuilding;
      else if (cls == 2 && synth::detail::on_road(scene, u, v) &&
               !synth::detail::on_bridge(scene, u, v))
        g = kRoad;
      else if ((cls == 3 || cls == 4) && scene.fields.area.contains(u, v))
        g = kField;
      else
        continue;
      const int col = int(std::floor((x - im.x0) / im.res));
      const int row = int(std::floor((im.y0 - y) / im.res));
      if (col < 0 || row < 0 || col >= im.width || row >= im.height) continue;
      const double n_ir = im.at(row, col, 0), red = im.at(row, col, 1);
      ndvi[g] += (n_ir - red) / std::max(1.0, n_ir + red);
      nir[g] += n_ir;
      ++count[g];
    }
  });
  const char* names[kGroups] = {"high vegetation", "water", "building", "road", "crop field"};
  for (int g = 0; g < kGroups; ++g) {
    ASSERT_GT(count[g], 20u) << names[g];
    ndvi[g] /= double(count[g]);
    nir[g] /= double(count[g]);
    std::printf("  %-16s %6zu first returns: mean NDVI %+.2f, mean NIR %5.1f\n", names[g], count[g],
                ndvi[g], nir[g]);
  }
  EXPECT_GT(ndvi[kHighVeg], 0.3);
  EXPECT_GT(nir[kHighVeg], 120);
  EXPECT_LT(ndvi[kWater], 0.0);
  EXPECT_LT(nir[kWater], 40);
  EXPECT_GT(ndvi[kField], 0.1);
  for (int g : {kBuilding, kRoad, kWater}) {
    EXPECT_LT(ndvi[g], ndvi[kHighVeg] - 0.2) << names[g];
    EXPECT_LT(ndvi[g], 0.15) << names[g];
  }
  EXPECT_LT(nir[kRoad], nir[kHighVeg]);
  EXPECT_LT(nir[kBuilding], nir[kHighVeg]);
}

TEST(SynthOrtho, BadResolutionsAreRefused) {
  const synth::Scene scene = synth::build_scene(small());
  synth::OrthoOptions o;
  for (double r : {0.0, -1.0, 0.3, 1000.0, std::nan("")}) {
    o.resolution = r;
    EXPECT_THROW(synth::render_ortho(scene, o), ArgumentError) << r;
  }
  synth::SceneOptions big = small();
  big.size = 10000;
  o.resolution = 0.2;
  try {
    synth::check_ortho_options(big, o);
    FAIL() << "50000 x 50000 pixels accepted";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("--ortho-resolution"), std::string::npos) << e.what();
  }
}

#if defined(LIDARHD_WITH_GDAL)

class SynthOrthoFile : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_ / name; }
  lidarhd::test::TempDir dir_{"lidarhd_ortho"};
};

using lidarhd::test::slurp;

TEST_F(SynthOrthoFile, GeoTiffReadsBackWithGdal) {
  const synth::Scene scene = synth::build_scene(small(3, 120));
  synth::OrthoOptions o;
  o.resolution = 0.25;
  const synth::Orthophoto photo = synth::render_ortho(scene, o);
  const std::string rgb = path("ortho.tif"), irc = path("irc.tiff");
  EXPECT_GT(synth::write_ortho_geotiff(photo.rgb, synth::OrthoKind::kRgb, rgb, 2), 0u);
  synth::write_ortho_geotiff(photo.irc, synth::OrthoKind::kIrc, irc, 1);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2u) << "a temporary or side file was left in " << dir_.path();

  GDALAllRegister();
  for (const auto& [file, im] : {std::pair{rgb, &photo.rgb}, std::pair{irc, &photo.irc}}) {
    GDALDatasetH ds = GDALOpen(file.c_str(), GA_ReadOnly);
    ASSERT_NE(ds, nullptr) << file;
    EXPECT_EQ(GDALGetRasterXSize(ds), 480);
    EXPECT_EQ(GDALGetRasterYSize(ds), 480);
    EXPECT_EQ(GDALGetRasterCount(ds), 3);
    double gt[6];
    ASSERT_EQ(GDALGetGeoTransform(ds, gt), CE_None);
    EXPECT_DOUBLE_EQ(gt[0], 650000.0);
    EXPECT_DOUBLE_EQ(gt[1], 0.25);
    EXPECT_DOUBLE_EQ(gt[2], 0.0);
    EXPECT_DOUBLE_EQ(gt[3], 6860120.0);
    EXPECT_DOUBLE_EQ(gt[4], 0.0);
    EXPECT_DOUBLE_EQ(gt[5], -0.25);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(GDALGetProjectionRef(ds));
    ASSERT_NE(srs, nullptr);
    const char* code = OSRGetAuthorityCode(srs, nullptr);
    EXPECT_STREQ(code ? code : "", "2154");
    OSRDestroySpatialReference(srs);
    const char* compression = GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE");
    EXPECT_STREQ(compression ? compression : "", "DEFLATE");
    int bx = 0, by = 0;
    GDALGetBlockSize(GDALGetRasterBand(ds, 1), &bx, &by);
    EXPECT_EQ(bx, 256);
    EXPECT_EQ(by, 256);
    EXPECT_EQ(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)), GDT_Byte);
    EXPECT_STREQ(GDALGetDescription(GDALGetRasterBand(ds, 1)),
                 file == irc ? "Near infrared" : "Red");
    std::vector<uint8_t> back(im->pixels.size());
    ASSERT_EQ(GDALDatasetRasterIO(ds, GF_Read, 0, 0, 480, 480, back.data(), 480, 480, GDT_Byte, 3,
                                  nullptr, 3, 480 * 3, 1),
              CE_None);
    EXPECT_EQ(back, im->pixels) << file;
    GDALClose(ds);
  }

  // Same pixels -> same bytes, whatever the compression threads.
  const std::string again = path("again.tif");
  synth::write_ortho_geotiff(photo.rgb, synth::OrthoKind::kRgb, again, 4);
  EXPECT_EQ(slurp(again), slurp(rgb));

  EXPECT_THROW(synth::write_ortho_geotiff(photo.rgb, synth::OrthoKind::kRgb, path("x.png"), 1),
               ArgumentError);
  EXPECT_THROW(
      synth::write_ortho_geotiff(photo.rgb, synth::OrthoKind::kRgb, path("missing/dir/x.tif"), 1),
      IoError);
}

#endif  // LIDARHD_WITH_GDAL

}  // namespace
