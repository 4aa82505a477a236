// run_process: workers (one per entry of `device`: CPU workers, CUDA devices) pull tiles from a
// shared queue until none is left, each reading its next tile and writing its previous one
// while it computes the current one; under mpirun, ranks do the same through rank 0
// (mpi_run.cpp).
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
  auto record = [&](long i, TileReport r) {
    std::lock_guard<std::mutex> lock(mutex);
    if (r.status == "done") manifest.record(r);
    if (r.status == "failed") warn(r.name + " failed: " + r.error);
    for (const auto& line : r.warnings) warn(r.name + ": " + line);
    detail::count(s, r);
    s.tiles[size_t(i)] = std::move(r);
    if (o.progress) o.progress(++finished, setup.tiles.size(), s.points);
  };
  // Each worker runs three stages on three tiles at once: it decodes the next tile and writes
  // the previous one's outputs while it computes the current one, so its device waits neither
  // for LAZ decoding nor for encoding. Under a memory budget the stages run one after the other.
  const bool overlap = o.memory_budget == 0;
  auto work = [&](detail::Worker& w) {
    std::unique_ptr<detail::Worker> cpu;
    auto make_cpu = [&] { return detail::make_worker(o, setup, Device::cpu()); };
    auto load = [&](long i) {
      return std::async(overlap ? std::launch::async : std::launch::deferred,
                        [&, i] { return detail::load_tile(setup.tiles[size_t(i)], w.ctx); });
    };
    long i = claim();
    std::future<detail::LoadedTile> ahead;
    if (i >= 0) ahead = load(i);
    std::future<TileReport> writing;
    long written = -1;
    while (i >= 0) {
      auto loaded = std::make_shared<const detail::LoadedTile>(ahead.get());
      const long j = claim();
      if (j >= 0) ahead = load(j);
      auto computed = std::make_shared<detail::ComputedTile>(detail::compute_on(loaded, w, cpu, make_cpu));
      loaded.reset();
      if (writing.valid()) record(written, writing.get());  // at most one tile being written
      const detail::RunContext& ctx = detail::writer_context(*computed, w, cpu);
      if (overlap) {
        writing = std::async(std::launch::async, [computed, &ctx] { return detail::write_outputs(*computed, ctx); });
        written = i;
      } else {
        record(i, detail::write_outputs(*computed, ctx));
      }
      i = j;
    }
    if (writing.valid()) record(written, writing.get());
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
