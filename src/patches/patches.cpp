// extract_patches: validates the options, lays the grid over the points, runs binning and
// sampling on the chosen device (patches_run.hpp) and builds the patches on the host:
// normalisation and augmentation touch only num_points points per patch, and doing them on the
// host for both devices makes the output bytes independent of the device by construction.
#include "lidarhd/patches/patches.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/device_backend.hpp"
#include "lidarhd/core/error.hpp"
#include "patches/patches_backend.hpp"

namespace lidarhd::patches {

Sampling parse_sampling(const std::string& name) {
  if (name == "random") return Sampling::kRandom;
  if (name == "fps") return Sampling::kFps;
  if (name == "voxel") return Sampling::kVoxel;
  throw ArgumentError("patches", "unknown sampling '" + name + "' (random, fps or voxel)");
}

const char* sampling_name(Sampling s) {
  switch (s) {
    case Sampling::kFps:
      return "fps";
    case Sampling::kVoxel:
      return "voxel";
    default:
      return "random";
  }
}

Normalize parse_normalize(const std::string& name) {
  if (name == "none") return Normalize::kNone;
  if (name == "center") return Normalize::kCenter;
  if (name == "unit_sphere") return Normalize::kUnitSphere;
  throw ArgumentError("patches",
                      "unknown normalisation '" + name + "' (none, center or unit_sphere)");
}

const char* normalize_name(Normalize n) {
  switch (n) {
    case Normalize::kNone:
      return "none";
    case Normalize::kUnitSphere:
      return "unit_sphere";
    default:
      return "center";
  }
}

double patch_stride(const PatchOptions& o) { return o.size * (1.0 - o.overlap); }

namespace {

using detail::cell_hi;
using detail::cell_lo;

// Cells in the binning window at most (its counts matrix holds at least one entry per cell).
constexpr double kMaxCells = double(int64_t{1} << 26);

void check(bool ok, const std::string& what) {
  if (!ok) throw ArgumentError("patches", what);
}

void validate(const PatchOptions& o, size_t n) {
  const auto num = [](double v) { return std::to_string(v); };
  check(std::isfinite(o.size) && o.size > 0, "size must be positive (got " + num(o.size) + ")");
  // Overlap 0.999 already puts a point in a million cells; beyond, binning would explode.
  check(o.overlap >= 0 && o.overlap <= 0.999,
        "overlap must be in [0, 0.999] (got " + num(o.overlap) + ")");
  check(o.num_points > 0, "num_points must be at least 1");
  check(n <= std::numeric_limits<uint32_t>::max(),
        std::to_string(n) + " points: patches index at most 2^32 - 1 points per call");
  if (o.sampling == Sampling::kVoxel) {
    check(std::isfinite(o.voxel_size) && o.voxel_size > 0 && o.size / o.voxel_size < 2e6,
          "voxel_size must be positive and above size / 2e6 (got " + num(o.voxel_size) + ")");
  }
  const Augment& a = o.augment;
  check(a.copies >= 0 && a.copies <= 1000,
        "augment.copies must be in [0, 1000] (got " + std::to_string(a.copies) + ")");
  check(a.jitter_sigma >= 0 && a.jitter_clip >= 0, "augment jitter sigma and clip must be >= 0");
  check(a.scale_min > 0 && a.scale_min <= a.scale_max && std::isfinite(a.scale_max),
        "augment scale needs 0 < scale_min <= scale_max (got " + num(a.scale_min) + ", " +
            num(a.scale_max) + ")");
  check(a.dropout >= 0 && a.dropout < 1,
        "augment.dropout must be in [0, 1) (got " + num(a.dropout) + ")");
}

// The window of cells that can hold a point: a safe superset from the points' extent (cells
// left empty cost one count each).
bool plan_grid(const double* x, const double* y, size_t n, const PatchOptions& o,
               detail::CellGrid& g) {
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0;
  double x1 = -x0, y1 = -x0;
  const auto count = static_cast<int64_t>(n);
  const double lim = detail::kMaxCoordinate;
#if defined(_OPENMP)
#pragma omp parallel for reduction(min : x0, y0) reduction(max : x1, y1)
#endif
  for (int64_t i = 0; i < count; ++i) {
    const double px = x[i], py = y[i];
    if (!(px > -lim && px < lim && py > -lim && py < lim)) continue;
    x0 = std::min(x0, px), x1 = std::max(x1, px);
    y0 = std::min(y0, py), y1 = std::max(y1, py);
  }
  if (!(x0 <= x1)) return false;  // no usable point
  g.stride = patch_stride(o);
  g.inv_stride = 1.0 / g.stride;
  g.size = o.size;
  const double gx0 = std::max(std::floor((x0 - o.size) / g.stride) - 1, double(o.cells[0]));
  const double gy0 = std::max(std::floor((y0 - o.size) / g.stride) - 1, double(o.cells[1]));
  const double gx1 = std::min(std::floor(x1 / g.stride) + 1, double(o.cells[2]));
  const double gy1 = std::min(std::floor(y1 / g.stride) + 1, double(o.cells[3]));
  if (gx0 > gx1 || gy0 > gy1) return false;  // no cell of the window
  const double cells = (gx1 - gx0 + 1) * (gy1 - gy0 + 1);
  check(cells <= kMaxCells,
        "the points span " + std::to_string(static_cast<int64_t>(gx1 - gx0 + 1)) + " x " +
            std::to_string(static_cast<int64_t>(gy1 - gy0 + 1)) + " cells of size " +
            std::to_string(o.size) + "; is the patch size right?");
  g.gx0 = static_cast<int64_t>(gx0), g.gy0 = static_cast<int64_t>(gy0);
  g.ncx = static_cast<int64_t>(gx1 - gx0 + 1), g.ncy = static_cast<int64_t>(gy1 - gy0 + 1);
  return true;
}

// A standard normal draw (Box-Muller; host only, so libm is the same for every device).
double gaussian(uint64_t key, uint64_t counter) {
  const double u1 = 1.0 - detail::draw_unit(key, 2 * counter);  // (0, 1]
  const double u2 = detail::draw_unit(key, 2 * counter + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

void augment(Patch& p, const PatchOptions& o, const std::array<double, 3>& pivot) {
  const Augment& a = o.augment;
  const size_t n = p.indices.size();
  const uint64_t tk =
      detail::stream_key(o.seed, p.gx, p.gy, p.augmentation, detail::kPurposeTransform);
  const double s = a.scale_min + (a.scale_max - a.scale_min) * detail::draw_unit(tk, 0);
  const double angle = a.rotate ? 2.0 * M_PI * detail::draw_unit(tk, 1) : 0.0;
  const double c = std::cos(angle), sn = std::sin(angle);
  const uint64_t jk =
      detail::stream_key(o.seed, p.gx, p.gy, p.augmentation, detail::kPurposeJitter);
  for (size_t j = 0; j < n; ++j) {
    const double u = p.xyz[3 * j] - pivot[0], v = p.xyz[3 * j + 1] - pivot[1];
    const double w = p.xyz[3 * j + 2] - pivot[2];
    double out[3] = {pivot[0] + s * (c * u - sn * v), pivot[1] + s * (sn * u + c * v),
                     pivot[2] + s * w};
    if (a.jitter_sigma > 0 && a.jitter_clip > 0) {
      for (int k = 0; k < 3; ++k) {
        const double g = a.jitter_sigma * gaussian(jk, 3 * j + static_cast<uint64_t>(k));
        out[k] += std::max(-a.jitter_clip, std::min(a.jitter_clip, g));
      }
    }
    for (int k = 0; k < 3; ++k) p.xyz[3 * j + k] = static_cast<float>(out[k]);
  }
  // Dropout: the first `drop` slots of a permutation lose their point to one of the kept ones.
  const auto drop = static_cast<uint64_t>(std::llround(a.dropout * static_cast<double>(n)));
  if (drop == 0 || drop >= n) return;
  const uint64_t dk =
      detail::stream_key(o.seed, p.gx, p.gy, p.augmentation, detail::kPurposeDropout);
  const int bits = detail::feistel_bits(n);
  for (uint64_t j = 0; j < drop; ++j) {
    const uint64_t slot = detail::permute(j, n, bits, dk);
    const uint64_t kept =
        detail::permute(drop + detail::draw_below(detail::mix64(dk), j, n - drop), n, bits, dk);
    p.indices[slot] = p.indices[kept];
    for (int k = 0; k < 3; ++k) p.xyz[3 * slot + k] = p.xyz[3 * kept + k];
  }
}

Patch build_patch(const detail::JobInfo& job, const uint32_t* indices, const double* x,
                  const double* y, const double* z, const PatchOptions& o,
                  const detail::CellGrid& g) {
  Patch p;
  p.gx = job.gx, p.gy = job.gy, p.augmentation = job.augmentation;
  p.cell_points = job.count;
  p.bounds = {cell_lo(job.gx, g.stride), cell_lo(job.gy, g.stride),
              cell_hi(job.gx, g.stride, g.size), cell_hi(job.gy, g.stride, g.size)};
  const size_t n = o.num_points;
  p.indices.assign(indices, indices + n);
  double mean_z = 0;
  for (size_t j = 0; j < n; ++j) mean_z += z[indices[j]];
  mean_z /= static_cast<double>(n);
  std::array<double, 3> pivot{0, 0, 0};  // centre of scaling and rotation, in xyz units
  if (o.normalize == Normalize::kNone) {
    p.center = {p.bounds[0], p.bounds[1], 0.0};
    pivot = {g.size / 2, g.size / 2, mean_z};
  } else {
    p.center = {p.bounds[0] + g.size / 2, p.bounds[1] + g.size / 2, mean_z};
  }
  if (o.normalize == Normalize::kUnitSphere) {
    double r2 = 0;
    for (size_t j = 0; j < n; ++j) {
      const uint32_t i = indices[j];
      const double dx = x[i] - p.center[0], dy = y[i] - p.center[1], dz = z[i] - p.center[2];
      r2 = std::max(r2, dx * dx + dy * dy + dz * dz);
    }
    p.scale = r2 > 0 ? std::sqrt(r2) : 1.0;
  }
  p.xyz.resize(3 * n);
  for (size_t j = 0; j < n; ++j) {
    const uint32_t i = indices[j];
    p.xyz[3 * j] = static_cast<float>((x[i] - p.center[0]) / p.scale);
    p.xyz[3 * j + 1] = static_cast<float>((y[i] - p.center[1]) / p.scale);
    p.xyz[3 * j + 2] = static_cast<float>((z[i] - p.center[2]) / p.scale);
  }
  if (p.augmentation > 0) augment(p, o, pivot);
  return p;
}

}  // namespace

std::vector<Patch> extract_patches(const double* x, const double* y, const double* z, size_t n,
                                   const PatchOptions& options) {
  validate(options, n);
  const Device device = resolve(options.device);
  std::vector<Patch> patches;
  detail::SampleInput input;
  input.x = x, input.y = y, input.z = z, input.n = n;
  input.options = options;
  if (n == 0 || !plan_grid(x, y, n, options, input.grid)) return patches;

  detail::CellSamples samples;
  if (device.is_cuda()) {
#if LIDARHD_WITH_CUDA
    samples = detail::sample_cells_cuda(input, device.index);
#else
    lidarhd::detail::throw_no_cuda_support();  // unreachable: resolve() already threw
#endif
  } else {
    samples = detail::sample_cells_cpu(input);
  }

  patches.resize(samples.jobs.size());
  const auto count = static_cast<int64_t>(samples.jobs.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (int64_t k = 0; k < count; ++k) {
    const size_t at = static_cast<size_t>(k);
    patches[at] = build_patch(samples.jobs[at], samples.indices.data() + at * options.num_points, x,
                              y, z, options, input.grid);
  }
  return patches;
}

}  // namespace lidarhd::patches
