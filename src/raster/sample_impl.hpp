// Per-point sampling logic shared by sample_cpu.cpp and sample_cuda.cu (architecture.md
// convention 1). The raster is seen through a window of blocks: a table of pointers, row-major,
// one per block (null = no data there), so a point tile samples imagery cached in blocks without
// assembling a mosaic first, on the host or on the device alike.
//
// Exactness: nearest takes the pixel containing the point with GDAL's floor convention,
// col = floor((x - x0) / res_x) from the raster's own origin, so a point on a pixel edge gets the
// same pixel whatever window its batch was given (a window origin x0 + bx0 * size * res_x would
// round differently); bilinear weights are computed in double with explicitly rounded operations
// (no fused multiply-add on the GPU), so CPU and CUDA give the same bits.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/rounded_math.hpp"
#include "lidarhd/core/hd.hpp"

namespace lidarhd::raster::detail {

// Status codes per point and source (SampleStatus in sample.hpp mirrors them).
constexpr uint8_t kSampleOk = 0;
constexpr uint8_t kSampleOutside = 1;  // no pixel there (outside the raster or the window)
constexpr uint8_t kSampleNoData = 2;   // the pixel is NoData

// Beyond this many pixels from the origin a coordinate is treated as outside (int64 safe).
constexpr double kMaxPixelIndex = 4e15;

struct WindowView {
  double x0 = 0, y0 = 0;      // upper-left corner of the raster's pixel (0, 0) (world units)
  double res_x = 1, res_y = 1;
  int64_t col0 = 0, row0 = 0;  // raster pixel of the window's first block's corner
  int block_size = 1;
  int block_shift = -1;        // log2(block_size) when it is a power of two, else -1
  int bands = 1;               // bands stored per pixel in the blocks
  int nbx = 0, nby = 0;        // blocks across and down
  const uint8_t* const* pixels = nullptr;  // nbx * nby block pointers (null = missing)
  const uint8_t* const* valid = nullptr;
};

struct SampleOut {
  float* values = nullptr;  // n * out_bands, band-major per point: values[i * out_bands + b]
  uint8_t* status = nullptr;
  int out_bands = 1;        // first out_bands bands of the blocks
  float fill = 0;           // value given to outside/NoData points
};

using lidarhd::detail::add_rn;  // core/rounded_math.hpp: no FMA contraction on the GPU
using lidarhd::detail::mul_rn;

// Block index and offset in the block of a pixel coordinate v >= 0. Block sizes are usually
// powers of two: shift and mask then give the same values as / and % without a 64-bit
// division, which dominates the arithmetic on CPUs and is emulated on GPUs.
LIDARHD_HD inline int64_t block_index(const WindowView& w, int64_t v) {
  return w.block_shift >= 0 ? v >> w.block_shift : v / w.block_size;
}
LIDARHD_HD inline int64_t block_offset(const WindowView& w, int64_t v) {
  return w.block_shift >= 0 ? v & (int64_t{w.block_size} - 1) : v % w.block_size;
}

// Pixel (col, row) of the window: its data pointer, or null when missing or NoData.
LIDARHD_HD inline const uint8_t* window_pixel(const WindowView& w, int64_t col, int64_t row) {
  const int64_t size = w.block_size;
  if (col < 0 || row < 0 || col >= size * w.nbx || row >= size * w.nby) return nullptr;
  const int64_t block = block_index(w, row) * w.nbx + block_index(w, col);
  const uint8_t* px = w.pixels[block];
  if (!px) return nullptr;
  const int64_t at = block_offset(w, row) * size + block_offset(w, col);
  if (w.valid[block][at] != 1) return nullptr;  // kPixelData
  return px + at * w.bands;
}

// Why window_pixel gave null: kSampleNoData for a NoData pixel, else kSampleOutside.
LIDARHD_HD inline uint8_t missing_status(const WindowView& w, int64_t col, int64_t row) {
  const int64_t size = w.block_size;
  if (col < 0 || row < 0 || col >= size * w.nbx || row >= size * w.nby) return kSampleOutside;
  const int64_t block = block_index(w, row) * w.nbx + block_index(w, col);
  if (!w.pixels[block]) return kSampleOutside;
  return w.valid[block][block_offset(w, row) * size + block_offset(w, col)] == 2 ? kSampleNoData
                                                                                : kSampleOutside;
}

LIDARHD_HD inline void sample_fill(const SampleOut& out, int64_t i, uint8_t status) {
  for (int b = 0; b < out.out_bands; ++b) out.values[i * out.out_bands + b] = out.fill;
  out.status[i] = status;
}

LIDARHD_HD inline void sample_nearest(const WindowView& w, double x, double y, int64_t i,
                                      const SampleOut& out) {
  const double fc = std::floor((x - w.x0) / w.res_x);
  const double fr = std::floor((w.y0 - y) / w.res_y);
  // Also rejects NaN coordinates (every comparison with NaN is false).
  if (!(std::fabs(fc) < kMaxPixelIndex && std::fabs(fr) < kMaxPixelIndex)) {
    return sample_fill(out, i, kSampleOutside);
  }
  // Relative to the window; window_pixel rejects pixels before or beyond it.
  const int64_t col = static_cast<int64_t>(fc) - w.col0, row = static_cast<int64_t>(fr) - w.row0;
  const uint8_t* px = window_pixel(w, col, row);
  if (!px) {
    return sample_fill(out, i, missing_status(w, col, row));
  }
  for (int b = 0; b < out.out_bands; ++b) out.values[i * out.out_bands + b] = px[b];
  out.status[i] = kSampleOk;
}

// Bilinear between the four pixel centres around the point. Pixels that are missing or NoData
// drop out and the remaining weights are renormalised (so the raster's edge behaves like a
// clamp); the status is that of the pixel containing the point, as for nearest.
LIDARHD_HD inline void sample_bilinear(const WindowView& w, double x, double y, int64_t i,
                                       const SampleOut& out) {
  const double u = (x - w.x0) / w.res_x, v = (w.y0 - y) / w.res_y;
  if (!(std::fabs(u) < kMaxPixelIndex && std::fabs(v) < kMaxPixelIndex)) {
    return sample_fill(out, i, kSampleOutside);
  }
  const int64_t col = static_cast<int64_t>(std::floor(u)) - w.col0;
  const int64_t row = static_cast<int64_t>(std::floor(v)) - w.row0;
  if (!window_pixel(w, col, row)) {
    return sample_fill(out, i, missing_status(w, col, row));
  }
  const double cu = u - 0.5, cv = v - 0.5;
  const double c0 = std::floor(cu), r0 = std::floor(cv);
  const double tu = cu - c0, tv = cv - r0;
  const int64_t c = static_cast<int64_t>(c0) - w.col0, r = static_cast<int64_t>(r0) - w.row0;
  const uint8_t* p[4] = {window_pixel(w, c, r), window_pixel(w, c + 1, r),
                         window_pixel(w, c, r + 1), window_pixel(w, c + 1, r + 1)};
  const double wt[4] = {mul_rn(1 - tu, 1 - tv), mul_rn(tu, 1 - tv), mul_rn(1 - tu, tv),
                        mul_rn(tu, tv)};
  double total = 0;
  for (int k = 0; k < 4; ++k) total = add_rn(total, p[k] ? wt[k] : 0.0);
  // With four pixels the weights add up to exactly 1.0 for ~99% of points, and sum / 1.0 is sum
  // (IEEE): skipping the divisions then changes no bit.
  const bool unit = total == 1.0;
  for (int b = 0; b < out.out_bands; ++b) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum = add_rn(sum, p[k] ? mul_rn(wt[k], p[k][b]) : 0.0);
    if (!unit) sum = sum / total;
    out.values[i * out.out_bands + b] = static_cast<float>(sum);
  }
  out.status[i] = kSampleOk;
}

}  // namespace lidarhd::raster::detail
