// Ground model for height_above_ground: a grid of ground heights built on the host from the
// ground-class points (ground.cpp), sampled per point by the feature kernels on either device.
#pragma once

#include <math.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lidarhd/core/hd.hpp"

namespace lidarhd::features::detail {

// POD view for kernels. Cell (ix, iy) covers [(ix0 + ix)*cell, (ix0 + ix + 1)*cell) (same in y):
// cells sit on multiples of `cell`, and positions are computed as x / cell before the integer
// offset is removed, so a tile with a halo and the merged cloud (same local origin) give the
// same bits. height[iy * nx + ix] is the ground height there (measured or filled); measured[]
// says which.
struct GroundView {
  const float* height = nullptr;
  const uint8_t* measured = nullptr;
  int nx = 0, ny = 0;
  float cell = 1.0f;
  int ix0 = 0, iy0 = 0;
  int valid = 0;  // 0: no ground point at all
};

LIDARHD_HD inline int ground_clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// floorf(v) for |v| < 2^31 (grid coordinates), without the libm call that baseline x86-64 makes
// of floorf: truncation, then one down for negative fractions. Past 2^24 every float is an
// integer already, and a -0 never reaches it (x / cell - 0.5 is never -0).
LIDARHD_HD inline float ground_floor(float v) {
  const float t = static_cast<float>(static_cast<int>(v));
  return t > v ? t - 1.0f : t;
}

// Bilinear interpolation between cell centres (clamped at the grid's outer half cells), so that
// the model is continuous: no steps at cell borders. `measured_cell` tells whether the cell
// containing the point had ground points of its own.
LIDARHD_HD inline float ground_height(const GroundView& g, float x, float y, bool& measured_cell) {
  const float ux = x / g.cell, uy = y / g.cell;
  const float fx = ux - 0.5f;
  const float fy = uy - 0.5f;
  const float flx = ground_floor(fx), fly = ground_floor(fy);
  float tx = fx - flx;
  float ty = fy - fly;
  int ix = static_cast<int>(flx) - g.ix0;
  int iy = static_cast<int>(fly) - g.iy0;
  if (ix < 0) {
    ix = 0;
    tx = 0.0f;
  }
  if (iy < 0) {
    iy = 0;
    ty = 0.0f;
  }
  if (ix > g.nx - 2) {
    ix = g.nx > 1 ? g.nx - 2 : 0;
    tx = g.nx > 1 ? 1.0f : 0.0f;
  }
  if (iy > g.ny - 2) {
    iy = g.ny > 1 ? g.ny - 2 : 0;
    ty = g.ny > 1 ? 1.0f : 0.0f;
  }
  const int ix1 = ix + 1 < g.nx ? ix + 1 : ix;
  const int iy1 = iy + 1 < g.ny ? iy + 1 : iy;
  const float h00 = g.height[iy * g.nx + ix], h10 = g.height[iy * g.nx + ix1];
  const float h01 = g.height[iy1 * g.nx + ix], h11 = g.height[iy1 * g.nx + ix1];
  const float lo = h00 + (h10 - h00) * tx;
  const float hi = h01 + (h11 - h01) * tx;
  const int cx = ground_clamp(static_cast<int>(ground_floor(ux)) - g.ix0, 0, g.nx - 1);
  const int cy = ground_clamp(static_cast<int>(ground_floor(uy)) - g.iy0, 0, g.ny - 1);
  measured_cell = g.measured[cy * g.nx + cx] != 0;
  return lo + (hi - lo) * ty;
}

// Host-side grid (ground.cpp).
struct GroundGrid {
  std::vector<float> height;
  std::vector<uint8_t> measured;
  int nx = 0, ny = 0;
  float cell = 1.0f;
  int ix0 = 0, iy0 = 0;  // grid origin in cells (see GroundView)
  uint64_t ground_points = 0;
  bool valid() const { return ground_points > 0; }
};

// Most cells a ground grid may have; a wider extent gets a coarser cell (reported back).
constexpr size_t kMaxGroundCells = size_t{1} << 22;

// Builds the grid over the x/y extent of all n points (cell `cell` metres, grown if the extent
// needs more than kMaxGroundCells): each cell holding ground points gets their mean z. An
// empty cell between measured cells on its row, column or diagonals gets the average of those
// lines' linear interpolations (exact on a planar terrain: no step under buildings); cells
// outside them (tile borders) are filled layer by layer from their filled 8-neighbours.
// Deterministic: sequential sweeps in a fixed order.
GroundGrid build_ground_grid(const float* x, const float* y, const float* z, const uint8_t* cls,
                             size_t n, double cell, uint8_t ground_class);

// The steps of build_ground_grid, for a grid accumulated point by point (GroundBuilder): the
// geometry over an x/y extent (nx = 0 when it is not finite), the cell of a point, and the means
// and gap filling from per-cell sums and counts (ground_points already counted).
GroundGrid ground_geometry(double min_x, double max_x, double min_y, double max_y, double cell);
size_t ground_cell_index(const GroundGrid& g, float x, float y);
void finish_ground_grid(GroundGrid& g, const std::vector<double>& sum,
                        const std::vector<uint32_t>& count);

}  // namespace lidarhd::features::detail
