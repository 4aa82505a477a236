// k = 20 nearest neighbours of every point of an airborne-like cloud (2.5-D, ~20 points/m^2):
// NeighborIndex on the CPU (1 and 2 threads) and on cuda:0, and nanoflann's k-d tree where
// its header is installed (libnanoflann-dev). items/s = queries per second; per core = items/s
// divided by the thread count. Index build time is measured separately, and so is the feature
// kernel's column-at-a-time search with its portable and AVX-512 loops.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif
#if LIDARHD_HAVE_NANOFLANN
#include <nanoflann.hpp>
#endif

#include "lidarhd/core/device.hpp"
#include "lidarhd/spatial/neighbors.hpp"
#include "spatial/knn_block_cpu.hpp"

namespace {

constexpr int kK = 20;

struct Cloud {
  std::vector<float> x, y, z;
  size_t size() const { return x.size(); }
};

// Rolling ground, flat roofs and trees (points through the crown height), ~20 points/m^2.
const Cloud& airborne(size_t n) {
  static Cloud c;
  if (c.size() == n) return c;
  c = Cloud{};
  std::mt19937 rng(42);
  const float side = std::sqrt(static_cast<float>(n) / 20.0f);
  std::uniform_real_distribution<float> u(0.0f, side);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) {
    const float x = u(rng);
    const float y = u(rng);
    float z = 40.0f + 3.0f * std::sin(x * 0.05f) + 2.0f * std::cos(y * 0.07f);
    const bool building = std::fmod(x, 60.0f) < 20.0f && std::fmod(y, 50.0f) < 15.0f;
    const bool tree = !building && std::fmod(x + 17.0f, 40.0f) < 8.0f &&
                      std::fmod(y + 5.0f, 30.0f) < 8.0f;
    z += building ? 12.0f : tree ? 15.0f * unit(rng) : 0.02f * unit(rng);
    c.x.push_back(x);
    c.y.push_back(y);
    c.z.push_back(z);
  }
  return c;
}

void set_threads([[maybe_unused]] benchmark::State& state, int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#else
  if (threads != 1) state.SkipWithError("built without OpenMP");
#endif
}

void report(benchmark::State& state, size_t n, int threads) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["per_core"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(n) / threads,
      benchmark::Counter::kIsRate);
}

void BM_knn_grid_cpu(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  set_threads(state, threads);
  const Cloud& c = airborne(n);
  const lidarhd::NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), n);
  std::vector<uint32_t> idx(n * kK);
  std::vector<float> d2(n * kK);
  for (auto _ : state) {
    index.knn(kK, idx.data(), d2.data());
    benchmark::ClobberMemory();
  }
  report(state, n, threads);
  state.counters["cell_m"] = index.cell_size();
}

void BM_build_grid_cpu(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  set_threads(state, threads);
  const Cloud& c = airborne(n);
  for (auto _ : state) {
    lidarhd::NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), n);
    benchmark::DoNotOptimize(index);
  }
  report(state, n, threads);
}

// Queries per second as a function of the column size (arg 1: cell side in cm), one thread.
void BM_knn_grid_cell(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  set_threads(state, 1);
  const Cloud& c = airborne(n);
  const lidarhd::NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), n,
                                     lidarhd::Device::cpu(),
                                     static_cast<float>(state.range(1)) / 100.0f);
  std::vector<uint32_t> idx(n * kK);
  std::vector<float> d2(n * kK);
  for (auto _ : state) {
    index.knn(kK, idx.data(), d2.data());
    benchmark::ClobberMemory();
  }
  report(state, n, 1);
}

// The feature kernel's column-at-a-time search alone (one thread), portable loops (arg 1: 0)
// against the AVX2 (1) and AVX-512 ones (2) in the same run; queries it hands back are not
// redone.
void BM_knn_block_cpu(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const auto level = static_cast<lidarhd::detail::SimdLevel>(state.range(1));
  if (level > lidarhd::detail::simd_level()) {
    state.SkipWithError("this CPU (or LIDARHD_SIMD) does not run these vector loops");
    return;
  }
  const Cloud& c = airborne(n);
  const lidarhd::NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), n);
  const lidarhd::detail::GridView& g = index.view();
  const int64_t cells = static_cast<int64_t>(g.nx) * g.ny;
  uint64_t keys[kK];
  uint32_t pos[kK];
  for (auto _ : state) {
    for (int64_t c0 = 0; c0 < cells; c0 += 64) {
      lidarhd::detail::KnnBlockSearch search(g, kK, level);
      for (int64_t cell = c0; cell < std::min(cells, c0 + 64); ++cell) {
        const uint32_t s = g.cell_start[cell], e = g.cell_start[cell + 1];
        if (s == e || !search.set_cell(static_cast<uint32_t>(cell))) continue;
        for (uint32_t p = s; p < e; ++p) benchmark::DoNotOptimize(search.query(p, keys, pos));
      }
    }
  }
  report(state, n, 1);
}

void BM_knn_grid_cuda(benchmark::State& state) {
  if (lidarhd::cuda_device_count() == 0) {
    state.SkipWithError(lidarhd::built_with_cuda() ? "no CUDA device" : "CPU-only build");
    return;
  }
  const size_t n = static_cast<size_t>(state.range(0));
  const Cloud& c = airborne(n);
  const lidarhd::NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), n,
                                     lidarhd::Device::cuda(0));
  std::vector<uint32_t> idx(n * kK);
  std::vector<float> d2(n * kK);
  for (auto _ : state) {
    index.knn(kK, idx.data(), d2.data());  // includes the copy of the rows back to the host
    benchmark::ClobberMemory();
  }
  report(state, n, 1);
}

void BM_build_grid_cuda(benchmark::State& state) {
  if (lidarhd::cuda_device_count() == 0) {
    state.SkipWithError(lidarhd::built_with_cuda() ? "no CUDA device" : "CPU-only build");
    return;
  }
  const size_t n = static_cast<size_t>(state.range(0));
  const Cloud& c = airborne(n);
  for (auto _ : state) {
    lidarhd::NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), n,
                                 lidarhd::Device::cuda(0));
    benchmark::DoNotOptimize(index);
  }
  report(state, n, 1);
}

#if LIDARHD_HAVE_NANOFLANN
struct FlannCloud {
  const Cloud* c;
  size_t kdtree_get_point_count() const { return c->size(); }
  float kdtree_get_pt(size_t i, size_t dim) const {
    return dim == 0 ? c->x[i] : dim == 1 ? c->y[i] : c->z[i];
  }
  template <class Box>
  bool kdtree_get_bbox(Box&) const {
    return false;
  }
};
using FlannTree = nanoflann::KDTreeSingleIndexAdaptor<
    nanoflann::L2_Simple_Adaptor<float, FlannCloud>, FlannCloud, 3, uint32_t>;

void BM_knn_nanoflann(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  set_threads(state, threads);
  const Cloud& c = airborne(n);
  FlannCloud adaptor{&c};
  FlannTree tree(3, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(10));
  tree.buildIndex();
  std::vector<uint32_t> idx(n * kK);
  std::vector<float> d2(n * kK);
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
      const float q[3] = {c.x[i], c.y[i], c.z[i]};
      tree.knnSearch(q, kK, idx.data() + i * kK, d2.data() + i * kK);
    }
    benchmark::ClobberMemory();
  }
  report(state, n, threads);
}

void BM_build_nanoflann(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Cloud& c = airborne(n);
  FlannCloud adaptor{&c};
  for (auto _ : state) {
    FlannTree tree(3, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(10));
    tree.buildIndex();
    benchmark::ClobberMemory();
  }
  report(state, n, 1);
}
BENCHMARK(BM_knn_nanoflann)
    ->Args({1000000, 1})->Args({1000000, 2})->Args({2000000, 1})->Args({2000000, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_build_nanoflann)->Arg(1000000)->Arg(2000000)->Unit(benchmark::kMillisecond);
#endif

BENCHMARK(BM_knn_grid_cpu)
    ->Args({1000000, 1})->Args({1000000, 2})->Args({2000000, 1})->Args({2000000, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_build_grid_cpu)
    ->Args({1000000, 1})->Args({2000000, 1})->Args({2000000, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_knn_grid_cell)
    ->Args({1000000, 40})->Args({1000000, 60})->Args({1000000, 80})->Args({1000000, 100})
    ->Args({1000000, 140})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_knn_block_cpu)
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Args({1000000, 2})
    ->ArgNames({"points", "simd"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_knn_grid_cuda)->Arg(1000000)->Arg(2000000)->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_build_grid_cuda)->Arg(1000000)->Arg(2000000)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
