// compute_point_stats throughput on the CPU and, where one is visible, on cuda:0. The CUDA
// figure includes the host-to-device copy of the columns, as a caller with host data pays it.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/core/point_stats.hpp"

namespace {

struct Columns {
  std::vector<int32_t> x, y, z;
  std::vector<uint8_t> cls;
};

const Columns& columns(size_t n) {
  static Columns c;
  if (c.x.size() != n) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> coord(0, 100000000);
    std::uniform_int_distribution<int> cls(1, 9);
    c = Columns{};
    for (size_t i = 0; i < n; ++i) {
      c.x.push_back(coord(rng));
      c.y.push_back(coord(rng));
      c.z.push_back(coord(rng) / 100);
      c.cls.push_back(static_cast<uint8_t>(cls(rng)));
    }
  }
  return c;
}

void run(benchmark::State& state, const lidarhd::Device& device) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Columns& c = columns(n);
  for (auto _ : state) {
    auto s =
        lidarhd::compute_point_stats(c.x.data(), c.y.data(), c.z.data(), c.cls.data(), n, device);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n) * 13);
}

void BM_point_stats_cpu(benchmark::State& state) { run(state, lidarhd::Device::cpu()); }

void BM_point_stats_cuda(benchmark::State& state) {
  if (lidarhd::cuda_device_count() == 0) {
    state.SkipWithError(lidarhd::built_with_cuda() ? "no CUDA device" : "CPU-only build");
    return;
  }
  run(state, lidarhd::Device::cuda(0));
}

BENCHMARK(BM_point_stats_cpu)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_point_stats_cuda)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

}  // namespace
