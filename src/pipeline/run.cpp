// run_process: workers (one per entry of `device`: CPU workers, CUDA devices) pull tiles from a
// shared queue until none is left; under mpirun, ranks do the same through rank 0 (mpi_run.cpp).
// Each finished tile goes into the manifest, each failure into the summary, and the run goes on.
#include <atomic>
#include <chrono>
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
  auto work = [&](detail::Worker& w) {
    std::unique_ptr<detail::Worker> cpu;
    for (size_t i; (i = next++) < setup.tiles.size();) {
      const detail::TileInput& tile = setup.tiles[i];
      TileReport r;
      if (!o.force && manifest.finished(tile.name)) {
        r.name = tile.name, r.input = tile.path, r.status = "skipped";
      } else {
        r = detail::run_tile(tile, w, cpu, [&] { return detail::make_worker(o, setup, Device::cpu()); });
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (r.status == "done") manifest.record(r);
      if (r.status == "failed") warn(tile.name + " failed: " + r.error);
      for (const auto& line : r.warnings) warn(tile.name + ": " + line);
      detail::count(s, r);
      s.tiles[i] = std::move(r);
      if (o.progress) o.progress(++finished, setup.tiles.size(), s.points);
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
