// Dataset files for training: one patch as NPZ (numpy), a tile's patches as one HDF5 file, a
// patch as LAZ with extra dimensions, the dataset's metadata.json and the train/val/test split
// by tile. Every file is written atomically (a hidden temporary file in the same folder, renamed
// when complete). Needs LIDARHD_DATASETS=ON (HDF5, libzip, nlohmann_json); without it these
// functions throw ArgumentError. Formats and keys: docs/datasets.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lidarhd/patches/labels.hpp"

namespace lidarhd::patches {

// One training patch: what every writer stores.
struct PatchRecord {
  std::vector<float> points;               // N x 3 float32 (normalised)
  std::vector<float> features;             // N x C float32, row-major
  std::vector<std::string> feature_names;  // C
  std::vector<uint8_t> labels;             // N
  std::vector<uint8_t> classification;     // N (ASPRS codes)
  std::vector<float> rgb;                  // N x 3 in [0,1], empty when no colours
  std::vector<float> nir;                  // N, empty when absent
  std::vector<float> ndvi;                 // N, empty when absent
  std::array<double, 3> center{};          // points = (world - center) / scale (Patch::center)
  double scale = 1;                        // unit_sphere's radius, else 1 (Patch::scale)
  std::array<double, 4> bounds{};          // xmin ymin xmax ymax
  std::string tile;
  int64_t patch_index = 0;
  int augmentation = 0;           // 0 = original, k = k-th augmented copy
  std::vector<double> world_xyz;  // N x 3 world coordinates (LAZ patches only)

  size_t size() const { return labels.size(); }
};

// Checks every column's length against N = labels.size() and C = feature_names.size(); throws
// ArgumentError("dataset: patch 12 of tile T: features has ... values, expected N x C = ...").
void validate_patch(const PatchRecord& record);

// NPZ (a zip of .npy, deflate-compressed, loadable by numpy.load): keys points, features,
// feature_names ('<U..'), labels, classification, rgb / nir / ndvi when present, center, scale
// (0-d float64), bounds, tile (0-d '<U..'), patch_index (0-d int64), augmentation (0-d int32).
// The same record gives the same bytes (fixed zip timestamps).
void write_npz(const std::string& path, const PatchRecord& record);

// One HDF5 file per tile, a group per patch ("patch_000123", "patch_000123_aug1") holding the
// NPZ's arrays as gzip-compressed chunked datasets (feature_names: variable-length UTF-8
// strings) and tile / patch_index / augmentation / scale as attributes. The file appears under its
// name at close(); destroying the writer without close() removes the temporary file.
class Hdf5TileWriter {
 public:
  explicit Hdf5TileWriter(const std::string& path);
  ~Hdf5TileWriter();
  Hdf5TileWriter(const Hdf5TileWriter&) = delete;
  Hdf5TileWriter& operator=(const Hdf5TileWriter&) = delete;

  void add(const PatchRecord& record);  // throws ArgumentError on a duplicate group name
  void close();
  size_t patches() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// LAS 1.4 LAZ, point format 6 (7 with RGB, 8 with NIR) at world coordinates (world_xyz,
// required), classification, RGB/NIR fields (round(value x 255) x 256: IGN's 8-bit x 256
// convention) and every feature plus "label" as extra dimensions (float32 / uint8). Colour
// features named red/green/blue/nir go to the standard fields, not to extra dimensions.
// `crs_wkt`, when given, is written as the WKT CRS record.
void write_patch_laz(const std::string& path, const PatchRecord& record,
                     const std::array<double, 3>& scale = {0.01, 0.01, 0.01},
                     const std::string& crs_wkt = "");

// "train", "val" or "test" from a hash of the tile's file name (folder removed) and the seed:
// the same tile always lands in the same split. Throws ArgumentError unless 0 <= train, val and
// train + val <= 1.
std::string split_for_tile(const std::string& tile, uint64_t seed, double train = 0.8,
                           double val = 0.1);

// What metadata.json records about a dataset.
struct DatasetMetadata {
  std::vector<std::string> feature_names;  // the column order of `features`
  std::vector<std::string> feature_units;  // empty: from the feature catalogue
  LabelMap label_map;
  std::string normalize = "center";                // none | center | unit_sphere
  std::string eigen_norm = "lambda1";              // lambda1 | sum | sqrt
  uint32_t num_points = 0;                         // points per patch (0 = not recorded)
  std::map<std::string, std::string> conventions;  // more entries for "conventions"
  std::string config_json;                    // the full configuration as JSON (an object), or ""
  std::string config_yaml;                    // ... or as YAML text, stored as a string
  std::map<std::string, std::string> splits;  // tile -> train | val | test (optional)
  std::string created;                        // ISO 8601 UTC; "" = now
};

// Writes metadata.json (atomic, 2-space indented, keys sorted). Throws ArgumentError when
// config_json is not valid JSON.
void write_metadata_json(const std::string& path, const DatasetMetadata& metadata);
// The same document as text.
std::string metadata_json(const DatasetMetadata& metadata);

// The library version ("0.1.0"), as recorded in metadata.
const char* library_version();

}  // namespace lidarhd::patches
