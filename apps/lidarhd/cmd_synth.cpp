// `lidarhd synth OUT`: writes a synthetic LiDAR HD-like tile (LAS 1.4 PDRF 6, Lambert-93) for
// demos, tests and benchmarks, and optionally its orthophotos (RGB and IRC GeoTIFFs, GDAL builds).
// Same options and seed -> same bytes, whatever --threads.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "commands.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/synth/ortho.hpp"
#include "lidarhd/synth/scene.hpp"

namespace lidarhd::cli {
namespace {

struct SynthArgs {
  synth::SceneOptions scene;
  std::string output;
  std::string origin;
  std::string ortho;  // RGB GeoTIFF, empty: none
  std::string irc;    // NIR-R-G GeoTIFF, empty: none
  synth::OrthoOptions ortho_options;
};

void parse_origin(const std::string& text, synth::SceneOptions& o) {
  if (text.empty()) return;
  const size_t comma = text.find(',');
  size_t used_x = 0, used_y = 0;
  try {
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    const std::string xs = text.substr(0, comma), ys = text.substr(comma + 1);
    o.origin_x = std::stod(xs, &used_x);
    o.origin_y = std::stod(ys, &used_y);
    if (used_x != xs.size() || used_y != ys.size()) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw ArgumentError(
        "synth", "--origin '" + text + "': expected X,Y in Lambert-93 metres, e.g. 650000,6860000");
  }
}

const char* class_name(int c) {
  switch (c) {
    case 1:
      return "unclassified (cars)";
    case 2:
      return "ground";
    case 3:
      return "low vegetation";
    case 4:
      return "medium vegetation";
    case 5:
      return "high vegetation";
    case 6:
      return "building";
    case 9:
      return "water";
    case 14:
      return "wire conductor";
    case 15:
      return "transmission tower";
    case 17:
      return "bridge deck";
    default:
      return "other";
  }
}

// Refuses orthophoto options before any work: GDAL missing, bad names or resolution.
void check_ortho_args(const SynthArgs& a) {
  if (a.ortho.empty() && a.irc.empty()) return;
#if !defined(LIDARHD_WITH_GDAL)
  throw ArgumentError("synth", std::string(a.ortho.empty() ? "--irc" : "--ortho") +
                                   ": writing orthophotos needs GDAL, and this lidarhd was built "
                                   "without it (LIDARHD_GDAL=OFF); rebuild with -DLIDARHD_GDAL=ON "
                                   "(libgdal-dev)");
#else
  const auto tiff_name = [](const std::string& p) {
    std::string tail = p.substr(p.size() >= 5 ? p.size() - 5 : 0);
    for (char& c : tail) c = char(std::tolower(static_cast<unsigned char>(c)));
    return tail == ".tiff" || (tail.size() >= 4 && tail.compare(tail.size() - 4, 4, ".tif") == 0);
  };
  if (!a.ortho.empty() && !tiff_name(a.ortho))
    throw ArgumentError("synth", "--ortho " + a.ortho + ": the name must end in .tif or .tiff");
  if (!a.irc.empty() && !tiff_name(a.irc))
    throw ArgumentError("synth", "--irc " + a.irc + ": the name must end in .tif or .tiff");
  if (!a.ortho.empty() && a.ortho == a.irc)
    throw ArgumentError("synth", "--ortho and --irc name the same file " + a.ortho);
  synth::check_ortho_options(a.scene, a.ortho_options);
#endif
}

void write_orthophotos(const synth::Scene& scene, SynthArgs& a) {
#if defined(LIDARHD_WITH_GDAL)
  if (a.ortho.empty() && a.irc.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  a.ortho_options.rgb = !a.ortho.empty();
  a.ortho_options.irc = !a.irc.empty();
  a.ortho_options.threads = a.scene.threads;
  const synth::Orthophoto photo = synth::render_ortho(scene, a.ortho_options);
  const double render_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto write = [&](const synth::OrthoImage& im, synth::OrthoKind kind,
                         const std::string& path, const char* bands) {
    const auto t1 = std::chrono::steady_clock::now();
    const uint64_t bytes = synth::write_ortho_geotiff(im, kind, path, a.scene.threads);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("wrote %s: orthophoto %s, %d x %d px at %.3g m, EPSG:2154, %.1f MB, %.2f s\n",
                path.c_str(), bands, im.width, im.height, im.res, bytes / 1e6, s);
  };
  if (!a.ortho.empty()) write(photo.rgb, synth::OrthoKind::kRgb, a.ortho, "RGB");
  if (!a.irc.empty()) write(photo.irc, synth::OrthoKind::kIrc, a.irc, "IRC (NIR, R, G)");
  std::printf("  orthophotos rendered in %.2f s\n", render_s);
#else
  (void)scene, (void)a;
#endif
}

void run_synth(SynthArgs& a) {
  parse_origin(a.origin, a.scene);
  check_ortho_args(a);
  const synth::Scene scene = synth::build_scene(a.scene);
  const synth::SceneReport r = synth::write_scene(scene, a.output);
  const double area = a.scene.size * a.scene.size;
  std::printf(
      "wrote %s: %llu points (%.2f points/m2, %.2f pulses/m2) on %.0f m x %.0f m at "
      "(%.2f, %.2f), seed %llu; %zu buildings, %zu trees, %zu cars, %zu pylons\n",
      a.output.c_str(), static_cast<unsigned long long>(r.points), r.points / area,
      scene.pulse_density, a.scene.size, a.scene.size, a.scene.origin_x, a.scene.origin_y,
      static_cast<unsigned long long>(a.scene.seed), scene.buildings.size(), scene.trees.size(),
      scene.cars.size(), scene.power_line.pylons.size());
  for (int c = 0; c < 256; ++c)
    if (r.by_class[size_t(c)])
      std::printf("  class %2d %-20s %12llu (%.1f%%)\n", c, class_name(c),
                  static_cast<unsigned long long>(r.by_class[size_t(c)]),
                  100.0 * double(r.by_class[size_t(c)]) / double(std::max<uint64_t>(1, r.points)));
  std::printf("%.2f s (%.2f M points/s), %.1f MB (%.2f bytes/point)\n", r.seconds,
              r.seconds > 0 ? r.points / r.seconds / 1e6 : 0.0, r.file_bytes / 1e6,
              r.points ? double(r.file_bytes) / double(r.points) : 0.0);
  write_orthophotos(scene, a);
}

}  // namespace

void register_synth(CLI::App& app) {
  auto a = std::make_shared<SynthArgs>();
  CLI::App* cmd = app.add_subcommand(
      "synth",
      "Write a synthetic airborne LiDAR tile: ground, river and bridge, town (flat, gabled and "
      "hipped roofs, walls), trees with multiple returns, fields, cars, a power line; ASPRS "
      "classes, GPS time along scan lines, scan angle, intensity, flight-line source ids. LAS 1.4 "
      "point format 6, Lambert-93 (EPSG:2154). Optionally the tile's orthophotos, coloured from "
      "the same objects (RGB and IGN-style IRC GeoTIFFs). The same options give the same bytes");
  cmd->add_option("output", a->output, "Output file: .laz writes LAZ, .las uncompressed LAS")
      ->required();
  cmd->add_option("--size", a->scene.size, "Tile side in metres, 10 to 10000 (default 1000)")
      ->check(CLI::Range(10.0, 10000.0));
  cmd->add_option("--density", a->scene.density,
                  "Points per m2, all returns together (default 20, IGN LiDAR HD-like)")
      ->check(CLI::Range(0.001, 1000.0));
  cmd->add_option("--seed", a->scene.seed, "Random seed (default 1)");
  cmd->add_option("--origin", a->origin,
                  "South-west corner X,Y in Lambert-93 metres (default 650000,6860000: the "
                  "LiDAR HD tile 0650_6861)");
  a->scene.threads = std::max(1u, std::thread::hardware_concurrency());
  cmd->add_option("--threads", a->scene.threads,
                  "Threads generating points and encoding LAZ chunks (default: all cores; the "
                  "output bytes do not depend on it)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--ortho", a->ortho,
                  "Also write the tile's true-colour orthophoto here: GeoTIFF (.tif), 3 bands "
                  "red, green, blue, 8 bits, north-up, EPSG:2154, covering exactly the tile; "
                  "colours follow the scene's objects (roofs, trees, roads, water, fields...). "
                  "Needs a GDAL build");
  cmd->add_option("--irc", a->irc,
                  "Also write the false-colour infrared orthophoto here: GeoTIFF (.tif), bands "
                  "near infrared, red, green (IGN's IRC order); vegetation bright, water dark "
                  "in NIR. Needs a GDAL build");
  cmd->add_option("--ortho-resolution", a->ortho_options.resolution,
                  "Orthophoto pixel side in metres (default 0.2, IGN's BD ORTHO); must divide "
                  "--size")
      ->check(CLI::Range(0.01, 100.0));
  cmd->callback([a] { run_synth(*a); });
}

}  // namespace lidarhd::cli
