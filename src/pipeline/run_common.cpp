// What the threaded and the MPI runners share: tile lists, workers, one tile with its fallbacks,
// the output folder's set-up and the summary.
#include "pipeline/run_common.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/dataset.hpp"

namespace lidarhd::pipeline {
namespace detail {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

void prepare(RunContext& ctx, const ProcessOptions& o, const Device& device, unsigned threads) {
  const Config& c = o.config;
  ctx.config = c;
  ctx.output = o.output;
  ctx.device = device;
  ctx.colours = !c.colors.rgb.empty() || !c.colors.irc.empty();
  ctx.labels = patches::label_map(c.labels);
  ctx.output_features = features::parse_feature_list(c.features.set, ctx.colours);
  features::FeatureOptions& f = ctx.features;
  f.features = ctx.output_features;
  // What the label mapping needs is computed too, even when not written.
  for (const std::string& name : patches::required_features(ctx.labels)) {
    const features::Feature feat = features::parse_feature(name);
    if (std::find(f.features.begin(), f.features.end(), feat) == f.features.end()) f.features.push_back(feat);
  }
  if (c.features.radius > 0) {
    f.neighborhood = features::Neighborhood::kRadius;
    f.radius = c.features.radius;
  } else {
    f.k = c.features.k;
  }
  f.eigen_norm = features::parse_eigen_norm(c.features.eigen_norm);
  f.device = device;
  f.threads = threads;
}


bool out_of_memory(const DeviceError& e) {
  return std::string(e.what()).find("out of memory") != std::string::npos;
}

// Test hook: LIDARHD_TEST_OOM=<tile> makes the first attempt at that tile fail as a device out of
// memory would (the scheduler tests run on CPU-only machines).
bool forced_oom(const std::string& tile, int attempt) {
  const char* name = std::getenv("LIDARHD_TEST_OOM");
  return name && tile == name && attempt == 0;
}

// The tile on the worker's device; on a device out of memory, again in 4 x 4 chunks, then on
// `cpu` (prepared on first use).
ComputedTile attempt(const std::shared_ptr<const LoadedTile>& loaded, Worker& w, std::unique_ptr<Worker>& cpu,
                     const std::function<std::unique_ptr<Worker>()>& make_cpu) {
  std::vector<std::string> notes;
  for (int a = 0; a < 2; ++a) {
    try {
      if (forced_oom(loaded->tile.name, a)) {
        throw DeviceError("cuda", "out of memory (forced by LIDARHD_TEST_OOM)");
      }
      ComputedTile c = compute_tile(loaded, w.ctx, a == 0 ? 1 : 4);
      c.report.device = w.device.to_string();
      c.report.warnings.insert(c.report.warnings.begin(), notes.begin(), notes.end());
      return c;
    } catch (const DeviceError& e) {
      if (!out_of_memory(e)) throw;
      notes.push_back(std::string(a == 0 ? "out of memory on " : "out of memory in chunks on ") +
                      w.device.to_string() + (a == 0 ? ": redone in 4 x 4 chunks" : ": redone on the CPU"));
    }
  }
  if (!cpu) cpu = make_cpu();
  ComputedTile c = compute_tile(loaded, cpu->ctx, 1);
  c.report.device = "cpu (fallback)";
  c.report.warnings.insert(c.report.warnings.begin(), notes.begin(), notes.end());
  return c;
}

TileReport failed(const TileInput& tile, const std::string& device, const std::string& error) {
  TileReport r;
  r.name = tile.name, r.input = tile.path, r.status = "failed", r.error = error;
  r.device = device;
  return r;
}

}  // namespace

json report_json(const TileReport& r) {
  return json{{"name", r.name},
              {"input", r.input},
              {"status", r.status},
              {"error", r.error},
              {"device", r.device},
              {"points", r.points},
              {"halo_points", r.halo_points},
              {"patches", r.patches},
              {"split", r.split},
              {"warnings", r.warnings},
              {"outputs", r.outputs},  // rank 0 records them in the manifest under MPI
              {"seconds", {{"read", r.seconds_read}, {"colors", r.seconds_colors},
                           {"features", r.seconds_features}, {"patches", r.seconds_patches},
                           {"write", r.seconds_write}, {"total", r.seconds_total}}}};
}

TileReport report_from_json(const json& j) {
  TileReport r;
  r.name = j.value("name", ""), r.input = j.value("input", ""), r.status = j.value("status", "");
  r.error = j.value("error", ""), r.device = j.value("device", ""), r.split = j.value("split", "");
  r.points = j.value("points", uint64_t(0)), r.halo_points = j.value("halo_points", uint64_t(0));
  r.patches = j.value("patches", uint64_t(0));
  r.warnings = j.value("warnings", std::vector<std::string>());
  r.outputs = j.value("outputs", std::vector<std::string>());
  const json& t = j.contains("seconds") ? j["seconds"] : json::object();
  r.seconds_read = t.value("read", 0.0), r.seconds_colors = t.value("colors", 0.0);
  r.seconds_features = t.value("features", 0.0), r.seconds_patches = t.value("patches", 0.0);
  r.seconds_write = t.value("write", 0.0), r.seconds_total = t.value("total", 0.0);
  return r;
}

RunSetup setup_run(const ProcessOptions& o, const std::function<void(const std::string&)>& warn) {
  if (o.inputs.empty()) throw ArgumentError("process", "no input tile");
  if (o.output.empty()) throw ArgumentError("process", "no output folder (-o)");
  RunSetup r;
  r.tiles = list_tiles(o.inputs);
  r.devices = parse_workers(o.config.device);
  r.cores = o.config.threads ? o.config.threads : std::max(1u, std::thread::hardware_concurrency());
  const auto cpu_workers = static_cast<unsigned>(std::count(r.devices.begin(), r.devices.end(), Device::cpu()));
  // CPU workers share the cores; a GPU worker keeps them all for decoding and encoding.
  r.cpu_threads = std::max(1u, r.cores / std::max(1u, cpu_workers));
  r.halo_sources = r.tiles;
  if (!o.neighbors.empty()) {
    for (auto& t : list_tiles({o.neighbors})) {
      const bool input = std::any_of(r.tiles.begin(), r.tiles.end(), [&](const auto& x) { return x.name == t.name; });
      if (input) continue;
      if (!t.error.empty()) {
        warn("neighbour " + t.path + " is not used for halos: " + t.error);
        continue;
      }
      r.halo_sources.push_back(std::move(t));
    }
  }
  return r;
}

std::unique_ptr<Worker> make_worker(const ProcessOptions& o, const RunSetup& setup, const Device& d) {
  auto w = std::make_unique<Worker>();
  w->device = d;
  prepare(w->ctx, o, d, d.is_cpu() ? setup.cpu_threads : setup.cores);
  w->ctx.halo_sources = setup.halo_sources;
  w->ctx.memory_budget = o.memory_budget / std::max<size_t>(1, setup.devices.size());
  w->ctx.device_budget = o.device_memory_budget;
  return w;
}

ComputedTile compute_on(std::shared_ptr<const LoadedTile> loaded, Worker& w, std::unique_ptr<Worker>& cpu,
                        const std::function<std::unique_ptr<Worker>()>& make_cpu) {
  try {
    return attempt(loaded, w, cpu, make_cpu);
  } catch (const std::exception& e) {
    ComputedTile c;
    c.loaded = loaded;
    c.report = failed(loaded->tile, w.device.to_string(), e.what());
    return c;
  }
}

TileReport write_outputs(ComputedTile& tile, const RunContext& ctx) {
  if (tile.report.status == "failed") return tile.report;
  try {
    return write_tile(tile, ctx);
  } catch (const std::exception& e) {
    return failed(tile.loaded->tile, tile.report.device, e.what());
  }
}

TileReport run_tile(std::shared_ptr<const LoadedTile> loaded, Worker& w, std::unique_ptr<Worker>& cpu,
                    const std::function<std::unique_ptr<Worker>()>& make_cpu) {
  ComputedTile c = compute_on(std::move(loaded), w, cpu, make_cpu);
  return write_outputs(c, writer_context(c, w, cpu));
}

const RunContext& writer_context(const ComputedTile& tile, const Worker& w, const std::unique_ptr<Worker>& cpu) {
  // Same configuration either way; the fallback's context cuts patches on the CPU.
  return tile.report.device == "cpu (fallback)" && cpu ? cpu->ctx : w.ctx;
}

Manifest start_output(const ProcessOptions& o, const Worker& w,
                      const std::function<void(const std::string&)>& warn) {
  fs::create_directories(o.output);
  const size_t removed = remove_stale_temporaries(o.output);
  if (removed) warn("removed " + std::to_string(removed) + " temporary files left by an interrupted run");
  Manifest manifest(o.output, config_hash(o.config));
  if (manifest.stale()) {
    warn("the configuration changed since the last run: its " + std::to_string(manifest.stale()) +
         " finished tiles are redone");
  }
  patches::DatasetMetadata meta;
  for (features::Feature f : w.ctx.output_features) meta.feature_names.push_back(features::feature_name(f));
  meta.label_map = w.ctx.labels;
  meta.config_yaml = to_yaml(o.config);
  meta.normalize = o.config.patches.normalize;
  meta.eigen_norm = o.config.features.eigen_norm;
  meta.num_points = o.config.patches.num_points;
  patches::write_metadata_json((fs::path(o.output) / "metadata.json").string(), meta);
  return manifest;
}

void count(RunSummary& s, const TileReport& r) {
  if (r.status == "done") {
    ++s.done;
    s.points += r.points;
    s.patches += r.patches;
  } else if (r.status == "skipped") {
    ++s.skipped;
  } else {
    ++s.failed;
  }
}

void write_summary(RunSummary& s, const std::vector<std::string>& workers) {
  json j{{"output", s.output}, {"done", s.done},     {"skipped", s.skipped}, {"failed", s.failed},
         {"points", s.points}, {"patches", s.patches}, {"seconds", s.seconds},
         {"workers", workers}, {"tiles", json::array()}};
  for (const auto& r : s.tiles) j["tiles"].push_back(report_json(r));
  s.summary_path = (fs::path(s.output) / "summary.json").string();
  write_text_atomic(s.summary_path, j.dump(2) + "\n");
}

}  // namespace detail

std::vector<Device> parse_workers(const std::string& spec) {
  std::vector<Device> out;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    if (item == "all") {
      const int gpus = built_with_cuda() ? cuda_device_count() : 0;
      for (int g = 0; g < gpus; ++g) out.push_back(Device::cuda(g));
      if (gpus == 0) out.push_back(Device::cpu());
    } else if (item.rfind("cpu:", 0) == 0) {
      const std::string count = item.substr(4);
      const int workers = count.empty() || count.find_first_not_of("0123456789") != std::string::npos
                              ? 0 : std::atoi(count.c_str());
      if (workers < 1 || workers > 256) {
        throw ArgumentError("process", "device '" + item + "': cpu:N needs N between 1 and 256");
      }
      out.insert(out.end(), size_t(workers), Device::cpu());
    } else {
      out.push_back(resolve(Device::parse(item)));
    }
  }
  return out;
}

}  // namespace lidarhd::pipeline
