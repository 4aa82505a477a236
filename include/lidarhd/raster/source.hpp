// Raster sources for colourisation: a north-up pixel grid cut into square blocks of 8-bit,
// pixel-interleaved bands. A source is a GDAL-readable file (or a mosaic of them) or a WMS layer;
// the sampler only sees blocks, so every source is sampled by the same code on CPU and CUDA.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lidarhd::raster {

// Pixel (col, row) covers x in [x0 + col * res_x, x0 + (col + 1) * res_x) and
// y in (y0 - (row + 1) * res_y, y0 - row * res_y] (GDAL's convention: col = floor((x - x0) / px),
// row = floor((y0 - y) / py)). A WMS grid is unbounded (bounded = false): any col/row, even
// negative, is a valid pixel.
struct PixelGrid {
  double x0 = 0, y0 = 0;          // upper-left corner of pixel (0, 0), in the source CRS
  double res_x = 1, res_y = 1;    // pixel width and height (positive)
  int64_t width = 0, height = 0;  // pixels (ignored when !bounded)
  bool bounded = true;
};

// Index of a block: pixels [bx * block_size, (bx + 1) * block_size) x [by * ..., ...).
struct BlockKey {
  int64_t bx = 0, by = 0;
  friend bool operator==(const BlockKey& a, const BlockKey& b) { return a.bx == b.bx && a.by == b.by; }
};

// One decoded block. Always block_size x block_size pixels; `valid` says which hold data.
constexpr uint8_t kPixelOutside = 0;
constexpr uint8_t kPixelData = 1;
constexpr uint8_t kPixelNoData = 2;

struct Block {
  int size = 0;   // block_size
  int bands = 0;
  std::vector<uint8_t> pixels;  // ((row * size) + col) * bands + band
  // row * size + col: kPixelData, kPixelOutside (beyond a bounded raster's edge, or transparent)
  // or kPixelNoData.
  std::vector<uint8_t> valid;
  size_t bytes() const { return pixels.size() + valid.size(); }
};
using BlockPtr = std::shared_ptr<const Block>;

class RasterSource {
 public:
  virtual ~RasterSource() = default;
  // For messages and summaries: the file name, or "wms:<layer>".
  virtual std::string describe() const = 0;
  // Identity for caches: equal keys mean equal pixels (path + size + mtime, or URL + layer + res).
  virtual std::string cache_key() const = 0;
  virtual const PixelGrid& grid() const = 0;
  virtual int bands() const = 0;
  virtual int block_size() const = 0;
  // The source CRS as WKT, or "" when the source has none (the caller must supply one).
  virtual std::string crs_wkt() const = 0;
  // Reads the given blocks (in parallel where the source can), in the order of `keys`. A block
  // entirely outside a bounded raster comes back as nullptr. Throws IoError/FormatError naming
  // the source on failure.
  virtual std::vector<BlockPtr> read_blocks(const std::vector<BlockKey>& keys) = 0;
};

}  // namespace lidarhd::raster
