// Patch extraction on a 1 km² synthetic tile of 20 M points (default options: 150 m squares,
// overlap 0.1, 16 384 points), per sampling mode and device, and exact farthest-point sampling
// of one 500 k-point patch to 16 384 points. The CUDA figures include the host-to-device copy
// of x and y, as a caller with host data pays it.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/patches/patches.hpp"
#include "patches/patches_backend.hpp"

namespace {

using lidarhd::patches::detail::draw_unit;

struct Tile {
  std::vector<double> x, y, z;
};

// Procedural: uniform x/y over [x0, x0 + side)², gently rolling ground and 10 m "buildings" on
// a 40 m pattern, so that the heights are not flat.
Tile make_tile(size_t n, double x0, double y0, double side) {
  Tile t;
  t.x.resize(n), t.y.resize(n), t.z.resize(n);
  const auto count = static_cast<int64_t>(n);
  for (int64_t i = 0; i < count; ++i) {
    const double u = draw_unit(42, 3 * uint64_t(i)) * side,
                 v = draw_unit(42, 3 * uint64_t(i) + 1) * side;
    const bool roof = std::fmod(u, 40.0) < 15 && std::fmod(v, 40.0) < 15;
    t.x[i] = x0 + u;
    t.y[i] = y0 + v;
    t.z[i] = 100 + 5 * std::sin(u / 50) + (roof ? 10 : 0) + draw_unit(42, 3 * uint64_t(i) + 2);
  }
  return t;
}

const Tile& tile() {
  static const Tile t = make_tile(20'000'000, 650000, 6860000, 1000);
  return t;
}

void run(benchmark::State& state, lidarhd::patches::Sampling sampling,
         const lidarhd::Device& device) {
  const Tile& t = tile();
  lidarhd::patches::PatchOptions o;
  o.sampling = sampling;
  o.device = device;
  size_t patches = 0;
  for (auto _ : state) {
    auto p = lidarhd::patches::extract_patches(t.x.data(), t.y.data(), t.z.data(), t.x.size(), o);
    patches = p.size();
    benchmark::DoNotOptimize(p);
  }
  state.counters["patches"] = static_cast<double>(patches);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(t.x.size()));
}

bool have_cuda(benchmark::State& state) {
  if (lidarhd::cuda_device_count() > 0) return true;
  state.SkipWithError(lidarhd::built_with_cuda() ? "no CUDA device" : "CPU-only build");
  return false;
}

using lidarhd::Device;
using lidarhd::patches::Sampling;

void BM_patches_random_cpu(benchmark::State& s) { run(s, Sampling::kRandom, Device::cpu()); }
void BM_patches_voxel_cpu(benchmark::State& s) { run(s, Sampling::kVoxel, Device::cpu()); }
void BM_patches_fps_cpu(benchmark::State& s) { run(s, Sampling::kFps, Device::cpu()); }
void BM_patches_random_cuda(benchmark::State& s) {
  if (have_cuda(s)) run(s, Sampling::kRandom, Device::cuda(0));
}
void BM_patches_voxel_cuda(benchmark::State& s) {
  if (have_cuda(s)) run(s, Sampling::kVoxel, Device::cuda(0));
}

// One patch: 500 k points over a 150 m square (float, relative to its centre) -> 16 384.
void BM_fps_500k(benchmark::State& state) {
  const auto m = static_cast<uint32_t>(state.range(0));
  const Tile t = make_tile(m, -75, -75, 150);
  const std::vector<float> x(t.x.begin(), t.x.end()), y(t.y.begin(), t.y.end());
  std::vector<float> z(t.z.size());
  for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(t.z[i] - 100);
  for (auto _ : state) {
    auto picked =
        lidarhd::patches::detail::farthest_point_sample(x.data(), y.data(), z.data(), m, 16384, 0);
    benchmark::DoNotOptimize(picked);
  }
}

BENCHMARK(BM_patches_random_cpu)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_patches_voxel_cpu)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_patches_fps_cpu)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_patches_random_cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_patches_voxel_cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fps_500k)->Arg(500'000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
