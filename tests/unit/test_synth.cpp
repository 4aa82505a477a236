// Synthetic scenes (`lidarhd synth`): same options -> same bytes (whatever the thread count),
// another seed -> other bytes; point count ~ density x area; every class present; consistent
// returns and GPS times; flat roofs coplanar, gabled roofs two planes; header, CRS and bounds;
// the file read back by our reader and by laspy (skipped when laspy/lazrs are missing); bad
// options refused.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "io/las/le_bytes.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/synth/scene.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace lidarhd;
using io::detail::f64_at;
using io::detail::i32_at;

class SynthTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_ / name; }
  lidarhd::test::TempDir dir_{"lidarhd_synth"};
};

synth::SceneOptions small(uint64_t seed = 7, double size = 100) {
  synth::SceneOptions o;
  o.size = size;
  o.density = 20;
  o.seed = seed;
  o.threads = 1;
  return o;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

struct Pt {
  double x, y, z, t;
  int ret, nret, cls, channel;
  uint16_t intensity;
};

std::vector<Pt> read_points(const std::string& p) {
  io::PointReader reader(p);
  const std::vector<uint8_t> recs = reader.read_all_records();
  const auto& h = reader.info().header;
  const uint32_t len = reader.record_length();
  std::vector<Pt> pts;
  for (size_t off = 0; off + len <= recs.size(); off += len) {
    const uint8_t* r = recs.data() + off;
    Pt q;
    q.x = i32_at(r) * h.scale[0] + h.offset[0];
    q.y = i32_at(r + 4) * h.scale[1] + h.offset[1];
    q.z = i32_at(r + 8) * h.scale[2] + h.offset[2];
    q.intensity = uint16_t(r[12] | (r[13] << 8));
    q.ret = r[14] & 15, q.nret = r[14] >> 4;
    q.channel = (r[15] >> 4) & 3;
    q.cls = r[16];
    q.t = f64_at(r + 22);
    pts.push_back(q);
  }
  return pts;
}

// Least-squares plane z = a + b u + c v; returns the RMS residual.
double plane_fit(const std::vector<std::array<double, 3>>& p, double& b, double& c) {
  double m[3][4] = {};
  for (const auto& q : p) {
    const double row[3] = {1, q[0], q[1]};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) m[i][j] += row[i] * row[j];
      m[i][3] += row[i] * q[2];
    }
  }
  for (int i = 0; i < 3; ++i) {  // Gauss-Jordan with partial pivoting
    int piv = i;
    for (int r = i + 1; r < 3; ++r)
      if (std::fabs(m[r][i]) > std::fabs(m[piv][i])) piv = r;
    for (int k = 0; k < 4; ++k) std::swap(m[i][k], m[piv][k]);
    for (int r = 0; r < 3; ++r) {
      if (r == i) continue;
      const double f = m[r][i] / m[i][i];
      for (int k = 0; k < 4; ++k) m[r][k] -= f * m[i][k];
    }
  }
  const double a = m[0][3] / m[0][0];
  b = m[1][3] / m[1][1], c = m[2][3] / m[2][2];
  double ss = 0;
  for (const auto& q : p) ss += (q[2] - a - b * q[0] - c * q[1]) * (q[2] - a - b * q[0] - c * q[1]);
  return std::sqrt(ss / double(p.size()));
}

TEST_F(SynthTest, SameOptionsSameBytesAnyThreadCount) {
  auto o = small();
  synth::write_scene(o, path("a.laz"));
  o.threads = 3;
  synth::write_scene(o, path("b.laz"));
  const std::string a = slurp(path("a.laz"));
  ASSERT_GT(a.size(), 1000u);
  EXPECT_EQ(a, slurp(path("b.laz")));

  o.seed = 8;
  synth::write_scene(o, path("c.laz"));
  EXPECT_NE(a, slurp(path("c.laz")));

  // Uncompressed: same records as the LAZ file, same bytes on a second run.
  synth::write_scene(small(), path("a.las"));
  synth::write_scene(small(), path("b.las"));
  EXPECT_EQ(slurp(path("a.las")), slurp(path("b.las")));
  EXPECT_EQ(io::records_sha256(path("a.las")), io::records_sha256(path("a.laz")));
  EXPECT_NE(slurp(path("a.las")).substr(0, 4), std::string());
}

TEST_F(SynthTest, HeaderCrsBoundsAndCount) {
  for (const double density : {20.0, 5.0}) {
    auto o = small(11);
    o.density = density;
    const synth::SceneReport r = synth::write_scene(o, path("h.laz"));
    io::PointReader reader(path("h.laz"));
    const io::LasFileInfo& info = reader.info();
    EXPECT_EQ(info.header.version_minor, 4);
    EXPECT_EQ(info.header.point_format, 6);
    EXPECT_TRUE(info.laszip.has_value());
    EXPECT_EQ(info.header.scale[0], 0.01);
    EXPECT_EQ(info.crs.epsg, 2154);
    EXPECT_EQ(info.header.global_encoding & 0x11, 0x11);
    EXPECT_EQ(reader.point_count(), r.points);
    const double expected = density * o.size * o.size;
    EXPECT_NEAR(double(r.points), expected, 0.05 * expected) << "density " << density;
    EXPECT_GE(info.header.min[0], o.origin_x);
    EXPECT_LT(info.header.max[0], o.origin_x + o.size);
    EXPECT_GE(info.header.min[1], o.origin_y);
    EXPECT_LT(info.header.max[1], o.origin_y + o.size);
  }
}

TEST_F(SynthTest, ClassesReturnsAndTimes) {
  const auto o = small(3);
  synth::write_scene(o, path("r.laz"));
  const std::vector<Pt> pts = read_points(path("r.laz"));
  ASSERT_FALSE(pts.empty());
  std::set<int> classes;
  size_t multi_veg = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    const Pt& p = pts[i];
    classes.insert(p.cls);
    ASSERT_GE(p.ret, 1) << i;
    ASSERT_LE(p.ret, p.nret) << i;
    ASSERT_LE(p.nret, 7) << i;
    ASSERT_EQ(p.channel, 0);
    ASSERT_GE(p.intensity, 1);
    if (i) {
      ASSERT_GE(p.t, pts[i - 1].t) << "GPS time goes back at point " << i;
    }
    if (p.cls == 5 && p.nret >= 2) ++multi_veg;
  }
  for (const int c : {1, 2, 3, 4, 5, 6, 9, 14, 15, 17})
    EXPECT_TRUE(classes.count(c)) << "class " << c << " missing";
  EXPECT_GT(multi_veg, 100u);
  // The returns of one pulse are consecutive, numbered 1..n, all saying n.
  for (size_t i = 0; i < pts.size();) {
    size_t j = i + 1;
    while (j < pts.size() && pts[j].t == pts[i].t && pts[j].x == pts[i].x && pts[j].y == pts[i].y)
      ++j;
    ASSERT_EQ(int(j - i), pts[i].nret) << "pulse at point " << i;
    for (size_t k = i; k < j; ++k) {
      ASSERT_EQ(pts[k].ret, int(k - i + 1)) << k;
      if (k > i) {
        ASSERT_LT(pts[k].z, pts[k - 1].z) << k;  // later returns are further down
      }
    }
    i = j;
  }
}

TEST_F(SynthTest, RoofsArePlanarAndGroundFollowsTerrain) {
  const auto o = small(5, 160);
  const synth::Scene scene = synth::build_scene(o);
  synth::write_scene(scene, path("p.laz"));
  const std::vector<Pt> pts = read_points(path("p.laz"));
  int flat = 0, gable = 0;
  for (const synth::Building& b : scene.buildings) {
    std::vector<std::array<double, 3>> roof, side_a, side_b;
    for (const Pt& p : pts) {
      if (p.cls != 6) continue;
      const double u = p.x - o.origin_x, v = p.y - o.origin_y;
      double s, t;
      b.to_local(u, v, s, t);
      if (std::fabs(s) > b.half_length - 0.3 || std::fabs(t) > b.half_width - 0.3) continue;
      roof.push_back({u, v, p.z});
      if (t > 0.3) side_a.push_back({u, v, p.z});
      if (t < -0.3) side_b.push_back({u, v, p.z});
    }
    if (b.roof == synth::RoofType::kFlat && roof.size() >= 50) {
      double gu, gv;
      EXPECT_LT(plane_fit(roof, gu, gv), 0.015);
      EXPECT_LT(std::hypot(gu, gv), 0.002);
      ++flat;
    }
    if (b.roof == synth::RoofType::kGable && side_a.size() >= 30 && side_b.size() >= 30) {
      for (const auto* side : {&side_a, &side_b}) {
        double gu, gv;
        EXPECT_LT(plane_fit(*side, gu, gv), 0.015);
        EXPECT_NEAR(std::hypot(gu, gv), std::tan(b.pitch), 0.01);
      }
      ++gable;
    }
  }
  EXPECT_GE(flat, 1);
  EXPECT_GE(gable, 1);

  // Walls: building points on the footprint outline, below the eaves.
  size_t wall = 0, ground = 0;
  double worst = 0;
  for (const Pt& p : pts) {
    const double u = p.x - o.origin_x, v = p.y - o.origin_y;
    if (p.cls == 2 && !(std::fabs(u - scene.road.bridge_u) < scene.road.bridge_half_span + 1)) {
      worst = std::max(worst, std::fabs(p.z - synth::ground_z(scene, u, v)));
      ++ground;
    }
    if (p.cls != 6) continue;
    for (const synth::Building& b : scene.buildings) {
      double s, t;
      b.to_local(u, v, s, t);
      const bool on_outline =
          (std::fabs(std::fabs(s) - b.half_length) < 0.02 && std::fabs(t) <= b.half_width + 0.02) ||
          (std::fabs(std::fabs(t) - b.half_width) < 0.02 && std::fabs(s) <= b.half_length + 0.02);
      if (on_outline && p.z < b.base_z + b.eave_height - 0.5) {
        ++wall;
        break;
      }
    }
  }
  EXPECT_GT(wall, 50u);
  EXPECT_GT(ground, 1000u);
  EXPECT_LT(worst, 0.15);
}

TEST_F(SynthTest, ReadableByLaspy) {
  if (std::system("python3 -c 'import laspy, lazrs' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "laspy with lazrs not installed";
  const auto o = small(9);
  synth::write_scene(o, path("l.laz"));
  const std::vector<Pt> pts = read_points(path("l.laz"));
  long long sum_x = 0, sum_cls = 0, sum_ret = 0;
  for (const Pt& p : pts) {
    sum_x += std::llround(p.x * 100);
    sum_cls += p.cls, sum_ret += p.ret;
  }
  {
    std::ofstream py(path("check.py"));
    py << "import sys, laspy, numpy as np\n"
          "f = laspy.read(sys.argv[1])\n"
          "try:\n"
          "    epsg = f.header.parse_crs().to_epsg()\n"
          "except Exception:\n"
          "    epsg = -1  # pyproj missing\n"
          "print(len(f.points), int(f.X.astype('int64').sum()),\n"
          "      int(np.asarray(f.classification).astype('int64').sum()),\n"
          "      int(np.asarray(f.return_number).astype('int64').sum()), epsg)\n";
  }
  const std::string cmd = "python3 " + path("check.py") + " " + path("l.laz");
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[512] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  pclose(pipe);
  ASSERT_TRUE(got) << cmd;
  long long n = 0, sx = 0, sc = 0, sr = 0, epsg = 0;
  ASSERT_EQ(std::sscanf(line, "%lld %lld %lld %lld %lld", &n, &sx, &sc, &sr, &epsg), 5) << line;
  EXPECT_EQ(size_t(n), pts.size());
  EXPECT_EQ(sx, sum_x);
  EXPECT_EQ(sc, sum_cls);
  EXPECT_EQ(sr, sum_ret);
  if (epsg != -1) {
    EXPECT_EQ(epsg, 2154);
  }
}

TEST_F(SynthTest, BadOptionsAreRefused) {
  auto o = small();
  o.size = 5;
  EXPECT_THROW(synth::build_scene(o), ArgumentError);
  o = small();
  o.density = 0;
  EXPECT_THROW(synth::build_scene(o), ArgumentError);
  o = small();
  o.origin_x = 5e6;
  EXPECT_THROW(synth::build_scene(o), ArgumentError);
  o = small();
  o.density = 1000, o.size = 10000;
  EXPECT_THROW(synth::build_scene(o), ArgumentError);
  const synth::Scene not_laid_out;
  EXPECT_THROW(synth::generate_points(not_laid_out, [](const uint8_t*, uint64_t) {}),
               ArgumentError);
  EXPECT_THROW(synth::write_scene(small(), path("x.txt")), ArgumentError);
  EXPECT_FALSE(fs::exists(path("x.txt")));
}

}  // namespace
