// Raster sampling throughput (Sampler::sample, nearest and bilinear) on an in-memory 3-band
// raster, so the sampler is timed, not GDAL: 5000 x 5000 pixels of 0.2 m (a 1 km tile's
// orthophoto) in 512-pixel blocks, 20,000,000 points uniformly spread over it
// (LIDARHD_BENCH_POINTS=N for quick runs). CPU with 1 and 2 OpenMP threads, points in random
// order and sorted in 10 m rows (a stand-in for the spatial coherence of scan lines); cuda:0
// reports the kernel's device time only (Sampler::last_kernel_seconds, no copies). plan_window
// (run on every batch before the blocks are fetched) is timed separately.
// items/s = points per second; per_core = items/s divided by the thread count.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "lidarhd/core/device.hpp"
#include "lidarhd/raster/sample.hpp"
#include "lidarhd/raster/source.hpp"

namespace {

using lidarhd::raster::Block;
using lidarhd::raster::BlockKey;
using lidarhd::raster::BlockPtr;
using lidarhd::raster::BlockWindow;
using lidarhd::raster::PixelGrid;
using lidarhd::raster::SampleMethod;
using lidarhd::raster::Sampler;
using lidarhd::raster::WindowPlan;

constexpr int kPixels = 5000;
constexpr int kBlock = 512;
constexpr int kBands = 3;
constexpr double kRes = 0.2;
constexpr double kX0 = 650000.0, kY0 = 6860000.0;  // Lambert-93-like corner

size_t bench_points() {
  const char* env = std::getenv("LIDARHD_BENCH_POINTS");
  const long long n = env ? std::atoll(env) : 0;
  return n > 0 ? static_cast<size_t>(n) : size_t(20000000);
}

// Every block decoded up front; read_blocks hands them out.
class MemorySource : public lidarhd::raster::RasterSource {
 public:
  MemorySource() {
    grid_.x0 = kX0, grid_.y0 = kY0, grid_.res_x = grid_.res_y = kRes;
    grid_.width = grid_.height = kPixels;
    const int nb = (kPixels + kBlock - 1) / kBlock;
    for (int by = 0; by < nb; ++by)
      for (int bx = 0; bx < nb; ++bx) blocks_.push_back(make_block(bx, by));
  }
  std::string describe() const override { return "memory"; }
  std::string cache_key() const override { return "memory"; }
  const PixelGrid& grid() const override { return grid_; }
  int bands() const override { return kBands; }
  int block_size() const override { return kBlock; }
  std::string crs_wkt() const override { return ""; }
  std::vector<BlockPtr> read_blocks(const std::vector<BlockKey>& keys) override {
    const int nb = (kPixels + kBlock - 1) / kBlock;
    std::vector<BlockPtr> out;
    for (const BlockKey& k : keys) {
      const bool inside = k.bx >= 0 && k.by >= 0 && k.bx < nb && k.by < nb;
      out.push_back(inside ? blocks_[static_cast<size_t>(k.by * nb + k.bx)] : nullptr);
    }
    return out;
  }

 private:
  static BlockPtr make_block(int bx, int by) {
    auto b = std::make_shared<Block>();
    b->size = kBlock, b->bands = kBands;
    b->pixels.assign(size_t(kBlock) * kBlock * kBands, 0);
    b->valid.assign(size_t(kBlock) * kBlock, lidarhd::raster::kPixelOutside);
    for (int r = 0; r < kBlock; ++r) {
      for (int c = 0; c < kBlock; ++c) {
        const int64_t col = int64_t(bx) * kBlock + c, row = int64_t(by) * kBlock + r;
        if (col >= kPixels || row >= kPixels) continue;
        const size_t at = size_t(r) * kBlock + size_t(c);
        for (int band = 0; band < kBands; ++band)
          b->pixels[at * kBands + size_t(band)] = uint8_t((col * 7 + row * 13 + band * 101) & 0xFF);
        b->valid[at] = lidarhd::raster::kPixelData;
      }
    }
    return b;
  }
  PixelGrid grid_;
  std::vector<BlockPtr> blocks_;
};

struct Scene {
  MemorySource source;
  std::vector<double> x, y;                // random order
  std::vector<double> sorted_x, sorted_y;  // the same points in 10 m rows, west to east
};

const Scene& scene() {
  static const std::unique_ptr<Scene> s = [] {
    auto sc = std::make_unique<Scene>();
    const size_t n = bench_points();
    const double side = kPixels * kRes;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, side);
    sc->x.resize(n), sc->y.resize(n);
    for (size_t i = 0; i < n; ++i) {
      // LAS-like 1 cm coordinates.
      sc->x[i] = kX0 + std::floor(u(rng) * 100.0) / 100.0;
      sc->y[i] = kY0 - side + std::ceil(u(rng) * 100.0) / 100.0;
    }
    // Key: 10 m row, then x in cm (both small integers), then the index.
    std::vector<std::pair<uint64_t, size_t>> order(n);
    for (size_t i = 0; i < n; ++i) {
      const auto row = static_cast<uint64_t>((kY0 - sc->y[i]) / 10.0);
      const auto cm = static_cast<uint64_t>(std::llround((sc->x[i] - kX0) * 100.0));
      order[i] = {(row << 32) | cm, i};
    }
    std::sort(order.begin(), order.end());
    sc->sorted_x.resize(n), sc->sorted_y.resize(n);
    for (size_t i = 0; i < n; ++i) {
      sc->sorted_x[i] = sc->x[order[i].second], sc->sorted_y[i] = sc->y[order[i].second];
    }
    return sc;
  }();
  return *s;
}

// The window of the whole raster, as one batch covering the tile would see it.
BlockWindow whole_window(SampleMethod method) {
  const Scene& s = scene();
  auto& source = const_cast<MemorySource&>(s.source);
  const WindowPlan plan =
      lidarhd::raster::plan_window(source, s.x.data(), s.y.data(), s.x.size(), method);
  return lidarhd::raster::make_window(source, plan, source.read_blocks(plan.keys));
}

bool set_threads([[maybe_unused]] benchmark::State& state, int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
  return true;
#else
  if (threads == 1) return true;
  state.SkipWithError("built without OpenMP");
  return false;
#endif
}

void report(benchmark::State& state, size_t n, int threads) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["per_core"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(n) / threads,
      benchmark::Counter::kIsRate);
}

// Checks a few samples against the pattern, so a broken sampler cannot post a good time.
bool check(benchmark::State& state, const std::vector<double>& x, const std::vector<double>& y,
           const std::vector<float>& values, const std::vector<uint8_t>& status,
           SampleMethod method) {
  if (method != SampleMethod::kNearest) return true;
  for (size_t i = 0; i < x.size(); i += 9973) {
    const auto col = static_cast<int64_t>(std::floor((x[i] - kX0) / kRes));
    const auto row = static_cast<int64_t>(std::floor((kY0 - y[i]) / kRes));
    const auto want = static_cast<float>((col * 7 + row * 13) & 0xFF);
    if (status[i] != 0 || values[i * kBands] != want) {
      state.SkipWithError(("wrong sample at point " + std::to_string(i)).c_str());
      return false;
    }
  }
  return true;
}

// Arg 0: threads (0 = cuda:0); arg 1: 1 = points sorted in rows, 0 = random order.
void run(benchmark::State& state, SampleMethod method) {
  const int threads = static_cast<int>(state.range(0));
  const bool sorted = state.range(1) != 0;
  const lidarhd::Device device = threads ? lidarhd::Device::cpu() : lidarhd::Device::cuda(0);
  if (device.is_cuda() && lidarhd::cuda_device_count() == 0) {
    state.SkipWithError(lidarhd::built_with_cuda() ? "no CUDA device" : "CPU-only build");
    return;
  }
  if (threads && !set_threads(state, threads)) return;
  const Scene& s = scene();
  const std::vector<double>& x = sorted ? s.sorted_x : s.x;
  const std::vector<double>& y = sorted ? s.sorted_y : s.y;
  const size_t n = x.size();
  const BlockWindow window = whole_window(method);
  Sampler sampler(device);
  std::vector<float> values(n * kBands);
  std::vector<uint8_t> status(n);
  if (device.is_cuda()) {  // uploads the blocks into the device cache, untimed
    sampler.sample(window, x.data(), y.data(), n, method, kBands, 0.0f, values.data(),
                   status.data());
  }
  for (auto _ : state) {
    sampler.sample(window, x.data(), y.data(), n, method, kBands, 0.0f, values.data(),
                   status.data());
    benchmark::ClobberMemory();
    if (device.is_cuda()) state.SetIterationTime(sampler.last_kernel_seconds());
  }
  if (!check(state, x, y, values, status, method)) return;
  report(state, n, threads ? threads : 1);
}

void BM_sample_nearest(benchmark::State& state) { run(state, SampleMethod::kNearest); }
void BM_sample_bilinear(benchmark::State& state) { run(state, SampleMethod::kBilinear); }

// plan_window over all the points (random order): arg 0 threads, arg 1 = 1 for bilinear.
void BM_plan_window(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const SampleMethod method = state.range(1) ? SampleMethod::kBilinear : SampleMethod::kNearest;
  if (!set_threads(state, threads)) return;
  const Scene& s = scene();
  for (auto _ : state) {
    WindowPlan plan = lidarhd::raster::plan_window(s.source, s.x.data(), s.y.data(), s.x.size(),
                                                   method);
    benchmark::DoNotOptimize(plan.keys.data());
  }
  report(state, s.x.size(), threads);
}

void cpu_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"threads", "sorted"});
  for (int sorted : {0, 1})
    for (int threads : {1, 2}) b->Args({threads, sorted});
  b->UseRealTime()->Unit(benchmark::kMillisecond);  // wall time: OpenMP threads
}

void cuda_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"cuda", "sorted"})->Args({0, 0})->Args({0, 1});
  // A fixed count: each iteration also copies the points and samples (untimed, ~0.1 s for
  // 20 M points), and a kernel of a few ms would otherwise be repeated hundreds of times.
  b->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_sample_nearest)->Apply(cpu_args);
BENCHMARK(BM_sample_bilinear)->Apply(cpu_args);
BENCHMARK(BM_sample_nearest)->Name("BM_sample_nearest_cuda")->Apply(cuda_args);
BENCHMARK(BM_sample_bilinear)->Name("BM_sample_bilinear_cuda")->Apply(cuda_args);
BENCHMARK(BM_plan_window)
    ->ArgNames({"threads", "bilinear"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
