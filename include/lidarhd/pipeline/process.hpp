// `lidarhd process`: tiles in, ML-ready data out. Per tile: read it with a halo from its
// neighbours, colourise, compute features, derive labels, then write an enriched LAZ and/or
// training patches; a manifest records finished tiles so that a re-run skips them, and a failing
// tile is reported while the others finish.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/pipeline/config.hpp"

namespace lidarhd::pipeline {

struct ProcessOptions {
  std::vector<std::string> inputs;  // LAS/LAZ/COPC files or folders of them
  std::string output;               // output folder
  Config config;
  std::string neighbors;            // folder of extra tiles used only for halos ("" = none)
  bool force = false;               // redo tiles the manifest lists as finished
  // Host memory for the run, bytes (0 = no limit), shared by the workers. A tile whose in-core
  // footprint exceeds its worker's share is streamed (same outputs, more disk traffic) and no
  // tile is read ahead.
  uint64_t memory_budget = 0;
  // Memory each worker's feature computation may use on its device (GPU memory; host memory for
  // a CPU worker), bytes (0 = no limit): larger tiles or chunks are computed in spatial chunks
  // (same outputs) instead of running out of memory first.
  uint64_t device_memory_budget = 0;
  // Called after each tile (done tiles, total tiles, points so far); may be empty.
  std::function<void(size_t, size_t, uint64_t)> progress;
  std::function<void(const std::string&)> warn;  // one line per warning; may be empty
};

struct TileReport {
  std::string name, input;
  std::string status;  // "done", "skipped" (finished earlier) or "failed"
  std::string error;   // when failed
  uint64_t points = 0, halo_points = 0, patches = 0;
  std::string split;   // train | val | test
  std::string device;  // the worker that processed it
  std::vector<std::string> outputs;  // relative to the output folder
  double seconds_read = 0, seconds_colors = 0, seconds_features = 0, seconds_patches = 0,
         seconds_write = 0, seconds_total = 0;
  std::vector<std::string> warnings;
};

struct RunSummary {
  std::string output;
  std::vector<TileReport> tiles;
  size_t done = 0, skipped = 0, failed = 0;
  uint64_t points = 0, patches = 0;
  double seconds = 0;
  std::string summary_path;  // <output>/summary.json (rank 0 only under MPI)
  int rank = 0;              // MPI rank; only rank 0 holds the whole run's summary
};

// Throws ArgumentError for a bad configuration or no input; per-tile failures are reported in the
// summary instead. Workers come from config.device (parse_workers).
RunSummary run_process(const ProcessOptions& options);

// The workers of a `device` setting: "cpu", "cpu:N" (N CPU workers sharing the cores), "cuda",
// "cuda:N", a comma-separated list of those ("cuda:0,cuda:1"), or "all" (every GPU, else one CPU
// worker). Throws ArgumentError / DeviceError for what cannot run here.
std::vector<Device> parse_workers(const std::string& spec);

}  // namespace lidarhd::pipeline
