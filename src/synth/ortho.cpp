// Synthetic orthophotos: each pixel centre looks straight down the scene, takes the highest
// surface there (roof, tree crown or car, found through the scene's spatial index, else the ground
// cover: bridge, road, water, street, field, forest floor, garden, meadow) and colours it with
// that surface's material, shading and texture. The pulse model in pulses.cpp makes the same
// decisions, so a point's class and the colour under it agree.
//
// Every random draw is a hash of (seed, purpose, object or pixel), never a sequential generator:
// rows render in any order on any number of threads and give the same bytes.
#include "lidarhd/synth/ortho.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "lidarhd/core/error.hpp"
#include "synth/scene_impl.hpp"

namespace lidarhd::synth {
namespace {

using detail::mix64;

// Colour in 0-255 per band (red, green, blue, near infrared) and the amplitude of its per-pixel
// grain (sensor noise and sub-pixel texture).
struct Rgbn {
  double r, g, b, n, grain;
};

Rgbn mix(const Rgbn& a, const Rgbn& b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t,
          a.n + (b.n - a.n) * t, a.grain + (b.grain - a.grain) * t};
}
Rgbn lit(const Rgbn& a, double f) { return {a.r * f, a.g * f, a.b * f, a.n * f, a.grain}; }

// Materials. Near infrared: leaves reflect it strongly (NDVI 0.4-0.7), water absorbs it, mineral
// surfaces sit close to their red.
constexpr Rgbn kRedTiles{168, 86, 64, 125, 7};
constexpr Rgbn kSlate{80, 86, 96, 62, 5};
constexpr Rgbn kBitumen{64, 64, 68, 55, 5};
constexpr Rgbn kGravel{140, 134, 124, 128, 9};
constexpr Rgbn kMembrane{192, 192, 188, 175, 4};
constexpr Rgbn kConcrete{168, 164, 154, 150, 6};
constexpr Rgbn kAsphalt{92, 94, 97, 80, 6};
constexpr Rgbn kStreet{104, 104, 106, 90, 6};
constexpr Rgbn kPavement{152, 149, 142, 132, 7};
constexpr Rgbn kMarking{222, 222, 216, 190, 4};
constexpr Rgbn kWater{38, 58, 62, 14, 3};
constexpr Rgbn kShallow{72, 78, 62, 35, 4};
constexpr Rgbn kMud{104, 92, 72, 95, 8};
constexpr Rgbn kLushGrass{96, 138, 60, 200, 9};
constexpr Rgbn kDryGrass{150, 148, 92, 165, 9};
constexpr Rgbn kLawn{92, 134, 62, 200, 8};
constexpr Rgbn kTerrace{142, 132, 116, 122, 7};
constexpr Rgbn kForestFloor{58, 66, 42, 120, 8};
constexpr Rgbn kUnderstory{66, 96, 46, 175, 8};
constexpr Rgbn kBareSoil{130, 104, 80, 138, 8};
constexpr Rgbn kYoungCrop{100, 138, 62, 195, 7};
constexpr Rgbn kMaize{72, 112, 48, 215, 8};
constexpr Rgbn kRipeCrop{198, 176, 110, 160, 7};
constexpr Rgbn kBroadleaf{62, 98, 46, 205, 10};
constexpr Rgbn kConifer{42, 72, 44, 165, 9};
constexpr Rgbn kShrub{76, 110, 52, 195, 9};
constexpr Rgbn kSteel{136, 139, 142, 110, 4};
constexpr Rgbn kWire{48, 48, 50, 40, 2};
constexpr Rgbn kGlass{38, 44, 52, 30, 3};
constexpr Rgbn kCarPaint[8] = {{226, 226, 224, 0, 4}, {32, 32, 36, 0, 3},   {112, 112, 116, 0, 4},
                               {172, 174, 178, 0, 4}, {158, 32, 30, 0, 4},  {40, 62, 132, 0, 4},
                               {48, 84, 60, 0, 4},    {190, 170, 130, 0, 4}};

// Independent hashes for object and pixel purposes.
enum Purpose : uint64_t { kPixel = 1, kPatch = 2, kObject = 3, kParcel = 4 };

double unit(uint64_t h) { return double(h >> 11) * (1.0 / 9007199254740992.0); }

uint64_t hash2(uint64_t key, uint64_t a, uint64_t b) {
  return mix64(
      key ^ mix64(a * 0x9e3779b97f4a7c15ULL + b * 0xc2b2ae3d27d4eb4fULL + 0x165667b19e3779f9ULL));
}

// Smooth value noise in [0, 1): hashed values on a lattice of step `scale` metres, smoothstep-
// interpolated. Low-frequency patches (dry and lush grass, clumps of leaves).
double value_noise(uint64_t key, double u, double v, double scale) {
  const double x = u / scale, y = v / scale;
  const double fx = std::floor(x), fy = std::floor(y);
  const uint64_t ix = uint64_t(int64_t(fx)), iy = uint64_t(int64_t(fy));
  double tx = x - fx, ty = y - fy;
  tx = tx * tx * (3 - 2 * tx);
  ty = ty * ty * (3 - 2 * ty);
  const double a = unit(hash2(key, ix, iy)), b = unit(hash2(key, ix + 1, iy));
  const double c = unit(hash2(key, ix, iy + 1)), d = unit(hash2(key, ix + 1, iy + 1));
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

// Two octaves of value noise on rotated lattices: hides the lattice's axis-aligned grain.
double patchy(uint64_t key, double u, double v, double scale) {
  const double ru = 0.8 * u + 0.6 * v, rv = -0.6 * u + 0.8 * v;
  return 0.6 * value_noise(key, u, v, scale) + 0.4 * value_noise(~key, ru, rv, 0.45 * scale);
}

struct Context {
  const Scene& s;
  uint64_t key_pixel, key_patch, key_object, key_parcel;
  double sun[3];    // unit vector towards the sun
  double flat_sun;  // lighting of a horizontal surface, the reference (factor 1)
};

// Lighting factor of a surface with unit normal (nx, ny, nz), relative to flat ground.
double shade(const Context& c, double nx, double ny, double nz) {
  const double lambert = std::max(0.0, nx * c.sun[0] + ny * c.sun[1] + nz * c.sun[2]);
  return (0.45 + 0.55 * lambert) / (0.45 + 0.55 * c.flat_sun);
}

double crown_top(const Tree& t, double d2) {
  const double d = std::sqrt(d2) / t.crown_radius;
  if (t.conifer) return t.ground_z + t.height - (t.height - t.crown_base) * d;
  const double mid = 0.5 * (t.height + t.crown_base), half = 0.5 * (t.height - t.crown_base);
  return t.ground_z + mid + half * std::sqrt(std::max(0.0, 1 - d * d));
}

Rgbn roof_colour(const Context& c, const Building& b, uint32_t index, double u, double v) {
  const uint64_t h = hash2(c.key_object, detail::kBuilding, index);
  const double pick = unit(h), tone = 0.9 + 0.2 * unit(mix64(h));
  double s, t;
  b.to_local(u, v, s, t);
  Rgbn m;
  double nx = 0, ny = 0, nz = 1;
  if (b.roof == RoofType::kFlat) {
    m = pick < 0.45 ? kBitumen : pick < 0.8 ? kGravel : kMembrane;
    // A concrete parapet rims flat roofs.
    if (std::min(b.half_length - std::fabs(s), b.half_width - std::fabs(t)) < 0.35) m = kConcrete;
  } else {
    m = pick < 0.65 ? kRedTiles : kSlate;
    // The face under (u, v): gables slope across the width; hips also towards the short ends.
    const double sp = std::sin(b.pitch), cp = std::cos(b.pitch);
    const bool end_face =
        b.roof == RoofType::kHip && b.half_length - std::fabs(s) < b.half_width - std::fabs(t);
    if (end_face) {
      const double sign = s >= 0 ? 1 : -1;
      nx = sign * sp * b.cos_a, ny = sign * sp * b.sin_a;
    } else {
      const double sign = t >= 0 ? 1 : -1;
      nx = -sign * sp * b.sin_a, ny = sign * sp * b.cos_a;
    }
    nz = cp;
    if (b.roof == RoofType::kGable && std::fabs(t) < 0.15) m = lit(m, 0.8);  // ridge tiles
  }
  m = lit(m, tone);
  // The near infrared follows the LiDAR reflectance drawn for the roof (1064 nm intensity).
  m.n = 0.5 * m.n + 0.5 * std::min(255.0, 300.0 * b.reflectance);
  return lit(m, shade(c, nx, ny, nz));
}

Rgbn crown_colour(const Context& c, const Tree& t, uint32_t index, double u, double v) {
  const uint64_t h = hash2(c.key_object, detail::kTree, index);
  Rgbn m = t.conifer ? kConifer : t.height < 3.5 ? kShrub : kBroadleaf;
  // Species and season: some crowns yellower, some bluer, some darker.
  const double hue = unit(h) - 0.5, tone = 0.85 + 0.3 * unit(mix64(h));
  m.r += 28 * std::max(0.0, hue), m.b -= 10 * std::max(0.0, hue), m.b += 14 * std::max(0.0, -hue);
  m = lit(m, tone);
  // Surface normal of the crown (cone or ellipsoid) for the shading.
  const double du = (u - t.x) / t.crown_radius, dv = (v - t.y) / t.crown_radius;
  const double d = std::max(1e-6, std::sqrt(du * du + dv * dv));
  double g;  // slope of the crown surface
  if (t.conifer) {
    g = (t.height - t.crown_base) / t.crown_radius;
  } else {
    const double half = 0.5 * (t.height - t.crown_base);
    g = half / t.crown_radius * d / std::max(0.2, std::sqrt(std::max(0.0, 1 - d * d)));
  }
  const double len = std::sqrt(g * g + 1);
  double f = shade(c, g * du / d / len, g * dv / d / len, 1 / len);
  // Clumps of leaves with gaps between them.
  f *= 0.8 + 0.4 * value_noise(c.key_patch ^ index, u, v, 0.7);
  return lit(m, f);
}

Rgbn car_colour(const Context& c, const Car& car, uint32_t index, double cs, double ct) {
  const uint64_t h = hash2(c.key_object, detail::kCar, index);
  Rgbn m = kCarPaint[h % 8];
  m.n = 20 + 200 * car.reflectance;
  const double a = cs / car.half_length;
  if ((a > 0.3 && a < 0.55) || (a < -0.45 && a > -0.65)) m = kGlass;  // windscreen, rear window
  if (std::fabs(ct) > car.half_width - 0.15) m = lit(m, 0.8);         // the sides slope away
  return m;
}

// Main road and bridge: asphalt, edge lines, dashed centre line; concrete parapets on the bridge.
Rgbn road_colour(const Context& c, double u, double v, bool bridge) {
  const double dv = std::fabs(v - detail::road_centre(c.s, u));
  const double hw = c.s.road.half_width;
  if (bridge && dv >= hw) return kConcrete;
  if (std::fabs(dv - (hw - 0.35)) < 0.1) return kMarking;
  if (dv < 0.1 && std::fmod(u + 1000.0, 12.0) < 4.0) return kMarking;
  Rgbn m = kAsphalt;
  return lit(m, 0.94 + 0.12 * value_noise(c.key_patch, u, v, 3.0));
}

// Town streets: asphalt carriageway with pavements along the lots.
bool street_colour(const Context& c, double u, double v, Rgbn& out) {
  const Town& w = c.s.town;
  if (!w.area.contains(u, v)) return false;
  const double du = u - w.cx, dv = v - w.cy;
  const double ls = du * w.cos_a + dv * w.sin_a, lt = -du * w.sin_a + dv * w.cos_a;
  const double ms = std::fabs(std::remainder(ls - 0.5 * w.pitch_s, w.pitch_s));
  const double mt = std::fabs(std::remainder(lt - 0.5 * w.pitch_t, w.pitch_t));
  const double m = std::min(ms, mt);
  if (m >= w.street_half_width) return false;
  out = m > w.street_half_width - 1.6 ? kPavement : kStreet;
  return true;
}

Rgbn field_colour(const Context& c, double u, double v) {
  const Fields& f = c.s.fields;
  const int col = std::min(f.cols - 1, int((u - f.area.u0) / (f.area.u1 - f.area.u0) * f.cols));
  const int row = std::min(f.rows - 1, int((v - f.area.v0) / (f.area.v1 - f.area.v0) * f.rows));
  const double h = f.crop_height[size_t(row * f.cols + col)];
  const uint64_t key = hash2(c.key_parcel, uint64_t(row), uint64_t(col));
  Rgbn m = h < 0.1 ? kBareSoil : h < 0.5 ? kYoungCrop : (unit(key) < 0.3 ? kRipeCrop : kMaize);
  // Furrows or drill rows, along or across the parcel.
  const double along = (mix64(key) & 1) ? u : v;
  const double rows = 0.5 + 0.5 * std::cos(along * (2 * 3.14159265358979323846 / 0.8));
  const double depth = h < 0.1 ? 0.14 : 0.07;
  m = lit(m, 1 - depth + depth * rows);
  return lit(m, 0.94 + 0.12 * patchy(c.key_patch ^ key, u, v, 9.0));
}

Rgbn ground_colour(const Context& c, double u, double v) {
  const Scene& s = c.s;
  if (detail::on_bridge(s, u, v)) return road_colour(c, u, v, true);
  if (detail::on_road(s, u, v)) return road_colour(c, u, v, false);
  const River& r = s.river;
  const double d = std::fabs(u - detail::river_centre(s, v));
  if (d < r.half_width + r.bank) {
    const double zg = ground_z(s, u, v), level = detail::water_level(s, v);
    if (zg < level) {  // the same test as the pulse model's water class
      const Rgbn ripple = lit(kWater, 0.94 + 0.12 * value_noise(c.key_patch, u, v, 1.5));
      return mix(kShallow, ripple, std::min(1.0, (level - zg) / 0.6));
    }
    // Wet mud at the water's edge, grass towards the top of the bank.
    const double f = std::clamp((d - r.half_width) / r.bank, 0.0, 1.0);
    return mix(kMud, kLushGrass, f * f);
  }
  Rgbn m;
  if (street_colour(c, u, v, m)) return m;
  if (s.fields.area.contains(u, v)) return field_colour(c, u, v);
  if (s.forest.contains(u, v))
    return mix(kForestFloor, kUnderstory, value_noise(c.key_patch, u, v, 2.5));
  if (s.town.area.contains(u, v)) {
    const double p = value_noise(c.key_patch, u, v, 5.0);
    return p > 0.8 ? kTerrace : lit(kLawn, 0.92 + 0.16 * patchy(c.key_patch, v, u, 1.5));
  }
  const Rgbn grass = mix(kLushGrass, kDryGrass, value_noise(c.key_patch, u, v, 18.0));
  return lit(grass, 0.93 + 0.14 * patchy(c.key_patch, v, u, 3.0));
}

// Steel lattice of a pylon seen from above: legs, bracing diagonals and cross-arms, with the
// ground showing through.
bool pylon_overlay(const Context& c, const Pylon& py, double u, double v, Rgbn& m) {
  const PowerLine& pl = c.s.power_line;
  const double du = u - py.x, dv = v - py.y;
  const double dl = du * pl.dir_x + dv * pl.dir_y, dc = -du * pl.dir_y + dv * pl.dir_x;
  const double e = std::max(std::fabs(dl), std::fabs(dc));
  if (std::fabs(dc) <= detail::kArmHalf && std::fabs(dl) <= 0.6) {
    m = mix(m, kSteel, 0.9);
    return true;
  }
  if (e > detail::kPylonBaseHalf) return false;
  const auto frac = [](double x) { return x - std::floor(x); };
  const bool bar = e > detail::kPylonBaseHalf - 0.3 || frac((dl + dc) * 0.8) < 0.2 ||
                   frac((dl - dc) * 0.8) < 0.2;
  if (bar) m = mix(m, kSteel, 0.75);
  return true;
}

Rgbn pixel_colour(const Context& c, double u, double v) {
  const Scene& s = c.s;
  uint32_t begin, end;
  detail::cell_range(s, u, v, begin, end);
  double top = -1e300;
  uint32_t top_ref = ~0u;
  double car_s = 0, car_t = 0;
  for (uint32_t k = begin; k < end; ++k) {
    const uint32_t ref = s.cell_refs[k], idx = ref & detail::kIndexMask;
    switch (ref >> detail::kIndexBits) {
      case detail::kBuilding: {
        const Building& b = s.buildings[idx];
        if (!b.contains(u, v)) break;
        const double z = b.roof_z(u, v);
        if (z > top) top = z, top_ref = ref;
        break;
      }
      case detail::kTree: {
        const Tree& t = s.trees[idx];
        const double d2 = (u - t.x) * (u - t.x) + (v - t.y) * (v - t.y);
        if (d2 >= t.crown_radius * t.crown_radius) break;
        const double z = crown_top(t, d2);
        if (z > top) top = z, top_ref = ref;
        break;
      }
      case detail::kCar: {
        const Car& car = s.cars[idx];
        const double du = u - car.cx, dv = v - car.cy;
        const double cs = du * car.cos_a + dv * car.sin_a, ct = -du * car.sin_a + dv * car.cos_a;
        if (std::fabs(cs) > car.half_length || std::fabs(ct) > car.half_width) break;
        const double z = car.base_z + 1.45;
        if (z > top) top = z, top_ref = ref, car_s = cs, car_t = ct;
        break;
      }
      default:
        break;
    }
  }
  Rgbn m;
  const uint32_t idx = top_ref & detail::kIndexMask;
  switch (top_ref == ~0u ? ~0u : top_ref >> detail::kIndexBits) {
    case detail::kBuilding:
      m = roof_colour(c, s.buildings[idx], idx, u, v);
      break;
    case detail::kTree:
      m = crown_colour(c, s.trees[idx], idx, u, v);
      break;
    case detail::kCar:
      m = car_colour(c, s.cars[idx], idx, car_s, car_t);
      break;
    default:
      m = ground_colour(c, u, v);
      break;
  }
  // The power line is above everything: pylons, then the wires (thinner than a pixel: faint).
  for (uint32_t k = begin; k < end; ++k) {
    const uint32_t ref = s.cell_refs[k];
    if ((ref >> detail::kIndexBits) == detail::kPylon &&
        pylon_overlay(c, s.power_line.pylons[ref & detail::kIndexMask], u, v, m))
      break;
  }
  const PowerLine& pl = s.power_line;
  if (pl.pylons.size() >= 2) {
    const double across = -(u - pl.x0) * pl.dir_y + (v - pl.y0) * pl.dir_x;
    const double along = (u - pl.x0) * pl.dir_x + (v - pl.y0) * pl.dir_y;
    if (std::fabs(across) < 6 && along >= pl.pylons.front().along && along < pl.pylons.back().along)
      for (int w = 0; w < detail::kWireCount; ++w)
        if (std::fabs(across - detail::kWireOffset[w]) < 0.1) {
          m = mix(m, kWire, 0.35);
          break;
        }
  }
  return m;
}

uint8_t to_byte(double x) { return uint8_t(std::lround(std::clamp(x, 0.0, 255.0))); }

}  // namespace

void check_ortho_options(const SceneOptions& scene, const OrthoOptions& o) {
  const auto bad = [&](const std::string& why) {
    char res[32];
    std::snprintf(res, sizeof res, "%g", o.resolution);
    throw ArgumentError("synth", std::string("--ortho-resolution ") + res + ": " + why);
  };
  if (!(o.resolution >= 0.01 && o.resolution <= 100)) bad("must be 0.01 to 100 metres");
  const double n = std::round(scene.size / o.resolution);
  if (n < 1 || std::fabs(n * o.resolution - scene.size) > 1e-6 * scene.size) {
    char size[32];
    std::snprintf(size, sizeof size, "%g", scene.size);
    bad(std::string("must divide the tile side (") + size +
        " m) so that the image covers the tile exactly, e.g. 0.2, 0.25, 0.5 or 1");
  }
  if (n * n > 2.5e8)
    bad("gives " + std::to_string(int64_t(n)) + " x " + std::to_string(int64_t(n)) +
        " pixels; at most 2.5e8 are allowed (use a coarser resolution or a smaller --size)");
}

Orthophoto render_ortho(const Scene& s, const OrthoOptions& o) {
  check_ortho_options(s.options, o);
  if (s.cell_start.empty())
    throw ArgumentError("synth",
                        "the scene is not laid out (no spatial index): make it with "
                        "build_scene()");
  const int n = int(std::lround(s.options.size / o.resolution));
  const double res = s.options.size / n;  // exactly the tile side over the pixel count
  const auto blank = [&](bool wanted) {
    OrthoImage im;
    if (!wanted) return im;
    im.width = im.height = n;
    im.bands = 3;
    im.pixels.assign(size_t(n) * size_t(n) * 3, 0);
    im.x0 = s.options.origin_x;
    im.y0 = s.options.origin_y + s.options.size;
    im.res = res;
    return im;
  };
  Orthophoto out{blank(o.rgb), blank(o.irc)};
  if (!o.rgb && !o.irc) return out;

  const uint64_t seed = s.options.seed;
  // Sun from the south-south-east (azimuth 160 degrees), 50 degrees high: late morning.
  const double az = 160 * 3.14159265358979323846 / 180, el = 50 * 3.14159265358979323846 / 180;
  const Context c{s,
                  detail::stream_key(seed, detail::kOrtho, kPixel),
                  detail::stream_key(seed, detail::kOrtho, kPatch),
                  detail::stream_key(seed, detail::kOrtho, kObject),
                  detail::stream_key(seed, detail::kOrtho, kParcel),
                  {std::sin(az) * std::cos(el), std::cos(az) * std::cos(el), std::sin(el)},
                  std::sin(el)};
  uint8_t* rgb = out.rgb.pixels.data();
  uint8_t* irc = out.irc.pixels.data();
  int threads = int(o.threads);
#if defined(_OPENMP)
  if (threads <= 0) threads = omp_get_max_threads();
#endif
  (void)threads;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
#endif
  for (int row = 0; row < n; ++row) {
    const double v = s.options.size - (row + 0.5) * res;
    for (int col = 0; col < n; ++col) {
      const double u = (col + 0.5) * res;
      const Rgbn m = pixel_colour(c, u, v);
      // Grain: mostly luminance, a little colour, its own draw for the near infrared.
      const uint64_t h = mix64(c.key_pixel ^ (uint64_t(row) * uint64_t(n) + uint64_t(col)));
      const auto centred = [h](int k) { return double((h >> (16 * k)) & 0xFFFF) / 32768.0 - 1; };
      const double lum = m.grain * centred(0), chroma = 0.3 * m.grain;
      const uint8_t r = to_byte(m.r + lum + chroma * centred(1));
      const uint8_t g = to_byte(m.g + lum + chroma * centred(2));
      const uint8_t b = to_byte(m.b + lum - chroma * centred(1));
      const uint8_t nir = to_byte(m.n + m.grain * centred(3));
      const size_t p = (size_t(row) * size_t(n) + size_t(col)) * 3;
      if (rgb) rgb[p] = r, rgb[p + 1] = g, rgb[p + 2] = b;
      if (irc) irc[p] = nir, irc[p + 1] = r, irc[p + 2] = g;
    }
  }
  return out;
}

}  // namespace lidarhd::synth
