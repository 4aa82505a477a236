// Features of a tile in spatial chunks: what a GPU out of memory retries with. Each chunk
// computes the features of its own points over them plus every point within a margin, taken in
// the global order (tile, then halo) so that distance ties break as in the whole-tile
// computation, with the whole cloud's ground model. A point whose neighbourhood may reach past
// the margin makes its chunk redo with a wider one (as streamed tiles do, stream_tile.cpp), so
// the values are the whole-tile ones.
#include <algorithm>
#include <cmath>
#include <limits>

#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline::detail {
namespace {

// The ground model of every point of `all`, whose x/y extent is given.
std::shared_ptr<const features::GroundModel> ground_of(const features::PointColumns& all,
                                                       const features::FeatureOptions& options,
                                                       float x0, float x1, float y0, float y1) {
  features::GroundBuilder builder(x0, x1, y0, y1, options.ground_cell);
  for (size_t i = 0; i < all.n; ++i) {
    if (all.classification[i] == options.ground_class) builder.add(all.x[i], all.y[i], all.z[i]);
  }
  return builder.finish();
}

}  // namespace

double unseen_reach(double x, double y, float reach2, const double box[4], const bool limits[4]) {
  double room = std::numeric_limits<double>::infinity();
  if (limits[0]) room = std::min(room, x - box[0]);
  if (limits[1]) room = std::min(room, box[1] - x);
  if (limits[2]) room = std::min(room, y - box[2]);
  if (limits[3]) room = std::min(room, box[3] - y);
  // A relative and an absolute slack cover float rounding in the kernel's distances.
  const double reach = std::sqrt(double(reach2));
  return reach * (1 + 1e-5) + 1e-3 < room ? 0.0 : reach;
}

uint64_t device_bytes_per_point(const features::FeatureOptions& options) {
  // x, y, z and colours (20), the grid's sorted copies, keys and index (28), status and reach
  // (5), the columns (4 each).
  return 53 + 4 * uint64_t(options.features.size());
}

int chunks_for_budget(uint64_t n, const features::FeatureOptions& options, uint64_t budget) {
  if (budget == 0) return 1;
  // Margins add about half as much again to a chunk of a 1 km tile cut 4 x 4; more chunks per
  // side add more: aim at two thirds of the budget.
  const double need = 1.5 * double(n) * double(device_bytes_per_point(options));
  const int per_side = static_cast<int>(std::ceil(std::sqrt(need / (0.67 * double(budget)))));
  return std::max(1, std::min(per_side, 64));
}

features::FeatureTable tile_features(const features::PointColumns& all, size_t n,
                                     const features::FeatureOptions& options, int per_side,
                                     double margin) {
  if (per_side <= 1 || n == 0) return features::compute_features(all, options);
  float x0 = all.x[0], x1 = all.x[0], y0 = all.y[0], y1 = all.y[0];
  for (size_t i = 1; i < n; ++i) {
    x0 = std::min(x0, all.x[i]), x1 = std::max(x1, all.x[i]);
    y0 = std::min(y0, all.y[i]), y1 = std::max(y1, all.y[i]);
  }
  float ax0 = x0, ax1 = x1, ay0 = y0, ay1 = y1;  // extent of every point, halo included
  for (size_t i = n; i < all.n; ++i) {
    ax0 = std::min(ax0, all.x[i]), ax1 = std::max(ax1, all.x[i]);
    ay0 = std::min(ay0, all.y[i]), ay1 = std::max(ay1, all.y[i]);
  }
  const double sx = std::max(1e-3, double(x1 - x0) / per_side), sy = std::max(1e-3, double(y1 - y0) / per_side);
  auto chunk_of = [&](float v, float lo, double side) {
    return std::min(per_side - 1, std::max(0, static_cast<int>((v - lo) / side)));
  };
  features::FeatureOptions o = options;
  o.report_reach = true;
  const bool ground = std::find(o.features.begin(), o.features.end(), features::Feature::kHeightAboveGround) != o.features.end();
  if (ground && all.classification) o.ground = ground_of(all, o, ax0, ax1, ay0, ay1);
  features::FeatureTable out;
  out.features = options.features;
  out.n = n;
  out.f32.assign(options.features.size() * n, 0.0f);
  out.summary.ground_cell = options.ground_cell;
  std::vector<size_t> pick;
  std::vector<float> cx, cy, cz;
  std::vector<uint8_t> cc;
  std::vector<uint16_t> cr, cg, cb, cn;
  for (int j = 0; j < per_side; ++j) {
    for (int i = 0; i < per_side; ++i) {
      for (double m = margin;;) {
        const double lo_x = x0 + i * sx - m, hi_x = x0 + (i + 1) * sx + m;
        const double lo_y = y0 + j * sy - m, hi_y = y0 + (j + 1) * sy + m;
        pick.clear();
        size_t own = 0;
        for (size_t p = 0; p < all.n; ++p) {
          if (all.x[p] < lo_x || all.x[p] > hi_x || all.y[p] < lo_y || all.y[p] > hi_y) continue;
          pick.push_back(p);
          own += p < n && chunk_of(all.x[p], x0, sx) == i && chunk_of(all.y[p], y0, sy) == j;
        }
        if (own == 0) break;
        auto gather = [&](auto* src, auto& dst) {
          dst.resize(src ? pick.size() : 0);
          for (size_t k = 0; src && k < pick.size(); ++k) dst[k] = src[pick[k]];
          return src ? dst.data() : nullptr;
        };
        features::PointColumns part;
        part.x = gather(all.x, cx), part.y = gather(all.y, cy), part.z = gather(all.z, cz);
        part.classification = gather(all.classification, cc);
        part.red = gather(all.red, cr), part.green = gather(all.green, cg);
        part.blue = gather(all.blue, cb), part.nir = gather(all.nir, cn);
        part.n = pick.size();
        const features::FeatureTable t = features::compute_features(part, o);
        auto mine = [&](size_t p) {
          return p < n && chunk_of(all.x[p], x0, sx) == i && chunk_of(all.y[p], y0, sy) == j;
        };
        const double box[4] = {lo_x, hi_x, lo_y, hi_y};
        const bool limits[4] = {lo_x > ax0, hi_x < ax1, lo_y > ay0, hi_y < ay1};
        double worst = 0;
        for (size_t k = 0; k < pick.size(); ++k) {
          if (!mine(pick[k])) continue;
          const double v = unseen_reach(all.x[pick[k]], all.y[pick[k]], t.reach2[k], box, limits);
          worst = std::max(worst, std::isfinite(v) ? v : 2 * m);
        }
        if (worst > 0) {
          m = std::max(2 * m, worst + 1);
          continue;
        }
        for (size_t k = 0; k < pick.size(); ++k) {
          const size_t p = pick[k];
          if (!mine(p)) continue;
          for (size_t f = 0; f < out.features.size(); ++f) out.f32[f * n + p] = t.value(f, k);
        }
        out.summary.points += own;
        out.summary.degenerate += t.summary.degenerate;
        out.summary.float64_fallback += t.summary.float64_fallback;
        out.summary.ground_requested = t.summary.ground_requested;
        out.summary.ground_points = t.summary.ground_points;
        out.summary.ground_available = t.summary.ground_available;
        out.summary.ground_cell = t.summary.ground_cell;
        out.summary.seconds += t.summary.seconds;
        out.summary.index_seconds += t.summary.index_seconds;
        out.summary.kernel_seconds += t.summary.kernel_seconds;
        break;
      }
    }
  }
  return out;
}

}  // namespace lidarhd::pipeline::detail
