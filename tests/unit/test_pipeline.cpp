// lidarhd process: configuration layers and checks, and runs on the real adjacent IGN tiles:
// patches inside their squares with exactly N points, labels from the mapping, halos equal to the
// merged cloud, resume and failure isolation, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "lidarhd/core/error.hpp"
#include "lidarhd/features/features.hpp"
#include "lidarhd/io/point_table.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/pipeline/process.hpp"
#include "real_files.hpp"
#include "temp_dir.hpp"

namespace lidarhd::pipeline {
namespace {

namespace fs = std::filesystem;

std::string tmp(const std::string& name) {
  const std::string p = ::testing::TempDir() + "/pipeline_" + name;
  fs::remove_all(p);
  return p;
}

using lidarhd::test::slurp;

TEST(Config, LayersApplyInOrder) {
  const std::string file = tmp("config.yaml");
  std::ofstream(file) << "preset: lod3\npatches:\n  size: 50\n  num_points: 4096\n";
  const Config c = load_config("", file, {"patches.size=75", "colors.rgb=ortho.tif"});
  EXPECT_EQ(c.preset, "lod3");
  EXPECT_EQ(c.features.set, "lod3");  // from the preset named in the file
  EXPECT_EQ(c.labels, "lod3");
  EXPECT_EQ(c.patches.size, 75);      // --set beats the file
  EXPECT_EQ(c.patches.num_points, 4096u);
  EXPECT_EQ(c.colors.rgb, "ortho.tif");
  // The command line's preset beats the file's; the file's keys still apply.
  const Config d = load_config("asprs", file, {});
  EXPECT_EQ(d.labels, "asprs");
  EXPECT_EQ(d.patches.size, 50);
}

TEST(Config, ShowRoundTrips) {
  for (const std::string& p : preset_names()) {
    const Config c = load_config(p, "", {"seed=7"});
    const std::string file = tmp("show_" + p + ".yaml");
    std::ofstream(file) << to_yaml(c);
    EXPECT_EQ(to_yaml(load_config("", file, {})), to_yaml(c)) << p;
  }
}

TEST(Config, ErrorsNameTheKey) {
  auto message = [](const std::vector<std::string>& sets) {
    try {
      load_config("", "", sets);
    } catch (const ArgumentError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"patches.sise=3"}).find("unknown key 'patches.sise'"), std::string::npos);
  EXPECT_NE(message({"patches.sise=3"}).find("size"), std::string::npos);  // lists valid keys
  EXPECT_NE(message({"patches.size=big"}).find("patches.size"), std::string::npos);
  EXPECT_NE(message({"patches.sampling=best"}).find("random"), std::string::npos);
  EXPECT_NE(message({"features.set=lod9"}).find("lod2"), std::string::npos);
  EXPECT_NE(message({"patches=3"}).find("patches"), std::string::npos);
  EXPECT_NE(message({"nokey"}).find("key=value"), std::string::npos);
  EXPECT_THROW(load_config("lod4", "", {}), ArgumentError);
  EXPECT_THROW(load_config("", "/nonexistent.yaml", {}), IoError);
}

// The five adjacent 50 m IGN tiles (x 770500-770650, y 6277500-6277600).
std::vector<std::string> ign_tiles() {
  std::vector<std::string> out;
  for (const char* t : {"77050_627755", "77050_627760", "77055_627755", "77055_627760", "77060_627760"}) {
    out.push_back(lidarhd::test::data_dir() + "/ign-pdal-tools/test_data_" + t + "_LA93_IGN69.laz");
  }
  return out;
}

// The first of ign_tiles() that is absent, "" when all are there.
std::string missing_ign_tile() {
  for (const auto& t : ign_tiles()) {
    if (!fs::exists(t)) return t;
  }
  return "";
}

Config small_patches() {
  Config c = load_config("lod2", "", {"patches.size=20", "patches.min_points=2000",
                                      "patches.num_points=1024", "threads=2"});
  return c;
}

TEST(Process, PatchesHaveNPointsInsideTheirSquareAndLabelsFollowTheMapping) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  ProcessOptions o;
  o.inputs = {path};
  o.output = tmp("one");
  o.config = small_patches();
  o.config.patches.format = "laz";  // world coordinates kept: the square can be checked
  const RunSummary s = run_process(o);
  ASSERT_EQ(s.done, 1u);
  ASSERT_GT(s.patches, 4u);
  size_t files = 0;
  for (const auto& out : s.tiles[0].outputs) {
    if (out.rfind("patches/", 0) != 0) continue;
    ++files;
    const io::PointTable t = io::PointReader((fs::path(o.output) / out).string()).read_table();
    ASSERT_EQ(t.size(), 1024u) << out;
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (uint64_t i = 0; i < t.size(); ++i) {
      x0 = std::min(x0, t.x(i)), x1 = std::max(x1, t.x(i));
      y0 = std::min(y0, t.y(i)), y1 = std::max(y1, t.y(i));
    }
    EXPECT_LE(x1 - x0, 20.0) << out;
    EXPECT_LE(y1 - y0, 20.0) << out;
    // lod2 labels: ground 2 -> 9, vegetation 3/4 -> 10, 5 -> 11, building 6 -> 0/1/2.
    const auto* cls = t.column("classification").data<uint8_t>();
    const auto* label = t.column("label").data<uint8_t>();
    for (uint64_t i = 0; i < t.size(); ++i) {
      switch (cls[i]) {
        case 2: ASSERT_EQ(label[i], 9); break;
        case 3: case 4: ASSERT_EQ(label[i], 10); break;
        case 5: ASSERT_EQ(label[i], 11); break;
        case 6: ASSERT_LE(label[i], 2); break;
        default: break;
      }
    }
  }
  EXPECT_EQ(files, s.patches);
  EXPECT_TRUE(fs::exists(fs::path(o.output) / "enriched" / (s.tiles[0].name + ".laz")));
  EXPECT_TRUE(fs::exists(fs::path(o.output) / "metadata.json"));
}

TEST(Process, HaloFeaturesEqualTheMergedCloud) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  if (const std::string m = missing_ign_tile(); !m.empty()) GTEST_SKIP() << "missing " << m;
  const std::vector<std::string> tiles = ign_tiles();
  // A folder with the four other tiles only (the shared folder holds unrelated files too).
  const fs::path neighbours = tmp("halo_neighbours");
  fs::create_directories(neighbours);
  for (const auto& t : tiles) {
    if (t != path) fs::create_symlink(t, neighbours / fs::path(t).filename());
  }
  ProcessOptions o;
  o.inputs = {path};
  o.neighbors = neighbours.string();
  o.output = tmp("halo");
  o.config = load_config("lod2", "", {"mode=enriched", "threads=2"});
  const RunSummary s = run_process(o);
  ASSERT_EQ(s.done, 1u) << (s.tiles.empty() ? "" : s.tiles[0].error);
  EXPECT_GT(s.tiles[0].halo_points, 10000u);
  const io::PointTable out = io::PointReader((fs::path(o.output) / "enriched" /
                                              (s.tiles[0].name + ".laz")).string()).read_table();

  // The merged cloud: the tile then every other tile of the folder in name order (the pipeline's
  // halo order), same local origin as the pipeline (whole metres at the tile's minimum).
  std::vector<std::string> order{path};
  for (const auto& t : tiles) if (t != path) order.push_back(t);
  std::vector<double> wx, wy, wz;
  std::vector<uint8_t> cls;
  for (const auto& file : order) {
    const io::PointTable t = io::PointReader(file).read_table();
    const auto* c = t.column("classification").data<uint8_t>();
    for (uint64_t i = 0; i < t.size(); ++i) wx.push_back(t.x(i)), wy.push_back(t.y(i)), wz.push_back(t.z(i)), cls.push_back(c[i]);
  }
  const size_t n = out.size();
  double ox = 1e300, oy = 1e300, oz = 1e300;
  for (size_t i = 0; i < n; ++i) ox = std::min(ox, wx[i]), oy = std::min(oy, wy[i]), oz = std::min(oz, wz[i]);
  ox = std::floor(ox), oy = std::floor(oy), oz = std::floor(oz);
  std::vector<float> lx, ly, lz;
  for (size_t i = 0; i < wx.size(); ++i) {
    lx.push_back(float(wx[i] - ox)), ly.push_back(float(wy[i] - oy)), lz.push_back(float(wz[i] - oz));
  }
  features::PointColumns cols;
  cols.x = lx.data(), cols.y = ly.data(), cols.z = lz.data(), cols.classification = cls.data(), cols.n = lx.size();
  features::FeatureOptions fo;
  fo.features = features::feature_set("lod2");
  const features::FeatureTable ref = features::compute_features(cols, fo);

  size_t edge = 0;
  for (size_t j = 0; j < ref.features.size(); ++j) {
    const std::string name = features::feature_name(ref.features[j]);
    const auto* v = out.column(name).data<float>();
    for (size_t i = 0; i < n; ++i) {
      const float want = ref.value(j, i);
      if (std::isnan(want) && std::isnan(v[i])) continue;
      ASSERT_EQ(std::memcmp(&v[i], &want, 4), 0) << name << " point " << i << ": " << v[i] << " vs " << want;
    }
  }
  for (size_t i = 0; i < n; ++i) edge += wx[i] < 770551 || wx[i] > 770599 || wy[i] < 6277551 || wy[i] > 6277599;
  EXPECT_GT(edge, 1000u);  // the comparison covered many points near the tile edges
}

TEST(Process, ResumesSkipsFinishedTilesAndIsolatesFailures) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  const std::string bad = lidarhd::test::data_dir() + "/ign-pdal-tools/Semis_2022_0906_6665_LA93_IGN69_nok.laz";
  ProcessOptions o;
  o.inputs = {path, lidarhd::test::data_dir() + "/ign-pdal-tools/test_data_77050_627760_LA93_IGN69.laz", bad};
  o.output = tmp("resume");
  o.config = small_patches();
  o.config.halo = 0;
  const RunSummary first = run_process(o);
  EXPECT_EQ(first.done, 2u);
  EXPECT_EQ(first.failed, 1u);
  for (const auto& t : first.tiles) {
    if (t.status == "failed") {
      EXPECT_NE(t.error.find("nok"), std::string::npos) << t.error;
    }
  }
  const std::string enriched = slurp(fs::path(o.output) / "enriched" / "test_data_77055_627760_LA93_IGN69.laz");
  const RunSummary second = run_process(o);
  EXPECT_EQ(second.skipped, 2u);
  EXPECT_EQ(second.done, 0u);
  EXPECT_EQ(second.failed, 1u);
  // A missing output makes its tile unfinished; --force redoes everything; outputs are the same.
  fs::remove(fs::path(o.output) / "enriched" / "test_data_77050_627760_LA93_IGN69.laz");
  EXPECT_EQ(run_process(o).done, 1u);
  o.force = true;
  EXPECT_EQ(run_process(o).done, 2u);
  EXPECT_EQ(slurp(fs::path(o.output) / "enriched" / "test_data_77055_627760_LA93_IGN69.laz"), enriched);
  // Another configuration redoes the tiles.
  o.force = false;
  o.config.patches.num_points = 512;
  EXPECT_EQ(run_process(o).done, 2u);
}

TEST(Process, SameSeedSameBytes) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  ProcessOptions a;
  a.inputs = {path};
  a.config = small_patches();
  a.config.halo = 0;
  a.output = tmp("seed_a");
  ProcessOptions b = a;
  b.output = tmp("seed_b");
  const RunSummary sa = run_process(a), sb = run_process(b);
  ASSERT_EQ(sa.tiles[0].outputs, sb.tiles[0].outputs);
  for (const auto& out : sa.tiles[0].outputs) {
    EXPECT_EQ(slurp(fs::path(a.output) / out), slurp(fs::path(b.output) / out)) << out;
  }
}

#if LIDARHD_WITH_GDAL
TEST(Process, ColoursFromTheIgnOrthophotos) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  ProcessOptions o;
  o.inputs = {path};
  o.output = tmp("colours");
  const std::string d = lidarhd::test::data_dir() + "/ign-pdal-tools/";
  o.config = load_config("lod2", "", {"colors.rgb=" + d + "test_data_rgb.tif", "colors.irc=" + d + "test_data_irc.tif",
                                      "mode=enriched", "halo=0", "colors.fill=255"});
  const RunSummary s = run_process(o);
  ASSERT_EQ(s.done, 1u) << s.tiles[0].error;
  const io::PointTable t = io::PointReader((fs::path(o.output) / "enriched" / (s.tiles[0].name + ".laz")).string()).read_table();
  EXPECT_EQ(t.column("red").data<uint16_t>()[0], 201 * 256);   // README reference point 0
  EXPECT_EQ(t.column("nir").data<uint16_t>()[0], 150 * 256);
  EXPECT_TRUE(t.has("ndvi"));
}
#endif

TEST(Process, StreamedRealTilesEqualInCore) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  ProcessOptions whole;
  if (const std::string m = missing_ign_tile(); !m.empty()) GTEST_SKIP() << "missing " << m;
  whole.inputs = ign_tiles();
  whole.config = small_patches();
  whole.output = tmp("stream_whole");
  ProcessOptions streamed = whole;
  streamed.output = tmp("stream_budget");
  streamed.memory_budget = 1 << 20;  // every tile is streamed, halos from its neighbours
  const RunSummary a = run_process(whole), b = run_process(streamed);
  ASSERT_EQ(a.done, 5u);
  ASSERT_EQ(b.done, 5u);
  for (size_t i = 0; i < a.tiles.size(); ++i) {
    ASSERT_EQ(a.tiles[i].outputs, b.tiles[i].outputs);
    ASSERT_FALSE(b.tiles[i].warnings.empty());
    EXPECT_EQ(b.tiles[i].warnings[0].rfind("streamed under the memory budget", 0), 0u) << b.tiles[i].warnings[0];
    for (const auto& out : a.tiles[i].outputs) {
      EXPECT_TRUE(slurp(fs::path(whole.output) / out) == slurp(fs::path(streamed.output) / out))
          << out << " differs when streamed";
    }
  }
}

TEST(Process, ParseWorkers) {
  EXPECT_EQ(parse_workers("cpu").size(), 1u);
  EXPECT_EQ(parse_workers("cpu:3").size(), 3u);
  EXPECT_EQ(parse_workers("cpu,cpu:2").size(), 3u);
  EXPECT_FALSE(parse_workers("all").empty());
  EXPECT_THROW(parse_workers("cpu:0"), ArgumentError);
  EXPECT_THROW(parse_workers("cpu:x"), ArgumentError);
  EXPECT_THROW(parse_workers("gpu"), ArgumentError);
}

TEST(Process, SeveralWorkersGiveTheSameOutputsAndAForcedOutOfMemoryFallsBack) {
  REQUIRE_DATA("ign-pdal-tools/test_data_77055_627760_LA93_IGN69.laz");
  ProcessOptions one;
  if (const std::string m = missing_ign_tile(); !m.empty()) GTEST_SKIP() << "missing " << m;
  one.inputs = ign_tiles();
  one.config = small_patches();
  one.output = tmp("workers_1");
  const RunSummary a = run_process(one);
  ProcessOptions three = one;
  three.config.device = "cpu:3";
  three.output = tmp("workers_3");
  ::setenv("LIDARHD_TEST_OOM", "test_data_77055_627755_LA93_IGN69", 1);
  const RunSummary b = run_process(three);
  ::unsetenv("LIDARHD_TEST_OOM");
  ASSERT_EQ(a.done, 5u);
  ASSERT_EQ(b.done, 5u);
  const std::string chunked = "test_data_77055_627755_LA93_IGN69";
  for (size_t i = 0; i < a.tiles.size(); ++i) {
    ASSERT_EQ(a.tiles[i].outputs, b.tiles[i].outputs);
    const bool fallback = b.tiles[i].name == chunked;
    // The out-of-memory retry computes features in 4 x 4 chunks with margins wide enough for
    // every neighbourhood and the whole tile's ground model: the same bytes as well.
    for (const auto& out : a.tiles[i].outputs) {
      const fs::path pa = fs::path(one.output) / out, pb = fs::path(three.output) / out;
      EXPECT_TRUE(slurp(pa) == slurp(pb)) << out << " differs between 1 and 3 workers"
                                          << (fallback ? " (chunked fallback)" : "");
    }
    if (fallback) {
      ASSERT_FALSE(b.tiles[i].warnings.empty());
      EXPECT_NE(b.tiles[i].warnings[0].find("out of memory"), std::string::npos);
      EXPECT_NE(b.tiles[i].warnings[0].find("chunks"), std::string::npos);
    }
  }
}

TEST(Process, ClearErrors) {
  ProcessOptions o;
  o.output = tmp("errors");
  o.config = Config{};
  EXPECT_THROW(run_process(o), ArgumentError);  // no input
  o.inputs = {"/nonexistent/tile.laz"};
  EXPECT_THROW(run_process(o), ArgumentError);
}

}  // namespace
}  // namespace lidarhd::pipeline
