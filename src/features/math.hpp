// Per-point linear algebra shared by the CPU and CUDA feature kernels: 3x3 symmetric eigen
// decomposition without iteration, and the small vector helpers it needs.
//
// Method: the eigenvalues of a symmetric 3x3 matrix are the roots of its characteristic cubic
// (closed form 2 cos(acos(h) / 3), evaluated here without trigonometry to a proven accuracy:
// cubic_top_root). The matrix is scaled by its largest entry (no overflow or underflow whatever
// the units; eigen_sym3_smallest skips it) and shifted by its mean eigenvalue. Only the root
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

// The largest root of beta^3 - 3 beta = 2 h for h in [0, 1], that is 2 cos(acos(h) / 3), in
// [sqrt 3, 2], without acos and cos: a degree-6 fit at Chebyshev nodes (error <= 1.8e-7 over
// [0, 1], 4.4e-7 with float rounding, against 1.3e-7 for acosf and cosf), evaluated by Estrin's
// scheme for a short dependency chain. Double then takes two Newton steps on the cubic: there
// f' = 3 beta^2 - 3 >= 6 and f'' = 6 beta <= 12, so a step maps an error e to at most e^2
// (1.8e-7 -> 3e-14 -> double rounding). A fixed count with a proven bound, not a convergence loop.
template <class T>
LIDARHD_HD inline T cubic_top_root(T h) {
  const T h2 = h * h, h4 = h2 * h2;
  T b = (T(1.7320509868368252) + T(0.3333156272314402) * h) +
        h2 * (T(-0.09593033408303896) + T(0.04746915363384742) * h) +
        h4 * ((T(-0.02488706541937706) + T(0.009991079904271444) * h) +
              h2 * T(-0.0020095502396700084));
  const int steps = sizeof(T) > 4 ? 2 : 0;
  for (int i = 0; i < steps; ++i) b -= (b * (b * b - T(3)) - T(2) * h) / (T(3) * b * b - T(3));
  return b;
}

// The two eigenvalues of m in the plane orthogonal to its unit eigenvector w, hi >= lo, and when
// hi_vec is given, their unit vectors: hi_vec and lo_vec = w x hi_vec. In a basis (u, v) of that
// plane m is a 2x2 symmetric matrix, whose eigenvalues (mean +- hypot) are accurate to rounding
// of m's entries however close they are; its eigenvector is taken from the formula without
// cancellation. u is built from w's two largest components (|u|^2 = n2 >= 1/2) and v = w x u;
// both keep the length sqrt(n2), which scales the 2x2 matrix by n2 and is divided out at the
// end, off the dependency chain (a normalisation less before the products).
template <class T>
LIDARHD_HD inline void complement_eigenpairs(const Sym3<T>& m, const Vec3<T>& w, T& hi, T& lo,
                                             Vec3<T>* hi_vec, Vec3<T>* lo_vec) {
  Vec3<T> u;
  T n2;
  if (hd_abs(w.x) > hd_abs(w.y)) {
    u = {-w.z, T(0), w.x};
    n2 = w.x * w.x + w.z * w.z;
  } else {
    u = {T(0), w.z, -w.y};
    n2 = w.y * w.y + w.z * w.z;
  }
  const Vec3<T> v = cross(w, u);
  const T inv_n2 = T(1) / n2;
  const Vec3<T> mu = mul(m, u), mv = mul(m, v);
  const T a00 = dot(u, mu), a01 = dot(u, mv), a11 = dot(v, mv);
  const T mean = T(0.5) * (a00 + a11), h = T(0.5) * (a00 - a11);
  const T r = hd_sqrt(h * h + a01 * a01);
  hi = (mean + r) * inv_n2;
  lo = (mean - r) * inv_n2;
  if (!hi_vec) return;
  T cu = T(1), cv = T(0);  // a double eigenvalue: any direction in the plane will do
  if (r > T(0)) {
    if (h >= T(0)) {
      cu = h + r;
      cv = a01;
    } else {
      cu = a01;
      cv = r - h;
    }
  }
  const T inv = T(1) / hd_sqrt((cu * cu + cv * cv) * n2);
  cu *= inv;
  cv *= inv;
  // v = w x u and w x v = -u: w x (cu u + cv v) = cu v - cv u.
  *hi_vec = {cu * u.x + cv * v.x, cu * u.y + cv * v.y, cu * u.z + cv * v.z};
  *lo_vec = {cu * v.x - cv * u.x, cu * v.y - cv * u.y, cu * v.z - cv * u.z};
}

// The decomposition behind eigen_sym3 (see the file comment): eigenvalues in decreasing order
// into value, and eigenvectors into vec[0..2] when all_vectors, else only the smallest's into
// vec[0] (the feature kernel's normal: the other two are then never formed). Without prescale
// the matrix is used in its own units (a division less on the critical path): only for entries
// whose squares neither overflow nor underflow, as a covariance of local metres.
template <class T>
LIDARHD_HD inline void eigen_sym3_impl(const Sym3<T>& a, bool prescale, bool all_vectors,
                                       T value[3], Vec3<T>* vec) {
  T s = T(1);
  if (prescale) {
    s = hd_max(hd_max(hd_abs(a.xx), hd_abs(a.yy)), hd_abs(a.zz));
    s = hd_max(s, hd_max(hd_max(hd_abs(a.xy), hd_abs(a.xz)), hd_abs(a.yz)));
  }
  const Vec3<T> ex{T(1), T(0), T(0)}, ey{T(0), T(1), T(0)}, ez{T(0), T(0), T(1)};
  if (!(s > T(0))) {
    value[0] = value[1] = value[2] = T(0);
    vec[0] = all_vectors ? ex : ez;
    if (all_vectors) {
      vec[1] = ey;
      vec[2] = ez;
    }
    return;
  }
  const T inv_s = prescale ? T(1) / s : T(1);
  const Sym3<T> b = prescale ? Sym3<T>{a.xx * inv_s, a.xy * inv_s, a.xz * inv_s,
                                       a.yy * inv_s, a.yz * inv_s, a.zz * inv_s}
                             : a;
  const T q = (b.xx + b.yy + b.zz) / T(3);
  const T dxx = b.xx - q, dyy = b.yy - q, dzz = b.zz - q;
  const T p2 = (dxx * dxx + dyy * dyy + dzz * dzz +
                T(2) * (b.xy * b.xy + b.xz * b.xz + b.yz * b.yz)) / T(6);
  if (!(p2 > T(0))) {  // a multiple of the identity: every direction is an eigenvector
    value[0] = value[1] = value[2] = q * s;
    vec[0] = all_vectors ? ex : ez;
    if (all_vectors) {
      vec[1] = ey;
      vec[2] = ez;
    }
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
  // det >= 0: the largest is the isolated one; else the smallest, the root of the mirrored cubic.
  const bool top = half_det >= T(0);
  const T beta = top ? cubic_top_root(half_det) : -cubic_top_root(-half_det);
  const Vec3<T> w = simple_eigenvector(c, beta);
  const T iso = dot(w, mul(c, w));  // Rayleigh quotient: exact for an exact axis vector
  T pair_hi, pair_lo;
  Vec3<T> hi_vec{T(1), T(0), T(0)}, lo_vec{T(0), T(1), T(0)};
  const bool want_pair_vectors = all_vectors || top;
  complement_eigenpairs(c, w, pair_hi, pair_lo, want_pair_vectors ? &hi_vec : nullptr, &lo_vec);
  if (top) {
    value[0] = iso;
    value[1] = pair_hi;
    value[2] = pair_lo;
    if (all_vectors) {
      vec[0] = w;
      vec[1] = hi_vec;
      vec[2] = lo_vec;
    } else {
      vec[0] = lo_vec;
    }
  } else {
    value[0] = pair_hi;
    value[1] = pair_lo;
    value[2] = iso;
    if (all_vectors) {
      vec[0] = hi_vec;
      vec[1] = lo_vec;  // = w x hi: (hi, w x hi, w) is right-handed
      vec[2] = w;
    } else {
      vec[0] = w;
    }
  }
  for (int k = 0; k < 3; ++k) value[k] = (q + p * value[k]) * s;
}

// Eigen decomposition of a symmetric 3x3 matrix (see the file comment). Non-finite input gives
// non-finite output; callers check their input.
template <class T>
LIDARHD_HD inline void eigen_sym3(const Sym3<T>& a, Eigen3<T>& e) {
  eigen_sym3_impl(a, true, true, e.value, e.vector);
}

// Eigenvalues in decreasing order and the unit eigenvector of the smallest (a normal) of a
// covariance in local metres (entries between about 1e-18 and 1e18: no prescaling; below, the
// feature kernel's degenerate test catches it), without forming the other two vectors.
template <class T>
LIDARHD_HD inline void eigen_sym3_smallest(const Sym3<T>& a, T value[3], Vec3<T>& smallest) {
  eigen_sym3_impl(a, false, false, value, &smallest);
}

}  // namespace lidarhd::features::detail
