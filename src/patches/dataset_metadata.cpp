// metadata.json: what a training script needs to read the patch files without guessing (feature
// order and units, coordinate conventions, the label map) and what made them (configuration,
// version, date).
#include <ctime>

#include <nlohmann/json.hpp>

#include "io/atomic_file.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/features/catalog.hpp"
#include "lidarhd/patches/dataset.hpp"

namespace lidarhd::patches {
namespace {

using nlohmann::json;

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  char buf[32] = "";
  if (gmtime_r(&t, &tm)) std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string unit_of(const std::string& name) {
  try {
    return features::feature_unit(features::parse_feature(name));
  } catch (const ArgumentError&) {
    return "";  // not a catalogue feature (a caller's own column)
  }
}

std::string points_convention(const std::string& normalize) {
  if (normalize == "center")
    return "metres: world coordinates minus `center` (x, y: the patch square's centre; z: the "
           "mean z of the sampled points); augmented copies then rotated, scaled, jittered";
  if (normalize == "unit_sphere")
    return "(world coordinates - `center`) / `scale`, `scale` = the largest distance to the "
           "centre (points inside the unit sphere); augmented copies then transformed";
  if (normalize == "none")
    return "metres: world coordinates minus `center` = (the square's lower-left corner, z = 0): "
           "x, y in [0, size), z as is";
  return "normalisation '" + normalize + "': (world - center) / scale";
}

}  // namespace

std::string metadata_json(const DatasetMetadata& m) {
  json doc;
  doc["format"] = "lidarhd-dataset";
  doc["format_version"] = 1;
  doc["lidarhd_version"] = library_version();
  doc["created"] = m.created.empty() ? now_utc() : m.created;

  if (!m.feature_units.empty() && m.feature_units.size() != m.feature_names.size())
    throw ArgumentError("dataset", "metadata: " + std::to_string(m.feature_units.size()) +
                                       " feature units for " +
                                       std::to_string(m.feature_names.size()) + " features");
  json features = json::array();
  for (size_t i = 0; i < m.feature_names.size(); ++i) {
    const std::string unit =
        m.feature_units.empty() ? unit_of(m.feature_names[i]) : m.feature_units[i];
    features.push_back({{"index", i}, {"name", m.feature_names[i]}, {"unit", unit}});
  }
  doc["features"] = features;
  doc["feature_names"] = m.feature_names;
  if (m.num_points) doc["points_per_patch"] = m.num_points;

  json conv;
  conv["normalize"] = m.normalize;
  conv["points"] = points_convention(m.normalize);
  conv["eigen_norm"] = m.eigen_norm;
  conv["features"] = "float32 [N, C], columns in the order of feature_names";
  conv["colours"] = "rgb [N, 3], nir [N]: 8-bit orthophoto value / 255, in [0, 1]";
  conv["ndvi"] = "(nir - red) / (nir + red), 0 where nir + red = 0";
  conv["classification"] = "ASPRS / IGN code as read from the tile";
  conv["labels"] =
      "uint8 label of the `labels` mapping; " + std::to_string(m.label_map.ignore) + " = ignore";
  conv["center"] = "float64 [3]: subtracted from world coordinates (see points)";
  conv["scale"] = "float64: points were divided by it (1 unless unit_sphere)";
  conv["bounds"] = "float64 [4]: xmin, ymin, xmax, ymax of the patch square (metres)";
  for (const auto& [key, value] : m.conventions) conv[key] = value;
  doc["conventions"] = conv;

  if (!m.label_map.name.empty()) doc["labels"] = json::parse(label_map_json(m.label_map));
  if (!m.config_json.empty()) {
    try {
      doc["config"] = json::parse(m.config_json);
    } catch (const json::exception& e) {
      throw ArgumentError(
          "dataset",
          std::string("metadata: the configuration is not valid JSON (") + e.what() + ")");
    }
  }
  if (!m.config_yaml.empty()) doc["config_yaml"] = m.config_yaml;
  if (!m.splits.empty()) doc["splits"] = m.splits;
  return doc.dump(2) + "\n";
}

void write_metadata_json(const std::string& path, const DatasetMetadata& m) {
  const std::string text = metadata_json(m);
  io::detail::AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace lidarhd::patches
