// Per-point features (docs/features.md): one fused pass per point (neighbours -> covariance ->
// eigen decomposition -> features) on the CPU or a CUDA device, the same formulas on both.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/core/host_vector.hpp"
#include "lidarhd/features/catalog.hpp"
#include "lidarhd/features/ground.hpp"

namespace lidarhd::features {

enum class Neighborhood : uint8_t {
  kKnn,     // the k nearest points, the query point included
  kRadius,  // every point within `radius`, capped at the `max_k` nearest
  kHybrid,  // the k nearest points within `radius`
};

enum class Precision : uint8_t { kFloat32, kFloat16 };

// Largest k / max_k: neighbour lists live in per-thread registers and local memory.
constexpr int kMaxNeighbors = 64;

struct FeatureOptions {
  std::vector<Feature> features = feature_set("lod2");
  Neighborhood neighborhood = Neighborhood::kKnn;
  int k = 20;               // kKnn, kHybrid: 1..kMaxNeighbors
  double radius = 0;        // kRadius, kHybrid: metres, > 0
  int max_k = kMaxNeighbors;  // kRadius cap, 1..kMaxNeighbors
  EigenNorm eigen_norm = EigenNorm::kLambda1;
  double ground_cell = 1.0;   // metres, ground grid for height_above_ground
  uint8_t ground_class = 2;   // ASPRS ground
  double count_radius = 2.0;  // num_points_2m
  Precision precision = Precision::kFloat32;
  Device device = Device::cpu();
  unsigned threads = 0;  // CPU threads; 0 = OpenMP default
  // For parts of a larger cloud (streamed chunks): the whole cloud's ground model (null: built
  // from these points), and whether to report each point's reach (FeatureTable::reach).
  std::shared_ptr<const GroundModel> ground;
  bool report_reach = false;
};

// Point columns in LOCAL coordinates (metres relative to an origin near the points: see
// to_local()). Colour columns are LAS 16-bit values (8-bit value x 256) and may be null unless a
// colour feature is requested; classification may be null unless height_above_ground is.
struct PointColumns {
  const float* x = nullptr;
  const float* y = nullptr;
  const float* z = nullptr;
  const uint8_t* classification = nullptr;
  const uint16_t* red = nullptr;
  const uint16_t* green = nullptr;
  const uint16_t* blue = nullptr;
  const uint16_t* nir = nullptr;
  size_t n = 0;
};

struct FeatureSummary {
  uint64_t points = 0;
  uint64_t degenerate = 0;        // neighbourhoods with < 3 distinct points or lambda1 <= 1e-12
  uint64_t float64_fallback = 0;  // eigen problems re-solved in float64 (close lambda2, lambda3)
  bool ground_requested = false;
  uint64_t ground_points = 0;         // points of the ground class
  bool ground_available = false;      // false: height_above_ground is NaN everywhere
  uint64_t points_without_ground = 0;  // points whose ground cell was empty (interpolated or NaN)
  double ground_cell = 0;              // cell actually used (grown for huge extents)
  double seconds = 0;                  // wall time of compute_features
  // Parts of it: building the neighbour index (wall time; on cuda its upload and device sort),
  // and the fused kernel (neighbour search and features: device time on cuda, measured with
  // CUDA events, so without the copies and allocations around it; wall time on the CPU).
  double index_seconds = 0;
  double kernel_seconds = 0;
};

// Feature columns, structure of arrays: column j (features[j]) holds values [j*n, (j+1)*n).
struct FeatureTable {
  std::vector<Feature> features;
  size_t n = 0;
  Precision precision = Precision::kFloat32;
  // Storage: resize leaves new values unwritten (HostVector), compute_features writes them all.
  HostVector<float> f32;     // kFloat32 storage
  HostVector<uint16_t> f16;  // kFloat16 storage (IEEE binary16 bits)
  // With report_reach, per point: the square of how far its features looked (local units). A
  // point's values depend only on the points within that distance (+inf: on every point, when
  // fewer than k exist), so a part of a cloud holding them gives the whole cloud's values.
  std::vector<float> reach2;
  FeatureSummary summary;

  float value(size_t column, size_t point) const;
  std::vector<float> column(size_t j) const;  // as float32 whatever the storage
  // Index of `f` among the columns, or -1.
  int find(Feature f) const;
};

// Computes options.features for every point. Throws ArgumentError on invalid options or
// missing columns, DeviceError when options.device cannot be used.
FeatureTable compute_features(const PointColumns& points, const FeatureOptions& options);

// Local coordinates for float32 kernels: origin = floor of the minimum world coordinate (whole
// metres, so that origin + local reproduces the input to the float's precision), local =
// world - origin computed in double, then rounded to float once.
struct LocalCoordinates {
  std::array<double, 3> origin{0, 0, 0};
  std::vector<float> x, y, z;
};
// From raw LAS integers: world = raw * scale + offset. Throws ArgumentError on non-finite
// values or an extent too large for float32 (over 1e6 m).
LocalCoordinates to_local(const int32_t* raw_x, const int32_t* raw_y, const int32_t* raw_z,
                          size_t n, const std::array<double, 3>& scale,
                          const std::array<double, 3>& offset);

// IEEE binary16 helpers (round to nearest even), as used by Precision::kFloat16.
uint16_t to_half(float value);
float from_half(uint16_t bits);

}  // namespace lidarhd::features
