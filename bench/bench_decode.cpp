// Whole-file LAZ decode throughput on the file named by LIDARHD_BENCH_FILE (items = points), so
// bench/decode_vs_lazrs.py can compare the same file with lazrs. Real time, not CPU time: with
// several threads the wall clock is what a user waits for.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "lidarhd/io/reader.hpp"

namespace {

const char* bench_file() {
  const char* path = std::getenv("LIDARHD_BENCH_FILE");
  return path && *path ? path : nullptr;
}

// read_all_records: chunk-parallel decode of every record into one buffer.
void BM_decode(benchmark::State& state) {
  const char* path = bench_file();
  if (!path) {
    state.SkipWithError("set LIDARHD_BENCH_FILE to a LAS/LAZ file");
    return;
  }
  lidarhd::io::ReadOptions options;
  options.threads = static_cast<unsigned>(state.range(0));
  uint64_t points = 0;
  try {
    for (auto _ : state) {
      // Opening is part of the cost: a user decodes a file, not a pre-parsed header.
      lidarhd::io::PointReader reader(path, options);
      std::vector<uint8_t> records = reader.read_all_records();
      benchmark::DoNotOptimize(records.data());
      benchmark::ClobberMemory();
      points = reader.point_count();
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(points));
  state.counters["points"] = static_cast<double>(points);
  state.counters["threads"] = static_cast<double>(options.threads);
}

// read_batch: streaming decode with memory bounded by the batch (1,000,000 points).
void BM_decode_stream(benchmark::State& state) {
  const char* path = bench_file();
  if (!path) {
    state.SkipWithError("set LIDARHD_BENCH_FILE to a LAS/LAZ file");
    return;
  }
  lidarhd::io::ReadOptions options;
  options.threads = static_cast<unsigned>(state.range(0));
  constexpr uint64_t kBatch = 1000000;
  uint64_t points = 0;
  std::vector<uint8_t> batch;
  try {
    for (auto _ : state) {
      lidarhd::io::PointReader reader(path, options);
      uint64_t n = 0, total = 0;
      while ((n = reader.read_batch(batch, kBatch)) > 0) {
        benchmark::DoNotOptimize(batch.data());
        total += n;
      }
      benchmark::ClobberMemory();
      points = total;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(points));
  state.counters["points"] = static_cast<double>(points);
  state.counters["threads"] = static_cast<double>(options.threads);
}

BENCHMARK(BM_decode)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_decode_stream)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
