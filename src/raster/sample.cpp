// Sampler: plans windows of blocks, keeps device copies of blocks, dispatches to the back ends.
#include "lidarhd/raster/sample.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "core/device_buffer.hpp"
#include "lidarhd/core/error.hpp"
#include "raster/lru.hpp"
#include "raster/sample_backend.hpp"

namespace lidarhd::raster {

SampleMethod parse_sample_method(const std::string& name) {
  if (name == "nearest") return SampleMethod::kNearest;
  if (name == "bilinear") return SampleMethod::kBilinear;
  throw ArgumentError("raster", "unknown sampling method '" + name + "' (nearest or bilinear)");
}

const char* sample_method_name(SampleMethod method) {
  return method == SampleMethod::kNearest ? "nearest" : "bilinear";
}

namespace {

constexpr int64_t kMaxWindowBlocks = int64_t(1) << 26;
constexpr double kMaxPixel = 4e15;  // beyond, int64 block arithmetic is meaningless anyway

// floor(a / size) for a block size: a shift when size == 1 << shift (shift >= 0), which gives
// the same value without a 64-bit division (this runs twice per point and batch).
struct BlockDiv {
  int64_t size;
  int shift;
  explicit BlockDiv(int64_t s) : size(s), shift(-1) {
    for (int k = 0; k < 62; ++k) {
      if (s == int64_t(1) << k) shift = k;
    }
  }
  int64_t operator()(int64_t a) const {
    if (shift >= 0) return a >= 0 ? a >> shift : -((-a + size - 1) >> shift);
    return a >= 0 ? a / size : -((-a + size - 1) / size);
  }
};

// Calls f(bx, by) for the blocks a point needs: that of its pixel and, for bilinear, those of
// the four pixel centres around it.
template <class F>
void point_blocks(const PixelGrid& g, const BlockDiv& floor_div, SampleMethod method, double x,
                  double y, const F& f) {
  const double u = (x - g.x0) / g.res_x, v = (g.y0 - y) / g.res_y;
  if (!(std::fabs(u) < kMaxPixel && std::fabs(v) < kMaxPixel)) return;
  if (method == SampleMethod::kNearest) {
    f(floor_div(static_cast<int64_t>(std::floor(u))), floor_div(static_cast<int64_t>(std::floor(v))));
    return;
  }
  const auto c = static_cast<int64_t>(std::floor(u - 0.5)), r = static_cast<int64_t>(std::floor(v - 0.5));
  const int64_t bx[2] = {floor_div(c), floor_div(c + 1)};
  const int64_t by[2] = {floor_div(r), floor_div(r + 1)};
  for (int j = 0; j < (by[1] != by[0] ? 2 : 1); ++j)
    for (int i = 0; i < (bx[1] != bx[0] ? 2 : 1); ++i) f(bx[i], by[j]);
}

// Marks, in a row-major map of nx x ny blocks starting at block (x0, y0), the blocks points need.
std::vector<uint8_t> mark_blocks(const PixelGrid& g, const BlockDiv& floor_div, SampleMethod method,
                                 const double* x, const double* y, int64_t count, int64_t x0,
                                 int64_t y0, int64_t nx, int64_t ny) {
  std::vector<uint8_t> used(static_cast<size_t>(nx * ny), 0);
  uint8_t* mark = used.data();
#if defined(_OPENMP)
#pragma omp parallel for
#endif
  for (int64_t i = 0; i < count; ++i) {
    point_blocks(g, floor_div, method, x[i], y[i], [&](int64_t bx, int64_t by) {
      if (bx < x0 || bx >= x0 + nx || by < y0 || by >= y0 + ny) return;
      // Several threads may store the same 1: atomic so that it is not a data race.
      __atomic_store_n(&mark[(by - y0) * nx + (bx - x0)], uint8_t{1}, __ATOMIC_RELAXED);
    });
  }
  return used;
}

// A bounded raster of at most this many blocks is planned in one pass over the points, with a
// map of all its blocks (1 MiB at most) instead of a first pass that finds the window.
constexpr int64_t kOnePassBlocks = int64_t(1) << 20;

WindowPlan plan_one_pass(const PixelGrid& g, const BlockDiv& floor_div, SampleMethod method,
                         const double* x, const double* y, int64_t count, int64_t blocks_x,
                         int64_t blocks_y) {
  const std::vector<uint8_t> used =
      mark_blocks(g, floor_div, method, x, y, count, 0, 0, blocks_x, blocks_y);
  int64_t min_x = blocks_x, min_y = blocks_y, max_x = -1, max_y = -1;
  for (int64_t by = 0; by < blocks_y; ++by) {
    for (int64_t bx = 0; bx < blocks_x; ++bx) {
      if (!used[static_cast<size_t>(by * blocks_x + bx)]) continue;
      min_x = std::min(min_x, bx), max_x = std::max(max_x, bx);
      min_y = std::min(min_y, by), max_y = std::max(max_y, by);
    }
  }
  WindowPlan plan;
  if (min_x > max_x) return plan;  // no point over the raster
  plan.bx0 = min_x, plan.by0 = min_y;
  plan.nbx = static_cast<int>(max_x - min_x + 1), plan.nby = static_cast<int>(max_y - min_y + 1);
  // Row-major over the window, as the two-pass planner orders them.
  for (int64_t by = min_y; by <= max_y; ++by) {
    for (int64_t bx = min_x; bx <= max_x; ++bx) {
      if (!used[static_cast<size_t>(by * blocks_x + bx)]) continue;
      plan.keys.push_back(BlockKey{bx, by});
      plan.slots.push_back(static_cast<size_t>((by - min_y) * plan.nbx + (bx - min_x)));
    }
  }
  return plan;
}

}  // namespace

WindowPlan plan_window(const RasterSource& source, const double* x, const double* y, size_t n,
                       SampleMethod method) {
  const PixelGrid& g = source.grid();
  const int64_t size = source.block_size();
  const BlockDiv floor_div(size);
  // Blocks a bounded raster has; those outside are never requested.
  int64_t lo_x = std::numeric_limits<int64_t>::min(), lo_y = lo_x;
  int64_t hi_x = std::numeric_limits<int64_t>::max(), hi_y = hi_x;
  if (g.bounded) {
    lo_x = lo_y = 0;
    hi_x = (g.width + size - 1) / size - 1;
    hi_y = (g.height + size - 1) / size - 1;
  }
  const auto count = static_cast<int64_t>(n);
  if (g.bounded && hi_x >= 0 && hi_y >= 0 && hi_x + 1 <= kOnePassBlocks &&
      hi_y + 1 <= kOnePassBlocks / (hi_x + 1)) {
    return plan_one_pass(g, floor_div, method, x, y, count, hi_x + 1, hi_y + 1);
  }
  int64_t min_x = std::numeric_limits<int64_t>::max(), min_y = min_x;
  int64_t max_x = std::numeric_limits<int64_t>::min(), max_y = max_x;
#if defined(_OPENMP)
#pragma omp parallel for reduction(min : min_x, min_y) reduction(max : max_x, max_y)
#endif
  for (int64_t i = 0; i < count; ++i) {
    point_blocks(g, floor_div, method, x[i], y[i], [&](int64_t bx, int64_t by) {
      if (bx < lo_x || bx > hi_x || by < lo_y || by > hi_y) return;
      min_x = std::min(min_x, bx), max_x = std::max(max_x, bx);
      min_y = std::min(min_y, by), max_y = std::max(max_y, by);
    });
  }
  WindowPlan plan;
  if (min_x > max_x) return plan;  // no point over the raster
  const int64_t nbx = max_x - min_x + 1, nby = max_y - min_y + 1;
  if (nbx > kMaxWindowBlocks / nby) {
    throw ArgumentError("raster", source.describe() + ": the points spread over " +
                                      std::to_string(nbx) + " x " + std::to_string(nby) +
                                      " blocks of the raster; is the point cloud's CRS right?");
  }
  plan.bx0 = min_x, plan.by0 = min_y;
  plan.nbx = static_cast<int>(nbx), plan.nby = static_cast<int>(nby);
  const std::vector<uint8_t> used =
      mark_blocks(g, floor_div, method, x, y, count, min_x, min_y, nbx, nby);
  for (size_t s = 0; s < used.size(); ++s) {
    if (!used[s]) continue;
    const auto slot = static_cast<int64_t>(s);
    plan.keys.push_back(BlockKey{min_x + slot % nbx, min_y + slot / nbx});
    plan.slots.push_back(s);
  }
  return plan;
}

BlockWindow make_window(const RasterSource& source, const WindowPlan& plan,
                        const std::vector<BlockPtr>& blocks) {
  if (blocks.size() != plan.keys.size()) {
    throw ArgumentError("raster", "make_window: " + std::to_string(blocks.size()) +
                                      " blocks for " + std::to_string(plan.keys.size()) + " keys");
  }
  BlockWindow w;
  w.source_key = source.cache_key();
  w.grid = source.grid();
  w.block_size = source.block_size();
  w.bands = source.bands();
  w.bx0 = plan.bx0, w.by0 = plan.by0, w.nbx = plan.nbx, w.nby = plan.nby;
  w.blocks.assign(static_cast<size_t>(plan.nbx) * plan.nby, nullptr);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const BlockPtr& b = blocks[i];
    if (b && (b->size != w.block_size || b->bands != w.bands ||
              b->pixels.size() != size_t(b->size) * b->size * b->bands ||
              b->valid.size() != size_t(b->size) * b->size)) {
      throw FormatError("raster", source.describe() + ": block " + std::to_string(plan.keys[i].bx) +
                                      "," + std::to_string(plan.keys[i].by) +
                                      " has the wrong size or band count");
    }
    w.blocks[plan.slots[i]] = b;
  }
  return w;
}

namespace {

struct DeviceBlock {
  lidarhd::detail::DeviceBuffer<uint8_t> pixels, valid;
};

// The view's geometry; the pointer tables are filled by the caller for its device.
detail::WindowView view_geometry(const BlockWindow& w) {
  detail::WindowView v;
  v.res_x = w.grid.res_x, v.res_y = w.grid.res_y;
  v.x0 = w.grid.x0, v.y0 = w.grid.y0;
  v.col0 = w.bx0 * w.block_size, v.row0 = w.by0 * w.block_size;
  v.block_size = w.block_size, v.bands = w.bands, v.nbx = w.nbx, v.nby = w.nby;
  for (int shift = 0; shift < 31; ++shift) {
    if (w.block_size == 1 << shift) v.block_shift = shift;
  }
  return v;
}

}  // namespace

struct Sampler::Impl {
  Impl(const Device& d, size_t bytes) : device(d), device_cache(bytes) {}
  Device device;
  std::mutex mutex;  // device cache
  detail::LruBytes<std::shared_ptr<DeviceBlock>> device_cache;
  double kernel_seconds = 0;  // last CUDA sample()
};

Sampler::Sampler(const Device& device, size_t device_cache_bytes)
    : impl_(std::make_unique<Impl>(device, device_cache_bytes)) {}
Sampler::~Sampler() = default;
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;
const Device& Sampler::device() const { return impl_->device; }
double Sampler::last_kernel_seconds() const { return impl_->kernel_seconds; }

void Sampler::sample(const BlockWindow& window, const double* x, const double* y, size_t n,
                     SampleMethod method, int out_bands, float fill, float* values,
                     uint8_t* status) {
  if (out_bands < 1 || (window.bands && out_bands > window.bands)) {
    throw ArgumentError("raster", "sample: " + std::to_string(out_bands) +
                                      " output bands from a raster of " +
                                      std::to_string(window.bands));
  }
  impl_->kernel_seconds = 0;
  if (n == 0) return;
  detail::WindowView view = view_geometry(window);
  const detail::SampleOut out{values, status, out_bands, fill};
  const size_t slots = window.blocks.size();
  std::vector<const uint8_t*> pixels(slots, nullptr), valid(slots, nullptr);
  // With no block at all every point is outside: the CPU path says so without an upload.
  if (impl_->device.is_cpu() || slots == 0) {
    for (size_t s = 0; s < slots; ++s) {
      if (!window.blocks[s]) continue;
      pixels[s] = window.blocks[s]->pixels.data();
      valid[s] = window.blocks[s]->valid.data();
    }
    view.pixels = pixels.data();
    view.valid = valid.data();
    detail::sample_cpu(view, x, y, n, method, out);
    return;
  }
#if LIDARHD_WITH_CUDA
  const Device& dev = impl_->device;
  std::vector<std::shared_ptr<DeviceBlock>> held;  // alive until the kernel is done
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    for (size_t s = 0; s < slots; ++s) {
      const BlockPtr& b = window.blocks[s];
      if (!b) continue;
      const std::string key = window.source_key + "#" +
                              std::to_string(window.bx0 + int64_t(s % window.nbx)) + "," +
                              std::to_string(window.by0 + int64_t(s / window.nbx));
      std::shared_ptr<DeviceBlock>* hit = impl_->device_cache.get(key);
      std::shared_ptr<DeviceBlock> d = hit ? *hit : nullptr;
      if (!d) {
        d = std::make_shared<DeviceBlock>();
        d->pixels = lidarhd::detail::DeviceBuffer<uint8_t>::from_host(b->pixels.data(),
                                                                       b->pixels.size(), dev);
        d->valid = lidarhd::detail::DeviceBuffer<uint8_t>::from_host(b->valid.data(),
                                                                      b->valid.size(), dev);
        impl_->device_cache.put(key, d, b->bytes());
      }
      pixels[s] = d->pixels.data();
      valid[s] = d->valid.data();
      held.push_back(std::move(d));
    }
  }
  const auto table_p = lidarhd::detail::DeviceBuffer<const uint8_t*>::from_host(pixels.data(), slots, dev);
  const auto table_v = lidarhd::detail::DeviceBuffer<const uint8_t*>::from_host(valid.data(), slots, dev);
  view.pixels = table_p.data();
  view.valid = table_v.data();
  impl_->kernel_seconds = detail::sample_cuda(view, x, y, n, method, out, dev.index);
#else
  lidarhd::detail::throw_no_cuda_support();
#endif
}

}  // namespace lidarhd::raster
