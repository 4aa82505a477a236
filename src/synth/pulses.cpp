// Point generation for synthetic scenes: the return model of one laser pulse (vertical ray through
// wires, towers and crowns down to the first opaque surface), wall points (vertical surfaces that
// a vertical ray cannot hit, drawn at a density that depends on the scan angle and on the side
// the wall faces), and the acquisition geometry (north-south flight lines every 800 m of absolute
// easting, scan lines across track, GPS time increasing along each scan line).
//
// Work is cut into units of scan lines of one flight line; each unit is a pure function of the
// scene and its indices, so units run on any number of threads and are emitted in order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include "lidarhd/core/error.hpp"

#include "synth/scene_impl.hpp"

namespace lidarhd::synth {
namespace detail {
namespace {

constexpr int kMaxCandidates = 16;
constexpr int kMaxReturns = 7;
constexpr double kMinSeparation = 0.8;  // returns closer along the ray merge into one
constexpr double kIntensityGain = 4000;
constexpr uint32_t kRecordLength = 30;

struct Return {
  double z;
  float strength;  // reflectance x share of the pulse energy
  uint8_t cls;
};

struct Candidate {
  double z;
  float reflectance, cont;  // cont: probability that the pulse goes on below it
  uint8_t cls;
};

uint8_t vegetation_class(double height_above_ground) {
  return height_above_ground >= 1.5 ? 5 : height_above_ground >= 0.5 ? 4 : 3;
}

void insert_sorted(Candidate* c, int& n, const Candidate& x) {
  if (n >= kMaxCandidates) return;
  int i = n++;
  while (i > 0 && c[i - 1].z < x.z) {
    c[i] = c[i - 1];
    --i;
  }
  c[i] = x;
}

double wire_z(const Scene& s, double along, int w, bool& ok) {
  const std::vector<Pylon>& p = s.power_line.pylons;
  ok = false;
  if (p.size() < 2 || along < p.front().along || along >= p.back().along) return 0;
  const auto it = std::upper_bound(p.begin(), p.end(), along,
                                   [](double a, const Pylon& q) { return a < q.along; });
  const Pylon& b = *it;
  const Pylon& a = *(it - 1);
  const double len = b.along - a.along;
  const double f = (along - a.along) / len;
  const double sag = 0.025 * len;
  ok = true;
  return a.base_z + (b.base_z - a.base_z) * f + kWireHeight[w] - 4 * sag * f * (1 - f);
}

void pylon_candidates(const Scene& s, const Pylon& py, double u, double v, Rng& rng, Candidate* c,
                      int& n) {
  const PowerLine& pl = s.power_line;
  const double du = u - py.x, dv = v - py.y;
  const double dl = du * pl.dir_x + dv * pl.dir_y, dc = -du * pl.dir_y + dv * pl.dir_x;
  const double m = std::max(std::fabs(dl), std::fabs(dc));
  const float refl = 0.25f, cont = 0.8f;
  if (m <= kPylonBaseHalf) {  // lattice body, narrowing upwards
    const double top = kPylonHeight * std::min(1.0, (kPylonBaseHalf - m) / (kPylonBaseHalf - 1));
    if (rng.chance(0.45))
      insert_sorted(c, n, {py.base_z + top - 0.3 * rng.uniform(), refl, cont, 15});
    if (top > 2 && rng.chance(0.3))
      insert_sorted(c, n, {py.base_z + rng.uniform(0.5, top - 1.5), refl, cont, 15});
  }
  if (std::fabs(dc) <= kArmHalf && std::fabs(dl) <= 0.6 && rng.chance(0.7))
    insert_sorted(c, n, {py.base_z + kWireHeight[0] + 0.3, refl, cont, 15});
}

void tree_candidates(const Tree& t, double d2, double zg, Rng& rng, Candidate* c, int& n) {
  const double d = std::sqrt(d2) / t.crown_radius;
  double top, bottom;
  if (t.conifer) {
    top = t.height - (t.height - t.crown_base) * d;
    bottom = t.crown_base;
  } else {
    const double mid = 0.5 * (t.height + t.crown_base), half = 0.5 * (t.height - t.crown_base);
    const double h = half * std::sqrt(std::max(0.0, 1 - d * d));
    top = mid + h, bottom = mid - h;
  }
  top += t.ground_z, bottom += t.ground_z;
  const float refl = t.conifer ? 0.28f : 0.38f, cont = t.conifer ? 0.5f : 0.6f;
  const double z1 = top - 0.25 * std::fabs(rng.normal());
  insert_sorted(c, n, {z1, refl, cont, vegetation_class(z1 - zg)});
  if (z1 - 1.0 > bottom && rng.chance(0.45)) {
    const double z2 = rng.uniform(bottom, z1 - 1.0);
    insert_sorted(c, n, {z2, refl, cont, vegetation_class(z2 - zg)});
  }
}

// The returns of a vertical pulse at (u, v), top first. Returns their count (0: no echo, e.g.
// specular water).
int pulse_returns(const Scene& s, double u, double v, Rng& rng, Return* out) {
  const double zg = ground_z(s, u, v);
  double oz = zg + 0.02 * rng.normal();  // opaque surface: ground unless covered
  uint8_t ocls = 2;
  float orefl = 0.42f;
  double oprob = 1;  // chance that the opaque surface returns an echo
  bool open_ground = true;
  if (on_bridge(s, u, v)) {
    oz = s.road.bridge_deck_z + 0.01 * rng.normal(), ocls = 17, orefl = 0.3f, open_ground = false;
  } else if (on_road(s, u, v)) {
    orefl = 0.12f, open_ground = false;
  } else if (std::fabs(u - river_centre(s, v)) < s.river.half_width + s.river.bank &&
             zg < water_level(s, v)) {
    oz = water_level(s, v) + 0.02 * rng.normal(), ocls = 9, orefl = 0.05f, oprob = 0.2;
    open_ground = false;
  } else if (on_street(s, u, v)) {
    orefl = 0.13f, open_ground = false;
  } else if (s.fields.area.contains(u, v)) {
    const Fields& f = s.fields;
    const int col = std::min(f.cols - 1, int((u - f.area.u0) / (f.area.u1 - f.area.u0) * f.cols));
    const int row = std::min(f.rows - 1, int((v - f.area.v0) / (f.area.v1 - f.area.v0) * f.rows));
    const double h = f.crop_height[size_t(row * f.cols + col)];
    if (h >= 0.1) {
      const double hh = h * rng.uniform(0.85, 1.15);
      oz = zg + hh, ocls = vegetation_class(hh), orefl = 0.55f;
    } else {
      orefl = 0.3f;  // bare soil
    }
    open_ground = false;
  }

  Candidate cand[kMaxCandidates];
  int nc = 0;
  uint32_t begin, end;
  cell_range(s, u, v, begin, end);
  for (uint32_t k = begin; k < end; ++k) {
    const uint32_t ref = s.cell_refs[k], idx = ref & kIndexMask;
    switch (ref >> kIndexBits) {
      case kBuilding: {
        const Building& b = s.buildings[idx];
        if (!b.contains(u, v)) break;
        const double rz = b.roof_z(u, v) + 0.008 * rng.normal();
        if (rz > oz) oz = rz, ocls = 6, orefl = b.reflectance, oprob = 1;
        break;
      }
      case kCar: {
        const Car& c = s.cars[idx];
        const double du = u - c.cx, dv = v - c.cy;
        const double cs = du * c.cos_a + dv * c.sin_a, ct = -du * c.sin_a + dv * c.cos_a;
        if (std::fabs(cs) > c.half_length || std::fabs(ct) > c.half_width) break;
        double h = std::fabs(cs) < 0.5 * c.half_length ? 1.45 : 1.0;  // cabin, bonnet and boot
        if (std::fabs(ct) > c.half_width - 0.15) h -= 0.15;
        const double cz = c.base_z + h + 0.01 * rng.normal();
        if (cz > oz) oz = cz, ocls = 1, orefl = c.reflectance, oprob = 1;
        break;
      }
      case kTree: {
        const Tree& t = s.trees[idx];
        const double d2 = (u - t.x) * (u - t.x) + (v - t.y) * (v - t.y);
        if (d2 < t.crown_radius * t.crown_radius) tree_candidates(t, d2, zg, rng, cand, nc);
        break;
      }
      case kPylon:
        pylon_candidates(s, s.power_line.pylons[idx], u, v, rng, cand, nc);
        break;
      default:
        break;
    }
  }
  const PowerLine& pl = s.power_line;
  const double across = -(u - pl.x0) * pl.dir_y + (v - pl.y0) * pl.dir_x;
  if (std::fabs(across) < 7) {
    const double along = (u - pl.x0) * pl.dir_x + (v - pl.y0) * pl.dir_y;
    for (int w = 0; w < kWireCount; ++w) {
      if (std::fabs(across - kWireOffset[w]) >= 0.25) continue;
      bool ok;
      const double z = wire_z(s, along, w, ok);
      if (ok && rng.chance(0.5)) insert_sorted(cand, nc, {z, 0.1f, 0.95f, 14});
    }
  }
  if (open_ground && ocls == 2 && s.forest.contains(u, v) && rng.chance(0.3)) {
    const double h = rng.uniform(0.2, 1.2);  // understory
    insert_sorted(cand, nc, {zg + h, 0.35f, 0.5f, vegetation_class(h)});
  }

  int n = 0;
  double prev = 1e300;
  float energy = 1;
  bool stopped = false;
  for (int i = 0; i < nc && n < kMaxReturns - 1; ++i) {
    const Candidate& c = cand[i];
    if (c.z > prev - kMinSeparation || c.z < oz + kMinSeparation) continue;
    out[n++] = {c.z, c.reflectance * energy * 0.5f, c.cls};
    energy *= 0.5f;
    prev = c.z;
    if (!rng.chance(c.cont)) {
      stopped = true;
      break;
    }
  }
  if (!stopped && oz <= prev - kMinSeparation && rng.chance(oprob))
    out[n++] = {oz, orefl * energy, ocls};
  return n;
}

// ---- acquisition geometry --------------------------------------------------------------------

struct Strip {
  int64_t band = 0;       // absolute flight line index: easting / strip_width
  double u0 = 0, u1 = 0;  // the part of the tile it covers
  double sensor_u = 0;    // nadir easting, local
  bool north = true;      // flight direction
  bool edge_end = false;  // the scan line's end (in scan order) is the true swath edge
  int cols = 1;
  double dx = 1;
  double t0 = 0;  // GPS time of its first scan line
};

struct Geometry {
  std::vector<Strip> strips;
  int rows = 1;
  double dy = 1, row_dt = 1;
};

// `spacing`: pulse spacing across and along track.
Geometry make_geometry(const Scene& s, double spacing) {
  Geometry g;
  const double S = s.options.size, x0 = s.options.origin_x, W = s.strip_width;
  g.rows = std::max(1, int(std::ceil(S / spacing)));
  g.dy = S / g.rows;
  g.row_dt = g.dy / s.speed;
  const int64_t b0 = int64_t(std::floor(x0 / W)), b1 = int64_t(std::floor((x0 + S) / W - 1e-9));
  double t = s.gps_start;
  for (int64_t b = b0; b <= b1; ++b) {
    Strip st;
    st.band = b;
    st.u0 = std::max(0.0, double(b) * W - x0);
    st.u1 = std::min(S, double(b + 1) * W - x0);
    if (st.u1 - st.u0 < 1e-6) continue;
    st.sensor_u = (double(b) + 0.5) * W - x0;
    st.north = g.strips.size() % 2 == 0;
    st.edge_end = st.north ? double(b + 1) * W - x0 <= S : double(b) * W - x0 >= 0;
    st.cols = std::max(1, int(std::ceil((st.u1 - st.u0) / spacing)));
    st.dx = (st.u1 - st.u0) / st.cols;
    st.t0 = t;
    t += g.rows * g.row_dt + 60;  // the turn to the next line
    g.strips.push_back(st);
  }
  return g;
}

struct Wall {
  double ax, ay, bx, by;
  double nx, ny;   // outward normal
  double top_max;  // highest point (gable ends reach the ridge)
  uint32_t building;
};

std::vector<Wall> make_walls(const Scene& s) {
  std::vector<Wall> walls;
  walls.reserve(s.buildings.size() * 4);
  for (size_t i = 0; i < s.buildings.size(); ++i) {
    const Building& b = s.buildings[i];
    const double ls[4] = {-b.half_length, b.half_length, b.half_length, -b.half_length};
    const double lt[4] = {-b.half_width, -b.half_width, b.half_width, b.half_width};
    double cu[4], cv[4];
    for (int k = 0; k < 4; ++k) {
      cu[k] = b.cx + ls[k] * b.cos_a - lt[k] * b.sin_a;
      cv[k] = b.cy + ls[k] * b.sin_a + lt[k] * b.cos_a;
    }
    const double eave = b.base_z + b.eave_height;
    for (int k = 0; k < 4; ++k) {
      Wall w;
      w.ax = cu[k], w.ay = cv[k], w.bx = cu[(k + 1) % 4], w.by = cv[(k + 1) % 4];
      const double len = std::hypot(w.bx - w.ax, w.by - w.ay);
      w.nx = (w.by - w.ay) / len, w.ny = -(w.bx - w.ax) / len;  // corners run anticlockwise
      const bool gable_end = b.roof == RoofType::kGable && (k == 1 || k == 3);
      w.top_max = eave + (gable_end ? b.half_width * std::tan(b.pitch) : 0);
      w.building = uint32_t(i);
      walls.push_back(w);
    }
  }
  return walls;
}

// Parameter range of the segment a + f (b - a) inside [u0, u1) x [v0, v1) (Liang-Barsky).
bool clip_segment(const Wall& w, double u0, double u1, double v0, double v1, double& f0,
                  double& f1) {
  f0 = 0, f1 = 1;
  const double d[2] = {w.bx - w.ax, w.by - w.ay};
  const double p[2] = {w.ax, w.ay};
  const double lo[2] = {u0, v0}, hi[2] = {u1, v1};
  for (int a = 0; a < 2; ++a) {
    if (std::fabs(d[a]) < 1e-12) {
      if (p[a] < lo[a] || p[a] >= hi[a]) return false;
      continue;
    }
    double t0 = (lo[a] - p[a]) / d[a], t1 = (hi[a] - p[a]) / d[a];
    if (t0 > t1) std::swap(t0, t1);
    f0 = std::max(f0, t0), f1 = std::min(f1, t1);
  }
  return f1 > f0;
}

// Wall points per m2 of wall and per unit pulse density, seen from a strip's sensor: a floor for
// the forward/backward-looking part of the scan, plus the tangent of the incidence on walls that
// face the sensor.
double wall_visibility(const Scene& s, const Wall& w, double sensor_u, double u) {
  const double side = sensor_u >= u ? 1.0 : -1.0;
  const double tan_theta = std::fabs(sensor_u - u) / s.flight_height;
  return 0.04 + tan_theta * std::max(0.0, w.nx * side);
}

struct WallPiece {
  int row;  // geometric row (south to north)
  uint32_t wall;
};

std::vector<WallPiece> wall_pieces(const Geometry& g, const Strip& st,
                                   const std::vector<Wall>& walls) {
  std::vector<WallPiece> pieces;
  for (uint32_t i = 0; i < walls.size(); ++i) {
    double f0, f1;
    if (!clip_segment(walls[i], st.u0, st.u1, -1e300, 1e300, f0, f1)) continue;
    const Wall& w = walls[i];
    const double va = w.ay + f0 * (w.by - w.ay), vb = w.ay + f1 * (w.by - w.ay);
    const int r0 = std::max(0, int(std::floor(std::min(va, vb) / g.dy)));
    const int r1 = std::min(g.rows - 1, int(std::floor(std::max(va, vb) / g.dy)));
    for (int r = r0; r <= r1; ++r) pieces.push_back({r, i});
  }
  std::sort(pieces.begin(), pieces.end(), [](const WallPiece& a, const WallPiece& b) {
    return a.row != b.row ? a.row < b.row : a.wall < b.wall;
  });
  return pieces;
}

struct WallPoint {
  double t, u, v, z;
};

struct Unit {
  size_t strip;
  int row0, row1;  // flight-order rows [row0, row1)
};

class UnitWriter {
 public:
  UnitWriter(const Scene& s, const Strip& st, std::vector<uint8_t>& out)
      : s_(s), st_(st), out_(out) {}

  void point(double t, double u, double v, double z, double strength, Rng& rng, int ret, int nret,
             uint8_t cls, bool edge) {
    uint8_t rec[kRecordLength];
    const int32_t x = int32_t(std::llround((s_.options.origin_x + u) * 100.0));
    const int32_t y = int32_t(std::llround((s_.options.origin_y + v) * 100.0));
    const int32_t zi = int32_t(std::llround(z * 100.0));
    const double i = strength * kIntensityGain * (1 + 0.12 * rng.normal());
    const uint16_t intensity = uint16_t(std::clamp(i, 1.0, 65535.0));
    double deg =
        std::atan((u - st_.sensor_u) / s_.flight_height) * (180.0 / 3.14159265358979323846);
    if (!st_.north) deg = -deg;  // flying south, east is on the left
    const int16_t angle = int16_t(std::lround(deg / 0.006));
    const uint16_t source = uint16_t(uint64_t(st_.band) & 0xFFFF);
    std::memcpy(rec + 0, &x, 4);
    std::memcpy(rec + 4, &y, 4);
    std::memcpy(rec + 8, &zi, 4);
    std::memcpy(rec + 12, &intensity, 2);
    rec[14] = uint8_t(ret | (nret << 4));
    rec[15] = uint8_t(0x40 | (edge ? 0x80 : 0));  // scan direction +, channel 0, no flags
    rec[16] = cls;
    rec[17] = 0;
    std::memcpy(rec + 18, &angle, 2);
    std::memcpy(rec + 20, &source, 2);
    std::memcpy(rec + 22, &t, 8);
    out_.insert(out_.end(), rec, rec + kRecordLength);
  }

 private:
  const Scene& s_;
  const Strip& st_;
  std::vector<uint8_t>& out_;
};

void run_unit(const Scene& s, const Geometry& g, const std::vector<Wall>& walls,
              const std::vector<WallPiece>& pieces, const Unit& unit, std::vector<uint8_t>& out) {
  const Strip& st = g.strips[unit.strip];
  out.clear();
  out.reserve(size_t(unit.row1 - unit.row0) * size_t(st.cols) * 36);
  UnitWriter writer(s, st, out);
  std::vector<WallPoint> wall_points;
  Return ret[kMaxReturns];
  double last_t = -1e300;
  const double width = st.u1 - st.u0;
  for (int r = unit.row0; r < unit.row1; ++r) {
    const int row = st.north ? r : g.rows - 1 - r;
    const double t_row = st.t0 + r * g.row_dt;
    const uint64_t row_key = stream_key(s.options.seed, kPulse, uint64_t(st.band), uint64_t(row));

    // Walls crossing this scan line's band, in time order.
    wall_points.clear();
    const auto first = std::lower_bound(pieces.begin(), pieces.end(), row,
                                        [](const WallPiece& p, int rr) { return p.row < rr; });
    for (auto it = first; it != pieces.end() && it->row == row; ++it) {
      const Wall& w = walls[it->wall];
      double f0, f1;
      if (!clip_segment(w, st.u0, st.u1, row * g.dy, (row + 1) * g.dy, f0, f1)) continue;
      const double len = std::hypot(w.bx - w.ax, w.by - w.ay) * (f1 - f0);
      const double fm = 0.5 * (f0 + f1);
      const double um = w.ax + fm * (w.bx - w.ax), vm = w.ay + fm * (w.by - w.ay);
      const double lambda = s.pulse_density * wall_visibility(s, w, st.sensor_u, um) * len *
                            std::max(0.0, w.top_max - ground_z(s, um, vm));
      Rng wr(stream_key(s.options.seed, kWall, it->wall, uint64_t(row), uint64_t(st.band)));
      int count = int(lambda);
      if (wr.chance(lambda - count)) ++count;
      const Building& b = s.buildings[w.building];
      for (int k = 0; k < count; ++k) {
        const double f = wr.uniform(f0, f1);
        const double u = w.ax + f * (w.bx - w.ax), v = w.ay + f * (w.by - w.ay);
        const double z = wr.uniform(ground_z(s, u, v), w.top_max);
        if (z > b.roof_z(u, v)) continue;
        const double scan = st.north ? (u - st.u0) / width : (st.u1 - u) / width;
        wall_points.push_back({t_row + std::clamp(scan, 0.0, 1.0) * 0.9 * g.row_dt, u, v, z});
      }
    }
    std::sort(wall_points.begin(), wall_points.end(),
              [](const WallPoint& a, const WallPoint& b) { return a.t < b.t; });
    size_t next_wall = 0;
    Rng wall_rng(row_key ^ 0x5bd1e995u);
    // Distinct pulses never share a GPS time (wall points close together in easting would).
    const auto stamp = [&last_t](double t) {
      last_t = std::max(t, std::nextafter(last_t, 1e300));
      return last_t;
    };

    for (int c = 0; c < st.cols; ++c) {
      const double t = t_row + (c + 0.5) / st.cols * 0.9 * g.row_dt;
      while (next_wall < wall_points.size() && wall_points[next_wall].t <= t) {
        const WallPoint& p = wall_points[next_wall++];
        writer.point(stamp(p.t), p.u, p.v, p.z, 0.3 * 0.8, wall_rng, 1, 1, 6, false);
      }
      const double tp = stamp(t);
      Rng rng(row_key ^ mix64(uint64_t(c) + 0x2545f4914f6cdd1dULL));
      const int col = st.north ? c : st.cols - 1 - c;
      const double u = st.u0 + (col + 0.5 + rng.uniform(-0.35, 0.35)) * st.dx;
      const double v = (row + 0.5 + rng.uniform(-0.35, 0.35)) * g.dy;
      const int n = pulse_returns(s, u, v, rng, ret);
      const bool edge = st.edge_end && c == st.cols - 1;
      for (int k = 0; k < n; ++k)
        writer.point(tp, u, v, ret[k].z, ret[k].strength, rng, k + 1, n, ret[k].cls, edge);
    }
    while (next_wall < wall_points.size()) {
      const WallPoint& p = wall_points[next_wall++];
      writer.point(stamp(p.t), p.u, p.v, p.z, 0.3 * 0.8, wall_rng, 1, 1, 6, false);
    }
  }
}

}  // namespace

double mean_returns_per_pulse(const Scene& s) {
  constexpr int kSamples = 20000;
  Rng rng(stream_key(s.options.seed, kCalibrate, 0));
  Return ret[kMaxReturns];
  uint64_t total = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double u = rng.uniform() * s.options.size, v = rng.uniform() * s.options.size;
    total += uint64_t(pulse_returns(s, u, v, rng, ret));
  }
  return std::max(0.05, double(total) / kSamples);
}

double wall_points_per_pulse_density(const Scene& s) {
  const Geometry g = make_geometry(s, s.options.size);  // strips only; rows do not matter here
  double total = 0;
  for (const Wall& w : make_walls(s))
    for (const Strip& st : g.strips) {
      double f0, f1;
      if (!clip_segment(w, st.u0, st.u1, -1e300, 1e300, f0, f1)) continue;
      const double fm = 0.5 * (f0 + f1);
      const double um = w.ax + fm * (w.bx - w.ax), vm = w.ay + fm * (w.by - w.ay);
      const Building& b = s.buildings[w.building];
      // Mean height of the wall: gable ends are a rectangle plus a triangle.
      const double mean_top = 0.5 * (w.top_max + b.base_z + b.eave_height);
      const double len = std::hypot(w.bx - w.ax, w.by - w.ay) * (f1 - f0);
      total += wall_visibility(s, w, st.sensor_u, um) * len *
               std::max(0.0, mean_top - ground_z(s, um, vm));
    }
  return total;
}

}  // namespace detail

void generate_points(const Scene& s,
                     const std::function<void(const uint8_t* records, uint64_t count)>& sink) {
  using namespace detail;
  if (!(s.pulse_spacing >= 1e-3 && s.pulse_spacing <= 1e4) || s.cell_start.empty())
    throw ArgumentError("synth", "the scene is not laid out (pulse spacing " +
                                     std::to_string(s.pulse_spacing) +
                                     " m, no spatial index): make it with build_scene()");
  const Geometry g = make_geometry(s, s.pulse_spacing);
  const std::vector<Wall> walls = make_walls(s);
  std::vector<std::vector<WallPiece>> pieces;
  std::vector<Unit> units;
  for (size_t i = 0; i < g.strips.size(); ++i) {
    pieces.push_back(wall_pieces(g, g.strips[i], walls));
    const int rows_per_unit = std::max(1, 100000 / g.strips[i].cols);
    for (int r = 0; r < g.rows; r += rows_per_unit)
      units.push_back({i, r, std::min(g.rows, r + rows_per_unit)});
  }
  const size_t threads = std::max(1u, s.options.threads);
  std::vector<std::vector<uint8_t>> buffers(std::min(threads, std::max<size_t>(1, units.size())));
  std::vector<std::exception_ptr> errors(buffers.size());
  for (size_t w = 0; w < units.size(); w += buffers.size()) {
    const size_t n = std::min(buffers.size(), units.size() - w);
    const auto work = [&](size_t i) {
      try {
        const Unit& u = units[w + i];
        run_unit(s, g, walls, pieces[u.strip], u, buffers[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    };
    std::vector<std::thread> pool;
    for (size_t i = 1; i < n; ++i) pool.emplace_back(work, i);
    work(0);
    for (std::thread& t : pool) t.join();
    for (size_t i = 0; i < n; ++i)
      if (errors[i]) std::rethrow_exception(errors[i]);
    for (size_t i = 0; i < n; ++i)
      if (!buffers[i].empty()) sink(buffers[i].data(), buffers[i].size() / kRecordLength);
  }
}

}  // namespace lidarhd::synth
