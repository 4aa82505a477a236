// Shared by the synthetic scene's layout (layout.cpp) and point generation (pulses.cpp): the
// counter-based random numbers and the spatial index.
#pragma once

#include <cmath>
#include <cstdint>

#include "lidarhd/synth/scene.hpp"

namespace lidarhd::synth::detail {

// splitmix64's finaliser: a bijective avalanche mix, the core of a counter-based generator.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// What a random stream is for: keeps streams of different purposes apart for equal indices.
enum Stream : uint64_t {
  kLayout = 1,
  kPulse = 2,
  kWall = 3,
  kCalibrate = 4,
  kTreeRow = 5,
  kLot = 6,
  kCarRow = 7,
  kOrtho = 8,  // orthophoto materials and texture (ortho.cpp); never used by the points
};

inline uint64_t stream_key(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b = 0,
                           uint64_t c = 0) {
  uint64_t k = mix64(seed ^ 0x6a09e667f3bcc909ULL);
  k = mix64(k ^ (stream * 0x9e3779b97f4a7c15ULL));
  k = mix64(k ^ a);
  k = mix64(k ^ (b + 0x3c6ef372fe94f82bULL));
  return mix64(k ^ (c + 0xa54ff53a5f1d36f1ULL));
}

// splitmix64 over a key: output n is mix64(key + n * gamma), a pure function of (key, n).
class Rng {
 public:
  explicit Rng(uint64_t key) : state_(key) {}
  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool chance(double p) { return uniform() < p; }
  // Approximately standard normal (sum of four uniforms: bounded, cheap, no transcendental).
  double normal() {
    const double s = uniform() + uniform() + uniform() + uniform();
    return (s - 2.0) * 1.7320508075688772;
  }

 private:
  uint64_t state_;
};

// Kinds of indexed objects (top 3 bits of a cell reference).
enum ObjectKind : uint32_t { kBuilding = 0, kTree = 1, kCar = 2, kPylon = 3 };
constexpr uint32_t kIndexBits = 29;
constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
inline uint32_t object_ref(ObjectKind kind, uint32_t index) {
  return (uint32_t(kind) << kIndexBits) | index;
}

// Refs of the cell containing (u, v); [begin, end) into scene.cell_refs (empty outside).
inline void cell_range(const Scene& s, double u, double v, uint32_t& begin, uint32_t& end) {
  const int cx = int(std::floor(u / s.cell)), cy = int(std::floor(v / s.cell));
  if (cx < 0 || cy < 0 || cx >= s.cells_x || cy >= s.cells_y) {
    begin = end = 0;
    return;
  }
  const size_t c = size_t(cy) * size_t(s.cells_x) + size_t(cx);
  begin = s.cell_start[c];
  end = s.cell_start[c + 1];
}

// The river's centre line at northing v.
inline double river_centre(const Scene& s, double v) {
  return s.river.u0 + s.river.amplitude * std::sin(s.river.k * v + s.river.phase);
}
inline double road_centre(const Scene& s, double u) {
  return s.road.v0 + s.road.slope * (u - 0.5 * s.options.size);
}
// Water surface at northing v: a little below the natural ground of the centre line.
inline double water_level(const Scene& s, double v) {
  return natural_ground_z(s, river_centre(s, v), v) - 0.6;
}
inline bool on_road(const Scene& s, double u, double v) {
  return std::fabs(v - road_centre(s, u)) < s.road.half_width;
}
inline bool on_bridge(const Scene& s, double u, double v) {
  return std::fabs(v - road_centre(s, u)) < s.road.half_width + 0.5 &&
         std::fabs(u - s.road.bridge_u) < s.road.bridge_half_span;
}
bool on_street(const Scene& s, double u, double v);

// Wire geometry of the power line: lateral offsets and attachment heights above pylon bases.
constexpr int kWireCount = 4;
constexpr double kWireOffset[kWireCount] = {-5.5, 0.0, 5.5, 0.0};
constexpr double kWireHeight[kWireCount] = {22.0, 22.0, 22.0, 29.0};
constexpr double kPylonHeight = 30.0;
constexpr double kPylonBaseHalf = 3.5;
constexpr double kArmHalf = 6.5;

// Mean number of returns per pulse over the tile (sampled), for the pulse-density calibration.
double mean_returns_per_pulse(const Scene& scene);
// Expected wall points per unit pulse density (sum of wall areas x visibility factors).
double wall_points_per_pulse_density(const Scene& scene);

}  // namespace lidarhd::synth::detail
