// `lidarhd colorize IN OUT --rgb SRC [--irc SRC]`: RGB/NIR (and optionally the colour features)
// from orthophotos, SRC being a raster file, a folder or VRT of rasters, or "wms" (the IGN
// Géoplateforme by default). Prints a run summary; --json makes it machine-readable.
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "lidarhd/core/device.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/colorize.hpp"

namespace lidarhd::cli {
namespace {

using json = nlohmann::json;

struct ColorizeCli {
  std::string input, output, method = "nearest", device = "cpu";
  raster::ColorizeOptions o;
  std::string wms_url = raster::kIgnWmsUrl, wms_format = "image/png", cache_dir;
  std::string rgb_layer = raster::kIgnRgbLayer, irc_layer = raster::kIgnIrcLayer;
  int wms_block = 1000, connections = 4, retries = 5;
  double timeout = 60, backoff = 1.0, fill = 0;
  bool offline = false, json = false, quiet = false;
  unsigned threads = 0;
};

json source_json(const raster::SourceReport& r) {
  return json{{"source", r.source}, {"sampled", r.sampled}, {"outside", r.outside},
              {"nodata", r.nodata},  {"mean", r.mean},       {"crs", r.crs_note}};
}

void print_source(const char* what, const raster::SourceReport& r) {
  if (r.source.empty()) return;
  std::printf("  %s: %s (%s)\n", what, r.source.c_str(), r.crs_note.c_str());
  std::printf("    sampled %llu, outside the raster %llu, on NoData %llu; mean", 
              static_cast<unsigned long long>(r.sampled), static_cast<unsigned long long>(r.outside),
              static_cast<unsigned long long>(r.nodata));
  for (double m : r.mean) std::printf(" %.3f", m);
  std::printf("\n");
  if (r.outside + r.nodata) {
    std::printf("    WARNING: %llu points got the fill value\n",
                static_cast<unsigned long long>(r.outside + r.nodata));
  }
}

void run(ColorizeCli& c) {
  raster::ColorizeOptions& o = c.o;
  o.method = raster::parse_sample_method(c.method);
  o.device = resolve(Device::parse(c.device));
  o.threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  o.fill = static_cast<float>(c.fill);
  for (auto* w : {&o.wms_rgb, &o.wms_irc}) {
    w->url = c.wms_url;
    w->format = c.wms_format;
    w->block_size = c.wms_block;
    w->cache_dir = c.cache_dir;
    w->offline = c.offline;
    w->connections = c.connections;
    w->timeout_s = c.timeout;
    w->retries = c.retries;
    w->backoff_s = c.backoff;
    w->warn = [](const std::string& line) { std::fprintf(stderr, "colorize: %s\n", line.c_str()); };
  }
  o.wms_rgb.layer = c.rgb_layer;
  o.wms_irc.layer = c.irc_layer;
  if (c.offline && c.cache_dir.empty() && (o.rgb == "wms" || o.irc == "wms")) {
    throw ArgumentError("colorize", "--offline needs --cache DIR (the blocks fetched earlier)");
  }
  if (!c.quiet && !c.json) {
    o.progress = [](uint64_t done, uint64_t total) {
      std::fprintf(stderr, "\rcolorize: %llu / %llu points", static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total));
      if (done >= total) std::fprintf(stderr, "\n");
    };
  }
  const raster::ColorizeSummary s = raster::colorize_file(c.input, c.output, o);

  json j{{"input", s.input},
         {"output", s.output},
         {"points", s.points},
         {"point_format", {s.point_format_in, s.point_format_out}},
         {"device", s.device},
         {"method", s.method},
         {"fill", c.fill},
         {"seconds", {{"read", s.seconds_read}, {"sample", s.seconds_sample},
                      {"write", s.seconds_write}, {"total", s.seconds_total}}},
         {"cache", {{"hits", s.cache.hits}, {"misses", s.cache.misses},
                    {"evictions", s.cache.evictions}, {"bytes", s.cache.bytes}}}};
  if (!s.rgb.source.empty()) j["rgb"] = source_json(s.rgb);
  if (!s.irc.source.empty()) j["irc"] = source_json(s.irc);
  for (const auto& [name, w] : s.wms) {
    j["wms"][name] = {{"requests", w.requests}, {"retries", w.retries},
                      {"cache_hits", w.cache_hits}, {"bytes", w.bytes}};
  }
  if (c.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s -> %s\n", s.input.c_str(), s.output.c_str());
  std::printf("  %llu points, point format %d -> %d, %s sampling on %s\n",
              static_cast<unsigned long long>(s.points), s.point_format_in, s.point_format_out,
              s.method.c_str(), s.device.c_str());
  print_source("rgb", s.rgb);
  print_source("irc", s.irc);
  for (const auto& [name, w] : s.wms) {
    std::printf("  %s: %llu requests (%llu retries), %llu blocks from the disk cache, %.1f MB\n",
                name.c_str(), static_cast<unsigned long long>(w.requests),
                static_cast<unsigned long long>(w.retries),
                static_cast<unsigned long long>(w.cache_hits), double(w.bytes) / 1e6);
  }
  std::printf("  read %.2f s, sample %.2f s, write %.2f s, total %.2f s\n", s.seconds_read,
              s.seconds_sample, s.seconds_write, s.seconds_total);
}

}  // namespace

void register_colorize(CLI::App& app) {
  auto c = std::make_shared<ColorizeCli>();
  CLI::App* cmd = app.add_subcommand(
      "colorize", "RGB, NIR (and NDVI) from orthophotos: raster files, folders, VRTs or the IGN WMS");
  cmd->add_option("input", c->input, "LAS, LAZ or COPC tile")->required()->check(CLI::ExistingFile);
  cmd->add_option("output", c->output, "Coloured tile; .las writes uncompressed, .laz LAZ")->required();
  cmd->add_option("--rgb", c->o.rgb, "RGB source: a raster file, a folder or VRT of rasters, or wms");
  cmd->add_option("--irc", c->o.irc,
                  "Infrared (IRC) source, band 1 = NIR: a raster file, folder, VRT, or wms");
  cmd->add_option("--method", c->method, "nearest (default, IGN's) or bilinear")
      ->check(CLI::IsMember({"nearest", "bilinear"}));
  cmd->add_option("--fill", c->fill,
                  "8-bit value for points outside the rasters or on NoData (default 0)")
      ->check(CLI::Range(0.0, 255.0));
  cmd->add_flag("--ndvi", c->o.ndvi,
                "Also write ndvi = (nir - red) / (nir + red) as a float32 extra dimension");
  cmd->add_option("--crs", c->o.points_crs, "The point cloud's CRS when the file has none (EPSG:2154)");
  cmd->add_option("--raster-crs", c->o.raster_crs,
                  "The rasters' CRS when they have none or only a user-defined one");
  cmd->add_option("--device", c->device, "cpu (default), cuda or cuda:N");
  cmd->add_option("--threads", c->threads,
                  "LAZ decoding/encoding threads (default: all cores; sampling uses OpenMP: "
                  "OMP_NUM_THREADS)")
      ->check(CLI::Range(0u, 1024u));
  cmd->add_option("--cache", c->cache_dir, "Disk cache of WMS images (reused by later runs)");
  cmd->add_flag("--offline", c->offline, "WMS: use only the disk cache, never the network");
  cmd->add_option("--wms-url", c->wms_url, std::string("WMS endpoint (default ") + raster::kIgnWmsUrl + ")");
  cmd->add_option("--wms-rgb-layer", c->rgb_layer, "WMS layer for --rgb wms")->capture_default_str();
  cmd->add_option("--wms-irc-layer", c->irc_layer, "WMS layer for --irc wms")->capture_default_str();
  cmd->add_option("--wms-format", c->wms_format, "GetMap image format")->capture_default_str();
  cmd->add_option("--wms-block", c->wms_block, "Pixels per GetMap request side (default 1000)")
      ->check(CLI::Range(16, 4096));
  cmd->add_option("--connections", c->connections, "Concurrent WMS requests (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--timeout", c->timeout, "Seconds per WMS request (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--retries", c->retries, "Retries per WMS request (default 5)")
      ->check(CLI::Range(0, 100));
  cmd->add_option("--backoff", c->backoff, "First retry delay in seconds, doubled each time (default 1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", c->json, "Print the summary as JSON");
  cmd->add_flag("--quiet", c->quiet, "No progress line");
  cmd->callback([c] { run(*c); });
}

}  // namespace lidarhd::cli
