// compute_features on each device against the float64 brute-force reference of
// features_reference.hpp, on analytic shapes and real IGN tiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "device_test.hpp"
#include "features/math.hpp"
#include "features_reference.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/features/catalog.hpp"
#include "lidarhd/features/features.hpp"
#include "lidarhd/io/reader.hpp"
#include "real_files.hpp"
#include "spatial/grid_impl.hpp"

namespace lidarhd::features {
namespace {

using namespace testing_ref;  // NOLINT: the reference is this test's vocabulary

FeatureOptions full_options(const Device& d) {
  FeatureOptions o;
  o.features = feature_set("full");
  o.device = d;
  return o;
}

// ---- analytic shapes ---------------------------------------------------------------------

class FeaturesTest : public testing::DeviceTest {};

TEST_P(FeaturesTest, TiltedLatticePlane) {
  // A square lattice in a tilted plane; with k = 9 an interior point's neighbourhood is its
  // 3x3 block, exactly isotropic in the plane: lambda1 = lambda2, lambda3 = 0.
  const double nrm[3] = {0.3, -0.2, std::sqrt(1 - 0.13)};
  // Orthonormal in-plane basis: u = normalise(e_x - (e_x . n) n), v = n x u.
  double u[3] = {1 - nrm[0] * nrm[0], -nrm[0] * nrm[1], -nrm[0] * nrm[2]};
  const double un = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (double& c : u) c /= un;
  const double v[3] = {nrm[1] * u[2] - nrm[2] * u[1], nrm[2] * u[0] - nrm[0] * u[2],
                       nrm[0] * u[1] - nrm[1] * u[0]};
  Cloud c;
  const int side = 40;
  for (int i = 0; i < side; ++i)
    for (int j = 0; j < side; ++j) {
      const double s = 0.5 * i, t = 0.5 * j;
      c.add(100 + s * u[0] + t * v[0], 200 + s * u[1] + t * v[1], 50 + s * u[2] + t * v[2]);
    }
  FeatureOptions o = full_options(device_);
  o.k = 9;
  const FeatureTable t = compute_features(c.columns(), o);
  EXPECT_EQ(t.summary.degenerate, 0u);
  for (int i = 1; i < side - 1; ++i)
    for (int j = 1; j < side - 1; ++j) {
      const size_t p = static_cast<size_t>(i * side + j);
      SCOPED_TRACE(p);
      EXPECT_NEAR(t.value(t.find(Feature::kPlanarity), p), 1.0, 1e-4);
      EXPECT_NEAR(t.value(t.find(Feature::kLinearity), p), 0.0, 1e-4);
      EXPECT_NEAR(t.value(t.find(Feature::kSphericity), p), 0.0, 1e-5);
      EXPECT_NEAR(t.value(t.find(Feature::kNormalX), p), nrm[0], 1e-4);
      EXPECT_NEAR(t.value(t.find(Feature::kNormalY), p), nrm[1], 1e-4);
      EXPECT_NEAR(t.value(t.find(Feature::kNormalZ), p), nrm[2], 1e-4);
      EXPECT_NEAR(t.value(t.find(Feature::kRoughness), p), 0.0, 1e-4);
    }
  // Every point, edges included: a plane has lambda3 = 0, so linearity + planarity = 1.
  for (size_t p = 0; p < c.size(); ++p) {
    EXPECT_NEAR(t.value(t.find(Feature::kLinearity), p) + t.value(t.find(Feature::kPlanarity), p),
                1.0, 1e-4);
  }
  const Agreement ag = compare_with_reference(c, t, o, 0);
  EXPECT_GT(ag.normals_checked, c.size() / 2);
}

TEST_P(FeaturesTest, LineGivesLinearityOne) {
  Cloud c;
  for (int i = 0; i < 500; ++i) c.add(10 + 0.1 * i * 0.6, 20 + 0.1 * i * 0.8, 5 + 0.01 * i);
  FeatureOptions o = full_options(device_);
  const FeatureTable t = compute_features(c.columns(), o);
  for (size_t p = 0; p < c.size(); ++p) {
    EXPECT_NEAR(t.value(t.find(Feature::kLinearity), p), 1.0, 1e-4) << p;
    EXPECT_NEAR(t.value(t.find(Feature::kPlanarity), p), 0.0, 1e-4) << p;
  }
  EXPECT_EQ(t.summary.degenerate, 0u);
  EXPECT_GT(t.summary.float64_fallback, 0u);  // lambda2 ~ lambda3: the float64 path ran
  compare_with_reference(c, t, o, 0);
}

TEST_P(FeaturesTest, AxisAlignedLineHasZeroEntropyTerms) {
  // lambda2 = lambda3 = 0 (up to rounding: the GPU fuses multiply-adds): 0 ln 0 must count as
  // 0, not NaN.
  Cloud c;
  for (int i = 0; i < 100; ++i) c.add(0.25 * i, 3, 4);
  const FeatureTable t = compute_features(c.columns(), full_options(device_));
  for (size_t p = 0; p < c.size(); ++p) {
    EXPECT_NEAR(t.value(t.find(Feature::kEigenentropy), p), 0.0f, 1e-6) << p;
    EXPECT_NEAR(t.value(t.find(Feature::kOmnivariance), p), 0.0f, 1e-6) << p;
    EXPECT_NEAR(t.value(t.find(Feature::kLinearity), p), 1.0f, 1e-6) << p;
  }
}

TEST_P(FeaturesTest, CubicLatticeIsIsotropic) {
  // With k = 7 an interior point's neighbourhood is itself and its 6 face neighbours.
  Cloud c;
  const int side = 12;
  for (int i = 0; i < side; ++i)
    for (int j = 0; j < side; ++j)
      for (int k = 0; k < side; ++k) c.add(0.5 * i, 0.5 * j, 0.5 * k);
  FeatureOptions o = full_options(device_);
  o.k = 7;
  const FeatureTable t = compute_features(c.columns(), o);
  for (int i = 1; i < side - 1; ++i)
    for (int j = 1; j < side - 1; ++j)
      for (int k = 1; k < side - 1; ++k) {
        const size_t p = static_cast<size_t>((i * side + j) * side + k);
        EXPECT_NEAR(t.value(t.find(Feature::kSphericity), p), 1.0, 1e-4) << p;
        EXPECT_NEAR(t.value(t.find(Feature::kEigenentropy), p), std::log(3.0), 1e-4) << p;
        EXPECT_NEAR(t.value(t.find(Feature::kChangeOfCurvature), p), 1.0 / 3, 1e-4) << p;
        // density = 7 / (4/3 pi 0.5^3)
        EXPECT_NEAR(t.value(t.find(Feature::kDensity), p), 7 / (4.0 / 3 * M_PI * 0.125), 1e-3)
            << p;
      }
  // Isotropic random noise: sphericity well above a surface's.
  Cloud g;
  std::mt19937 rng(5);
  std::normal_distribution<double> nd(0, 1);
  for (int i = 0; i < 3000; ++i) g.add(nd(rng), nd(rng), nd(rng));
  const FeatureTable tg = compute_features(g.columns(), full_options(device_));
  double mean = 0;
  for (size_t p = 0; p < g.size(); ++p) mean += tg.value(tg.find(Feature::kSphericity), p);
  EXPECT_GT(mean / g.size(), 0.25);
  compare_with_reference(g, tg, full_options(device_), 300);
}

TEST_P(FeaturesTest, DuplicatesAreDegenerate) {
  for (int distinct : {1, 2}) {
    Cloud c;
    for (int i = 0; i < 40; ++i) c.add(5 + (i % distinct) * 0.1, 7, 9);
    const FeatureTable t = compute_features(c.columns(), full_options(device_));
    EXPECT_EQ(t.summary.degenerate, c.size());
    for (size_t p = 0; p < c.size(); ++p) {
      for (size_t j = 0; j < t.features.size(); ++j) {
        const Feature f = t.features[j];
        if (!is_shape_feature(f)) continue;
        const float want = (f == Feature::kNormalZ || f == Feature::kHorizontality) ? 1.f : 0.f;
        EXPECT_EQ(t.value(j, p), want) << feature_name(f) << " distinct " << distinct;
      }
      EXPECT_TRUE(std::isfinite(t.value(t.find(Feature::kDensity), p)));
    }
  }
}

TEST_P(FeaturesTest, NormalOrientationRule) {
  // Walls x = const and y = const: n_z = 0 exactly, so n_y >= 0, then n_x >= 0 decide.
  for (int axis : {0, 1}) {
    Cloud c;
    for (int i = 0; i < 30; ++i)
      for (int j = 0; j < 30; ++j) {
        if (axis == 0) c.add(12.5, 0.3 * i, 0.2 * j);
        else c.add(0.3 * i, 12.5, 0.2 * j);
      }
    const FeatureTable t = compute_features(c.columns(), full_options(device_));
    for (size_t p = 0; p < c.size(); ++p) {
      EXPECT_FLOAT_EQ(t.value(t.find(axis == 0 ? Feature::kNormalX : Feature::kNormalY), p), 1.f);
      EXPECT_NEAR(t.value(t.find(Feature::kVerticality), p), 1.0, 1e-6);
    }
  }
  // Random surfaces: n_z >= 0 always.
  Cloud c;
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0, 20);
  for (int i = 0; i < 4000; ++i) {
    const double x = u(rng), y = u(rng);
    c.add(x, y, std::sin(x) * 2 + std::cos(y) * 3 + 0.01 * u(rng));
  }
  const FeatureTable t = compute_features(c.columns(), full_options(device_));
  for (size_t p = 0; p < c.size(); ++p) EXPECT_GE(t.value(t.find(Feature::kNormalZ), p), 0.f);
  const Agreement ag = compare_with_reference(c, t, full_options(device_), 400);
  EXPECT_GT(ag.normals_checked, 300u);
}

TEST_P(FeaturesTest, EigenNormsAndNeighbourhoodKinds) {
  Cloud c;
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> u(0, 10);
  for (int i = 0; i < 3000; ++i) {
    const double x = u(rng), y = u(rng);
    c.add(x, y, i % 3 ? 0.05 * u(rng) : 0.3 * x + 0.5 * u(rng));
  }
  for (EigenNorm norm : {EigenNorm::kLambda1, EigenNorm::kSum, EigenNorm::kSqrt}) {
    for (Neighborhood kind : {Neighborhood::kKnn, Neighborhood::kRadius, Neighborhood::kHybrid}) {
      FeatureOptions o = full_options(device_);
      o.eigen_norm = norm;
      o.neighborhood = kind;
      o.radius = 0.6;
      o.max_k = 40;
      o.k = 16;
      SCOPED_TRACE(::testing::Message() << eigen_norm_name(norm) << " kind " << int(kind));
      const FeatureTable t = compute_features(c.columns(), o);
      compare_with_reference(c, t, o, 200);
    }
  }
}

TEST_P(FeaturesTest, NumPoints2mMatchesBruteForce) {
  Cloud c;
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(0, 15);
  for (int i = 0; i < 6000; ++i) c.add(u(rng), u(rng), 0.3 * u(rng));
  FeatureOptions o;
  o.features = {Feature::kNumPoints2m};
  o.device = device_;
  const FeatureTable t = compute_features(c.columns(), o);
  for (size_t i = 0; i < c.size(); i += 7) {
    uint32_t want = 0;
    for (size_t j = 0; j < c.size(); ++j) {
      want += lidarhd::detail::point_d2(c.x[j], c.y[j], c.z[j], c.x[i], c.y[i], c.z[i]) <= 4.0f;
    }
    EXPECT_EQ(t.value(0, i), static_cast<float>(want)) << i;
  }
}

TEST_P(FeaturesTest, HeightAboveGroundFollowsSlopedTerrainUnderBuildings) {
  Cloud c;
  auto terrain = [](double x, double y) { return 0.1 * x + 0.05 * y + 30; };
  for (int i = 0; i < 120; ++i)
    for (int j = 0; j < 120; ++j) {
      const double x = 0.5 * i + 0.25, y = 0.5 * j + 0.25;
      const bool building = x > 20 && x < 40 && y > 20 && y < 40;
      if (building) {
        c.add(x, y, terrain(x, y) + 10, 6);  // roof, no ground below
      } else {
        c.add(x, y, terrain(x, y), 2);
        if ((i + j) % 5 == 0) c.add(x, y, terrain(x, y) + 4, 5);  // vegetation
      }
    }
  FeatureOptions o;
  o.features = {Feature::kHeightAboveGround};
  o.device = device_;
  const FeatureTable t = compute_features(c.columns(), o);
  EXPECT_TRUE(t.summary.ground_available);
  EXPECT_GT(t.summary.points_without_ground, 0u);
  for (size_t p = 0; p < c.size(); ++p) {
    const double want = c.wz[p] - terrain(c.wx[p], c.wy[p]);
    // Gap filling interpolates along lines between measured cells: exact on a plane.
    EXPECT_NEAR(t.value(0, p), want, 0.05) << p;
  }
  // No ground at all: NaN everywhere, reported.
  for (auto& k : c.cls) k = 1;
  const FeatureTable none = compute_features(c.columns(), o);
  EXPECT_FALSE(none.summary.ground_available);
  EXPECT_EQ(none.summary.points_without_ground, c.size());
  EXPECT_TRUE(std::isnan(none.value(0, 0)));
}

TEST_P(FeaturesTest, SmallSizesAndDeterminism) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{31}, size_t{32},
                   size_t{33}, size_t{257}}) {
    Cloud c;
    std::mt19937 rng(static_cast<uint32_t>(n));
    std::uniform_real_distribution<double> u(0, 3);
    for (size_t i = 0; i < n; ++i) c.add(u(rng), u(rng), u(rng), static_cast<uint8_t>(1 + i % 2));
    FeatureOptions o = full_options(device_);
    const FeatureTable a = compute_features(c.columns(), o);
    ASSERT_EQ(a.f32.size(), n * a.features.size());
    if (n > 0) compare_with_reference(c, a, o, 50);
    o.threads = 1;
    const FeatureTable b = compute_features(c.columns(), o);
    if (!a.f32.empty()) {  // memcmp on an empty vector's null data() is undefined
      EXPECT_EQ(0, std::memcmp(a.f32.data(), b.f32.data(), a.f32.size() * sizeof(float)));
    }
  }
}

// The summary's index and kernel times are parts of its total (on cuda the kernel's is device
// time from events, which the wall time around it contains too).
TEST_P(FeaturesTest, SummaryTimesAreParts) {
  Cloud c;
  std::mt19937 rng(8);
  std::uniform_real_distribution<double> u(0, 40);
  for (int i = 0; i < 20000; ++i) c.add(u(rng), u(rng), 0.1 * u(rng), i % 3 == 0 ? 2 : 1);
  const FeatureTable t = compute_features(c.columns(), full_options(device_));
  const FeatureSummary& s = t.summary;
  EXPECT_GT(s.index_seconds, 0.0);
  EXPECT_GT(s.kernel_seconds, 0.0);
  EXPECT_LE(s.index_seconds + s.kernel_seconds, s.seconds);
}

TEST_P(FeaturesTest, Float16StorageError) {
  Cloud c;
  std::mt19937 rng(21);
  std::uniform_real_distribution<double> u(0, 30);
  for (int i = 0; i < 5000; ++i) c.add(u(rng), u(rng), 0.2 * u(rng), i % 4 == 0 ? 2 : 1);
  FeatureOptions o = full_options(device_);
  const FeatureTable f32 = compute_features(c.columns(), o);
  o.precision = Precision::kFloat16;
  const FeatureTable f16 = compute_features(c.columns(), o);
  ASSERT_EQ(f16.f16.size(), f32.f32.size());
  for (size_t j = 0; j < f32.features.size(); ++j) {
    for (size_t i = 0; i < c.size(); ++i) {
      const float a = f32.value(j, i), b = f16.value(j, i);
      if (std::isnan(a)) {
        EXPECT_TRUE(std::isnan(b));
        continue;
      }
      // Half precision: 11 significant bits, subnormal below 6.1e-5.
      EXPECT_NEAR(b, a, std::fabs(a) / 2048 + 3e-8) << feature_name(f32.features[j]);
    }
  }
}

LIDARHD_DEVICE_TESTS(FeaturesTest);

// ---- real IGN tiles ----------------------------------------------------------------------

using test::data_dir;

Cloud read_tile(const std::string& path) {
  io::PointReader reader(path);
  const io::PointTable table = reader.read_table();
  const size_t n = table.size();
  const auto* X = table.column("X").data<int32_t>();
  const auto* Y = table.column("Y").data<int32_t>();
  const auto* Z = table.column("Z").data<int32_t>();
  const LocalCoordinates local = to_local(X, Y, Z, n, table.scale, table.offset);
  Cloud c;
  c.x = local.x;
  c.y = local.y;
  c.z = local.z;
  const auto* cls = table.column("classification").data<uint8_t>();
  c.cls.assign(cls, cls + n);
  for (size_t i = 0; i < n; ++i) {
    c.wx.push_back(table.x(i) - local.origin[0]);
    c.wy.push_back(table.y(i) - local.origin[1]);
    c.wz.push_back(table.z(i) - local.origin[2]);
  }
  return c;
}

class RealTileTest : public testing::DeviceTest {};

TEST_P(RealTileTest, MatchesFloat64Reference) {
  const char* tiles[] = {"test_data_77050_627755_LA93_IGN69.laz",
                         "test_data_77055_627760_LA93_IGN69.laz",
                         "test_data_77060_627760_LA93_IGN69.laz"};
  for (const char* name : tiles) {
    const std::string path = data_dir() + "/ign-pdal-tools/" + name;
    if (!std::ifstream(path)) GTEST_SKIP() << path << " not found (set LIDARHD_TEST_DATA)";
    SCOPED_TRACE(name);
    const Cloud c = read_tile(path);
    ASSERT_GT(c.size(), 10000u);
    FeatureOptions o = full_options(device_);
    const FeatureTable t = compute_features(c.columns(), o);
    const Agreement a = compare_with_reference(c, t, o, 1500);
    EXPECT_GT(a.normals_checked, 1000u);
    std::printf("%s: %zu points, %zu checked, worst ratio diff %.2e, worst normal %.2e rad, "
                "degenerate %llu, float64 %llu, ground %s\n",
                name, c.size(), a.checked, a.worst_ratio, a.worst_normal,
                static_cast<unsigned long long>(t.summary.degenerate),
                static_cast<unsigned long long>(t.summary.float64_fallback),
                t.summary.ground_available ? "yes" : "no");
    EXPECT_TRUE(t.summary.ground_available);
    // CPU and this device agree to float rounding, with identical neighbour sets.
    if (device_.is_cuda()) {
      o.device = Device::cpu();
      const FeatureTable cpu = compute_features(c.columns(), o);
      for (size_t j = 0; j < t.features.size(); ++j)
        for (size_t i = 0; i < c.size(); ++i) {
          const float a1 = t.value(j, i), b1 = cpu.value(j, i);
          if (std::isnan(a1) && std::isnan(b1)) continue;
          EXPECT_NEAR(a1, b1, 1e-4 * std::max(1.0f, std::fabs(b1)))
              << feature_name(t.features[j]) << " point " << i;
        }
    }
  }
}

LIDARHD_DEVICE_TESTS(RealTileTest);

// ---- the kernel's eigen solver -----------------------------------------------------------

TEST(FeatureEigen, CubicRootWithoutTrigonometry) {
  // cubic_top_root replaces 2 cos(acos(h) / 3); its documented bounds, on a dense grid.
  double worst_f = 0, worst_d = 0;
  for (int i = 0; i <= 100000; ++i) {
    const double h = i / 100000.0;
    const long double want = 2 * std::cos(std::acos(static_cast<long double>(h)) / 3);
    worst_d = std::max(worst_d, static_cast<double>(std::fabs(detail::cubic_top_root(h) - want)));
    const float hf = static_cast<float>(h);
    const long double want_f = 2 * std::cos(std::acos(static_cast<long double>(hf)) / 3);
    const long double got_f = detail::cubic_top_root(hf);
    worst_f = std::max(worst_f, static_cast<double>(std::fabs(got_f - want_f)));
  }
  EXPECT_LT(worst_f, 5e-7);
  EXPECT_LT(worst_d, 1e-15);
}

TEST(FeatureEigen, SmallestOnlyAgreesWithFullSolverAndReference) {
  // Covariances of random flat, linear, isotropic and nearly degenerate neighbourhoods (the
  // unscaled eigen_sym3_smallest the kernel uses) against eigen_sym3 and a Jacobi in double.
  std::mt19937 rng(29);
  std::normal_distribution<double> g(0, 1);
  const double shapes[][3] = {{1, 1, 1e-2}, {1, 0.3, 1e-3}, {1, 1e-2, 1e-2}, {1, 1, 1},
                              {1, 0.999, 0.01}, {1, 0.5, 0.499}, {1e-4, 5e-5, 1e-7}, {30, 3, 0.3}};
  int checked = 0;
  for (const auto& sh : shapes) {
    for (int t = 0; t < 300; ++t) {
      double pts[20][3];
      for (auto& q : pts)
        for (int a = 0; a < 3; ++a) q[a] = g(rng) * sh[a];
      // random rotation: Gram-Schmidt of a Gaussian matrix
      double r[3][3];
      for (auto& row : r)
        for (double& x : row) x = g(rng);
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < i; ++j) {
          double d = 0;
          for (int a = 0; a < 3; ++a) d += r[i][a] * r[j][a];
          for (int a = 0; a < 3; ++a) r[i][a] -= d * r[j][a];
        }
        const double n = std::sqrt(r[i][0] * r[i][0] + r[i][1] * r[i][1] + r[i][2] * r[i][2]);
        for (int a = 0; a < 3; ++a) r[i][a] /= n;
      }
      double mean[3] = {0, 0, 0}, cov[3][3] = {};
      double rot[20][3];
      for (int k = 0; k < 20; ++k)
        for (int a = 0; a < 3; ++a) {
          rot[k][a] = pts[k][0] * r[0][a] + pts[k][1] * r[1][a] + pts[k][2] * r[2][a];
          mean[a] += rot[k][a] / 20;
        }
      for (int k = 0; k < 20; ++k)
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) {
            cov[a][b] += (rot[k][a] - mean[a]) * (rot[k][b] - mean[b]) / 20;
          }
      const detail::Sym3<float> c{float(cov[0][0]), float(cov[0][1]), float(cov[0][2]),
                                  float(cov[1][1]), float(cov[1][2]), float(cov[2][2])};
      double ref_l[3], ref_v[3][3];
      testing_ref::jacobi(cov, ref_l, ref_v);
      float l[3];
      detail::Vec3<float> n;
      detail::eigen_sym3_smallest(c, l, n);
      detail::Eigen3<float> e;
      detail::eigen_sym3(c, e);
      SCOPED_TRACE(::testing::Message() << sh[0] << " " << sh[1] << " " << sh[2] << " #" << t);
      for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(l[k], ref_l[k], 2e-6 * ref_l[0]);
        EXPECT_NEAR(l[k], e.value[k], 2e-6 * ref_l[0]);
      }
      EXPECT_NEAR(std::sqrt(n.x * n.x + n.y * n.y + n.z * n.z), 1.0, 1e-6);
      if ((ref_l[1] - ref_l[2]) / ref_l[0] > 1e-2) {  // the kernel's float64 threshold
        // Angle from the cross product: acos of a dot product near 1 cannot resolve it.
        const double* w = ref_v[2];
        const double cx = n.y * w[2] - n.z * w[1], cy = n.z * w[0] - n.x * w[2],
                     cz = n.x * w[1] - n.y * w[0];
        EXPECT_LT(std::sqrt(cx * cx + cy * cy + cz * cz), 1e-5);
        ++checked;
      }
      if (HasFailure()) return;
    }
  }
  EXPECT_GT(checked, 1500);
}

TEST(Features, SharedColumnsDoNotDependOnTheRequestedSet) {
  // lod2 skips work for the features it does not request: the columns it shares with the full
  // set must still be the same bits.
  Cloud c;
  std::mt19937 rng(31);
  std::uniform_real_distribution<double> u(0, 12);
  for (int i = 0; i < 4000; ++i) {
    const double x = u(rng), y = u(rng);
    c.add(x, y, i % 4 ? 0.02 * u(rng) : 0.4 * x + 0.3 * u(rng), i % 3 == 0 ? 2 : 1);
  }
  FeatureOptions small;
  small.features = feature_set("lod2");
  FeatureOptions full = small;
  full.features = feature_set("full");
  const FeatureTable a = compute_features(c.columns(), small);
  const FeatureTable b = compute_features(c.columns(), full);
  for (size_t j = 0; j < a.features.size(); ++j) {
    const int jb = b.find(a.features[j]);
    ASSERT_GE(jb, 0);
    for (size_t i = 0; i < c.size(); ++i) {
      const float x = a.value(j, i), y = b.value(static_cast<size_t>(jb), i);
      if (std::isnan(x) && std::isnan(y)) continue;
      ASSERT_EQ(x, y) << feature_name(a.features[j]) << " point " << i;
    }
  }
}

// The CUDA back end runs the per-point kernel (feature_point), the CPU the column search with
// its batches; LIDARHD_FEATURES_PER_POINT=1 runs the former on the CPU, so that this test checks
// every line of the GPU's logic without a GPU: both must give the same bits, with either of the
// kernel's neighbour capacities (k <= 32 and above) and in radius mode.
TEST(Features, PerPointKernelMatchesColumnSearch) {
  Cloud c;
  std::mt19937 rng(41);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 30000; ++i) {
    const double x = 30 * u(rng), y = 30 * u(rng);
    if (i % 5 == 0) {  // trees: tall sparse columns (the search's slab blocks)
      const double cx = 5 + 10 * std::floor(x / 10), cy = 5 + 10 * std::floor(y / 10);
      c.add(cx + 2 * u(rng) - 1, cy + 2 * u(rng) - 1, 12 * u(rng), 5);
    } else {
      c.add(x, y, 0.05 * x + 0.02 * u(rng), i % 3 == 0 ? 2 : 1);
    }
  }
  struct Case {
    Neighborhood kind;
    int k;
  };
  for (const Case& t : {Case{Neighborhood::kKnn, 6}, Case{Neighborhood::kKnn, 20},
                        Case{Neighborhood::kKnn, 32}, Case{Neighborhood::kKnn, 33},
                        Case{Neighborhood::kKnn, 64}, Case{Neighborhood::kRadius, 24},
                        Case{Neighborhood::kRadius, 64}, Case{Neighborhood::kHybrid, 20}}) {
    SCOPED_TRACE("neighbourhood " + std::to_string(static_cast<int>(t.kind)) + ", k " +
                 std::to_string(t.k));
    FeatureOptions o;
    o.features = feature_set("full");
    o.neighborhood = t.kind;
    o.k = t.k;
    o.max_k = t.k;
    o.radius = 0.8;
    const FeatureTable blocks = compute_features(c.columns(), o);
    ASSERT_EQ(0, setenv("LIDARHD_FEATURES_PER_POINT", "1", 1));
    const FeatureTable points = compute_features(c.columns(), o);
    ASSERT_EQ(0, unsetenv("LIDARHD_FEATURES_PER_POINT"));
    ASSERT_EQ(blocks.f32.size(), points.f32.size());
    ASSERT_FALSE(blocks.f32.empty());
    EXPECT_EQ(0, std::memcmp(blocks.f32.data(), points.f32.data(),
                             blocks.f32.size() * sizeof(float)));
    EXPECT_EQ(blocks.summary.degenerate, points.summary.degenerate);
    EXPECT_EQ(blocks.summary.float64_fallback, points.summary.float64_fallback);
  }
}

// ---- catalogue and argument checks -------------------------------------------------------

TEST(FeatureCatalog, NamesRoundTripAndAreUnique) {
  std::vector<std::string> names;
  for (int i = 0; i < kFeatureCount; ++i) {
    const auto f = static_cast<Feature>(i);
    names.push_back(feature_name(f));
    EXPECT_EQ(parse_feature(feature_name(f)), f);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
  EXPECT_EQ(parse_feature("curvature"), Feature::kChangeOfCurvature);
}

TEST(FeatureCatalog, SetsAsSpecified) {
  auto names = [](const std::vector<Feature>& s) {
    std::string out;
    for (Feature f : s) out += std::string(out.empty() ? "" : ",") + feature_name(f);
    return out;
  };
  EXPECT_EQ(names(feature_set("minimal")), "normal_z,planarity,height_above_ground,density");
  const std::string lod2 =
      "normal_x,normal_y,normal_z,planarity,linearity,anisotropy,verticality,horizontality,"
      "height_above_ground,wall_score,roof_score,density";
  EXPECT_EQ(names(feature_set("lod2")), lod2);
  EXPECT_EQ(names(feature_set("lod2", true)), lod2 + ",red,green,blue,ndvi");
  const std::string extra =
      ",sphericity,omnivariance,eigenentropy,eigenvalue_1,eigenvalue_2,eigenvalue_3,"
      "sum_eigenvalues,change_of_curvature,roughness,vertical_range,vertical_std,num_points_2m";
  EXPECT_EQ(names(feature_set("lod3")), lod2 + extra);
  EXPECT_EQ(names(feature_set("lod3", true)), lod2 + ",red,green,blue,ndvi" + extra + ",nir");
  EXPECT_EQ(feature_set("full").size(), size_t(kFeatureCount - 5));
  EXPECT_EQ(feature_set("full", true).size(), size_t(kFeatureCount));
  EXPECT_EQ(names(parse_feature_list("minimal, roughness,planarity")),
            "normal_z,planarity,height_above_ground,density,roughness");
}

TEST(FeatureCatalog, UnknownNamesListValidOnes) {
  try {
    parse_feature_list("planarity,flatness");
    FAIL() << "no exception";
  } catch (const ArgumentError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("flatness"), std::string::npos);
    EXPECT_NE(m.find("height_above_ground"), std::string::npos);
    EXPECT_NE(m.find("lod3"), std::string::npos);
  }
  EXPECT_THROW(parse_feature_list(""), ArgumentError);
  EXPECT_THROW(parse_feature_list("planarity,,density"), ArgumentError);
  EXPECT_THROW(feature_set("lod4"), ArgumentError);
  EXPECT_EQ(parse_eigen_norm("sqrt"), EigenNorm::kSqrt);
  EXPECT_EQ(parse_eigen_norm("sum"), EigenNorm::kSum);
  EXPECT_EQ(parse_eigen_norm("lambda1"), EigenNorm::kLambda1);
  EXPECT_THROW(parse_eigen_norm("l1"), ArgumentError);
}

TEST(Features, RejectsBadArguments) {
  Cloud c;
  for (int i = 0; i < 10; ++i) c.add(i, 0, 0);
  FeatureOptions o;
  auto bad = [&](FeatureOptions opt, PointColumns p) {
    EXPECT_THROW(compute_features(p, opt), ArgumentError);
  };
  FeatureOptions k0 = o;
  k0.k = 0;
  bad(k0, c.columns());
  FeatureOptions k65 = o;
  k65.k = 65;
  bad(k65, c.columns());
  FeatureOptions r0 = o;
  r0.neighborhood = Neighborhood::kRadius;
  bad(r0, c.columns());
  FeatureOptions twice = o;
  twice.features = {Feature::kPlanarity, Feature::kPlanarity};
  bad(twice, c.columns());
  FeatureOptions colour = o;
  colour.features = {Feature::kNdvi};
  bad(colour, c.columns());
  PointColumns nocls = c.columns();
  nocls.classification = nullptr;
  bad(o, nocls);  // lod2 has height_above_ground
  PointColumns nul = c.columns();
  nul.y = nullptr;
  bad(o, nul);
  Cloud nan = c;
  nan.z[3] = std::nanf("");
  bad(o, nan.columns());
}

TEST(Features, HalfConversionRoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = from_half(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(to_half(f), h) << h;
  }
  EXPECT_EQ(to_half(65520.f), 0x7C00);  // rounds to infinity
  EXPECT_EQ(to_half(65519.f), 0x7BFF);
  EXPECT_EQ(to_half(1.0f + 1.0f / 2048), 0x3C00);  // tie to even
  EXPECT_EQ(to_half(1.0f + 3.0f / 2048), 0x3C02);
  EXPECT_EQ(to_half(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(to_half(std::ldexp(1.5f, -25)), 0x0001);
}

TEST(Features, CudaRequestWithoutCudaBuildThrows) {
  if (built_with_cuda()) GTEST_SKIP() << "CUDA build";
  Cloud c;
  c.add(0, 0, 0);
  FeatureOptions o;
  o.device = Device::cuda();
  EXPECT_THROW(compute_features(c.columns(), o), DeviceError);
}

}  // namespace
}  // namespace lidarhd::features
