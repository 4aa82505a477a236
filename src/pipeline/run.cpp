// run_process: resolves the configuration once, then tiles one after the other; each finished
// tile goes into the manifest, each failure into the summary, and the run goes on.
#include <algorithm>
#include <chrono>
#include <filesystem>
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

void prepare(RunContext& ctx, const ProcessOptions& o) {
  const Config& c = o.config;
  ctx.config = c;
  ctx.output = o.output;
  ctx.device = resolve(Device::parse(c.device));
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
  f.device = ctx.device;
  f.threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
}

json report_json(const TileReport& r) {
  return json{{"name", r.name},
              {"input", r.input},
              {"status", r.status},
              {"error", r.error},
              {"points", r.points},
              {"halo_points", r.halo_points},
              {"patches", r.patches},
              {"split", r.split},
              {"warnings", r.warnings},
              {"seconds", {{"read", r.seconds_read}, {"colors", r.seconds_colors},
                           {"features", r.seconds_features}, {"patches", r.seconds_patches},
                           {"write", r.seconds_write}, {"total", r.seconds_total}}}};
}

}  // namespace

RunSummary run_process(const ProcessOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.inputs.empty()) throw ArgumentError("process", "no input tile");
  if (o.output.empty()) throw ArgumentError("process", "no output folder (-o)");
  std::vector<detail::TileInput> tiles = detail::list_tiles(o.inputs);
  auto warn = [&](const std::string& line) { if (o.warn) o.warn(line); };
  RunContext ctx;
  prepare(ctx, o);
  ctx.halo_sources = tiles;
  if (!o.neighbors.empty()) {
    for (auto& t : detail::list_tiles({o.neighbors})) {
      const bool input = std::any_of(tiles.begin(), tiles.end(), [&](const auto& x) { return x.name == t.name; });
      if (input) continue;
      if (!t.error.empty()) {
        warn("neighbour " + t.path + " is not used for halos: " + t.error);
        continue;
      }
      ctx.halo_sources.push_back(std::move(t));
    }
  }
  fs::create_directories(o.output);
  const size_t removed = detail::remove_stale_temporaries(o.output);
  if (removed) warn("removed " + std::to_string(removed) + " temporary files left by an interrupted run");
  detail::Manifest manifest(o.output, detail::config_hash(o.config));
  if (manifest.stale()) {
    warn("the configuration changed since the last run: its " + std::to_string(manifest.stale()) +
         " finished tiles are redone");
  }
  {
    patches::DatasetMetadata meta;
    for (features::Feature f : ctx.output_features) meta.feature_names.push_back(features::feature_name(f));
    meta.label_map = ctx.labels;
    meta.config_yaml = to_yaml(o.config);
    meta.normalize = o.config.patches.normalize;
    meta.eigen_norm = o.config.features.eigen_norm;
    patches::write_metadata_json((fs::path(o.output) / "metadata.json").string(), meta);
  }

  RunSummary s;
  s.output = o.output;
  for (size_t i = 0; i < tiles.size(); ++i) {
    const detail::TileInput& tile = tiles[i];
    TileReport r;
    if (!o.force && manifest.finished(tile.name)) {
      r.name = tile.name, r.input = tile.path, r.status = "skipped";
      ++s.skipped;
    } else {
      try {
        r = detail::process_tile(tile, ctx);
        manifest.record(r);
        ++s.done;
        s.points += r.points;
        s.patches += r.patches;
      } catch (const std::exception& e) {
        r = TileReport{};
        r.name = tile.name, r.input = tile.path, r.status = "failed", r.error = e.what();
        ++s.failed;
        warn(tile.name + " failed: " + e.what());
      }
    }
    for (const auto& w : r.warnings) warn(tile.name + ": " + w);
    s.tiles.push_back(r);
    if (o.progress) o.progress(i + 1, tiles.size(), s.points);
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json j{{"output", s.output}, {"done", s.done},     {"skipped", s.skipped}, {"failed", s.failed},
         {"points", s.points}, {"patches", s.patches}, {"seconds", s.seconds},
         {"tiles", json::array()}};
  for (const auto& r : s.tiles) j["tiles"].push_back(report_json(r));
  s.summary_path = (fs::path(o.output) / "summary.json").string();
  detail::write_text_atomic(s.summary_path, j.dump(2) + "\n");
  return s;
}

}  // namespace lidarhd::pipeline
