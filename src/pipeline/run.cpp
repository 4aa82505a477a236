// run_process: resolves the configuration, then workers (one per entry of `device`: CPU workers,
// CUDA devices) pull tiles from a shared queue until none is left. Each finished tile goes into
// the manifest, each failure into the summary, and the run goes on. A device out of memory
// redoes the tile in spatial chunks, then on the CPU, with a warning.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/dataset.hpp"
#include "pipeline/manifest.hpp"
#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using detail::RunContext;

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
              {"seconds", {{"read", r.seconds_read}, {"colors", r.seconds_colors},
                           {"features", r.seconds_features}, {"patches", r.seconds_patches},
                           {"write", r.seconds_write}, {"total", r.seconds_total}}}};
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

struct Worker {
  Device device;
  RunContext ctx;
};

// The tile on the worker's device; on a device out of memory, again in 4 x 4 chunks, then on
// `cpu` (prepared on first use).
TileReport attempt(const detail::TileInput& tile, Worker& w, std::unique_ptr<Worker>& cpu,
                   const std::function<std::unique_ptr<Worker>()>& make_cpu) {
  std::vector<std::string> notes;
  for (int a = 0; a < 2; ++a) {
    try {
      if (forced_oom(tile.name, a)) {
        throw DeviceError("cuda", "out of memory (forced by LIDARHD_TEST_OOM)");
      }
      TileReport r = detail::process_tile(tile, w.ctx, a == 0 ? 1 : 4);
      r.device = w.device.to_string();
      r.warnings.insert(r.warnings.begin(), notes.begin(), notes.end());
      return r;
    } catch (const DeviceError& e) {
      if (!out_of_memory(e)) throw;
      notes.push_back(std::string(a == 0 ? "out of memory on " : "out of memory in chunks on ") +
                      w.device.to_string() + (a == 0 ? ": redone in 4 x 4 chunks" : ": redone on the CPU"));
    }
  }
  if (!cpu) cpu = make_cpu();
  TileReport r = detail::process_tile(tile, cpu->ctx, 1);
  r.device = "cpu (fallback)";
  r.warnings.insert(r.warnings.begin(), notes.begin(), notes.end());
  return r;
}

}  // namespace

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

RunSummary run_process(const ProcessOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.inputs.empty()) throw ArgumentError("process", "no input tile");
  if (o.output.empty()) throw ArgumentError("process", "no output folder (-o)");
  auto warn = [&](const std::string& line) { if (o.warn) o.warn(line); };
  const std::vector<detail::TileInput> tiles = detail::list_tiles(o.inputs);
  const std::vector<Device> devices = parse_workers(o.config.device);
  const unsigned cores = o.config.threads ? o.config.threads : std::max(1u, std::thread::hardware_concurrency());
  const auto cpu_workers = static_cast<unsigned>(std::count(devices.begin(), devices.end(), Device::cpu()));
  // CPU workers share the cores; a GPU worker keeps them all for decoding and encoding.
  const unsigned cpu_threads = std::max(1u, cores / std::max(1u, cpu_workers));
  std::vector<detail::TileInput> halo_sources = tiles;
  if (!o.neighbors.empty()) {
    for (auto& t : detail::list_tiles({o.neighbors})) {
      const bool input = std::any_of(tiles.begin(), tiles.end(), [&](const auto& x) { return x.name == t.name; });
      if (input) continue;
      if (!t.error.empty()) {
        warn("neighbour " + t.path + " is not used for halos: " + t.error);
        continue;
      }
      halo_sources.push_back(std::move(t));
    }
  }
  auto make_worker = [&](const Device& d) {
    auto w = std::make_unique<Worker>();
    w->device = d;
    prepare(w->ctx, o, d, d.is_cpu() ? cpu_threads : cores);
    w->ctx.halo_sources = halo_sources;
    return w;
  };
  std::vector<std::unique_ptr<Worker>> workers;
  for (const Device& d : devices) workers.push_back(make_worker(d));

  fs::create_directories(o.output);
  const size_t removed = detail::remove_stale_temporaries(o.output);
  if (removed) warn("removed " + std::to_string(removed) + " temporary files left by an interrupted run");
  detail::Manifest manifest(o.output, detail::config_hash(o.config));
  if (manifest.stale()) {
    warn("the configuration changed since the last run: its " + std::to_string(manifest.stale()) +
         " finished tiles are redone");
  }
  {
    const RunContext& ctx = workers[0]->ctx;
    patches::DatasetMetadata meta;
    for (features::Feature f : ctx.output_features) meta.feature_names.push_back(features::feature_name(f));
    meta.label_map = ctx.labels;
    meta.config_yaml = to_yaml(o.config);
    meta.normalize = o.config.patches.normalize;
    meta.eigen_norm = o.config.features.eigen_norm;
    meta.num_points = o.config.patches.num_points;
    patches::write_metadata_json((fs::path(o.output) / "metadata.json").string(), meta);
  }

  RunSummary s;
  s.output = o.output;
  s.tiles.resize(tiles.size());
  std::atomic<size_t> next{0};
  std::mutex mutex;  // manifest, summary, callbacks
  size_t finished = 0;
  auto work = [&](Worker& w) {
    std::unique_ptr<Worker> cpu;
    for (size_t i; (i = next++) < tiles.size();) {
      const detail::TileInput& tile = tiles[i];
      TileReport r;
      if (!o.force && manifest.finished(tile.name)) {
        r.name = tile.name, r.input = tile.path, r.status = "skipped";
      } else {
        try {
          r = attempt(tile, w, cpu, [&] { return make_worker(Device::cpu()); });
        } catch (const std::exception& e) {
          r = TileReport{};
          r.name = tile.name, r.input = tile.path, r.status = "failed", r.error = e.what();
          r.device = w.device.to_string();
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (r.status == "done") {
        manifest.record(r);
        ++s.done;
        s.points += r.points;
        s.patches += r.patches;
      } else if (r.status == "skipped") {
        ++s.skipped;
      } else {
        ++s.failed;
        warn(tile.name + " failed: " + r.error);
      }
      for (const auto& line : r.warnings) warn(tile.name + ": " + line);
      s.tiles[i] = std::move(r);
      if (o.progress) o.progress(++finished, tiles.size(), s.points);
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
  json j{{"output", s.output}, {"done", s.done},     {"skipped", s.skipped}, {"failed", s.failed},
         {"points", s.points}, {"patches", s.patches}, {"seconds", s.seconds},
         {"workers", json::array()}, {"tiles", json::array()}};
  for (const auto& w : workers) j["workers"].push_back(w->device.to_string());
  for (const auto& r : s.tiles) j["tiles"].push_back(report_json(r));
  s.summary_path = (fs::path(o.output) / "summary.json").string();
  detail::write_text_atomic(s.summary_path, j.dump(2) + "\n");
  return s;
}

}  // namespace lidarhd::pipeline
