// The configuration of `lidarhd process`: built-in defaults, overlaid by a named preset, a YAML
// file and `--set key=value` overrides, in that order. Every key is checked against the
// defaults, so a misspelt key is an error naming the valid ones, never silently ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lidarhd::pipeline {

struct FeatureConfig {
  std::string set = "lod2";  // a set name or a comma-separated list (docs/features.md)
  int k = 20;
  double radius = 0;         // > 0: radius neighbourhood (capped at 64 nearest) instead of k
  std::string eigen_norm = "lambda1";
};

struct ColorConfig {
  std::string rgb;           // "" = no RGB; a raster file, folder, VRT, or "wms"
  std::string irc;           // "" = no NIR
  std::string method = "nearest";
  std::string cache;         // WMS disk cache ("" = <output>/cache/wms when a source is wms)
  bool offline = false;
  std::string raster_crs;    // for rasters with no or a user-defined CRS
  double fill = 0;
};

struct AugmentConfig {
  int copies = 0;
  bool rotate = true;
  double jitter_sigma = 0.01, jitter_clip = 0.05;
  double scale_min = 0.95, scale_max = 1.05;
  double dropout = 0;
};

struct PatchConfig {
  double size = 150, overlap = 0.1;
  uint64_t min_points = 10000;
  uint32_t num_points = 16384;
  std::string sampling = "random";     // random | fps | voxel
  double voxel_size = 0.5;
  std::string normalize = "center";    // none | center | unit_sphere
  std::string format = "npz";          // npz | hdf5 | laz
  AugmentConfig augment;
};

struct SplitConfig {
  double train = 0.8, val = 0.1;  // test = the rest
};

struct Config {
  std::string preset = "lod2";
  std::string mode = "both";     // patches | enriched | both
  FeatureConfig features;
  ColorConfig colors;
  std::string labels = "lod2";   // asprs | lod2 | lod3
  PatchConfig patches;
  SplitConfig split;
  double halo = 20;              // metres of neighbouring tiles loaded around each tile
  uint64_t seed = 1;
  std::string device = "cpu";    // cpu, cpu:N, cuda[:N], a list "cuda:0,cuda:1", or all
  unsigned threads = 0;          // 0 = all cores
};

// Names of the built-in presets: minimal, lod2, lod3, full, asprs.
const std::vector<std::string>& preset_names();
// The preset's YAML overlay (what `lidarhd config show --preset NAME` starts from).
std::string preset_yaml(const std::string& name);

// defaults <- preset (if not "") <- file (if not "") <- each "a.b=value" override. A preset named
// in the file is applied before the file's own keys. Throws ArgumentError naming the file/key.
Config load_config(const std::string& preset, const std::string& file,
                   const std::vector<std::string>& overrides);

// The full configuration as YAML (every key, in a fixed order): printed by `config show`,
// stored in metadata.json and hashed for the manifest.
std::string to_yaml(const Config& config);

}  // namespace lidarhd::pipeline
