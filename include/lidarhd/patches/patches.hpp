// Training patches: square cells of a grid aligned to absolute coordinates, each sampled to exactly
// num_points points, normalised and optionally augmented.
//
// The grid. stride = size * (1 - overlap); cell (gx, gy) is the square
// [gx * stride, gx * stride + size) x [gy * stride, gy * stride + size) in the input's own
// coordinates (e.g. Lambert-93 metres). The grid does not depend on the tile, so neighbouring
// tiles produce the same cells; a cell crossing a tile edge only sees the points of the tile it
// is extracted from (it is cut by the tile). A point belongs to every cell containing it: up to 4
// with overlap <= 0.5, more with larger overlaps. Points with a non-finite x or y are ignored.
//
// Determinism (architecture.md convention 8): every random choice comes from a counter-based
// hash keyed by (seed, gx, gy, augmentation, purpose), so the output does not depend on threads,
// on the device or on the other cells: the same input and options give the same bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"

namespace lidarhd::patches {

enum class Sampling {
  kRandom,  // uniform without replacement; when the cell has fewer points than num_points, every
            // point once (in random order) then uniform draws with replacement
  kFps,     // exact farthest-point sampling (squared distances in float32 relative to the
            // square's centre, ties to the smallest point index), seeded start point; with too
            // few points, every point then draws with replacement as for kRandom
  kVoxel,   // voxels of voxel_size (x/y from the square's lower-left corner, z from 0), one
            // seeded random point per voxel, then kRandom over those points to exactly num_points
};
Sampling parse_sampling(const std::string& name);  // "random", "fps", "voxel"
const char* sampling_name(Sampling s);

// What xyz holds (Patch::center and Patch::scale record it: xyz = (world - center) / scale):
enum class Normalize {
  kNone,        // center = the square's lower-left corner and z = 0: x, y in [0, size), z as is
                // (float32 of raw Lambert-93 coordinates would lose centimetres, hence the corner)
  kCenter,      // center = the square's centre in x/y and the mean z of the sampled points
  kUnitSphere,  // as kCenter, then divided by the largest distance from the centre (scale)
};
Normalize parse_normalize(const std::string& name);  // "none", "center", "unit_sphere"
const char* normalize_name(Normalize n);

// Augmented copies: copy k (1..copies) is a new sampling of the same cell with its own random
// streams, then, applied to the normalised xyz in this order: scaling by a factor uniform in
// [scale_min, scale_max], rotation about the vertical axis through the square's centre by a
// uniform angle, jitter (per coordinate, Gaussian of jitter_sigma clipped to +-jitter_clip, in
// xyz units: metres, or radii for kUnitSphere), dropout (round(dropout * num_points) random
// points replaced by duplicates of the kept ones, index included, so the count stays exact).
// The original (augmentation 0) is never augmented.
struct Augment {
  int copies = 0;
  bool rotate = true;
  double jitter_sigma = 0.01;
  double jitter_clip = 0.05;
  double scale_min = 0.95, scale_max = 1.05;
  double dropout = 0.0;  // in [0, 1)
};

struct PatchOptions {
  double size = 150;            // side of the square, input units
  double overlap = 0.1;         // fraction of size shared by neighbours, in [0, 1)
  uint64_t min_points = 10000;  // cells with fewer points are skipped (a cell needs >= 1 point)
  uint32_t num_points = 16384;  // points per patch, exactly
  Sampling sampling = Sampling::kRandom;
  double voxel_size = 0.5;  // kVoxel only
  Normalize normalize = Normalize::kCenter;
  Augment augment;
  uint64_t seed = 1;
  Device device;  // where binning and sampling run (resolved here; no fallback)
  // Only the cells with gx in [cells[0], cells[2]] and gy in [cells[1], cells[3]] (a streamed
  // tile cuts its patches a strip of cells at a time).
  std::array<int64_t, 4> cells = {INT64_MIN, INT64_MIN, INT64_MAX, INT64_MAX};
};

struct Patch {
  int64_t gx = 0, gy = 0;          // grid cell (see the header comment)
  int augmentation = 0;            // 0 = original, 1..copies = augmented copies
  uint64_t cell_points = 0;        // points of the input inside the square
  std::array<double, 3> center{};  // subtracted from world coordinates (see Normalize)
  double scale = 1;                // then divided by this (kUnitSphere), before augmentation
  std::array<double, 4> bounds{};  // xmin, ymin, xmax, ymax of the square
  // num_points indices into the input, all inside the square. Duplicates only when the cell has
  // fewer than num_points points (or, for kVoxel, voxels) and from dropout.
  std::vector<uint32_t> indices;
  std::vector<float> xyz;  // num_points x 3, row-major, normalised (and augmented)
};

// x, y, z: world coordinates of n points (n < 2^32). Returns one patch per (cell with at least
// max(min_points, 1) points, augmentation), ordered by (gy, gx, augmentation). Throws
// ArgumentError on invalid options, DeviceError when the device is unavailable.
std::vector<Patch> extract_patches(const double* x, const double* y, const double* z, size_t n,
                                   const PatchOptions& options);

// The patch grid's stride for these options: size * (1 - overlap).
double patch_stride(const PatchOptions& options);

}  // namespace lidarhd::patches
