// compute_features: validates, builds the neighbour index and ground model, runs the fused
// kernel on the chosen device and gathers the run summary (architecture.md convention 5).
#include "lidarhd/features/features.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/cpu_threads.hpp"
#include "core/device_buffer.hpp"
#include "features/features_impl.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/spatial/neighbors.hpp"

namespace lidarhd::features {
namespace {

using lidarhd::detail::DeviceBuffer;

void validate(const PointColumns& pts, const FeatureOptions& o) {
  if (o.features.empty()) throw ArgumentError("features", "no feature requested");
  if (o.features.size() > static_cast<size_t>(kFeatureCount)) {
    throw ArgumentError("features", std::to_string(o.features.size()) +
                                        " columns requested; each feature may appear once");
  }
  for (size_t j = 0; j < o.features.size(); ++j) {
    if (o.features[j] >= Feature::kCount) {
      throw ArgumentError("features", "invalid feature id " +
                                          std::to_string(static_cast<int>(o.features[j])));
    }
    for (size_t k = 0; k < j; ++k) {
      if (o.features[k] == o.features[j]) {
        throw ArgumentError("features", std::string("feature '") + feature_name(o.features[j]) +
                                            "' is requested twice");
      }
    }
  }
  const bool uses_k = o.neighborhood != Neighborhood::kRadius;
  if (uses_k && (o.k < 1 || o.k > kMaxNeighbors)) {
    throw ArgumentError("features", "k = " + std::to_string(o.k) + " is outside 1.." +
                                        std::to_string(kMaxNeighbors));
  }
  if (o.neighborhood == Neighborhood::kRadius && (o.max_k < 1 || o.max_k > kMaxNeighbors)) {
    throw ArgumentError("features", "max_k = " + std::to_string(o.max_k) + " is outside 1.." +
                                        std::to_string(kMaxNeighbors));
  }
  if (o.neighborhood != Neighborhood::kKnn && !(o.radius > 0 && std::isfinite(o.radius))) {
    throw ArgumentError("features", "the radius must be a positive number of metres (got " +
                                        std::to_string(o.radius) + ")");
  }
  if (!(o.ground_cell > 0 && std::isfinite(o.ground_cell))) {
    throw ArgumentError("features", "ground cell must be positive (got " +
                                        std::to_string(o.ground_cell) + ")");
  }
  if (!(o.count_radius > 0 && std::isfinite(o.count_radius))) {
    throw ArgumentError("features", "count radius must be positive");
  }
  if (pts.n >= 0xFFFFFFFFull) {
    throw ArgumentError("features", std::to_string(pts.n) + " points: at most 2^32 - 2 per call");
  }
  if (pts.n == 0) return;
  if (!pts.x || !pts.y || !pts.z) {
    throw ArgumentError("features", "a coordinate column is null for " + std::to_string(pts.n) +
                                        " points");
  }
  auto has = [&o](Feature f) {
    return std::find(o.features.begin(), o.features.end(), f) != o.features.end();
  };
  if (has(Feature::kHeightAboveGround) && !pts.classification) {
    throw ArgumentError("features", "height_above_ground needs the classification column");
  }
  const struct {
    Feature f;
    const uint16_t* column;
    const char* what;
  } colour[] = {{Feature::kRed, pts.red, "red"},       {Feature::kGreen, pts.green, "green"},
                {Feature::kBlue, pts.blue, "blue"},    {Feature::kNir, pts.nir, "nir"},
                {Feature::kNdvi, pts.red, "red"},      {Feature::kNdvi, pts.nir, "nir"}};
  for (const auto& c : colour) {
    if (has(c.f) && !c.column) {
      throw ArgumentError("features", std::string(feature_name(c.f)) + " needs the " + c.what +
                                          " column (colourise the points first)");
    }
  }
  for (size_t i = 0; i < pts.n; ++i) {
    if (!std::isfinite(pts.x[i]) || !std::isfinite(pts.y[i]) || !std::isfinite(pts.z[i])) {
      throw ArgumentError("features", "point " + std::to_string(i) +
                                          " has a non-finite coordinate");
    }
  }
}

template <class T>
DeviceBuffer<T> upload(const T* src, size_t n, const Device& device) {
  if (!src) return DeviceBuffer<T>();
  return DeviceBuffer<T>::from_host(src, n, device);
}

}  // namespace

FeatureTable compute_features(const PointColumns& pts, const FeatureOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const lidarhd::detail::CpuThreads threads(o.threads);  // index, ground and kernel alike
  validate(pts, o);
  const Device device = resolve(o.device);
  const size_t n = pts.n;
  const size_t columns = o.features.size();

  FeatureTable table;
  table.features = o.features;
  table.n = n;
  table.precision = o.precision;
  FeatureSummary& sum = table.summary;
  sum.points = n;

  detail::KernelParams P{};
  P.n = static_cast<uint32_t>(n);
  P.mode = o.neighborhood == Neighborhood::kKnn ? detail::kModeKnn : detail::kModeRadius;
  P.cap = o.neighborhood == Neighborhood::kRadius ? o.max_k : o.k;
  P.radius = static_cast<float>(o.radius);
  P.count_radius = static_cast<float>(o.count_radius);
  P.norm = static_cast<int>(o.eigen_norm);
  P.columns = static_cast<int>(columns);
  for (size_t j = 0; j < columns; ++j) {
    const Feature f = o.features[j];
    P.ids[j] = static_cast<uint8_t>(f);
    P.wanted |= 1u << static_cast<unsigned>(f);
    if (f == Feature::kNumPoints2m) {
      P.need_count = 1;
    } else if (f == Feature::kHeightAboveGround) {
      P.need_ground = 1;
    } else if (is_colour_feature(f)) {
      P.need_colour = 1;
    } else {
      P.need_neighbors = 1;
    }
  }
  sum.ground_requested = P.need_ground != 0;
  if (n == 0) return table;

  std::shared_ptr<const detail::GroundGrid> ground = o.ground;
  if (P.need_ground && !ground) {
    ground = std::make_shared<const detail::GroundGrid>(detail::build_ground_grid(
        pts.x, pts.y, pts.z, pts.classification, n, o.ground_cell, o.ground_class));
  }
  if (P.need_ground) {
    sum.ground_points = ground->ground_points;
    sum.ground_available = ground->valid();
    sum.ground_cell = ground->cell;
  }
  const auto index_start = std::chrono::steady_clock::now();
  const NeighborIndex index(pts.x, pts.y, pts.z, n, device);  // synchronous on every device
  sum.index_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - index_start).count();
  P.grid = index.view();

  // Buffers on the device (on the CPU they are plain host vectors).
  DeviceBuffer<float> dx, dy, dz, out32;
  DeviceBuffer<uint16_t> dr, dg, db, dn, out16;
  DeviceBuffer<float> gh;
  DeviceBuffer<uint8_t> gm, status;
  DeviceBuffer<float> reach;
  if (device.is_cpu()) {
    P.x = pts.x;
    P.y = pts.y;
    P.z = pts.z;
    P.red = pts.red;
    P.green = pts.green;
    P.blue = pts.blue;
    P.nir = pts.nir;
  } else {
    dx = upload(pts.x, n, device);
    dy = upload(pts.y, n, device);
    dz = upload(pts.z, n, device);
    if (P.need_colour) {
      dr = upload(pts.red, n, device);
      dg = upload(pts.green, n, device);
      db = upload(pts.blue, n, device);
      dn = upload(pts.nir, n, device);
    }
    P.x = dx.data();
    P.y = dy.data();
    P.z = dz.data();
    P.red = pts.red ? dr.data() : nullptr;
    P.green = pts.green ? dg.data() : nullptr;
    P.blue = pts.blue ? db.data() : nullptr;
    P.nir = pts.nir ? dn.data() : nullptr;
  }
  if (P.need_ground && ground->valid()) {
    const detail::GroundGrid& g = *ground;
    gh = DeviceBuffer<float>::from_host(g.height.data(), g.height.size(), device);
    gm = DeviceBuffer<uint8_t>::from_host(g.measured.data(), g.measured.size(), device);
    P.ground = detail::GroundView{gh.data(), gm.data(), g.nx, g.ny, g.cell, g.ix0, g.iy0, 1};
  }
  // On the CPU the kernel writes straight into the table (no copy of the largest array).
  std::vector<uint8_t> flags;
  if (device.is_cpu()) {
    if (o.precision == Precision::kFloat32) {
      table.f32.resize(n * columns);  // written whole by the kernel, its pages first by it
      P.out32 = table.f32.data();
    } else {
      table.f16.resize(n * columns);
      P.out16 = table.f16.data();
    }
    flags.resize(n);
    P.status = flags.data();
    if (o.report_reach) {
      table.reach2.resize(n);
      P.reach2 = table.reach2.data();
    }
  } else {
    if (o.precision == Precision::kFloat32) {
      out32 = DeviceBuffer<float>(n * columns, device);
      P.out32 = out32.data();
    } else {
      out16 = DeviceBuffer<uint16_t>(n * columns, device);
      P.out16 = out16.data();
    }
    status = DeviceBuffer<uint8_t>(n, device);
    P.status = status.data();
    if (o.report_reach) {
      reach = DeviceBuffer<float>(n, device);
      P.reach2 = reach.data();
    }
  }

  if (device.is_cpu()) {
    const auto kernel_start = std::chrono::steady_clock::now();
    detail::compute_features_cpu(P);
    sum.kernel_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - kernel_start).count();
  } else {
#if LIDARHD_WITH_CUDA
    sum.kernel_seconds = detail::compute_features_cuda(P, device.index);
#else
    lidarhd::detail::throw_no_cuda_support();  // unreachable: resolve() already threw
#endif
  }

  if (device.is_cuda()) {
    if (o.precision == Precision::kFloat32) {
      table.f32.resize(out32.size());
      out32.copy_to_host(table.f32.data(), out32.size());
    } else {
      table.f16.resize(out16.size());
      out16.copy_to_host(table.f16.data(), out16.size());
    }
    flags = status.to_host();
    if (o.report_reach) table.reach2 = reach.to_host();
  }
  for (const uint8_t s : flags) {
    sum.degenerate += (s & detail::kStatusDegenerate) != 0;
    sum.float64_fallback += (s & detail::kStatusFloat64) != 0;
    sum.points_without_ground += (s & (detail::kStatusGroundGap | detail::kStatusNoGround)) != 0;
  }
  sum.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return table;
}

float FeatureTable::value(size_t column, size_t point) const {
  const size_t at = column * n + point;
  return precision == Precision::kFloat32 ? f32[at] : detail::half_to_float(f16[at]);
}

std::vector<float> FeatureTable::column(size_t j) const {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = value(j, i);
  return out;
}

int FeatureTable::find(Feature f) const {
  for (size_t j = 0; j < features.size(); ++j) {
    if (features[j] == f) return static_cast<int>(j);
  }
  return -1;
}

LocalCoordinates to_local(const int32_t* raw_x, const int32_t* raw_y, const int32_t* raw_z,
                          size_t n, const std::array<double, 3>& scale,
                          const std::array<double, 3>& offset) {
  LocalCoordinates out;
  if (n == 0) return out;
  if (!raw_x || !raw_y || !raw_z) {
    throw ArgumentError("features", "to_local: a coordinate column is null");
  }
  const int32_t* raw[3] = {raw_x, raw_y, raw_z};
  std::vector<float>* dst[3] = {&out.x, &out.y, &out.z};
  const char* axis = "xyz";
  for (int a = 0; a < 3; ++a) {
    if (!std::isfinite(scale[a]) || !std::isfinite(offset[a]) || scale[a] == 0) {
      throw ArgumentError("features", std::string("to_local: invalid ") + axis[a] +
                                          " scale/offset");
    }
    int32_t lo = raw[a][0], hi = raw[a][0];
    for (size_t i = 1; i < n; ++i) {
      lo = std::min(lo, raw[a][i]);
      hi = std::max(hi, raw[a][i]);
    }
    const double w0 = lo * scale[a] + offset[a], w1 = hi * scale[a] + offset[a];
    if (std::fabs(w1 - w0) > 1e6) {
      throw ArgumentError("features", std::string("to_local: the ") + axis[a] +
                                          " extent exceeds 1e6 m: split the cloud into tiles");
    }
    out.origin[a] = std::floor(std::min(w0, w1));
    dst[a]->resize(n);
    for (size_t i = 0; i < n; ++i) {
      (*dst[a])[i] = static_cast<float>(raw[a][i] * scale[a] + offset[a] - out.origin[a]);
    }
  }
  return out;
}

uint16_t to_half(float value) { return detail::float_to_half(value); }
float from_half(uint16_t bits) { return detail::half_to_float(bits); }

}  // namespace lidarhd::features
