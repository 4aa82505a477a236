// Patches: binning against a brute-force membership test, exact counts, sampling modes (FPS
// against its O(N*M) definition), normalisation, augmentation, grid alignment, determinism and
// CPU/CUDA identity (architecture.md conventions 8 and 9).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "device_test.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/patches.hpp"
#include "patches/patches_backend.hpp"

namespace lidarhd::patches {
namespace {

struct Cloud {
  std::vector<double> x, y, z;
  size_t size() const { return x.size(); }
};

// Uniform points over [x0, x0 + w) x [y0, y0 + h), z in [100, 130), coordinates on a 1/1024 m
// lattice so that shifts by whole metres are exact.
Cloud make_cloud(size_t n, double x0, double y0, double w, double h, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Cloud c;
  for (size_t i = 0; i < n; ++i) {
    c.x.push_back(x0 + std::floor(u(rng) * w * 1024) / 1024);
    c.y.push_back(y0 + std::floor(u(rng) * h * 1024) / 1024);
    c.z.push_back(100 + std::floor(u(rng) * 30 * 1024) / 1024);
  }
  return c;
}

std::vector<Patch> run(const Cloud& c, PatchOptions o) {
  return extract_patches(c.x.data(), c.y.data(), c.z.data(), c.size(), o);
}

bool inside(const Patch& p, double x, double y) {
  return p.bounds[0] <= x && x < p.bounds[2] && p.bounds[1] <= y && y < p.bounds[3];
}

// Brute force: the points of every cell (gy, gx), by the definition of the header.
std::map<std::pair<int64_t, int64_t>, std::vector<uint32_t>> cells_of(const Cloud& c,
                                                                      const PatchOptions& o) {
  const double stride = patch_stride(o);
  std::map<std::pair<int64_t, int64_t>, std::vector<uint32_t>> cells;
  for (uint32_t i = 0; i < c.size(); ++i) {
    const auto bx = static_cast<int64_t>(std::floor(c.x[i] / stride));
    const auto by = static_cast<int64_t>(std::floor(c.y[i] / stride));
    for (int64_t gy = by - 3; gy <= by + 3; ++gy) {
      for (int64_t gx = bx - 3; gx <= bx + 3; ++gx) {
        const double x0 = gx * stride, y0 = gy * stride;
        if (x0 <= c.x[i] && c.x[i] < x0 + o.size && y0 <= c.y[i] && c.y[i] < y0 + o.size) {
          cells[{gy, gx}].push_back(i);
        }
      }
    }
  }
  return cells;
}

PatchOptions small_options() {
  PatchOptions o;
  o.size = 100;
  o.overlap = 0.2;  // stride 80
  o.min_points = 200;
  o.num_points = 256;
  return o;
}

class PatchesTest : public lidarhd::testing::DeviceTest {
 protected:
  PatchOptions options() const {
    PatchOptions o = small_options();
    o.device = device_;
    return o;
  }
};

TEST_P(PatchesTest, ExactCountsInsideSquaresAndSkippedCells) {
  const Cloud c = make_cloud(30000, 700013.5, 6600007.25, 330, 270, 1);
  for (Sampling s : {Sampling::kRandom, Sampling::kFps, Sampling::kVoxel}) {
    PatchOptions o = options();
    o.sampling = s;
    const auto patches = run(c, o);
    const auto cells = cells_of(c, o);
    size_t expected = 0;
    for (const auto& [key, list] : cells) expected += list.size() >= o.min_points;
    ASSERT_EQ(patches.size(), expected) << sampling_name(s);
    for (size_t k = 0; k < patches.size(); ++k) {
      const Patch& p = patches[k];
      if (k) {
        EXPECT_LT(std::make_tuple(patches[k - 1].gy, patches[k - 1].gx),
                  std::make_tuple(p.gy, p.gx));
      }
      const auto& list = cells.at({p.gy, p.gx});
      EXPECT_EQ(p.cell_points, list.size());
      ASSERT_EQ(p.indices.size(), o.num_points);
      ASSERT_EQ(p.xyz.size(), 3u * o.num_points);
      for (uint32_t i : p.indices) {
        ASSERT_LT(i, c.size());
        ASSERT_TRUE(inside(p, c.x[i], c.y[i])) << sampling_name(s) << " point " << i;
      }
      // Enough points: no duplicates (voxel: when there are enough voxels, tested below).
      if (list.size() >= o.num_points && s != Sampling::kVoxel) {
        EXPECT_EQ(std::set<uint32_t>(p.indices.begin(), p.indices.end()).size(), o.num_points);
      }
    }
  }
}

TEST_P(PatchesTest, TooFewPointsSamplesEveryPointThenWithReplacement) {
  const Cloud c = make_cloud(3000, 1000, 2000, 200, 200, 2);
  for (Sampling s : {Sampling::kRandom, Sampling::kFps}) {
    PatchOptions o = options();
    o.sampling = s;
    o.min_points = 10;
    o.num_points = 4096;  // more than any cell holds
    const auto cells = cells_of(c, o);
    for (const Patch& p : run(c, o)) {
      const auto& list = cells.at({p.gy, p.gx});
      ASSERT_LT(list.size(), o.num_points);
      // The first cell_points slots are every point once, the rest duplicates.
      std::vector<uint32_t> head(p.indices.begin(), p.indices.begin() + list.size());
      std::sort(head.begin(), head.end());
      EXPECT_EQ(head, list) << sampling_name(s);
      for (uint32_t i : p.indices) ASSERT_TRUE(inside(p, c.x[i], c.y[i]));
    }
  }
}

TEST_P(PatchesTest, SmallSizes) {
  for (size_t n : {0, 1, 31, 32, 33, 1000}) {
    const Cloud c = make_cloud(n, 400, 400, 50, 50, 3 + n);
    PatchOptions o = options();
    o.min_points = 1;
    o.num_points = 32;
    for (Sampling s : {Sampling::kRandom, Sampling::kFps, Sampling::kVoxel}) {
      o.sampling = s;
      const auto patches = run(c, o);
      const auto cells = cells_of(c, o);
      ASSERT_EQ(patches.size(), cells.size()) << n;
      for (const Patch& p : patches) {
        ASSERT_EQ(p.indices.size(), 32u);
        for (uint32_t i : p.indices) ASSERT_TRUE(inside(p, c.x[i], c.y[i]));
        const auto& list = cells.at({p.gy, p.gx});
        if (list.size() >= 32 && s != Sampling::kVoxel) {
          EXPECT_EQ(std::set<uint32_t>(p.indices.begin(), p.indices.end()).size(), 32u);
        }
      }
    }
  }
}

TEST_P(PatchesTest, NonFinitePointsAreIgnored) {
  Cloud c = make_cloud(500, 0, 0, 60, 60, 4);
  c.x[3] = std::nan("");
  c.y[7] = INFINITY;
  PatchOptions o = options();
  o.min_points = 1;
  for (const Patch& p : run(c, o)) {
    for (uint32_t i : p.indices) EXPECT_TRUE(i != 3 && i != 7);
  }
}

TEST_P(PatchesTest, SameSeedSameBytesOtherSeedOtherSample) {
  const Cloud c = make_cloud(20000, 5000, 5000, 250, 250, 5);
  for (Sampling s : {Sampling::kRandom, Sampling::kFps, Sampling::kVoxel}) {
    PatchOptions o = options();
    o.sampling = s;
    o.augment.copies = 1;
    o.augment.dropout = 0.1;
    const auto a = run(c, o), b = run(c, o);
    o.seed = 2;
    const auto other = run(c, o);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_EQ(a.size(), other.size());
    ASSERT_FALSE(a.empty());
    size_t differing = 0;
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].indices, b[k].indices);
      EXPECT_EQ(0, std::memcmp(a[k].xyz.data(), b[k].xyz.data(), a[k].xyz.size() * 4));
      differing += a[k].indices != other[k].indices;
    }
    EXPECT_EQ(differing, a.size()) << sampling_name(s);
  }
}

TEST_P(PatchesTest, CpuAndDeviceGiveTheSameBytes) {
  if (device_.is_cpu()) GTEST_SKIP() << "compares a CUDA run with the CPU";
  const Cloud c = make_cloud(200000, 650000, 6860000, 600, 500, 6);
  for (Sampling s : {Sampling::kRandom, Sampling::kFps, Sampling::kVoxel}) {
    PatchOptions o = options();
    o.sampling = s;
    o.augment.copies = 1;
    const auto gpu = run(c, o);
    o.device = Device::cpu();
    const auto cpu = run(c, o);
    ASSERT_EQ(gpu.size(), cpu.size());
    for (size_t k = 0; k < cpu.size(); ++k) {
      EXPECT_EQ(gpu[k].gx, cpu[k].gx);
      EXPECT_EQ(gpu[k].gy, cpu[k].gy);
      EXPECT_EQ(gpu[k].indices, cpu[k].indices) << sampling_name(s) << " patch " << k;
      EXPECT_EQ(0, std::memcmp(gpu[k].xyz.data(), cpu[k].xyz.data(), cpu[k].xyz.size() * 4));
    }
  }
}

TEST_P(PatchesTest, VoxelSamplingKeepsOnePointPerVoxel) {
  const Cloud c = make_cloud(40000, 100, 100, 100, 100, 7);
  PatchOptions o = options();
  o.sampling = Sampling::kVoxel;
  o.voxel_size = 4;
  o.min_points = 1000;
  const auto voxel_of = [&](const Patch& p, uint32_t i) {
    return std::make_tuple(std::floor((c.x[i] - p.bounds[0]) / o.voxel_size),
                           std::floor((c.y[i] - p.bounds[1]) / o.voxel_size),
                           std::floor(c.z[i] / o.voxel_size));
  };
  // Fewer slots than voxels: distinct voxels.
  o.num_points = 256;
  for (const Patch& p : run(c, o)) {
    std::set<std::tuple<double, double, double>> voxels;
    for (uint32_t i : p.indices) voxels.insert(voxel_of(p, i));
    EXPECT_EQ(voxels.size(), o.num_points);
  }
  // More slots than voxels: exactly one point per occupied voxel, then duplicates.
  o.num_points = 8192;
  const auto cells = cells_of(c, o);
  for (const Patch& p : run(c, o)) {
    std::set<std::tuple<double, double, double>> occupied;
    for (uint32_t i : cells.at({p.gy, p.gx})) occupied.insert(voxel_of(p, i));
    ASSERT_LT(occupied.size(), o.num_points);
    const std::set<uint32_t> distinct(p.indices.begin(), p.indices.end());
    EXPECT_EQ(distinct.size(), occupied.size());
    std::set<std::tuple<double, double, double>> seen;
    for (uint32_t i : distinct) EXPECT_TRUE(seen.insert(voxel_of(p, i)).second);
  }
}

TEST_P(PatchesTest, Normalisation) {
  const Cloud c = make_cloud(20000, 700000, 6600000, 200, 200, 8);
  PatchOptions o = options();
  o.normalize = Normalize::kCenter;
  for (const Patch& p : run(c, o)) {
    double mean_z = 0;
    for (size_t j = 0; j < o.num_points; ++j) {
      EXPECT_LE(std::fabs(p.xyz[3 * j]), o.size / 2);
      EXPECT_LE(std::fabs(p.xyz[3 * j + 1]), o.size / 2);
      mean_z += p.xyz[3 * j + 2];
    }
    EXPECT_NEAR(mean_z / o.num_points, 0.0, 1e-4);
    EXPECT_DOUBLE_EQ(p.center[0], (p.bounds[0] + p.bounds[2]) / 2);
  }
  o.normalize = Normalize::kUnitSphere;
  for (const Patch& p : run(c, o)) {
    double r = 0;
    for (size_t j = 0; j < o.num_points; ++j) {
      r = std::max(
          r, std::hypot(double(p.xyz[3 * j]), double(p.xyz[3 * j + 1]), double(p.xyz[3 * j + 2])));
    }
    EXPECT_NEAR(r, 1.0, 1e-6);
    EXPECT_GT(p.scale, 1.0);
  }
  o.normalize = Normalize::kNone;
  for (const Patch& p : run(c, o)) {
    for (size_t j = 0; j < o.num_points; ++j) {
      const uint32_t i = p.indices[j];
      EXPECT_FLOAT_EQ(p.xyz[3 * j], static_cast<float>(c.x[i] - p.bounds[0]));
      EXPECT_FLOAT_EQ(p.xyz[3 * j + 2], static_cast<float>(c.z[i]));
    }
  }
}

TEST_P(PatchesTest, AugmentedCopiesAreRigidUpToScaleAndJitter) {
  const Cloud c = make_cloud(20000, 300, 300, 150, 150, 9);
  PatchOptions o = options();
  o.augment.copies = 2;
  o.augment.jitter_sigma = 0;
  const auto patches = run(c, o);
  ASSERT_EQ(patches.size() % 3, 0u);
  std::set<std::vector<uint32_t>> samples;
  for (const Patch& p : patches) {
    samples.insert(p.indices);
    if (p.augmentation == 0) continue;
    // The unaugmented coordinates of the same points, then distance ratios.
    const auto orig = [&](size_t j, int k) {
      const uint32_t i = p.indices[j];
      return ((k == 0 ? c.x[i] : k == 1 ? c.y[i] : c.z[i]) - p.center[k]) / p.scale;
    };
    double ratio = -1;
    for (size_t j = 0; j + 1 < o.num_points; ++j) {
      double da = 0, d0 = 0;
      for (int k = 0; k < 3; ++k) {
        const double a = double(p.xyz[3 * j + k]) - p.xyz[3 * (j + 1) + k];
        const double b = orig(j, k) - orig(j + 1, k);
        da += a * a, d0 += b * b;
      }
      if (d0 < 100) continue;  // short pairs: float rounding dominates
      const double r = std::sqrt(da / d0);
      if (ratio < 0) ratio = r;
      EXPECT_NEAR(r, ratio, 1e-5);
    }
    EXPECT_GE(ratio, o.augment.scale_min - 1e-6);
    EXPECT_LE(ratio, o.augment.scale_max + 1e-6);
  }
  EXPECT_EQ(samples.size(), patches.size());  // each copy is its own sampling

  // Jitter stays within its clip; dropout keeps the count and duplicates kept points.
  o.augment.copies = 1;
  o.augment.rotate = false;
  o.augment.scale_min = o.augment.scale_max = 1;
  o.augment.jitter_sigma = 0.02;
  o.augment.jitter_clip = 0.03;
  o.augment.dropout = 0.25;
  for (const Patch& p : run(c, o)) {
    if (p.augmentation == 0) continue;
    ASSERT_EQ(p.indices.size(), o.num_points);
    const size_t distinct = std::set<uint32_t>(p.indices.begin(), p.indices.end()).size();
    if (p.cell_points >= o.num_points) {
      EXPECT_EQ(distinct, o.num_points - 64);
    }
    for (size_t j = 0; j < o.num_points; ++j) {
      const uint32_t i = p.indices[j];
      EXPECT_NEAR(p.xyz[3 * j], c.x[i] - p.center[0], 0.03 + 1e-4);
      EXPECT_NEAR(p.xyz[3 * j + 2], c.z[i] - p.center[2], 0.03 + 1e-4);
    }
  }
}

TEST_P(PatchesTest, GridIsAlignedToAbsoluteCoordinates) {
  const Cloud c = make_cloud(20000, 1000.5, 2000.25, 250, 230, 10);
  PatchOptions o = options();
  o.min_points = 50;
  o.num_points = 8192;  // every point of every cell appears
  Cloud shifted = c;
  const int64_t kx = 3, ky = -2;
  for (size_t i = 0; i < c.size(); ++i) {
    shifted.x[i] += kx * patch_stride(o);
    shifted.y[i] += ky * patch_stride(o);
  }
  const auto a = run(c, o), b = run(shifted, o);
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(b[k].gx, a[k].gx + kx);
    EXPECT_EQ(b[k].gy, a[k].gy + ky);
    EXPECT_DOUBLE_EQ(b[k].bounds[0], a[k].bounds[0] + kx * patch_stride(o));
    EXPECT_EQ(std::set<uint32_t>(a[k].indices.begin(), a[k].indices.end()),
              std::set<uint32_t>(b[k].indices.begin(), b[k].indices.end()));
  }
}

TEST_P(PatchesTest, LargeOverlapPutsPointsInManyCells) {
  const Cloud c = make_cloud(5000, 0, 0, 40, 40, 11);
  PatchOptions o = options();
  o.size = 20;
  o.overlap = 0.75;  // stride 5: a point is in 4 x 4 cells
  o.min_points = 1;
  o.num_points = 16;
  const auto patches = run(c, o);
  EXPECT_EQ(patches.size(), cells_of(c, o).size());
  for (const Patch& p : patches) {
    for (uint32_t i : p.indices) ASSERT_TRUE(inside(p, c.x[i], c.y[i]));
  }
}

LIDARHD_DEVICE_TESTS(PatchesTest);

// ---- farthest-point sampling -----------------------------------------------------------------

TEST(PatchesFps, EqualsBruteForceIncludingTies) {
  std::mt19937_64 rng(12);
  std::uniform_int_distribution<int> q(0, 40);  // a coarse lattice: many exact ties
  for (uint32_t m : {1u, 2u, 31u, 32u, 33u, 3000u, 40000u}) {
    std::vector<float> x(m), y(m), z(m);
    for (uint32_t i = 0; i < m; ++i) {
      x[i] = q(rng) * 0.5f - 10, y[i] = q(rng) * 0.5f - 10, z[i] = (q(rng) % 5) * 0.5f;
    }
    for (uint32_t count : {1u, std::min(m / 2 + 1, 1500u), std::min(m, 3000u)}) {
      const uint32_t start = m / 3;
      const auto fast =
          detail::farthest_point_sample(x.data(), y.data(), z.data(), m, count, start);
      const auto ref =
          detail::farthest_point_sample_reference(x.data(), y.data(), z.data(), m, count, start);
      ASSERT_EQ(fast, ref) << m << " points, " << count << " samples";
      ASSERT_EQ(std::set<uint32_t>(fast.begin(), fast.end()).size(), fast.size());
    }
  }
}

TEST(PatchesFps, PublicApiMatchesTheDefinitionAndSpreads) {
  const Cloud c = make_cloud(6000, 100, 100, 90, 90, 13);
  PatchOptions o = small_options();
  o.sampling = Sampling::kFps;
  o.min_points = 1000;
  o.num_points = 300;
  const auto cells = cells_of(c, o);
  o.sampling = Sampling::kRandom;
  const auto random = run(c, o);
  o.sampling = Sampling::kFps;
  const auto fps = run(c, o);
  ASSERT_EQ(fps.size(), random.size());
  ASSERT_FALSE(fps.empty());
  const auto min_spacing = [&](const std::vector<uint32_t>& idx) {
    double best = 1e30;
    for (size_t a = 0; a < idx.size(); ++a)
      for (size_t b = a + 1; b < idx.size(); ++b)
        best = std::min(best, std::hypot(c.x[idx[a]] - c.x[idx[b]], c.y[idx[a]] - c.y[idx[b]],
                                         c.z[idx[a]] - c.z[idx[b]]));
    return best;
  };
  for (size_t k = 0; k < fps.size(); ++k) {
    const Patch& p = fps[k];
    const auto& list = cells.at({p.gy, p.gx});
    const auto m = static_cast<uint32_t>(list.size());
    const double cx = p.bounds[0] + o.size / 2, cy = p.bounds[1] + o.size / 2;
    std::vector<float> x(m), y(m), z(m);
    for (uint32_t j = 0; j < m; ++j) {
      x[j] = static_cast<float>(c.x[list[j]] - cx);
      y[j] = static_cast<float>(c.y[list[j]] - cy);
      z[j] = static_cast<float>(c.z[list[j]] - c.z[list[0]]);
    }
    const auto start = static_cast<uint32_t>(detail::draw_below(
        detail::stream_key(o.seed, p.gx, p.gy, 0, detail::kPurposeFpsStart), 0, m));
    const auto ref = detail::farthest_point_sample_reference(x.data(), y.data(), z.data(), m,
                                                             o.num_points, start);
    for (size_t j = 0; j < ref.size(); ++j) ASSERT_EQ(p.indices[j], list[ref[j]]);
    EXPECT_GT(min_spacing(p.indices), 2 * min_spacing(random[k].indices));
  }
}

// ---- options ---------------------------------------------------------------------------------

TEST(PatchesOptions, ParseAndValidate) {
  EXPECT_EQ(parse_sampling("fps"), Sampling::kFps);
  EXPECT_EQ(parse_normalize("unit_sphere"), Normalize::kUnitSphere);
  EXPECT_STREQ(sampling_name(parse_sampling("voxel")), "voxel");
  EXPECT_STREQ(normalize_name(parse_normalize("none")), "none");
  EXPECT_THROW(parse_sampling("poisson"), ArgumentError);
  EXPECT_THROW(parse_normalize("unit"), ArgumentError);
  const Cloud c = make_cloud(10, 0, 0, 1, 1, 14);
  const auto bad = [&](auto edit) {
    PatchOptions o = small_options();
    edit(o);
    EXPECT_THROW(run(c, o), ArgumentError);
  };
  bad([](PatchOptions& o) { o.size = 0; });
  bad([](PatchOptions& o) { o.overlap = 1; });
  bad([](PatchOptions& o) { o.overlap = -0.1; });
  bad([](PatchOptions& o) { o.num_points = 0; });
  bad([](PatchOptions& o) { o.sampling = Sampling::kVoxel, o.voxel_size = 0; });
  bad([](PatchOptions& o) { o.augment.copies = -1; });
  bad([](PatchOptions& o) { o.augment.dropout = 1; });
  bad([](PatchOptions& o) { o.augment.scale_min = 2, o.augment.scale_max = 1; });
  bad([](PatchOptions& o) { o.size = 1e-9; });  // too many cells
}

}  // namespace
}  // namespace lidarhd::patches
