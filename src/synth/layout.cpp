// Lays a synthetic scene out from its options: terrain, river, road and bridge, town (streets,
// houses, apartment blocks, gardens, parked cars), fields and hedgerows, forest, scattered and
// riparian trees, a power line; then the spatial index and the pulse-density calibration.
//
// The layout is a fixed pattern in fractions of the tile (west: river; south: fields; north
// centre: town; east: forest) jittered by the seed, so that every class appears in any tile of
// 100 m or more while a 1 km tile looks like a rural edge of a French town.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>

#include "lidarhd/core/error.hpp"
#include "synth/scene_impl.hpp"

namespace lidarhd::synth {

using detail::Rng;
using detail::stream_key;

namespace {

constexpr double kPi = 3.14159265358979323846;

// EPSG:2154's projected bounds (the CRS written into the file must hold the tile).
constexpr double kL93MinX = -357823.0, kL93MaxX = 1313633.0;
constexpr double kL93MinY = 6037008.0, kL93MaxY = 7230728.0;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void validate(const SceneOptions& o) {
  const auto bad = [](const std::string& what) { throw ArgumentError("synth", what); };
  if (!(o.size >= 10 && o.size <= 10000))
    bad("--size " + num(o.size) + ": the tile side must be 10 to 10000 metres");
  if (!(o.density > 0 && o.density <= 1000))
    bad("--density " + num(o.density) + ": must be above 0 and at most 1000 points/m2");
  if (o.density * o.size * o.size > 4e9)
    bad("--size and --density would give " + num(o.density * o.size * o.size) +
        " points; at most 4e9 are allowed (lower one of them)");
  if (!(std::isfinite(o.origin_x) && std::isfinite(o.origin_y)) || o.origin_x < kL93MinX ||
      o.origin_x + o.size > kL93MaxX || o.origin_y < kL93MinY || o.origin_y + o.size > kL93MaxY)
    bad("--origin " + num(o.origin_x) + "," + num(o.origin_y) +
        ": the tile must lie inside Lambert-93's extent (x " + num(kL93MinX) + " to " +
        num(kL93MaxX) + ", y " + num(kL93MinY) + " to " + num(kL93MaxY) + "), e.g. 650000,6860000");
  if (o.threads < 1 || o.threads > 1024) bad("--threads must be 1 to 1024");
}

double rect_distance(const Building& b, double u, double v) {
  double s, t;
  b.to_local(u, v, s, t);
  const double ds = std::max(std::fabs(s) - b.half_length, 0.0);
  const double dt = std::max(std::fabs(t) - b.half_width, 0.0);
  return std::hypot(ds, dt);
}

double power_line_across(const Scene& s, double u, double v) {
  const PowerLine& p = s.power_line;
  return -(u - p.x0) * p.dir_y + (v - p.y0) * p.dir_x;
}

// Rebuilds the CSR index of every object's footprint bounding box.
void build_index(Scene& s) {
  const double size = s.options.size;
  s.cell = std::max(8.0, size / 1000.0);
  s.cells_x = s.cells_y = int(std::ceil(size / s.cell));
  const size_t ncells = size_t(s.cells_x) * size_t(s.cells_y);
  struct Box {
    double u0, v0, u1, v1;
    uint32_t ref;
  };
  std::vector<Box> boxes;
  boxes.reserve(s.buildings.size() + s.trees.size() + s.cars.size() + s.power_line.pylons.size());
  for (size_t i = 0; i < s.buildings.size(); ++i) {
    const Building& b = s.buildings[i];
    const double eu = std::fabs(b.half_length * b.cos_a) + std::fabs(b.half_width * b.sin_a);
    const double ev = std::fabs(b.half_length * b.sin_a) + std::fabs(b.half_width * b.cos_a);
    boxes.push_back({b.cx - eu, b.cy - ev, b.cx + eu, b.cy + ev,
                     detail::object_ref(detail::kBuilding, uint32_t(i))});
  }
  for (size_t i = 0; i < s.trees.size(); ++i) {
    const Tree& t = s.trees[i];
    const double r = t.crown_radius;
    boxes.push_back(
        {t.x - r, t.y - r, t.x + r, t.y + r, detail::object_ref(detail::kTree, uint32_t(i))});
  }
  for (size_t i = 0; i < s.cars.size(); ++i) {
    const Car& c = s.cars[i];
    const double r = std::hypot(c.half_length, c.half_width);
    boxes.push_back(
        {c.cx - r, c.cy - r, c.cx + r, c.cy + r, detail::object_ref(detail::kCar, uint32_t(i))});
  }
  for (size_t i = 0; i < s.power_line.pylons.size(); ++i) {
    const Pylon& p = s.power_line.pylons[i];
    const double r = std::hypot(detail::kArmHalf, 1.0) + 0.1;
    boxes.push_back(
        {p.x - r, p.y - r, p.x + r, p.y + r, detail::object_ref(detail::kPylon, uint32_t(i))});
  }
  const auto cell_span = [&](double lo, double hi, int n, int& a, int& b) {
    a = std::max(0, int(std::floor(lo / s.cell)));
    b = std::min(n - 1, int(std::floor(hi / s.cell)));
  };
  std::vector<uint32_t> count(ncells + 1, 0);
  for (int pass = 0; pass < 2; ++pass) {
    for (const Box& bx : boxes) {
      int x0, x1, y0, y1;
      cell_span(bx.u0, bx.u1, s.cells_x, x0, x1);
      cell_span(bx.v0, bx.v1, s.cells_y, y0, y1);
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
          const size_t c = size_t(y) * size_t(s.cells_x) + size_t(x);
          if (pass == 0)
            ++count[c + 1];
          else
            s.cell_refs[count[c]++] = bx.ref;
        }
    }
    if (pass == 0) {
      for (size_t c = 0; c < ncells; ++c) count[c + 1] += count[c];
      s.cell_start = count;
      s.cell_refs.assign(count[ncells], 0);
    }
  }
}

bool clear_of_buildings(const Scene& s, double u, double v, double r) {
  const int x0 = std::max(0, int(std::floor((u - r) / s.cell)));
  const int x1 = std::min(s.cells_x - 1, int(std::floor((u + r) / s.cell)));
  const int y0 = std::max(0, int(std::floor((v - r) / s.cell)));
  const int y1 = std::min(s.cells_y - 1, int(std::floor((v + r) / s.cell)));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const size_t c = size_t(y) * size_t(s.cells_x) + size_t(x);
      for (uint32_t k = s.cell_start[c]; k < s.cell_start[c + 1]; ++k) {
        const uint32_t ref = s.cell_refs[k];
        if ((ref >> detail::kIndexBits) != detail::kBuilding) continue;
        if (rect_distance(s.buildings[ref & detail::kIndexMask], u, v) < r) return false;
      }
    }
  return true;
}

bool near_river(const Scene& s, double u, double v, double margin) {
  return std::fabs(u - detail::river_centre(s, v)) < s.river.half_width + s.river.bank + margin;
}
bool near_road(const Scene& s, double u, double v, double margin) {
  return std::fabs(v - detail::road_centre(s, u)) < s.road.half_width + margin;
}
bool inside_tile(const Scene& s, double u, double v, double margin) {
  return u >= margin && v >= margin && u <= s.options.size - margin && v <= s.options.size - margin;
}

void add_tree(Scene& s, double u, double v, double height, double radius, double base,
              bool conifer) {
  Tree t;
  t.x = u, t.y = v, t.height = height, t.crown_radius = radius;
  t.crown_base = std::min(base, height - 0.5);
  t.ground_z = ground_z(s, u, v);
  t.conifer = conifer;
  s.trees.push_back(t);
}

void lay_terrain_river_road(Scene& s, Rng& rng) {
  const double S = s.options.size;
  Terrain& t = s.terrain;
  t.base = rng.uniform(60, 400);
  const double slope = rng.uniform(0.003, 0.02), dir = rng.uniform(0, 2 * kPi);
  t.gx = slope * std::cos(dir), t.gy = slope * std::sin(dir);
  const double wavelength[4] = {600, 300, 150, 70};
  const double amplitude[4] = {3.0, 1.5, 0.6, 0.25};
  for (int i = 0; i < 4; ++i) {
    const double a = rng.uniform(0, 2 * kPi),
                 k = 2 * kPi / (wavelength[i] * rng.uniform(0.8, 1.25));
    t.waves[size_t(i)] = {k * std::cos(a), k * std::sin(a), rng.uniform(0, 2 * kPi),
                          amplitude[i] * rng.uniform(0.6, 1.2)};
  }
  River& r = s.river;
  r.u0 = S * rng.uniform(0.10, 0.15);
  r.amplitude = 0.03 * S;
  r.k = 2 * kPi / (S * rng.uniform(0.5, 0.9));
  r.phase = rng.uniform(0, 2 * kPi);
  r.half_width = std::clamp(0.0175 * S, 4.0, 20.0);
  r.bank = 5, r.depth = 2.5;

  Road& d = s.road;
  d.v0 = S * rng.uniform(0.40, 0.44);
  d.slope = rng.uniform(-0.08, 0.08);
  d.half_width = 3.5;
  double u = r.u0;  // where the road meets the river's centre line (fixed point)
  for (int i = 0; i < 20; ++i) u = detail::river_centre(s, detail::road_centre(s, u));
  d.bridge_u = u;
  d.bridge_half_span = r.half_width + r.bank + 2;
  d.bridge_deck_z = natural_ground_z(s, u, detail::road_centre(s, u)) + 1.2;
}

void lay_town(Scene& s, Rng& rng) {
  const double S = s.options.size;
  Town& w = s.town;
  w.area = {S * rng.uniform(0.26, 0.30), S * rng.uniform(0.48, 0.52), S * rng.uniform(0.72, 0.76),
            S * rng.uniform(0.94, 0.97)};
  w.cx = 0.5 * (w.area.u0 + w.area.u1), w.cy = 0.5 * (w.area.v0 + w.area.v1);
  const double alpha = rng.uniform(-0.35, 0.35);
  w.cos_a = std::cos(alpha), w.sin_a = std::sin(alpha);
  const auto world = [&](double ls, double lt, double& u, double& v) {
    u = w.cx + ls * w.cos_a - lt * w.sin_a;
    v = w.cy + ls * w.sin_a + lt * w.cos_a;
  };
  const auto footprint_ok = [&](const Building& b) {
    for (int i = -2; i <= 2; ++i)
      for (int j = -2; j <= 2; ++j) {
        const double ls = 0.5 * i * b.half_length, lt = 0.5 * j * b.half_width;
        const double u = b.cx + ls * b.cos_a - lt * b.sin_a;
        const double v = b.cy + ls * b.sin_a + lt * b.cos_a;
        if (!w.area.contains(u, v) || !inside_tile(s, u, v, 1) || near_river(s, u, v, 2) ||
            near_road(s, u, v, 2))
          return false;
      }
    return true;
  };
  const double half_diag = 0.5 * std::hypot(w.area.u1 - w.area.u0, w.area.v1 - w.area.v0);
  const int ni = int(std::ceil(half_diag / w.pitch_s)) + 1;
  const int nk = int(std::ceil(half_diag / w.pitch_t)) + 1;
  struct Lot {
    double s, t;
  };
  std::vector<Lot> gardens;
  for (int k = -nk; k <= nk; ++k)
    for (int i = -ni; i <= ni; ++i) {
      Rng br(stream_key(s.options.seed, detail::kLot, uint64_t(int64_t(i)), uint64_t(int64_t(k))));
      const double bs = i * w.pitch_s, bt = k * w.pitch_t;
      if ((i != 0 || k != 0) && br.chance(0.2)) {  // apartment or commercial block
        Building b;
        world(bs, bt, b.cx, b.cy);
        b.cos_a = w.cos_a, b.sin_a = w.sin_a;
        b.half_length = br.uniform(17, 26), b.half_width = br.uniform(8, 13);
        b.eave_height = br.uniform(9, 20);
        b.roof = RoofType::kFlat;
        b.reflectance = float(br.uniform(0.2, 0.5));
        b.base_z = ground_z(s, b.cx, b.cy);
        if (footprint_ok(b)) s.buildings.push_back(b);
        continue;
      }
      for (int row = 0; row < 2; ++row)
        for (int col = 0; col < 4; ++col) {
          const double ls = bs - 22.5 + 15 * col;
          const double side = row == 0 ? -1 : 1;  // which street the lot faces
          const double lt = bt + side * 10;
          if (!br.chance(0.88)) {
            gardens.push_back({ls, lt});
            continue;
          }
          Building b;
          b.half_length = br.uniform(4.5, 6.5), b.half_width = br.uniform(3.5, 4.8);
          const bool across = br.chance(0.3);
          const double ang = alpha + (across ? kPi / 2 : 0);
          b.cos_a = std::cos(ang), b.sin_a = std::sin(ang);
          world(ls + br.uniform(-1, 1), lt + side * 3.5, b.cx, b.cy);
          b.eave_height = br.uniform(2.8, 6.5);
          const double r = br.uniform();
          b.roof = r < 0.25 ? RoofType::kFlat : r < 0.75 ? RoofType::kGable : RoofType::kHip;
          b.pitch = b.roof == RoofType::kGable ? br.uniform(25, 45) * kPi / 180
                    : b.roof == RoofType::kHip ? br.uniform(20, 35) * kPi / 180
                                               : 0.0;
          b.reflectance = float(br.uniform(0.15, 0.55));
          b.base_z = ground_z(s, b.cx, b.cy);
          if (footprint_ok(b)) {
            s.buildings.push_back(b);
            gardens.push_back({ls, lt - side * 5.5});
          }
        }
    }
  // Every town shows each roof type: the three houses nearest the centre get flat, gable, hip.
  std::vector<size_t> order(s.buildings.size());
  std::iota(order.begin(), order.end(), 0);
  const auto dist = [&](size_t i) {
    return std::hypot(s.buildings[i].cx - w.cx, s.buildings[i].cy - w.cy);
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return dist(a) < dist(b); });
  const RoofType forced[3] = {RoofType::kFlat, RoofType::kGable, RoofType::kHip};
  const double forced_pitch[3] = {0, 35 * kPi / 180, 28 * kPi / 180};
  for (size_t j = 0; j < 3 && j < order.size(); ++j) {
    s.buildings[order[j]].roof = forced[j];
    s.buildings[order[j]].pitch = forced_pitch[j];
  }
  build_index(s);  // buildings only, for the clearance checks below

  // Garden trees and shrubs.
  for (size_t g = 0; g < gardens.size(); ++g) {
    Rng gr(stream_key(s.options.seed, detail::kLot, 0xFFFF0000u + g));
    double u, v;
    world(gardens[g].s + gr.uniform(-4, 4), gardens[g].t + gr.uniform(-2, 2), u, v);
    if (gr.chance(0.65)) {
      const double r = gr.uniform(2, 3.5);
      if (w.area.contains(u, v) && inside_tile(s, u, v, 0.5) &&
          clear_of_buildings(s, u, v, r - 1) && !near_road(s, u, v, 1) && !near_river(s, u, v, 1))
        add_tree(s, u, v, gr.uniform(6, 14), r, gr.uniform(1.5, 3), gr.chance(0.2));
    }
    const int shrubs = int(gr.uniform(0, 3));
    for (int k = 0; k < shrubs; ++k) {
      double su, sv;
      world(gardens[g].s + gr.uniform(-6, 6), gardens[g].t + gr.uniform(-4, 4), su, sv);
      const double r = gr.uniform(0.6, 1.2);
      if (w.area.contains(su, sv) && inside_tile(s, su, sv, 0.5) &&
          clear_of_buildings(s, su, sv, r + 0.3) && !near_road(s, su, sv, 1) &&
          !near_river(s, su, sv, 1))
        add_tree(s, su, sv, gr.uniform(0.8, 2.5), r, 0.1, false);
    }
  }
  // Street trees and parked cars along the streets parallel to the grid's s axis.
  for (int k = -nk; k <= nk; ++k) {
    const double st = k * w.pitch_t + 0.5 * w.pitch_t;  // street centre line
    Rng sr(stream_key(s.options.seed, detail::kCarRow, uint64_t(int64_t(k))));
    const bool trees = sr.chance(0.5);
    for (double ls = -half_diag; ls <= half_diag; ls += 6) {
      for (int side = -1; side <= 1; side += 2) {
        const double roll = sr.uniform();
        const double pick = sr.uniform();
        double u, v;
        // Not across the perpendicular streets (junctions).
        const double m = std::fmod(std::fabs(ls + 0.5 * w.pitch_s), w.pitch_s);
        if (m < w.street_half_width + 3 || m > w.pitch_s - w.street_half_width - 3) continue;
        if (trees && roll < 0.25) {
          world(ls, st + side * (w.street_half_width - 0.5), u, v);
          const double r = 2 + 2 * pick;
          if (w.area.contains(u, v) && inside_tile(s, u, v, 0.5) &&
              clear_of_buildings(s, u, v, r - 1) && !near_road(s, u, v, 1) &&
              !near_river(s, u, v, 1))
            add_tree(s, u, v, 8 + 6 * pick, r, 3, false);
        } else if (roll > 0.68) {
          Car c;
          world(ls, st + side * (w.street_half_width - 1.4), c.cx, c.cy);
          c.cos_a = w.cos_a, c.sin_a = w.sin_a;
          c.half_length = 2.0 + 0.5 * pick, c.half_width = 0.85 + 0.1 * pick;
          c.reflectance = float(0.08 + 0.7 * std::fmod(pick * 7.31, 1.0));
          c.base_z = ground_z(s, c.cx, c.cy);
          if (w.area.contains(c.cx, c.cy) && inside_tile(s, c.cx, c.cy, 3) &&
              clear_of_buildings(s, c.cx, c.cy, 3) && !near_river(s, c.cx, c.cy, 2) &&
              !near_road(s, c.cx, c.cy, 3))
            s.cars.push_back(c);
        }
      }
    }
  }
}

void lay_power_line(Scene& s, Rng& rng) {
  const double S = s.options.size;
  PowerLine& p = s.power_line;
  const double ya = S * rng.uniform(0.14, 0.22), yb = S * rng.uniform(0.22, 0.32);
  const double len = std::hypot(S, yb - ya);
  p.x0 = 0, p.y0 = ya;
  p.dir_x = S / len, p.dir_y = (yb - ya) / len;
  p.span = std::clamp(0.3 * S, 50.0, 300.0);
  double along = -p.span * rng.uniform(0.3, 0.7);
  while (along < len + p.span) {
    Pylon py;
    // A pylon never stands in the river or on the road: move it further along.
    for (int tries = 0; tries < 40; ++tries) {
      py.x = p.x0 + along * p.dir_x, py.y = p.y0 + along * p.dir_y;
      if (!near_river(s, py.x, py.y, 6) && !near_road(s, py.x, py.y, 6)) break;
      along += 2;
    }
    py.along = along;
    py.base_z = ground_z(s, py.x, py.y);
    p.pylons.push_back(py);
    along += p.span * rng.uniform(0.9, 1.1);
  }
}

void lay_fields(Scene& s, Rng& rng) {
  const double S = s.options.size;
  Fields& f = s.fields;
  f.area = {S * rng.uniform(0.24, 0.27), S * rng.uniform(0.04, 0.07), S * rng.uniform(0.73, 0.76),
            S * 0.37};
  f.cols = 3, f.rows = 2;
  f.crop_height.resize(6);
  for (int i = 0; i < 6; ++i) {
    const double r = rng.uniform();
    f.crop_height[size_t(i)] = i == 0     ? rng.uniform(0.2, 0.4)  // low vegetation for sure
                               : i == 1   ? rng.uniform(0.8, 1.3)  // medium vegetation (maize)
                               : r < 0.25 ? 0.0
                               : r < 0.6  ? rng.uniform(0.15, 0.45)
                                          : rng.uniform(0.6, 1.2);
  }
  // Hedgerows along the inner parcel boundaries.
  const double pw = (f.area.u1 - f.area.u0) / f.cols, ph = (f.area.v1 - f.area.v0) / f.rows;
  const auto hedge = [&](double ua, double va, double ub, double vb) {
    const double len = std::hypot(ub - ua, vb - va);
    for (double d = 1; d < len; d += 2.5) {
      const double u = ua + (ub - ua) * d / len + rng.uniform(-0.4, 0.4);
      const double v = va + (vb - va) * d / len + rng.uniform(-0.4, 0.4);
      const double h = rng.uniform(1.2, 3.5), r = rng.uniform(0.8, 1.6);
      if (rng.chance(0.85) && inside_tile(s, u, v, 0.5) && !near_road(s, u, v, 1) &&
          !near_river(s, u, v, 1))
        add_tree(s, u, v, h, r, 0.2, false);
    }
  };
  for (int c = 1; c < f.cols; ++c)
    hedge(f.area.u0 + c * pw, f.area.v0, f.area.u0 + c * pw, f.area.v1);
  for (int r = 1; r < f.rows; ++r)
    hedge(f.area.u0, f.area.v0 + r * ph, f.area.u1, f.area.v0 + r * ph);
}

void lay_trees(Scene& s, Rng& rng) {
  const double S = s.options.size;
  s.forest = {S * rng.uniform(0.77, 0.80), 0, S, S * rng.uniform(0.68, 0.74)};
  const auto free_ground = [&](double u, double v, double r) {
    return inside_tile(s, u, v, 0.2) && !near_road(s, u, v, 1.5) && !near_river(s, u, v, 1) &&
           std::fabs(power_line_across(s, u, v)) > 14 && clear_of_buildings(s, u, v, r);
  };
  // Forest: one tree per 6 m cell, jittered, mixed conifers and broadleaves.
  const double cellsz = 6;
  const int nu = int(std::ceil((s.forest.u1 - s.forest.u0) / cellsz));
  const int nv = int(std::ceil((s.forest.v1 - s.forest.v0) / cellsz));
  for (int j = 0; j < nv; ++j)
    for (int i = 0; i < nu; ++i) {
      Rng tr(stream_key(s.options.seed, detail::kTreeRow, uint64_t(j), uint64_t(i)));
      if (!tr.chance(0.92)) continue;
      const double u = s.forest.u0 + (i + tr.uniform(0.1, 0.9)) * cellsz;
      const double v = s.forest.v0 + (j + tr.uniform(0.1, 0.9)) * cellsz;
      const bool conifer = tr.chance(0.4);
      const double h = tr.uniform(14, 28);
      const double r = conifer ? tr.uniform(1.8, 3.0) : tr.uniform(2.5, 4.5);
      const double base = conifer ? tr.uniform(3, 8) : h * tr.uniform(0.3, 0.5);
      if (s.forest.contains(u, v) && free_ground(u, v, 0)) add_tree(s, u, v, h, r, base, conifer);
    }
  // Riparian trees along both banks.
  for (double v = 2; v < S; v += 8)
    for (int side = -1; side <= 1; side += 2) {
      const double u = detail::river_centre(s, v) +
                       side * (s.river.half_width + s.river.bank + rng.uniform(1, 5));
      const double h = rng.uniform(8, 18), r = rng.uniform(2, 4);
      if (rng.chance(0.5) && !s.town.area.contains(u, v) && free_ground(u, v, r))
        add_tree(s, u, v, h, r, h * 0.35, false);
    }
  // Scattered trees in the meadows.
  const double cell = 40;
  const int n = int(std::ceil(S / cell));
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      const double u = (i + rng.uniform()) * cell, v = (j + rng.uniform()) * cell;
      const double h = rng.uniform(7, 20), r = rng.uniform(2.5, 5);
      if (rng.chance(0.25) && !s.town.area.contains(u, v) && !s.fields.area.contains(u, v) &&
          !s.forest.contains(u, v) && free_ground(u, v, r))
        add_tree(s, u, v, h, r, h * 0.4, rng.chance(0.15));
    }
}

void lay_road_cars(Scene& s, Rng& rng) {
  const double S = s.options.size;
  for (double u = rng.uniform(3, 25); u < S - 3; u += rng.uniform(12, 60)) {
    const int lane = rng.chance(0.5) ? 1 : -1;
    Car c;
    const double a = std::atan(s.road.slope) + (lane > 0 ? 0 : kPi);
    c.cos_a = std::cos(a), c.sin_a = std::sin(a);
    c.cx = u, c.cy = detail::road_centre(s, u) + 1.75 * lane;
    c.half_length = rng.uniform(2.0, 2.5), c.half_width = rng.uniform(0.85, 0.95);
    c.reflectance = float(rng.uniform(0.08, 0.8));
    c.base_z = detail::on_bridge(s, c.cx, c.cy) ? s.road.bridge_deck_z : ground_z(s, c.cx, c.cy);
    if (inside_tile(s, c.cx, c.cy, 3) &&
        (detail::on_bridge(s, c.cx, c.cy) || !near_river(s, c.cx, c.cy, 3)))
      s.cars.push_back(c);
  }
}

}  // namespace

double Building::roof_z(double u, double v) const {
  double s, t;
  to_local(u, v, s, t);
  double rise = 0;
  if (roof == RoofType::kGable)
    rise = (half_width - std::fabs(t)) * std::tan(pitch);
  else if (roof == RoofType::kHip)
    rise = std::min(half_width - std::fabs(t), half_length - std::fabs(s)) * std::tan(pitch);
  return base_z + eave_height + std::max(rise, 0.0);
}

double natural_ground_z(const Scene& scene, double u, double v) {
  const Terrain& t = scene.terrain;
  double z = t.base + t.gx * u + t.gy * v;
  for (const Terrain::Wave& w : t.waves) z += w.amplitude * std::sin(w.kx * u + w.ky * v + w.phase);
  return z;
}

double ground_z(const Scene& scene, double u, double v) {
  const River& r = scene.river;
  const double d = std::fabs(u - detail::river_centre(scene, v));
  double z = natural_ground_z(scene, u, v);
  if (d < r.half_width) return z - r.depth;
  if (d < r.half_width + r.bank) {
    const double f = (d - r.half_width) / r.bank;  // 0 at the water's edge, 1 at the top
    z -= r.depth * (1 - f * f * (3 - 2 * f));
  }
  return z;
}

namespace detail {
bool on_street(const Scene& s, double u, double v) {
  const Town& w = s.town;
  if (!w.area.contains(u, v)) return false;
  const double du = u - w.cx, dv = v - w.cy;
  const double ls = du * w.cos_a + dv * w.sin_a, lt = -du * w.sin_a + dv * w.cos_a;
  const double ms = std::fabs(std::remainder(ls - 0.5 * w.pitch_s, w.pitch_s));
  const double mt = std::fabs(std::remainder(lt - 0.5 * w.pitch_t, w.pitch_t));
  return ms < w.street_half_width || mt < w.street_half_width;
}
}  // namespace detail

Scene build_scene(const SceneOptions& options) {
  validate(options);
  Scene s;
  s.options = options;
  Rng rng(stream_key(options.seed, detail::kLayout, 0));
  lay_terrain_river_road(s, rng);
  lay_power_line(s, rng);
  lay_town(s, rng);
  lay_fields(s, rng);
  lay_trees(s, rng);
  lay_road_cars(s, rng);
  build_index(s);
  if (s.trees.size() > detail::kIndexMask || s.buildings.size() > detail::kIndexMask)
    throw ArgumentError("synth", "the scene has too many objects; use a smaller --size");

  s.gps_start = std::floor(3.0e8 + rng.uniform(0, 5.0e7));
  const double area = options.size * options.size;
  const double per_pulse = detail::mean_returns_per_pulse(s);
  const double walls = detail::wall_points_per_pulse_density(s);
  s.pulse_density = options.density * area / (area * per_pulse + walls);
  s.pulse_spacing = 1.0 / std::sqrt(s.pulse_density);
  return s;
}

}  // namespace lidarhd::synth
