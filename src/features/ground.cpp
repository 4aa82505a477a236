// The ground grid behind height_above_ground (ground_impl.hpp).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "features/ground_impl.hpp"
#include "lidarhd/features/ground.hpp"

namespace lidarhd::features::detail {

namespace {

// Fills empty cells that lie between measured cells on a row, column or diagonal: each such line
// gives the linear interpolation between the nearest measured cell on either side, and the
// lines are averaged with weight 1 / (span length). Exact on a planar terrain, and O(cells) per
// direction (one forward and one backward sweep). Cells on no such line stay empty.
void fill_along_lines(GroundGrid& g, std::vector<uint8_t>& state) {
  const int nx = g.nx, ny = g.ny;
  const size_t cells = static_cast<size_t>(nx) * static_cast<size_t>(ny);
  std::vector<double> acc(cells, 0.0), weight(cells, 0.0);
  std::vector<int64_t> before(cells, -1);
  const int dirs[4][2] = {{1, 0}, {0, 1}, {1, 1}, {1, -1}};
  auto at = [nx](int i, int j) { return static_cast<size_t>(j) * static_cast<size_t>(nx) + i; };
  for (const auto& d : dirs) {
    const int dx = d[0], dy = d[1];
    const double step = g.cell * std::sqrt(static_cast<double>(dx * dx + dy * dy));
    // Forward: rows in the order that visits (i - dx, j - dy) before (i, j).
    for (int jj = 0; jj < ny; ++jj) {
      const int j = dy >= 0 ? jj : ny - 1 - jj;
      for (int i = 0; i < nx; ++i) {
        const size_t c = at(i, j);
        const int pi = i - dx, pj = j - dy;
        const bool inside = pi >= 0 && pj >= 0 && pj < ny;
        before[c] = g.measured[c] ? static_cast<int64_t>(c)
                                  : (inside ? before[at(pi, pj)] : int64_t{-1});
      }
    }
    // Backward, carrying the nearest measured cell after (i, j) in a per-line array.
    std::vector<int64_t> after(cells, -1);
    for (int jj = ny - 1; jj >= 0; --jj) {
      const int j = dy >= 0 ? jj : ny - 1 - jj;
      for (int i = nx - 1; i >= 0; --i) {
        const size_t c = at(i, j);
        const int ni = i + dx, nj = j + dy;
        const bool inside = ni < nx && nj >= 0 && nj < ny;
        after[c] = g.measured[c] ? static_cast<int64_t>(c)
                                 : (inside ? after[at(ni, nj)] : int64_t{-1});
        if (g.measured[c] || before[c] < 0 || after[c] < 0) continue;
        const auto b = static_cast<size_t>(before[c]), a = static_cast<size_t>(after[c]);
        // Steps along the line: the x distance, or the y distance on a column.
        auto steps = [&](size_t o) {
          const int64_t di = static_cast<int64_t>(o % nx) - i;
          const int64_t dj = static_cast<int64_t>(o / nx) - j;
          return static_cast<double>(dx != 0 ? std::llabs(di) : std::llabs(dj));
        };
        const double d1 = steps(b), d2 = steps(a);
        const double value = (g.height[b] * d2 + g.height[a] * d1) / (d1 + d2);
        const double w = 1.0 / ((d1 + d2) * step);
        acc[c] += w * value;
        weight[c] += w;
      }
    }
  }
  for (size_t c = 0; c < cells; ++c) {
    if (weight[c] > 0) {
      g.height[c] = static_cast<float>(acc[c] / weight[c]);
      state[c] = 1;
    }
  }
}

}  // namespace

GroundGrid ground_geometry(double min_x, double max_x, double min_y, double max_y, double cell) {
  GroundGrid g;
  if (!std::isfinite(max_x - min_x) || !std::isfinite(max_y - min_y) || !(cell > 0)) return g;
  // Cells sit on multiples of `cell` in local coordinates, not at the cloud's minimum: a tile with
  // a halo and the merged cloud of its neighbours (same origin) then share cell boundaries.
  auto index = [](double v, double c) { return static_cast<int>(std::floor(static_cast<float>(v) / static_cast<float>(c))); };
  auto extent = [&](double c) {
    return double(index(max_x, c) - index(min_x, c) + 1) * double(index(max_y, c) - index(min_y, c) + 1);
  };
  // Grow the cell until the grid fits the cap.
  while (extent(cell) > static_cast<double>(kMaxGroundCells)) cell *= 2;
  g.cell = static_cast<float>(cell);
  g.ix0 = index(min_x, cell), g.iy0 = index(min_y, cell);
  g.nx = index(max_x, cell) - g.ix0 + 1;
  g.ny = index(max_y, cell) - g.iy0 + 1;
  return g;
}

size_t ground_cell_index(const GroundGrid& g, float x, float y) {
  // The kernel's rule (ground_height): float division, then the integer offset.
  const int cx = std::min(g.nx - 1, std::max(0, static_cast<int>(std::floor(x / g.cell)) - g.ix0));
  const int cy = std::min(g.ny - 1, std::max(0, static_cast<int>(std::floor(y / g.cell)) - g.iy0));
  return static_cast<size_t>(cy) * static_cast<size_t>(g.nx) + static_cast<size_t>(cx);
}

void finish_ground_grid(GroundGrid& g, const std::vector<double>& sum,
                        const std::vector<uint32_t>& count) {
  const size_t cells = static_cast<size_t>(g.nx) * static_cast<size_t>(g.ny);
  g.height.assign(cells, std::numeric_limits<float>::quiet_NaN());
  g.measured.assign(cells, 0);
  if (g.ground_points == 0) return;

  // 0 empty, 1 filled, 2 queued for the current layer.
  std::vector<uint8_t> state(cells, 0);
  for (size_t c = 0; c < cells; ++c) {
    if (count[c] == 0) continue;
    g.height[c] = static_cast<float>(sum[c] / count[c]);
    g.measured[c] = 1;
    state[c] = 1;
  }
  fill_along_lines(g, state);
  auto for_neighbours = [&](size_t c, auto&& fn) {
    const int cx = static_cast<int>(c % static_cast<size_t>(g.nx));
    const int cy = static_cast<int>(c / static_cast<size_t>(g.nx));
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const int ix = cx + dx, iy = cy + dy;
        if ((dx == 0 && dy == 0) || ix < 0 || iy < 0 || ix >= g.nx || iy >= g.ny) continue;
        fn(static_cast<size_t>(iy) * static_cast<size_t>(g.nx) + static_cast<size_t>(ix));
      }
    }
  };
  // What no line reached (beyond the outermost measured cells, or off every line through
  // them) is filled layer by layer. Layer 1: empty cells touching a filled one; each later
  // layer: empty cells touching the previous one. A layer only reads cells filled before it,
  // so the order within a layer does not matter.
  std::vector<size_t> layer;
  for (size_t c = 0; c < cells; ++c) {
    if (state[c] != 0) continue;
    bool touches = false;
    for_neighbours(c, [&](size_t nb) { touches = touches || state[nb] == 1; });
    if (touches) {
      state[c] = 2;
      layer.push_back(c);
    }
  }
  std::vector<size_t> next;
  while (!layer.empty()) {
    for (size_t c : layer) {
      double s = 0;
      int k = 0;
      for_neighbours(c, [&](size_t nb) {
        if (state[nb] == 1) {
          s += g.height[nb];
          ++k;
        }
      });
      g.height[c] = static_cast<float>(s / k);  // k >= 1 by construction
    }
    for (size_t c : layer) state[c] = 1;
    next.clear();
    for (size_t c : layer) {
      for_neighbours(c, [&](size_t nb) {
        if (state[nb] == 0) {
          state[nb] = 2;
          next.push_back(nb);
        }
      });
    }
    std::sort(next.begin(), next.end());
    layer.swap(next);
  }
}

GroundGrid build_ground_grid(const float* x, const float* y, const float* z, const uint8_t* cls,
                             size_t n, double cell, uint8_t ground_class) {
  if (n == 0) return GroundGrid();
  double min_x = x[0], max_x = x[0], min_y = y[0], max_y = y[0];
  for (size_t i = 1; i < n; ++i) {
    min_x = std::min<double>(min_x, x[i]);
    max_x = std::max<double>(max_x, x[i]);
    min_y = std::min<double>(min_y, y[i]);
    max_y = std::max<double>(max_y, y[i]);
  }
  GroundGrid g = ground_geometry(min_x, max_x, min_y, max_y, cell);
  if (g.nx == 0) return g;
  const size_t cells = static_cast<size_t>(g.nx) * static_cast<size_t>(g.ny);
  std::vector<double> sum(cells, 0.0);
  std::vector<uint32_t> count(cells, 0);
  for (size_t i = 0; i < n; ++i) {
    if (cls[i] != ground_class) continue;
    const size_t c = ground_cell_index(g, x[i], y[i]);
    sum[c] += z[i];
    ++count[c];
    ++g.ground_points;
  }
  finish_ground_grid(g, sum, count);
  return g;
}

}  // namespace lidarhd::features::detail

namespace lidarhd::features {

GroundBuilder::GroundBuilder(float min_x, float max_x, float min_y, float max_y, double cell)
    : grid_(std::make_unique<GroundModel>(detail::ground_geometry(min_x, max_x, min_y, max_y, cell))) {
  const size_t cells = static_cast<size_t>(grid_->nx) * static_cast<size_t>(grid_->ny);
  sum_.assign(cells, 0.0);
  count_.assign(cells, 0);
}

GroundBuilder::~GroundBuilder() = default;

void GroundBuilder::add(float x, float y, float z) {
  if (grid_->nx == 0) return;
  const size_t c = detail::ground_cell_index(*grid_, x, y);
  sum_[c] += z;
  ++count_[c];
  ++grid_->ground_points;
}

std::shared_ptr<const GroundModel> GroundBuilder::finish() {
  if (grid_->nx > 0) detail::finish_ground_grid(*grid_, sum_, count_);
  sum_ = {};
  count_ = {};
  return std::shared_ptr<const GroundModel>(std::move(grid_));
}

}  // namespace lidarhd::features
