// LAZ encode throughput: the records of LIDARHD_BENCH_FILE (decoded once, before timing) written
// as LAZ with 50,000-point chunks on 1 or 2 threads (items = points), so bench/encode_vs_lazrs.py
// can compare the same records with lazrs. Real time, not CPU time: with several threads the wall
// clock is what a user waits for.
//
// The output goes to tmpfs (/dev/shm when present, else /tmp) so the timing is the encoder plus a
// memory copy, not a disk. LIDARHD_BENCH_OUTPUT=PREFIX keeps the last output of each thread count
// as PREFIX.threads<N>.laz (for checking it decodes to the input records); otherwise it is removed.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "lidarhd/io/reader.hpp"
#include "lidarhd/io/writer.hpp"

namespace {

namespace fs = std::filesystem;

struct Input {
  lidarhd::io::LasFileInfo info;
  std::vector<uint8_t> records;
  uint64_t points = 0;
  std::string error;  // set when the input could not be read
};

// Read once for all benchmarks: decoding is not what is measured here.
const Input& input() {
  static const Input loaded = [] {
    Input in;
    const char* path = std::getenv("LIDARHD_BENCH_FILE");
    if (!path || !*path) {
      in.error = "set LIDARHD_BENCH_FILE to a LAS/LAZ file";
      return in;
    }
    try {
      lidarhd::io::ReadOptions options;
      options.threads = 2;
      lidarhd::io::PointReader reader(path, options);
      in.records = reader.read_all_records();
      in.info = reader.info();
      in.points = reader.point_count();
    } catch (const std::exception& e) {
      in.error = std::string("reading LIDARHD_BENCH_FILE: ") + e.what();
    }
    return in;
  }();
  return loaded;
}

std::string output_path(unsigned threads, bool& keep) {
  const char* prefix = std::getenv("LIDARHD_BENCH_OUTPUT");
  keep = prefix && *prefix;
  if (keep) return std::string(prefix) + ".threads" + std::to_string(threads) + ".laz";
  std::error_code ec;
  const std::string dir = fs::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp";
  return dir + "/lidarhd_bench_encode_" + std::to_string(::getpid()) + "_" +
         std::to_string(threads) + ".laz";
}

void BM_encode(benchmark::State& state) {
  const Input& in = input();
  if (!in.error.empty()) {
    state.SkipWithError(in.error.c_str());
    return;
  }
  lidarhd::io::WriteOptions options;
  options.compressed = true;
  options.chunk_size = 50000;
  options.threads = static_cast<unsigned>(state.range(0));
  bool keep = false;
  const std::string path = output_path(options.threads, keep);
  uint64_t file_bytes = 0, point_bytes = 0;
  try {
    for (auto _ : state) {
      // Creating and closing the file are part of the cost a user pays; on tmpfs both are tiny.
      lidarhd::io::LasWriter writer(path, in.info, options);
      writer.write_records(in.records.data(), in.points);
      writer.close();
    }
    // Outside the timing: the compressed size, whole file and point data alone (the offset to
    // the chunk table, the chunks and the table: what lazrs.compress_points returns).
    lidarhd::io::PointReader check(path);
    file_bytes = fs::file_size(path);
    point_bytes = file_bytes - check.info().header.offset_to_points;
  } catch (const std::exception& e) {
    std::error_code ec;
    if (!keep) fs::remove(path, ec);
    state.SkipWithError(e.what());
    return;
  }
  std::error_code ec;
  if (!keep) fs::remove(path, ec);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(in.points));
  state.counters["points"] = static_cast<double>(in.points);
  state.counters["threads"] = static_cast<double>(options.threads);
  state.counters["file_bytes"] = static_cast<double>(file_bytes);
  state.counters["point_bytes"] = static_cast<double>(point_bytes);
  state.counters["bytes_per_point"] =
      in.points ? static_cast<double>(point_bytes) / static_cast<double>(in.points) : 0.0;
}

BENCHMARK(BM_encode)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(
    benchmark::kMillisecond);

}  // namespace
