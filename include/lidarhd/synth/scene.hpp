// Synthetic airborne LiDAR tiles (`lidarhd synth`): a square Lambert-93 tile with undulating
// ground, a river crossed by a road bridge, a small town (flat, gabled and hipped roofs, walls,
// gardens, parked cars), a forest, crop fields with hedgerows and a power line, written as LAS 1.4
// point format 6 with IGN-like attributes (returns, GPS time along scan lines, scan angle,
// intensity by material, point source id = flight line).
//
// Determinism (architecture.md convention 8): every random draw comes from a counter-based hash
// keyed by the seed and the object / scan line / pulse index, so the same options give the same
// records and the same file bytes whatever the thread count.
//
// Classes (ASPRS LAS 1.4, which IGN LiDAR HD follows for these codes):
//   1 unclassified (cars: ASPRS has no vehicle class and IGN leaves vehicles unclassified),
//   2 ground (meadows, gardens, roads, bare soil), 3 / 4 / 5 low / medium / high vegetation by
//   height above ground (< 0.5 m, 0.5-1.5 m, >= 1.5 m: IGN's thresholds), 6 building (roofs and
//   walls), 9 water, 14 wire conductor, 15 transmission tower, 17 bridge deck.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lidarhd::synth {

struct SceneOptions {
  double size = 1000;   // tile side, metres (10 - 10000)
  double density = 20;  // points per m2, all returns together (IGN LiDAR HD: about 10 pulses/m2)
  uint64_t seed = 1;
  // South-west (minimum) corner in Lambert-93 metres; the default is the corner of the LiDAR HD
  // tile LHD_FXX_0650_6861 (IGN names tiles by their north-west corner in km).
  double origin_x = 650000;
  double origin_y = 6860000;
  unsigned threads = 1;  // generation and LAZ encoding threads; the bytes do not depend on it
};

// Object coordinates are local: metres east (u) and north (v) of the origin corner.
enum class RoofType : uint8_t { kFlat = 0, kGable = 1, kHip = 2 };

struct Building {
  double cx = 0, cy = 0;        // footprint centre
  double cos_a = 1, sin_a = 0;  // direction of the long axis (the ridge of gabled roofs)
  double half_length = 0;       // along the long axis
  double half_width = 0;
  double base_z = 0;       // ground height at the centre
  double eave_height = 0;  // above base_z
  double pitch = 0;        // roof slope, radians (0 for flat roofs)
  RoofType roof = RoofType::kFlat;
  float reflectance = 0.3f;

  // (s, t): coordinates along / across the long axis, relative to the centre.
  void to_local(double u, double v, double& s, double& t) const {
    const double du = u - cx, dv = v - cy;
    s = du * cos_a + dv * sin_a;
    t = -du * sin_a + dv * cos_a;
  }
  bool contains(double u, double v) const {
    double s, t;
    to_local(u, v, s, t);
    return s >= -half_length && s <= half_length && t >= -half_width && t <= half_width;
  }
  // Roof height (absolute z) above a point of the footprint.
  double roof_z(double u, double v) const;
};

struct Tree {
  double x = 0, y = 0;
  double height = 0;  // absolute top = ground + height
  double crown_radius = 0;
  double crown_base = 0;  // height of the lowest branches above ground
  double ground_z = 0;
  bool conifer = false;  // cone-shaped crown, else an ellipsoid
};

struct Car {
  double cx = 0, cy = 0, cos_a = 1, sin_a = 0;
  double half_length = 2.2, half_width = 0.9;
  double base_z = 0;  // road or bridge deck under it
  float reflectance = 0.3f;
};

struct Pylon {
  double x = 0, y = 0;
  double along = 0;  // position along the line
  double base_z = 0;
};

// A straight overhead line: wires hang between consecutive pylons (sag in a parabola).
struct PowerLine {
  double x0 = 0, y0 = 0;  // a point of the line
  double dir_x = 1, dir_y = 0;
  double span = 300;          // nominal pylon spacing
  std::vector<Pylon> pylons;  // in along order, including the first ones outside the tile
};

struct Terrain {
  struct Wave {
    double kx = 0, ky = 0, phase = 0, amplitude = 0;
  };
  double base = 100;
  double gx = 0, gy = 0;  // regional slope
  std::array<Wave, 4> waves{};
};

// The river's centre line is u = u0 + amplitude * sin(k * v + phase).
struct River {
  double u0 = 0, amplitude = 0, k = 0, phase = 0;
  double half_width = 5;  // water
  double bank = 5;        // bank slope width beyond the water
  double depth = 2.5;     // carved below the natural ground
};

// The main road: v = v0 + slope * (u - size / 2), crossing the river on a bridge.
struct Road {
  double v0 = 0, slope = 0, half_width = 3.5;
  double bridge_u = 0, bridge_half_span = 0, bridge_deck_z = 0;
};

struct Rect {
  double u0 = 0, v0 = 0, u1 = 0, v1 = 0;
  bool contains(double u, double v) const { return u >= u0 && u < u1 && v >= v0 && v < v1; }
};

// The town's street grid, in a frame rotated by the angle (cos_a, sin_a) about (cx, cy).
struct Town {
  Rect area;
  double cx = 0, cy = 0, cos_a = 1, sin_a = 0;
  double pitch_s = 70, pitch_t = 50, street_half_width = 5;
};

struct Fields {
  Rect area;
  int cols = 3, rows = 2;
  std::vector<double> crop_height;  // per parcel (row-major, rows x cols); 0 = bare soil
};

// A laid-out scene. Built once from the options; points are then drawn from it.
struct Scene {
  SceneOptions options;
  Terrain terrain;
  River river;
  Road road;
  Town town;
  Fields fields;
  Rect forest;
  PowerLine power_line;
  std::vector<Building> buildings;
  std::vector<Tree> trees;  // forest, garden, street and riparian trees, hedgerow shrubs
  std::vector<Car> cars;

  // Acquisition model.
  double pulse_density = 0;     // pulses per m2, calibrated so points ~ density x area
  double pulse_spacing = 0;     // across and along track
  double flight_height = 1200;  // above the ground, metres
  double strip_width = 800;  // flight lines run north-south every strip_width metres (absolute x)
  double speed = 60;         // m/s
  double gps_start = 0;      // adjusted standard GPS time of the first pulse

  // Spatial index: objects whose footprint touches each cell (CSR).
  double cell = 8;
  int cells_x = 0, cells_y = 0;
  std::vector<uint32_t> cell_start;  // cells_x * cells_y + 1 entries
  std::vector<uint32_t> cell_refs;   // kind << 29 | index
};

// Natural ground (without the river channel) and the actual ground height at (u, v).
double natural_ground_z(const Scene& scene, double u, double v);
double ground_z(const Scene& scene, double u, double v);

// Validates the options (ArgumentError naming the option) and lays the scene out.
Scene build_scene(const SceneOptions& options);

// Streams the scene's points in GPS-time order as LAS point format 6 records (30 bytes each,
// scale 0.01, offset 0), in batches of at most a few hundred thousand points.
void generate_points(const Scene& scene,
                     const std::function<void(const uint8_t* records, uint64_t count)>& sink);

struct SceneReport {
  uint64_t points = 0;
  std::array<uint64_t, 256> by_class{};
  uint64_t file_bytes = 0;
  double seconds = 0;
};

// Writes the scene to `path`: LAZ when it ends in .laz, LAS when it ends in .las (ArgumentError
// otherwise). LAS 1.4, point format 6, scale 0.01, offset 0, EPSG:2154 as a WKT VLR, creation
// date = the acquisition day of the GPS times. The file appears atomically.
SceneReport write_scene(const Scene& scene, const std::string& path);
SceneReport write_scene(const SceneOptions& options, const std::string& path);

// OGC WKT 1 of RGF93 v1 / Lambert-93, as IGN's LiDAR HD files carry it.
extern const char* const kLambert93Wkt;

}  // namespace lidarhd::synth
