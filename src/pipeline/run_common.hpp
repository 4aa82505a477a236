// Internals shared by the threaded runner (run.cpp) and the MPI runner (mpi_run.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/manifest.hpp"
#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline::detail {

struct RunSetup {
  std::vector<TileInput> tiles, halo_sources;
  std::vector<Device> devices;
  unsigned cores = 1, cpu_threads = 1;
};
// Lists the tiles, the halo sources and the workers; throws ArgumentError for a bad set-up.
RunSetup setup_run(const ProcessOptions& o, const std::function<void(const std::string&)>& warn);

struct Worker {
  Device device;
  RunContext ctx;
};
std::unique_ptr<Worker> make_worker(const ProcessOptions& o, const RunSetup& setup, const Device& d);

// One loaded tile computed on `w`; a device out of memory redoes it in 4 x 4 chunks, then on
// `cpu` (made by make_cpu on first use). Never throws: a failure is a report with status
// "failed" (and nothing to write).
ComputedTile compute_on(std::shared_ptr<const LoadedTile> loaded, Worker& w, std::unique_ptr<Worker>& cpu,
                        const std::function<std::unique_ptr<Worker>()>& make_cpu);
// The outputs of a computed tile (nothing for a failed one). Never throws.
TileReport write_outputs(ComputedTile& tile, const RunContext& ctx);
// The context that writes a computed tile: the CPU fallback's when it computed it.
const RunContext& writer_context(const ComputedTile& tile, const Worker& w, const std::unique_ptr<Worker>& cpu);
// Both, one after the other.
TileReport run_tile(std::shared_ptr<const LoadedTile> loaded, Worker& w, std::unique_ptr<Worker>& cpu,
                    const std::function<std::unique_ptr<Worker>()>& make_cpu);

// Creates the output folder, removes a killed run's temporary files, loads the manifest and
// writes metadata.json.
Manifest start_output(const ProcessOptions& o, const Worker& w,
                      const std::function<void(const std::string&)>& warn);

void count(RunSummary& s, const TileReport& r);                       // done/skipped/failed totals
void write_summary(RunSummary& s, const std::vector<std::string>& workers);  // summary.json
nlohmann::json report_json(const TileReport& r);
TileReport report_from_json(const nlohmann::json& j);

// MPI (mpi_run.cpp; without MPI support: 1 and a runner that throws).
int mpi_world_size();
RunSummary run_process_mpi(const ProcessOptions& o);

}  // namespace lidarhd::pipeline::detail
