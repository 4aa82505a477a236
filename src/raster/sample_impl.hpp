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
  double x0 = 0, y0 = 0;  // upper-left corner of the raster's pixel (0, 0) (world units)
  double res_x = 1, res_y = 1;
  int64_t col0 = 0, row0 = 0;  // raster pixel of the window's first block's corner
  int block_size = 1;
  int block_shift = -1;                    // log2(block_size) when it is a power of two, else -1
  int bands = 1;                           // bands stored per pixel in the blocks
  int nbx = 0, nby = 0;                    // blocks across and down
  const uint8_t* const* pixels = nullptr;  // nbx * nby block pointers (null = missing)
  const uint8_t* const* valid = nullptr;
};

struct SampleOut {
  float* values = nullptr;  // n * out_bands, band-major per point: values[i * out_bands + b]
  uint8_t* status = nullptr;
  int out_bands = 1;  // first out_bands bands of the blocks
  float fill = 0;     // value given to outside/NoData points
};

using lidarhd::detail::add_rn;  // core/rounded_math.hpp: no FMA contraction on the GPU
using lidarhd::detail::mul_rn;

// floor(v) as an integer, for |v| < 2^63: a truncating conversion and a correction, exact and
// equal to std::floor (converted back, it is std::floor's double), but cheaper: without SSE4.1
// std::floor is a dozen instructions, and the callers want the integer anyway.
LIDARHD_HD inline int64_t floor_int(double v) {
  const int64_t t = static_cast<int64_t>(v);
  return t - (static_cast<double>(t) > v ? 1 : 0);
}

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

// Output bands: kOutBands when the caller knows them at compile time (the CPU loops specialise
// 1 and 3, so that the band loops unroll), else out.out_bands (kOutBands = 0).
template <int kOutBands>
LIDARHD_HD inline int out_bands(const SampleOut& out) {
  return kOutBands > 0 ? kOutBands : out.out_bands;
}

template <int kOutBands = 0>
LIDARHD_HD inline void sample_fill(const SampleOut& out, int64_t i, uint8_t status) {
  const int nb = out_bands<kOutBands>(out);
  for (int b = 0; b < nb; ++b) out.values[i * nb + b] = out.fill;
  out.status[i] = status;
}

// Where a point's pixel is: block slot and offset in the block (row * size + col).
struct PixelRef {
  int64_t block = 0, at = 0;
};

// The window pixel (col, row) containing the point, or false where none can be (NaN, beyond
// kMaxPixelIndex). col/row may still lie outside the window.
LIDARHD_HD inline bool nearest_pixel(const WindowView& w, double x, double y, int64_t* col,
                                     int64_t* row) {
  const double u = (x - w.x0) / w.res_x, v = (w.y0 - y) / w.res_y;
  // |floor(u)| < kMaxPixelIndex, written on u (exact: both bounds are integers below 2^53).
  // Also rejects NaN coordinates (every comparison with NaN is false).
  if (!(u >= 1 - kMaxPixelIndex && u < kMaxPixelIndex && v >= 1 - kMaxPixelIndex &&
        v < kMaxPixelIndex)) {
    return false;
  }
  // Relative to the window; window_pixel rejects pixels before or beyond it.
  *col = floor_int(u) - w.col0, *row = floor_int(v) - w.row0;
  return true;
}

// The block and offset of window pixel (col, row), or false when it is outside the window or its
// block is missing (the point is then kSampleOutside).
LIDARHD_HD inline bool locate_pixel(const WindowView& w, int64_t col, int64_t row, PixelRef* ref) {
  const int64_t size = w.block_size;
  if (col < 0 || row < 0 || col >= size * w.nbx || row >= size * w.nby) return false;
  ref->block = block_index(w, row) * w.nbx + block_index(w, col);
  ref->at = block_offset(w, row) * size + block_offset(w, col);
  return w.pixels[ref->block] != nullptr;
}

// Nearest, once the pixel is found: its `valid` flag decides between the value and the fill.
template <int kOutBands = 0>
LIDARHD_HD inline void nearest_at(const uint8_t* pixels, const uint8_t* valid, int bands,
                                  int64_t at, int64_t i, const SampleOut& out) {
  const uint8_t flag = valid[at];
  if (flag != 1) {  // kPixelData
    return sample_fill<kOutBands>(out, i, flag == 2 ? kSampleNoData : kSampleOutside);
  }
  const uint8_t* px = pixels + at * bands;
  const int nb = out_bands<kOutBands>(out);
  for (int b = 0; b < nb; ++b) out.values[i * nb + b] = px[b];
  out.status[i] = kSampleOk;
}

template <int kOutBands = 0>
LIDARHD_HD inline void sample_nearest(const WindowView& w, double x, double y, int64_t i,
                                      const SampleOut& out) {
  int64_t col = 0, row = 0;
  PixelRef ref;
  if (!nearest_pixel(w, x, y, &col, &row) || !locate_pixel(w, col, row, &ref)) {
    return sample_fill<kOutBands>(out, i, kSampleOutside);
  }
  nearest_at<kOutBands>(w.pixels[ref.block], w.valid[ref.block], w.bands, ref.at, i, out);
}

// Bilinear between the four pixel centres around the point. Pixels that are missing or NoData
// drop out and the remaining weights are renormalised (so the raster's edge behaves like a
// clamp); the status is that of the pixel containing the point, as for nearest.
//
// The cell of a point: its pixel (col, row), the pixel (c, r) whose centre is the upper-left of
// the four, and the fractions (tu, tv) of the way to the next centres. false: NaN or beyond
// kMaxPixelIndex (outside).
struct BilinearCell {
  int64_t col = 0, row = 0, c = 0, r = 0;
  double tu = 0, tv = 0;
};

LIDARHD_HD inline bool bilinear_cell(const WindowView& w, double x, double y, BilinearCell* cell) {
  const double u = (x - w.x0) / w.res_x, v = (w.y0 - y) / w.res_y;
  if (!(std::fabs(u) < kMaxPixelIndex && std::fabs(v) < kMaxPixelIndex)) return false;
  cell->col = floor_int(u) - w.col0;
  cell->row = floor_int(v) - w.row0;
  const double cu = u - 0.5, cv = v - 0.5;
  const int64_t c0 = floor_int(cu), r0 = floor_int(cv);
  cell->tu = cu - static_cast<double>(c0), cell->tv = cv - static_cast<double>(r0);
  cell->c = c0 - w.col0, cell->r = r0 - w.row0;
  return true;
}

// The common case: the four pixels lie in one present block, the containing pixel among them.
// Returns the block and the offset of (c, r), with `corner` = which of the four contains the
// point (0 (c, r), 1 (c + 1, r), 2 (c, r + 1), 3 (c + 1, r + 1)); false otherwise
// (sample_bilinear_general handles those: block edges, window edges, missing blocks).
LIDARHD_HD inline bool bilinear_in_one_block(const WindowView& w, const BilinearCell& cell,
                                             PixelRef* ref, int* corner) {
  const int64_t dc = cell.col - cell.c, dr = cell.row - cell.r;
  if (dc < 0 || dc > 1 || dr < 0 || dr > 1) return false;
  if (!locate_pixel(w, cell.c, cell.r, ref)) return false;
  const int64_t last = w.block_size - 1;
  if (block_offset(w, cell.c) == last || block_offset(w, cell.r) == last) return false;
  *corner = static_cast<int>(dr * 2 + dc);
  return true;
}

// The four weights, in the order of `corner`, with explicitly rounded products.
LIDARHD_HD inline void bilinear_weights(double tu, double tv, double wt[4]) {
  wt[0] = mul_rn(1 - tu, 1 - tv), wt[1] = mul_rn(tu, 1 - tv);
  wt[2] = mul_rn(1 - tu, tv), wt[3] = mul_rn(tu, tv);
}

// Bilinear inside one block, from the offset `at` of pixel (c, r) (block_size wide rows).
// Bit-identical to sample_bilinear_general: a missing neighbour contributes a weight of +0.0 to
// the total and +0.0 * value = +0.0 to each sum (values are finite and >= 0), exactly the 0.0
// the general version adds in its place.
template <int kOutBands = 0>
LIDARHD_HD inline void bilinear_at(const uint8_t* pixels, const uint8_t* valid, int bands,
                                   int64_t stride, int64_t at, int corner, double tu, double tv,
                                   int64_t i, const SampleOut& out) {
  const int64_t off[4] = {at, at + 1, at + stride, at + stride + 1};
  const uint8_t flag = valid[off[corner]];
  if (flag != 1) {  // kPixelData
    return sample_fill<kOutBands>(out, i, flag == 2 ? kSampleNoData : kSampleOutside);
  }
  double wt[4];
  bilinear_weights(tu, tv, wt);
  double total = 0;
  for (int k = 0; k < 4; ++k) {
    wt[k] = valid[off[k]] == 1 ? wt[k] : 0.0;
    total = add_rn(total, wt[k]);
  }
  // With four pixels the weights add up to exactly 1.0 for ~99% of points, and sum / 1.0 is sum
  // (IEEE): skipping the divisions then changes no bit.
  const bool unit = total == 1.0;
  const int nb = out_bands<kOutBands>(out);
  for (int b = 0; b < nb; ++b) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum = add_rn(sum, mul_rn(wt[k], pixels[off[k] * bands + b]));
    if (!unit) sum = sum / total;
    out.values[i * nb + b] = static_cast<float>(sum);
  }
  out.status[i] = kSampleOk;
}

// Any cell: each of the four pixels looked up on its own (window or block edges).
LIDARHD_HD inline void sample_bilinear_general(const WindowView& w, const BilinearCell& cell,
                                               int64_t i, const SampleOut& out) {
  if (!window_pixel(w, cell.col, cell.row)) {
    return sample_fill(out, i, missing_status(w, cell.col, cell.row));
  }
  const int64_t c = cell.c, r = cell.r;
  const uint8_t* p[4] = {window_pixel(w, c, r), window_pixel(w, c + 1, r),
                         window_pixel(w, c, r + 1), window_pixel(w, c + 1, r + 1)};
  double wt[4];
  bilinear_weights(cell.tu, cell.tv, wt);
  double total = 0;
  for (int k = 0; k < 4; ++k) total = add_rn(total, p[k] ? wt[k] : 0.0);
  const bool unit = total == 1.0;  // as in bilinear_at
  for (int b = 0; b < out.out_bands; ++b) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum = add_rn(sum, p[k] ? mul_rn(wt[k], p[k][b]) : 0.0);
    if (!unit) sum = sum / total;
    out.values[i * out.out_bands + b] = static_cast<float>(sum);
  }
  out.status[i] = kSampleOk;
}

template <int kOutBands = 0>
LIDARHD_HD inline void sample_bilinear(const WindowView& w, double x, double y, int64_t i,
                                       const SampleOut& out) {
  BilinearCell cell;
  if (!bilinear_cell(w, x, y, &cell)) return sample_fill<kOutBands>(out, i, kSampleOutside);
  PixelRef ref;
  int corner = 0;
  if (bilinear_in_one_block(w, cell, &ref, &corner)) {
    return bilinear_at<kOutBands>(w.pixels[ref.block], w.valid[ref.block], w.bands, w.block_size,
                                  ref.at, corner, cell.tu, cell.tv, i, out);
  }
  sample_bilinear_general(w, cell, i, out);
}

}  // namespace lidarhd::raster::detail
