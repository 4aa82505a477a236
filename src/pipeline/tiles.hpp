// Internals of run_process: the tile list, the shared per-run state, and one tile's processing.
#pragma once

#include <array>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lidarhd/core/device.hpp"
#include "lidarhd/features/features.hpp"
#include "lidarhd/io/las.hpp"
#include "lidarhd/patches/labels.hpp"
#include "lidarhd/pipeline/process.hpp"
#include "lidarhd/raster/colorize.hpp"

namespace lidarhd::pipeline::detail {

struct TileInput {
  std::string path, name;  // name: the file name without .las/.laz/.copc.laz
  std::array<double, 3> min{}, max{};  // header bounds
  std::string error;                   // why its header could not be read ("" = fine)
};

// Files and folders (their *.las, *.laz, *.copc.laz, not recursive) -> tiles sorted by name.
// Throws ArgumentError for a missing path, a folder without tiles, or two inputs with one name;
// a file whose header cannot be read is listed with its error.
std::vector<TileInput> list_tiles(const std::vector<std::string>& paths);

// What every tile of a run shares: options resolved once, colour caches, the label mapping.
struct RunContext {
  Config config;
  std::string output;
  Device device;
  features::FeatureOptions features;          // output features + what labels need
  std::vector<features::Feature> output_features;
  patches::LabelMap labels;
  bool colours = false;
  std::vector<TileInput> halo_sources;        // inputs and --neighbors tiles
  std::map<std::string, std::unique_ptr<raster::Colorizer>> colorizers;  // by point CRS
};

// Points of a tile, world coordinates in double (Lambert-93 needs more than float32).
struct Cloud {
  std::vector<double> x, y, z;
  std::vector<uint8_t> cls;
  size_t size() const { return x.size(); }
  void add(double px, double py, double pz, uint8_t c) {
    x.push_back(px), y.push_back(py), z.push_back(pz), cls.push_back(c);
  }
};

// A tile read from disk with its halo: the decode stage, which the runner overlaps with the
// previous tile's computation.
struct LoadedTile {
  TileInput tile;
  io::LasFileInfo info;
  std::vector<uint8_t> records;
  Cloud cloud, halo;
  double seconds = 0;
  std::exception_ptr error;  // reading failed: finish_tile rethrows it
};
// Never throws (errors go into `error`); only reads `ctx`, so it may run on another thread.
LoadedTile load_tile(const TileInput& tile, const RunContext& ctx);
// Colours, features, labels and outputs of a loaded tile; throws on failure. chunks_per_side > 1
// computes the features in that many x that many spatial chunks (less device memory at once: a
// device out of memory retries so).
TileReport finish_tile(const LoadedTile& tile, RunContext& ctx, int chunks_per_side = 1);

// Features of the first n points of `all` (the tile; the others are its halo), whole or in
// per_side x per_side chunks each with `halo` metres of context. Rows < n are the tile's.
features::FeatureTable tile_features(const features::PointColumns& all, size_t n,
                                     const features::FeatureOptions& options, int per_side,
                                     double halo);

// The output folder's layout.
std::string enriched_path(const std::string& tile);               // enriched/<tile>.laz
std::string patch_folder(const std::string& split, const std::string& tile);  // patches/<split>/<tile>

}  // namespace lidarhd::pipeline::detail
