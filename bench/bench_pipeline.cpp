// Pipelined against unpipelined tile throughput (issue 7): T tiles, each read from LAZ (decode +
// local coordinates) then given neighbours + lod2 features, one after the other
// (`pipelined:0`) or with the next tile decoded on another thread while the current one is
// computed (`pipelined:1`, what `lidarhd process` workers do). On the CPU both stages share the
// cores; on cuda:0 decoding overlaps the GPU's work. Tiles: a synthetic 300 m LAZ tile (about
// 1.8 M points) written once to the temporary folder and read T times.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/features/features.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/synth/scene.hpp"

namespace {

constexpr int kTiles = 4;

const std::string& tile_path() {
  static const std::string path = [] {
    const std::string p = (std::filesystem::temp_directory_path() / "lidarhd_bench_pipeline_300m.laz").string();
    if (!std::filesystem::exists(p)) {
      lidarhd::synth::SceneOptions o;
      o.size = 300;
      o.threads = 2;
      lidarhd::synth::write_scene(o, p);
    }
    return p;
  }();
  return path;
}

struct Tile {
  lidarhd::features::LocalCoordinates local;
  std::vector<uint8_t> cls;
};

Tile load(const std::string& path) {
  lidarhd::io::ReadOptions ro;
  ro.threads = 2;
  lidarhd::io::PointReader reader(path, ro);
  const std::vector<uint8_t> records = reader.read_all_records();
  const auto& h = reader.info().header;
  const size_t n = records.size() / h.record_length;
  std::vector<int32_t> x(n), y(n), z(n);
  Tile t;
  t.cls.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* r = records.data() + i * h.record_length;
    std::memcpy(&x[i], r, 4), std::memcpy(&y[i], r + 4, 4), std::memcpy(&z[i], r + 8, 4);
    t.cls[i] = h.point_format >= 6 ? r[16] : uint8_t(r[15] & 0x1F);
  }
  t.local = lidarhd::features::to_local(x.data(), y.data(), z.data(), n, h.scale, h.offset);
  return t;
}

size_t compute(const Tile& t, const lidarhd::Device& device) {
  lidarhd::features::FeatureOptions o;
  o.features = lidarhd::features::feature_set("lod2");
  o.device = device;
  lidarhd::features::PointColumns c;
  c.x = t.local.x.data(), c.y = t.local.y.data(), c.z = t.local.z.data();
  c.classification = t.cls.data();
  c.n = t.cls.size();
  return lidarhd::features::compute_features(c, o).n;
}

void run(benchmark::State& state, const lidarhd::Device& device) {
  const bool pipelined = state.range(0) != 0;
  const std::string& path = tile_path();
  size_t points = 0;
  for (auto _ : state) {
    points = 0;
    if (!pipelined) {
      for (int k = 0; k < kTiles; ++k) points += compute(load(path), device);
    } else {
      std::future<Tile> next = std::async(std::launch::async, load, path);
      for (int k = 0; k < kTiles; ++k) {
        const Tile t = next.get();
        if (k + 1 < kTiles) next = std::async(std::launch::async, load, path);
        points += compute(t, device);
      }
    }
  }
  state.counters["tiles/s"] = benchmark::Counter(double(kTiles) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["points/s"] = benchmark::Counter(double(points) * double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_tiles_cpu(benchmark::State& state) { run(state, lidarhd::Device::cpu()); }
BENCHMARK(BM_tiles_cpu)->ArgName("pipelined")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

void BM_tiles_cuda(benchmark::State& state) {
  if (!lidarhd::built_with_cuda() || lidarhd::cuda_device_count() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  run(state, lidarhd::Device::cuda(0));
}
BENCHMARK(BM_tiles_cuda)->ArgName("pipelined")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
