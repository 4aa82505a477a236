// NeighborIndex: validates, chooses the grid geometry on the host (so that every device builds
// the same grid) and forwards to a back end (architecture.md convention 5).
#include "lidarhd/spatial/neighbors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lidarhd/core/error.hpp"
#include "spatial/grid_impl.hpp"

namespace lidarhd {
namespace {

// Points per occupied column the automatic cell size aims at (bench_neighbors measures it).
constexpr double kTargetPerColumn = 12.0;
// Columns allowed per point: bounds memory when outliers stretch the bounding box.
constexpr double kMaxColumnsPerPoint = 2.0;
// Columns an explicit cell size may always use (64 MiB of column starts).
constexpr double kMaxExplicitColumns = 16.0 * 1024 * 1024;

struct Bounds {
  float min_x, min_y, min_z, max_x, max_y;
};

Bounds bounds_of(const float* x, const float* y, const float* z, size_t n) {
  Bounds b{x[0], y[0], z[0], x[0], y[0]};
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || !std::isfinite(z[i])) {
      throw ArgumentError("spatial", "NeighborIndex: point " + std::to_string(i) +
                                         " has a non-finite coordinate");
    }
    b.min_x = std::min(b.min_x, x[i]);
    b.max_x = std::max(b.max_x, x[i]);
    b.min_y = std::min(b.min_y, y[i]);
    b.max_y = std::max(b.max_y, y[i]);
    b.min_z = std::min(b.min_z, z[i]);
  }
  return b;
}

// Sets cell, inv_cell, nx, ny; false when the grid would need more than `max_columns`.
bool set_cell(detail::GridGeometry& geo, const Bounds& b, double cell, double max_columns) {
  const float c = static_cast<float>(cell);
  if (!(c > 0.0f) || !std::isfinite(c)) return false;
  const float inv = 1.0f / c;
  if (!std::isfinite(inv)) return false;
  const double nx = std::floor(static_cast<double>((b.max_x - b.min_x) * inv)) + 1.0;
  const double ny = std::floor(static_cast<double>((b.max_y - b.min_y) * inv)) + 1.0;
  // Column numbers are uint32 on every device (and int per axis).
  if (!(nx * ny <= max_columns) || nx * ny > 2147483647.0) return false;
  geo.cell = c;
  geo.inv_cell = inv;
  geo.nx = static_cast<int>(nx);
  geo.ny = static_cast<int>(ny);
  return true;
}

size_t occupied_columns(const float* x, const float* y, size_t n,
                        const detail::GridGeometry& geo) {
  std::vector<uint8_t> used(static_cast<size_t>(geo.nx) * static_cast<size_t>(geo.ny), 0);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const int cx = detail::grid_coord(x[i], geo.min_x, geo.inv_cell, geo.nx);
    const int cy = detail::grid_coord(y[i], geo.min_y, geo.inv_cell, geo.ny);
    const size_t c = static_cast<size_t>(cy) * static_cast<size_t>(geo.nx) +
                     static_cast<size_t>(cx);
    count += used[c] == 0;
    used[c] = 1;
  }
  return count;
}

detail::GridGeometry choose_geometry(const float* x, const float* y, const float* z, size_t n,
                                     float cell_size) {
  detail::GridGeometry geo;
  if (n == 0) return geo;
  const Bounds b = bounds_of(x, y, z, n);
  geo.min_x = b.min_x;
  geo.min_y = b.min_y;
  geo.min_z = b.min_z;
  const double max_columns = kMaxColumnsPerPoint * static_cast<double>(n) + 16.0;
  if (cell_size != 0.0f) {
    // An explicit cell may be finer than the automatic choice, within a fixed memory budget.
    const double allowed = std::max(max_columns, kMaxExplicitColumns);
    if (!(cell_size > 0.0f) || !std::isfinite(cell_size) ||
        !set_cell(geo, b, cell_size, allowed)) {
      throw ArgumentError("spatial", "NeighborIndex: cell size " + std::to_string(cell_size) +
                                         " is not positive or needs more than " +
                                         std::to_string(static_cast<uint64_t>(allowed)) +
                                         " grid columns for " + std::to_string(n) +
                                         " points; use a larger cell or 0 (automatic)");
    }
    return geo;
  }
  // Columns M of side c over the bounding box: (ex + c)(ey + c) = M c^2, solved for c, which
  // also handles a flat box (a line of points) and a single location.
  const double ex = static_cast<double>(b.max_x) - b.min_x;
  const double ey = static_cast<double>(b.max_y) - b.min_y;
  const double m = std::max(1.0, static_cast<double>(n) / kTargetPerColumn);
  double cell = 1.0;
  if (ex + ey > 0.0) {
    cell = m > 1.0 ? ((ex + ey) + std::sqrt((ex + ey) * (ex + ey) + 4.0 * (m - 1.0) * ex * ey)) /
                         (2.0 * (m - 1.0))
                   : 2.0 * std::max(ex, ey);
    // Never finer than the coordinates' own resolution.
    const double mag = std::max({std::fabs(static_cast<double>(b.min_x)),
                                 std::fabs(static_cast<double>(b.max_x)),
                                 std::fabs(static_cast<double>(b.min_y)),
                                 std::fabs(static_cast<double>(b.max_y)), ex, ey});
    cell = std::max(cell, mag * 1e-6);
  }
  while (!set_cell(geo, b, cell, max_columns)) cell *= 1.5;
  // Clustered clouds (a strip, a half-empty box) leave many columns empty and overfill the
  // rest: refine once from the occupied count.
  const double per_column =
      static_cast<double>(n) / static_cast<double>(occupied_columns(x, y, n, geo));
  if (per_column > 1.5 * kTargetPerColumn) {
    double finer = cell * std::sqrt(kTargetPerColumn / per_column);
    detail::GridGeometry refined = geo;
    while (finer < cell && !set_cell(refined, b, finer, max_columns)) finer *= 1.25;
    if (finer < cell) geo = refined;
  }
  return geo;
}

void check_columns(const float* x, const float* y, const float* z, size_t n, const char* what) {
  if (n > 0 && (!x || !y || !z)) {
    throw ArgumentError("spatial", std::string("NeighborIndex: a ") + what +
                                       " column pointer is null for " + std::to_string(n) +
                                       " points");
  }
}

void check_rows(size_t m, int cap, const void* idx, const void* d2) {
  if (m > 0 && (!idx || !d2)) {
    throw ArgumentError("spatial", "NeighborIndex: an output pointer is null");
  }
  if (m > std::numeric_limits<size_t>::max() / 8 / static_cast<size_t>(cap)) {
    throw ArgumentError("spatial", "NeighborIndex: " + std::to_string(m) + " rows of " +
                                       std::to_string(cap) + " neighbours overflow size_t");
  }
}

void check_k(int k, int max, const char* name) {
  if (k < 1 || k > max) {
    throw ArgumentError("spatial", std::string("NeighborIndex: ") + name + " = " +
                                       std::to_string(k) + " is out of range [1, " +
                                       std::to_string(max) + "]");
  }
}

float check_radius(float r) {
  if (!(r >= 0.0f) || !std::isfinite(r)) {
    throw ArgumentError("spatial", "NeighborIndex: radius " + std::to_string(r) +
                                       " must be finite and >= 0");
  }
  return r * r;
}

}  // namespace

NeighborIndex::NeighborIndex(const float* x, const float* y, const float* z, size_t n,
                             const Device& device, float cell_size)
    : grid_(std::make_unique<detail::GridStorage>()) {
  check_columns(x, y, z, n, "point");
  if (n >= detail::kNoNeighbor) {
    throw ArgumentError("spatial", "NeighborIndex: " + std::to_string(n) +
                                       " points; an index holds at most 2^32 - 2 (split the tile)");
  }
  device_ = resolve(device);
  n_ = n;
  const detail::GridGeometry geo = choose_geometry(x, y, z, n, cell_size);
  if (device_.is_cpu()) {
    detail::build_grid_cpu(x, y, z, n, geo, *grid_);
  } else {
#if LIDARHD_WITH_CUDA
    detail::build_grid_cuda(x, y, z, n, geo, device_.index, *grid_);
#else
    detail::throw_no_cuda_support();  // unreachable: resolve() already threw
#endif
  }
  detail::GridView& v = grid_->view;
  v.x = grid_->x.data();
  v.y = grid_->y.data();
  v.z = grid_->z.data();
  v.index = grid_->index.data();
  v.cell_start = grid_->cell_start.data();
  v.nx = geo.nx;
  v.ny = geo.ny;
  v.nz = 1;
  v.cell = geo.cell;
  v.inv_cell = geo.inv_cell;
  v.min_x = geo.min_x;
  v.min_y = geo.min_y;
  v.min_z = geo.min_z;
  v.n = static_cast<uint32_t>(n);
}

NeighborIndex::~NeighborIndex() = default;
NeighborIndex::NeighborIndex(NeighborIndex&&) noexcept = default;
NeighborIndex& NeighborIndex::operator=(NeighborIndex&&) noexcept = default;

float NeighborIndex::cell_size() const { return grid_->view.cell; }

const detail::GridView& NeighborIndex::view() const { return grid_->view; }

void NeighborIndex::run(const float* qx, const float* qy, const float* qz, size_t m, int cap,
                        float limit, uint32_t* idx_out, float* d2_out,
                        uint32_t* count_out) const {
  check_rows(m, cap, idx_out, d2_out);
  if (qx) {
    for (size_t i = 0; i < m; ++i) {
      if (!std::isfinite(qx[i]) || !std::isfinite(qy[i]) || !std::isfinite(qz[i])) {
        throw ArgumentError("spatial", "NeighborIndex: query point " + std::to_string(i) +
                                           " has a non-finite coordinate");
      }
    }
  }
  detail::QueryBatch batch;
  batch.qx = qx;
  batch.qy = qy;
  batch.qz = qz;
  batch.m = m;
  batch.cap = cap;
  batch.limit = limit;
  if (device_.is_cpu()) {
    detail::query_cpu(grid_->view, batch, idx_out, d2_out, count_out);
  } else {
#if LIDARHD_WITH_CUDA
    detail::query_cuda(grid_->view, batch, device_.index, idx_out, d2_out, count_out);
#else
    detail::throw_no_cuda_support();
#endif
  }
}

void NeighborIndex::knn(int k, uint32_t* idx_out, float* d2_out) const {
  check_k(k, kMaxK, "k");
  run(nullptr, nullptr, nullptr, n_, k, detail::kInfD2, idx_out, d2_out, nullptr);
}

void NeighborIndex::radius(float r, int max_k, uint32_t* idx_out, float* d2_out,
                           uint32_t* count_out) const {
  check_k(max_k, kMaxRadiusK, "max_k");
  run(nullptr, nullptr, nullptr, n_, max_k, check_radius(r), idx_out, d2_out, count_out);
}

void NeighborIndex::hybrid(int k, float r, uint32_t* idx_out, float* d2_out,
                           uint32_t* count_out) const {
  check_k(k, kMaxK, "k");
  run(nullptr, nullptr, nullptr, n_, k, check_radius(r), idx_out, d2_out, count_out);
}

void NeighborIndex::knn(const float* qx, const float* qy, const float* qz, size_t m, int k,
                        uint32_t* idx_out, float* d2_out) const {
  check_columns(qx, qy, qz, m, "query");
  check_k(k, kMaxK, "k");
  if (m == 0) return;
  run(qx, qy, qz, m, k, detail::kInfD2, idx_out, d2_out, nullptr);
}

void NeighborIndex::radius(const float* qx, const float* qy, const float* qz, size_t m, float r,
                           int max_k, uint32_t* idx_out, float* d2_out,
                           uint32_t* count_out) const {
  check_columns(qx, qy, qz, m, "query");
  check_k(max_k, kMaxRadiusK, "max_k");
  const float limit = check_radius(r);
  if (m == 0) return;
  run(qx, qy, qz, m, max_k, limit, idx_out, d2_out, count_out);
}

}  // namespace lidarhd
