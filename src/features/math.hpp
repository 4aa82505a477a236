// Per-point linear algebra shared by the CPU and CUDA feature kernels: 3x3 symmetric eigen
// decomposition without iteration, and the small vector helpers it needs.
//
// Method: the eigenvalues of a symmetric 3x3 matrix are the roots of its characteristic cubic,
// which has a closed trigonometric solution. The matrix is scaled by its largest entry (no
// overflow or underflow whatever the units) and shifted by its mean eigenvalue. Only the root
// farthest from the other two is taken from the cubic: it is always simple and well separated,
// so its value and its null vector (the best-conditioned cross product of two rows of
// B - beta I) are accurate. The other two eigenpairs are solved exactly in the plane orthogonal
// to that vector, a 2x2 symmetric problem whose eigenvalues stay accurate however close they are
// (the cubic's formula would lose half the digits of a nearly double root). Straight-line code:
// the same operations for every matrix, no convergence loop.
#pragma once

#include <math.h>

#include "lidarhd/core/hd.hpp"

namespace lidarhd::features::detail {

LIDARHD_HD inline float hd_sqrt(float v) { return sqrtf(v); }
LIDARHD_HD inline double hd_sqrt(double v) { return sqrt(v); }
LIDARHD_HD inline float hd_acos(float v) { return acosf(v); }
LIDARHD_HD inline double hd_acos(double v) { return acos(v); }
LIDARHD_HD inline float hd_cos(float v) { return cosf(v); }
LIDARHD_HD inline double hd_cos(double v) { return cos(v); }
LIDARHD_HD inline float hd_sin(float v) { return sinf(v); }
LIDARHD_HD inline double hd_sin(double v) { return sin(v); }
template <class T>
LIDARHD_HD inline T hd_abs(T v) {
  return v < T(0) ? -v : v;
}
template <class T>
LIDARHD_HD inline T hd_max(T a, T b) {
  return a > b ? a : b;
}
template <class T>
LIDARHD_HD inline T hd_min(T a, T b) {
  return a < b ? a : b;
}

template <class T>
struct Vec3 {
  T x, y, z;
};

template <class T>
LIDARHD_HD inline Vec3<T> cross(const Vec3<T>& a, const Vec3<T>& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
template <class T>
LIDARHD_HD inline T dot(const Vec3<T>& a, const Vec3<T>& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
template <class T>
LIDARHD_HD inline Vec3<T> scaled(const Vec3<T>& a, T s) {
  return {a.x * s, a.y * s, a.z * s};
}

// Upper triangle of a symmetric matrix.
template <class T>
struct Sym3 {
  T xx, xy, xz, yy, yz, zz;
};

template <class T>
LIDARHD_HD inline Vec3<T> mul(const Sym3<T>& m, const Vec3<T>& v) {
  return {m.xx * v.x + m.xy * v.y + m.xz * v.z, m.xy * v.x + m.yy * v.y + m.yz * v.z,
          m.xz * v.x + m.yz * v.y + m.zz * v.z};
}

// Eigenvalues in decreasing order and their unit eigenvectors (a right-handed basis).
template <class T>
struct Eigen3 {
  T value[3];
  Vec3<T> vector[3];
};

template <class T>
LIDARHD_HD inline void set_identity_basis(Eigen3<T>& e, T value) {
  for (int k = 0; k < 3; ++k) e.value[k] = value;
  e.vector[0] = {T(1), T(0), T(0)};
  e.vector[1] = {T(0), T(1), T(0)};
  e.vector[2] = {T(0), T(0), T(1)};
}

// Unit vector spanning the null space of (m - beta I) for a simple eigenvalue beta: the rows
// span a plane and any two independent rows' cross product is normal to it. The longest of the
// three cross products is the one least spoiled by rounding.
template <class T>
LIDARHD_HD inline Vec3<T> simple_eigenvector(const Sym3<T>& m, T beta) {
  const Vec3<T> r0{m.xx - beta, m.xy, m.xz};
  const Vec3<T> r1{m.xy, m.yy - beta, m.yz};
  const Vec3<T> r2{m.xz, m.yz, m.zz - beta};
  const Vec3<T> c01 = cross(r0, r1), c02 = cross(r0, r2), c12 = cross(r1, r2);
  const T n01 = dot(c01, c01), n02 = dot(c02, c02), n12 = dot(c12, c12);
  Vec3<T> best = c01;
  T best_n = n01;
  if (n02 > best_n) {
    best = c02;
    best_n = n02;
  }
  if (n12 > best_n) {
    best = c12;
    best_n = n12;
  }
  if (!(best_n > T(0))) return {T(0), T(0), T(1)};  // only for a multiple of I, handled before
  return scaled(best, T(1) / hd_sqrt(best_n));
}

// Some unit vectors u, v with (w, u, v) orthonormal; w must be unit. Built from w's two largest
// components so that the normalisation never divides by a tiny number.
template <class T>
LIDARHD_HD inline void orthonormal_complement(const Vec3<T>& w, Vec3<T>& u, Vec3<T>& v) {
  if (hd_abs(w.x) > hd_abs(w.y)) {
    const T inv = T(1) / hd_sqrt(w.x * w.x + w.z * w.z);
    u = {-w.z * inv, T(0), w.x * inv};
  } else {
    const T inv = T(1) / hd_sqrt(w.y * w.y + w.z * w.z);
    u = {T(0), w.z * inv, -w.y * inv};
  }
  v = cross(w, u);
}

// The two eigenpairs of m in the plane orthogonal to its unit eigenvector w. In a basis (u, v)
// of that plane m is a 2x2 symmetric matrix, whose eigenvalues (mean +- hypot) are accurate to
// rounding of m's entries however close they are; its eigenvector is taken from the formula
// without cancellation. `hi` gets the larger eigenvalue; `hi_vec` is unit and lies in the plane.
template <class T>
LIDARHD_HD inline void complement_eigenpairs(const Sym3<T>& m, const Vec3<T>& w, T& hi, T& lo,
                                             Vec3<T>& hi_vec) {
  Vec3<T> u, v;
  orthonormal_complement(w, u, v);
  const Vec3<T> mu = mul(m, u), mv = mul(m, v);
  const T a00 = dot(u, mu), a01 = dot(u, mv), a11 = dot(v, mv);
  const T mean = T(0.5) * (a00 + a11), h = T(0.5) * (a00 - a11);
  const T r = hd_sqrt(h * h + a01 * a01);
  hi = mean + r;
  lo = mean - r;
  T cu = T(1), cv = T(0);  // a double eigenvalue: any direction in the plane will do
  if (r > T(0)) {
    if (h >= T(0)) {
      cu = h + r;
      cv = a01;
    } else {
      cu = a01;
      cv = r - h;
    }
    const T inv = T(1) / hd_sqrt(cu * cu + cv * cv);
    cu *= inv;
    cv *= inv;
  }
  hi_vec = {cu * u.x + cv * v.x, cu * u.y + cv * v.y, cu * u.z + cv * v.z};
}

// Eigen decomposition of a symmetric 3x3 matrix (see the file comment). Non-finite input gives
// non-finite output; callers check their input.
template <class T>
LIDARHD_HD inline void eigen_sym3(const Sym3<T>& a, Eigen3<T>& e) {
  T s = hd_max(hd_max(hd_abs(a.xx), hd_abs(a.yy)), hd_abs(a.zz));
  s = hd_max(s, hd_max(hd_max(hd_abs(a.xy), hd_abs(a.xz)), hd_abs(a.yz)));
  if (!(s > T(0))) {
    set_identity_basis(e, T(0));
    return;
  }
  const T inv_s = T(1) / s;
  const Sym3<T> b{a.xx * inv_s, a.xy * inv_s, a.xz * inv_s,
                  a.yy * inv_s, a.yz * inv_s, a.zz * inv_s};
  const T q = (b.xx + b.yy + b.zz) / T(3);
  const T dxx = b.xx - q, dyy = b.yy - q, dzz = b.zz - q;
  const T p2 = (dxx * dxx + dyy * dyy + dzz * dzz +
                T(2) * (b.xy * b.xy + b.xz * b.xz + b.yz * b.yz)) / T(6);
  if (!(p2 > T(0))) {  // a multiple of the identity: every direction is an eigenvector
    set_identity_basis(e, q * s);
    return;
  }
  const T p = hd_sqrt(p2);
  const T inv_p = T(1) / p;
  // c = (b - q I) / p has eigenvalues beta in [-2, 2] summing to 0, and det(c) / 2 = cos(3 phi).
  const Sym3<T> c{dxx * inv_p, b.xy * inv_p, b.xz * inv_p, dyy * inv_p, b.yz * inv_p, dzz * inv_p};
  T half_det = T(0.5) * (c.xx * (c.yy * c.zz - c.yz * c.yz) - c.xy * (c.xy * c.zz - c.yz * c.xz) +
                         c.xz * (c.xy * c.yz - c.yy * c.xz));
  half_det = hd_min(T(1), hd_max(T(-1), half_det));
  // Only the eigenvalue farthest from the other two is taken from the cubic: it is at least
  // sqrt(3) away from them, so its root and null vector are well conditioned, whereas the
  // closed form of a nearly double root loses half the digits (sqrt of the rounding error).
  const T phi = hd_acos(half_det) / T(3);  // in [0, pi/3]
  Vec3<T> w, pair_hi_vec;
  T pair_hi, pair_lo;
  if (half_det >= T(0)) {  // phi <= pi/6: the largest eigenvalue is the isolated one
    w = simple_eigenvector(c, T(2) * hd_cos(phi));
    complement_eigenpairs(c, w, pair_hi, pair_lo, pair_hi_vec);
    e.value[0] = dot(w, mul(c, w));
    e.value[1] = pair_hi;
    e.value[2] = pair_lo;
    e.vector[0] = w;
    e.vector[1] = pair_hi_vec;
    e.vector[2] = cross(w, pair_hi_vec);
  } else {
    const T beta_lo = -hd_cos(phi) - T(1.7320508075688772935) * hd_sin(phi);  // 2cos(phi+2pi/3)
    w = simple_eigenvector(c, beta_lo);
    complement_eigenpairs(c, w, pair_hi, pair_lo, pair_hi_vec);
    e.value[0] = pair_hi;
    e.value[1] = pair_lo;
    e.value[2] = dot(w, mul(c, w));
    e.vector[0] = pair_hi_vec;
    e.vector[2] = w;
    e.vector[1] = cross(w, pair_hi_vec);
  }
  for (int k = 0; k < 3; ++k) e.value[k] = (q + p * e.value[k]) * s;
}

}  // namespace lidarhd::features::detail
