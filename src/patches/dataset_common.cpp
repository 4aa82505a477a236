// The dataset pieces with no external dependency (built with or without LIDARHD_DATASETS):
// record validation and the train/val/test split by tile.
#include <cmath>
#include <cstring>

#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/dataset.hpp"

namespace lidarhd::patches {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

void validate_patch(const PatchRecord& r) {
  const size_t n = r.labels.size();
  const size_t c = r.feature_names.size();
  const std::string who =
      "patch " + std::to_string(r.patch_index) +
      (r.augmentation ? " (augmentation " + std::to_string(r.augmentation) + ")" : std::string()) +
      " of tile '" + r.tile + "'";
  const auto check = [&](const char* name, size_t have, size_t want, const char* shape) {
    if (have != want)
      throw ArgumentError("dataset", who + ": " + name + " has " + std::to_string(have) +
                                         " values, expected " + shape + " = " +
                                         std::to_string(want) + " (N = " + std::to_string(n) +
                                         " labels, C = " + std::to_string(c) + " features)");
  };
  check("points", r.points.size(), 3 * n, "N x 3");
  check("features", r.features.size(), n * c, "N x C");
  check("classification", r.classification.size(), n, "N");
  if (!r.rgb.empty()) check("rgb", r.rgb.size(), 3 * n, "N x 3");
  if (!r.nir.empty()) check("nir", r.nir.size(), n, "N");
  if (!r.ndvi.empty()) check("ndvi", r.ndvi.size(), n, "N");
  if (!r.world_xyz.empty()) check("world_xyz", r.world_xyz.size(), 3 * n, "N x 3");
  for (size_t i = 0; i < c; ++i) {
    if (r.feature_names[i].empty())
      throw ArgumentError("dataset", who + ": feature " + std::to_string(i) + " has no name");
    for (size_t j = 0; j < i; ++j)
      if (r.feature_names[i] == r.feature_names[j])
        throw ArgumentError("dataset",
                            who + ": feature '" + r.feature_names[i] + "' is listed twice");
  }
  if (!(r.scale > 0) || !std::isfinite(r.scale))
    throw ArgumentError("dataset", who + ": scale must be a positive number");
  if (r.patch_index < 0 || r.augmentation < 0)
    throw ArgumentError("dataset", who + ": patch_index and augmentation must be >= 0");
}

std::string split_for_tile(const std::string& tile, uint64_t seed, double train, double val) {
  if (!(train >= 0 && val >= 0 && train + val <= 1 + 1e-12))
    throw ArgumentError("dataset", "split fractions train = " + std::to_string(train) +
                                       ", val = " + std::to_string(val) +
                                       " must be >= 0 with train + val <= 1 (test = the rest)");
  // The file name only: the same tile read from another folder lands in the same split.
  const size_t slash = tile.find_last_of('/');
  const std::string name = slash == std::string::npos ? tile : tile.substr(slash + 1);
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, then mixed with the seed
  for (const char ch : name) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001B3ull;
  }
  const uint64_t x = splitmix64(h ^ splitmix64(seed));
  const double u = double(x >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
  if (u < train) return "train";
  if (u < train + val) return "val";
  return "test";
}

}  // namespace lidarhd::patches
