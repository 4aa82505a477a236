// Sampling rasters at points, one source for CPU and CUDA (src/raster/sample_impl.hpp). A batch
// of points (x, y in the raster's CRS) is planned into a window of blocks (only the blocks that
// points fall in are read), the blocks come from the host cache, and the sampler reads them in
// place; on CUDA a device cache keeps uploaded blocks for the next batches and tiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/raster/source.hpp"

namespace lidarhd::raster {

enum class SampleMethod { kNearest, kBilinear };
SampleMethod parse_sample_method(const std::string& name);  // "nearest" | "bilinear"
const char* sample_method_name(SampleMethod method);

enum class SampleStatus : uint8_t {
  kOk = 0,
  kOutside = 1,  // no raster there
  kNoData = 2,   // the pixel is NoData
};

// Which blocks a batch needs: the window's extent in blocks and the keys of the blocks that
// points (and, for bilinear, their neighbouring pixel centres) fall in, with their slots.
struct WindowPlan {
  int64_t bx0 = 0, by0 = 0;
  int nbx = 0, nby = 0;
  std::vector<BlockKey> keys;
  std::vector<size_t> slots;  // index of keys[i] in the window: (by - by0) * nbx + (bx - bx0)
};
// Throws ArgumentError when the points spread over more than 2^26 blocks (a CRS mistake: points
// hundreds of kilometres apart).
WindowPlan plan_window(const RasterSource& source, const double* x, const double* y, size_t n,
                       SampleMethod method);

struct BlockWindow {
  std::string source_key;  // RasterSource::cache_key(), for the device cache
  PixelGrid grid;
  int block_size = 0, bands = 0;
  int64_t bx0 = 0, by0 = 0;
  int nbx = 0, nby = 0;
  std::vector<BlockPtr> blocks;  // nbx * nby, row-major; null = not needed or outside
};
// `blocks` are those of plan.keys, in order (BlockCache::fetch gives them so).
BlockWindow make_window(const RasterSource& source, const WindowPlan& plan,
                        const std::vector<BlockPtr>& blocks);

class Sampler {
 public:
  // `device` must be resolved. The device cache holds up to `device_cache_bytes` of blocks.
  explicit Sampler(const Device& device, size_t device_cache_bytes = size_t(2) << 30);
  ~Sampler();
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;

  // values[i * out_bands + b] = band b (0-255; bilinear gives fractions) at point i, or `fill`
  // where status[i] != kOk. out_bands <= window.bands.
  void sample(const BlockWindow& window, const double* x, const double* y, size_t n,
              SampleMethod method, int out_bands, float fill, float* values,
              uint8_t* status);
  const Device& device() const;
  // Device time of the last sample() call's kernel on CUDA (cudaEvents around the launch, no
  // copies), for benchmarks; 0 on the CPU.
  double last_kernel_seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lidarhd::raster
