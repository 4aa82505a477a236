// The closed-form 3x3 symmetric eigen solver (src/features/math.hpp) against the cyclic Jacobi
// reference of features_reference.hpp in long double, on random, structured and ill-conditioned
// matrices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "features/math.hpp"
#include "features_reference.hpp"

namespace lidarhd::features::detail {
namespace {

using LD = long double;

// The reference of features_reference.hpp, in long double.
void jacobi_reference(const double in[3][3], LD values[3], LD vectors[3][3]) {
  LD a[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a[i][j] = in[i][j];
  testing_ref::jacobi(a, values, vectors);
}

template <class T>
Sym3<T> to_sym(const double m[3][3]) {
  return {T(m[0][0]), T(m[0][1]), T(m[0][2]), T(m[1][1]), T(m[1][2]), T(m[2][2])};
}

// Angle between unit vectors, ignoring sign, from the cross product (acos of the dot product
// cannot resolve angles below ~1e-8).
LD axis_angle(const Vec3<double>& a, const LD b[3]) {
  const LD cx = a.y * b[2] - a.z * b[1], cy = a.z * b[0] - a.x * b[2], cz = a.x * b[1] - a.y * b[0];
  return std::asin(std::min<LD>(1, std::sqrt(cx * cx + cy * cy + cz * cz)));
}

template <class T>
void check(const double m[3][3], double value_tol, double angle_tol) {
  LD rv[3], rvec[3][3];
  jacobi_reference(m, rv, rvec);
  Eigen3<T> e;
  eigen_sym3(to_sym<T>(m), e);
  const LD scale = std::max({std::fabs(rv[0]), std::fabs(rv[2]), LD(1e-300)});
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(double(e.value[k] / scale), double(rv[k] / scale), value_tol) << k;
    const Vec3<double> v{double(e.vector[k].x), double(e.vector[k].y), double(e.vector[k].z)};
    EXPECT_NEAR(std::sqrt(dot(v, v)), 1.0, 1e-5);
  }
  // Right-handed orthonormal basis.
  const Vec3<double> v0{double(e.vector[0].x), double(e.vector[0].y), double(e.vector[0].z)};
  const Vec3<double> v1{double(e.vector[1].x), double(e.vector[1].y), double(e.vector[1].z)};
  const Vec3<double> v2{double(e.vector[2].x), double(e.vector[2].y), double(e.vector[2].z)};
  EXPECT_NEAR(dot(cross(v0, v1), v2), 1.0, 1e-4);
  // A vector is only defined where its eigenvalue is separated from the others.
  for (int k = 0; k < 3; ++k) {
    LD gap = 1e300;
    for (int j = 0; j < 3; ++j)
      if (j != k) gap = std::min(gap, std::fabs(rv[k] - rv[j]) / scale);
    if (gap < 1e-2) continue;
    const Vec3<double> v = k == 0 ? v0 : k == 1 ? v1 : v2;
    EXPECT_LT(double(axis_angle(v, rvec[k])), angle_tol) << "vector " << k << " gap " << double(gap);
  }
}

TEST(Eigen3, RandomSpectraFloatAndDouble) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int t = 0; t < 20000; ++t) {
    const double l[3] = {std::pow(10.0, u(rng)), std::pow(10.0, u(rng)) * (t % 5 ? 1 : -1),
                         std::pow(10.0, u(rng))};
    double m[3][3];
    testing_ref::make_matrix(l, rng, m);
    SCOPED_TRACE(t);
    check<double>(m, 1e-12, 1e-9);
    check<float>(m, 2e-6, 2e-4);
    if (HasFailure()) return;
  }
}

TEST(Eigen3, RepeatedAndNearlyRepeatedEigenvalues) {
  std::mt19937 rng(11);
  const double spectra[][3] = {{1, 1, 1},       {1, 1, 0},          {1, 0, 0},
                               {2, 1, 1},       {1, 1, 1 - 1e-7},   {1, 1 - 1e-7, 0},
                               {1, 1e-7, 0},    {1, 1e-6, 1e-6},    {5, 5, -5},
                               {1e-20, 0, 0},   {1e20, 1e19, 1e18}, {0, 0, 0},
                               {1, 0.5, 0.5},   {1, 1e-12, 1e-13}, {3, 3 - 1e-4, 1}};
  for (const auto& l : spectra) {
    for (int t = 0; t < 200; ++t) {
      double m[3][3];
      testing_ref::make_matrix(l, rng, m);
      SCOPED_TRACE(::testing::Message() << l[0] << " " << l[1] << " " << l[2] << " #" << t);
      check<double>(m, 1e-12, 1e-8);
      check<float>(m, 2e-6, 5e-3);
      if (HasFailure()) return;
    }
  }
}

TEST(Eigen3, DiagonalAndAxisAligned) {
  const double d[][3] = {{3, 2, 1}, {1, 2, 3}, {2, 3, 1}, {0, 0, 1}, {1, 0, 0}, {0, 1, 0}};
  for (const auto& l : d) {
    const double m[3][3] = {{l[0], 0, 0}, {0, l[1], 0}, {0, 0, l[2]}};
    check<double>(m, 1e-15, 1e-12);
    check<float>(m, 1e-7, 1e-6);
  }
}

TEST(Eigen3, ZeroMatrixGivesIdentityBasis) {
  Eigen3<float> e;
  eigen_sym3(Sym3<float>{0, 0, 0, 0, 0, 0}, e);
  EXPECT_EQ(e.value[0], 0.f);
  EXPECT_EQ(e.value[2], 0.f);
  EXPECT_EQ(e.vector[2].z, 1.f);
}

}  // namespace
}  // namespace lidarhd::features::detail
