// The batched stages of the CPU feature kernel (src/features/shape_simd.hpp), in 16 AVX-512
// lanes and in 8 AVX2 lanes, against the scalar functions they stand for, bit for bit, lane by
// lane:
// - the moments against shape_sums, on neighbourhoods of every size up to 64 (partial sums of
//   uneven lengths), the same in every lane or different, at Lambert-93-like offsets;
// - the eigen stage against eigen_sym3_smallest, on covariances of every shape the kernel meets
//   (distinct, double and triple eigenvalues, exact axes whose vectors have zero components,
//   flat and linear neighbourhoods, signed zeros, the zero matrix, tiny and large scales,
//   slightly negative rounding).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "features/shape_simd.hpp"
#include "features_reference.hpp"

namespace lidarhd::features::detail {
namespace {

using Sym = Sym3<float>;

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// R diag(l) R^T for a random rotation R (testing_ref::make_matrix), rounded to float.
Sym rotated(const double l[3], std::mt19937& rng) {
  double m[3][3];
  testing_ref::make_matrix(l, rng, m);
  return {float(m[0][0]), float(m[0][1]), float(m[0][2]),
          float(m[1][1]), float(m[1][2]), float(m[2][2])};
}

// Covariance of a point set as shape_moments forms it (offsets from the first point).
Sym covariance(const std::vector<float>& x, const std::vector<float>& y,
               const std::vector<float>& z) {
  float s[9] = {};
  const size_t m = x.size();
  for (size_t j = 0; j < m; ++j) {
    const float dx = x[j] - x[0], dy = y[j] - y[0], dz = z[j] - z[0];
    const float d[9] = {dx, dy, dz, dx * dx, dx * dy, dx * dz, dy * dy, dy * dz, dz * dz};
    for (int t = 0; t < 9; ++t) s[t] += d[t];
  }
  const float inv = 1.0f / static_cast<float>(m);
  const float mx = s[0] * inv, my = s[1] * inv, mz = s[2] * inv;
  return {s[3] * inv - mx * mx, s[4] * inv - mx * my, s[5] * inv - mx * mz,
          s[6] * inv - my * my, s[7] * inv - my * mz, s[8] * inv - mz * mz};
}

std::vector<Sym> cases() {
  std::mt19937 rng(20261127);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<Sym> out;
  // Eigenvalue patterns under random rotations, at several scales.
  const double patterns[][3] = {{3, 2, 1},     {1, 1, 1e-3}, {1, 1e-3, 1e-3}, {1, 1, 1},
                                {1, 0.5, 0},   {1, 0, 0},    {1, 1, 0},       {1, 0.999, 0.998},
                                {1, 1e-7, 0},  {2, 1, -1e-7}, {5, 5, 4.9999}, {1, 1e-4, 1e-8}};
  for (const auto& l : patterns) {
    for (const double scale : {1e-9, 1e-4, 1.0, 100.0, 1e6}) {
      const double ls[3] = {l[0] * scale, l[1] * scale, l[2] * scale};
      for (int r = 0; r < 40; ++r) out.push_back(rotated(ls, rng));
    }
  }
  // Axis-aligned and signed-zero matrices: eigenvectors with exact zero components.
  out.push_back({0, 0, 0, 0, 0, 0});
  out.push_back({-0.0f, -0.0f, 0, -0.0f, 0, -0.0f});
  out.push_back({1, 0, 0, 1, 0, 1});
  out.push_back({2, 0, 0, 2, 0, 0});
  out.push_back({3, 0, 0, 2, 0, 1});
  out.push_back({1, 0, 0, 2, 0, 3});
  out.push_back({1, 0, 0, 3, 0, 2});
  out.push_back({1, -0.0f, 0, 1, -0.0f, 1e-6f});
  out.push_back({0, 0, 0, 0, 0, 1});
  out.push_back({1, 0.5f, 0, 1, 0, 0});
  out.push_back({1, 0, 0.5f, 0, 0, 1});
  // Random symmetric matrices (indefinite too).
  for (int r = 0; r < 500; ++r) {
    out.push_back({float(u(rng)), float(u(rng)), float(u(rng)), float(u(rng)), float(u(rng)),
                   float(u(rng))});
  }
  // Neighbourhoods of 20 points: a roof plane, a wall, a line, a sphere shell, noise, a lattice
  // with duplicates, all at Lambert-93-like local offsets.
  std::normal_distribution<double> g;
  for (int r = 0; r < 400; ++r) {
    std::vector<float> x, y, z;
    const int kind = r % 6;
    for (int j = 0; j < 20; ++j) {
      const double a = u(rng), b = u(rng);
      double px = a, py = b, pz = 0.0;
      if (kind == 0) pz = 0.3 * a + 0.1 * b;
      if (kind == 1) px = 0.0, py = a, pz = 3.0 * b;
      if (kind == 2) px = a, py = 2.0 * a, pz = -a;
      if (kind == 3) {
        const double gx = g(rng), gy = g(rng), gz = g(rng);
        const double n = std::sqrt(gx * gx + gy * gy + gz * gz);
        px = gx / n, py = gy / n, pz = gz / n;
      }
      if (kind == 4) pz = u(rng);
      if (kind == 5) px = std::round(2 * a) / 4, py = std::round(2 * b) / 4, pz = 0.0;
      x.push_back(float(500.0 + px));
      y.push_back(float(300.0 + py));
      z.push_back(float(40.0 + pz));
    }
    out.push_back(covariance(x, y, z));
  }
  return out;
}

// The AVX-512 width (16) and the AVX2 one (8), where this CPU has them.
class ShapeSimd : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
#if defined(LIDARHD_SHAPE_SIMD)
    __builtin_cpu_init();
    const bool has = GetParam() == 16 ? __builtin_cpu_supports("avx512f") &&
                                            __builtin_cpu_supports("avx512vl")
                                      : __builtin_cpu_supports("avx2");
    if (!has) GTEST_SKIP() << "this CPU has no " << (GetParam() == 16 ? "AVX-512" : "AVX2");
#else
    GTEST_SKIP() << "built without the x86-64 vector stages";
#endif
  }
};

INSTANTIATE_TEST_SUITE_P(Widths, ShapeSimd, ::testing::Values(16, 8),
                         [](const auto& info) { return info.param == 16 ? "avx512" : "avx2"; });

// The moments as shape_sums, and (after the eigen stage) the plane sums as plane_sum.
TEST_P(ShapeSimd, MomentsAndPlaneSameBitsAsScalar) {
#if defined(LIDARHD_SHAPE_SIMD)
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  size_t compared = 0;
  std::uniform_int_distribution<int> count(1, kNeighborCap);
  for (int m = 1; m <= kNeighborCap; ++m) {
    for (int round = 0; round < 4; ++round) {
      shape_simd::Batch b{};
      int max_m = 0;
      for (int i = 0; i < shape_simd::kWidth; ++i) {
        // Rounds 0-1: every lane m neighbours (k-NN); 2-3: lane 0 m, the others any count up
        // to 64 (radius neighbourhoods).
        b.m[i] = round < 2 || i == 0 ? m : count(rng);
        max_m = std::max(max_m, b.m[i]);
        const double ox = 652000.0 + 100.0 * u(rng), oy = 6862000.0 + 100.0 * u(rng);
        // Local metres as the kernel sees them (float offsets from a tile origin).
        const float qx = float(ox - 651000.0), qy = float(oy - 6861000.0), qz = float(40.0 + u(rng));
        b.q[0][i] = qx;
        b.q[1][i] = qy;
        b.q[2][i] = qz;
        for (int j = 0; j < kNeighborCap; ++j) {
          // Neighbour 0 is the query point itself, as in a k-NN neighbourhood; a lane's
          // entries past its count hold points too (which it must not add).
          b.x[j][i] = j == 0 ? qx : float(qx + u(rng));
          b.y[j][i] = j == 0 ? qy : float(qy + u(rng));
          b.z[j][i] = j == 0 ? qz : float(qz + (round == 0 ? 0.0 : 0.3 * u(rng)));
        }
      }
      shape_simd::moments(b, max_m, GetParam());
      shape_simd::eigen_smallest(b, GetParam());
      shape_simd::plane_sums(b, max_m, GetParam());
      for (int i = 0; i < shape_simd::kWidth; ++i) {
        float gx[kNeighborCap], gy[kNeighborCap], gz[kNeighborCap];
        for (int j = 0; j < kNeighborCap; ++j) {
          gx[j] = b.x[j][i];
          gy[j] = b.y[j][i];
          gz[j] = b.z[j][i];
        }
        const ShapeMoments s = shape_sums(b.q[0][i], b.q[1][i], b.q[2][i], b.m[i], gx, gy, gz);
        const float want[9] = {s.mean.x, s.mean.y, s.mean.z, s.c.xx, s.c.xy,
                               s.c.xz,   s.c.yy,   s.c.yz,   s.c.zz};
        const float got[9] = {b.mean[0][i], b.mean[1][i], b.mean[2][i], b.c[0][i], b.c[1][i],
                              b.c[2][i],    b.c[3][i],    b.c[4][i],    b.c[5][i]};
        for (int t = 0; t < 9; ++t) {
          ASSERT_EQ(bits(got[t]), bits(want[t]))
              << "m " << b.m[i] << " lane " << i << " term " << t;
        }
        const float plane =
            plane_sum(b.q[0][i], b.q[1][i], b.q[2][i], b.m[i], Coords{gx, gy, gz, 1}, s.mean,
                      {b.normal[0][i], b.normal[1][i], b.normal[2][i]});
        ASSERT_EQ(bits(b.plane[i]), bits(plane)) << "m " << b.m[i] << " lane " << i << " plane";
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, size_t{kNeighborCap} * 4 * shape_simd::kWidth);
#endif
}

TEST_P(ShapeSimd, EigenSameBitsAsScalar) {
#if defined(LIDARHD_SHAPE_SIMD)
  const std::vector<Sym> all = cases();
  size_t compared = 0;
  for (size_t first = 0; first < all.size(); first += shape_simd::kWidth) {
    shape_simd::Batch b{};
    const size_t lanes = std::min<size_t>(shape_simd::kWidth, all.size() - first);
    for (size_t i = 0; i < lanes; ++i) {
      const Sym& c = all[first + i];
      const float e[6] = {c.xx, c.xy, c.xz, c.yy, c.yz, c.zz};
      for (int t = 0; t < 6; ++t) b.c[t][i] = e[t];
    }
    shape_simd::eigen_smallest(b, GetParam());
    for (size_t i = 0; i < lanes; ++i) {
      float value[3];
      Vec3<float> normal;
      eigen_sym3_smallest(all[first + i], value, normal);
      const float n[3] = {normal.x, normal.y, normal.z};
      for (int k = 0; k < 3; ++k) {
        ASSERT_EQ(bits(b.value[k][i]), bits(value[k])) << "case " << first + i << " value " << k;
        ASSERT_EQ(bits(b.normal[k][i]), bits(n[k])) << "case " << first + i << " normal " << k;
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 3000u);
#endif
}

}  // namespace
}  // namespace lidarhd::features::detail
