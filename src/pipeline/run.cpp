// run_process: workers (one per entry of `device`: CPU workers, CUDA devices) pull tiles from a
// shared queue until none is left, each reading its next tile while it computes the current one; under mpirun, ranks do the same through rank 0 (mpi_run.cpp).
// Each finished tile goes into the manifest, each failure into the summary, and the run goes on.
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "pipeline/run_common.hpp"

namespace lidarhd::pipeline {

RunSummary run_process(const ProcessOptions& o) {
  if (detail::mpi_world_size() > 1) return detail::run_process_mpi(o);
  const auto start = std::chrono::steady_clock::now();
  auto warn = [&](const std::string& line) { if (o.warn) o.warn(line); };
  const detail::RunSetup setup = detail::setup_run(o, warn);
  std::vector<std::unique_ptr<detail::Worker>> workers;
  for (const Device& d : setup.devices) workers.push_back(detail::make_worker(o, setup, d));
  detail::Manifest manifest = detail::start_output(o, *workers[0], warn);

  RunSummary s;
  s.output = o.output;
  s.tiles.resize(setup.tiles.size());
  std::atomic<size_t> next{0};
  std::mutex mutex;  // manifest, summary, callbacks
  size_t finished = 0;
  // Takes the next tile that needs work (finished ones are reported as skipped); -1 at the end.
  auto claim = [&]() -> long {
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t i; (i = next++) < setup.tiles.size();) {
      const detail::TileInput& tile = setup.tiles[i];
      if (o.force || !manifest.finished(tile.name)) return long(i);
      TileReport& r = s.tiles[i];
      r.name = tile.name, r.input = tile.path, r.status = "skipped";
      detail::count(s, r);
      if (o.progress) o.progress(++finished, setup.tiles.size(), s.points);
    }
    return -1;
  };
  // Each worker decodes its next tile while it computes the current one (pipelined: the device
  // never waits for LAZ decoding unless decoding is the slower stage).
  auto work = [&](detail::Worker& w) {
    std::unique_ptr<detail::Worker> cpu;
    auto load = [&](long i) {
      // Under a memory budget the next tile is read only when its turn comes.
      return std::async(o.memory_budget ? std::launch::deferred : std::launch::async, [&, i] { return detail::load_tile(setup.tiles[size_t(i)], w.ctx); });
    };
    long i = claim();
    std::future<detail::LoadedTile> ahead;
    if (i >= 0) ahead = load(i);
    while (i >= 0) {
      const detail::LoadedTile loaded = ahead.get();
      const long j = claim();
      if (j >= 0) ahead = load(j);
      TileReport r = detail::run_tile(loaded, w, cpu, [&] { return detail::make_worker(o, setup, Device::cpu()); });
      std::lock_guard<std::mutex> lock(mutex);
      if (r.status == "done") manifest.record(r);
      if (r.status == "failed") warn(r.name + " failed: " + r.error);
      for (const auto& line : r.warnings) warn(r.name + ": " + line);
      detail::count(s, r);
      s.tiles[size_t(i)] = std::move(r);
      if (o.progress) o.progress(++finished, setup.tiles.size(), s.points);
      i = j;
    }
  };
  if (workers.size() == 1) {
    work(*workers[0]);
  } else {
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back([&, wp = w.get()] { work(*wp); });
    for (auto& t : threads) t.join();
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> names;
  for (const auto& w : workers) names.push_back(w->device.to_string());
  detail::write_summary(s, names);
  return s;
}

}  // namespace lidarhd::pipeline
