// The run manifest (<output>/manifest.json): which tiles are finished, with which configuration
// and outputs. Rewritten atomically after every tile, so a run killed at any moment leaves either
// the previous manifest or the new one, and a re-run skips exactly the finished tiles.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "lidarhd/pipeline/process.hpp"

namespace lidarhd::pipeline::detail {

class Manifest {
 public:
  // Loads <output>/manifest.json if present. Entries made under another configuration hash are
  // dropped (their count is in stale()). Throws FormatError for an unreadable manifest.
  Manifest(const std::string& output, const std::string& config_hash);
  // Finished with the same configuration, and every output it listed still exists.
  bool finished(const std::string& tile) const;
  void record(const TileReport& report);  // and save
  size_t stale() const { return stale_; }

 private:
  void save() const;
  std::string path_, output_, hash_;
  nlohmann::json tiles_ = nlohmann::json::object();
  size_t stale_ = 0;
};

// SHA-256 of the configuration's YAML without the keys that do not change outputs (device,
// threads): CPU and GPU runs give the same bytes.
std::string config_hash(const Config& config);

// Removes temporary files (".<name>.tmp-<pid>-<hex>") left in `folder` by writers of a killed
// process (pid no longer running). Returns how many.
size_t remove_stale_temporaries(const std::string& folder);

// Writes `text` to `path` atomically (temporary file + rename).
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace lidarhd::pipeline::detail
