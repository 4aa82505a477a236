// lidarhd process under mpirun: rank 0 hands out tiles one at a time to the other ranks (each a
// worker on its node's device), records each result in the manifest as it arrives and writes the
// summary. The output folder must be shared by the nodes. A rank that dies takes the MPI job down
// (OpenMPI's default), but every tile reported before is in the manifest: a re-run skips them.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "lidarhd/core/error.hpp"
#include "pipeline/run_common.hpp"

namespace lidarhd::pipeline::detail {
namespace {

constexpr int kResultTag = 1;  // worker -> rank 0: a report (JSON), "" for the first request
constexpr int kTileTag = 2;    // rank 0 -> worker: a tile index, or -1 when none is left

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string receive_report(int& source) {
  MPI_Status status;
  MPI_Probe(MPI_ANY_SOURCE, kResultTag, MPI_COMM_WORLD, &status);
  int size = 0;
  MPI_Get_count(&status, MPI_CHAR, &size);
  std::string text(size_t(size), '\0');
  MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, kResultTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  source = status.MPI_SOURCE;
  return text;
}

RunSummary coordinate(const ProcessOptions& o, int size) {
  const auto start = std::chrono::steady_clock::now();
  auto warn = [&](const std::string& line) { if (o.warn) o.warn(line); };
  const RunSetup setup = setup_run(o, warn);
  const std::unique_ptr<Worker> meta = make_worker(o, setup, Device::cpu());
  Manifest manifest = start_output(o, *meta, warn);
  RunSummary s;
  s.output = o.output;
  s.tiles.resize(setup.tiles.size());
  std::vector<size_t> todo;
  size_t finished = 0;
  for (size_t i = 0; i < setup.tiles.size(); ++i) {
    if (!o.force && manifest.finished(setup.tiles[i].name)) {
      TileReport& r = s.tiles[i];
      r.name = setup.tiles[i].name, r.input = setup.tiles[i].path, r.status = "skipped";
      count(s, r);
      ++finished;
    } else {
      todo.push_back(i);
    }
  }
  if (o.progress && finished) o.progress(finished, setup.tiles.size(), 0);
  size_t next = 0;
  int active = size - 1;
  std::vector<int64_t> in_flight(size_t(size), -1);
  while (active > 0) {
    int source = 0;
    const std::string text = receive_report(source);
    if (!text.empty()) {
      TileReport r = report_from_json(nlohmann::json::parse(text));
      const auto index = size_t(in_flight[size_t(source)]);
      if (r.status == "done") manifest.record(r);
      if (r.status == "failed") warn(r.name + " failed: " + r.error);
      for (const auto& line : r.warnings) warn(r.name + ": " + line);
      count(s, r);
      s.tiles[index] = std::move(r);
      if (o.progress) o.progress(++finished, setup.tiles.size(), s.points);
    }
    const int64_t tile = next < todo.size() ? int64_t(todo[next++]) : -1;
    in_flight[size_t(source)] = tile;
    MPI_Send(&tile, 1, MPI_INT64_T, source, kTileTag, MPI_COMM_WORLD);
    if (tile < 0) --active;
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> workers;
  for (int r = 1; r < size; ++r) workers.push_back("rank " + std::to_string(r));
  write_summary(s, workers);
  return s;
}

RunSummary work(const ProcessOptions& o, int rank) {
  const RunSetup setup = setup_run(o, [](const std::string&) {});
  // Each node's ranks share its devices: local rank k takes device k modulo their count.
  const int local = env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("SLURM_LOCALID", rank - 1));
  const Device device = setup.devices[size_t(local) % setup.devices.size()];
  const std::unique_ptr<Worker> w = make_worker(o, setup, device);
  std::unique_ptr<Worker> cpu;
  RunSummary s;
  s.output = o.output;
  s.rank = rank;
  std::string report;
  while (true) {
    MPI_Send(report.data(), int(report.size()), MPI_CHAR, 0, kResultTag, MPI_COMM_WORLD);
    int64_t tile = -1;
    MPI_Recv(&tile, 1, MPI_INT64_T, 0, kTileTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (tile < 0 || size_t(tile) >= setup.tiles.size()) break;
    TileReport r = run_tile(std::make_shared<const LoadedTile>(load_tile(setup.tiles[size_t(tile)], w->ctx)), *w, cpu,
                            [&] { return make_worker(o, setup, Device::cpu()); });
    report = report_json(r).dump();
    count(s, r);
    s.tiles.push_back(std::move(r));
  }
  return s;
}

}  // namespace

int mpi_world_size() {
  // Set by OpenMPI's mpirun (and srun with PMIx): no MPI call before we know MPI is wanted.
  return std::max(env_int("OMPI_COMM_WORLD_SIZE", 1), env_int("PMIX_SIZE", 1));
}

RunSummary run_process_mpi(const ProcessOptions& o) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) MPI_Init(nullptr, nullptr);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    MPI_Finalize();
    throw ArgumentError("process", "under MPI, lidarhd process needs at least 2 ranks (rank 0 "
                                   "hands out tiles): mpirun -n 3 or more");
  }
  RunSummary s;
  try {
    s = rank == 0 ? coordinate(o, size) : work(o, rank);
  } catch (const std::exception& e) {
    // A set-up error on one rank would leave the others waiting forever.
    if (o.warn) o.warn(std::string("rank ") + std::to_string(rank) + ": " + e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return s;
}

}  // namespace lidarhd::pipeline::detail
