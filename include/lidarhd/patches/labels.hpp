// Training labels from ASPRS / IGN classification codes: the named mappings of docs/labels.md
// (asprs, lod2, lod3), read from data/labels.json, which is embedded into the library at build
// time so that the binary works from any folder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace lidarhd::patches {

// The per-point features a geometry rule may test (apply_labels takes one pointer for each).
enum class LabelFeature : uint8_t { kPlanarity, kNormalZ };
const char* label_feature_name(LabelFeature f);  // "planarity", "normal_z"

// lower < value (or <=) and value < upper (or <=); the float feature is compared in double.
struct LabelCondition {
  LabelFeature feature = LabelFeature::kPlanarity;
  double lower = -std::numeric_limits<double>::infinity();
  bool lower_inclusive = false;
  double upper = std::numeric_limits<double>::infinity();
  bool upper_inclusive = false;
};

// Points of ASPRS code `code` meeting every condition get `label`. Rules are tried in order;
// a point of that code matching none keeps from_asprs[code].
struct GeometryRule {
  uint8_t code = 0;
  uint8_t label = 0;
  std::vector<LabelCondition> conditions;
};

struct LabelMap {
  std::string name;
  std::string description;
  std::vector<std::string> class_names;   // class_names[label]; label values 0..size()-1
  uint8_t ignore = 255;                   // never a class: noise, virtual points, unknown features
  bool identity = false;                  // asprs: label = code
  uint8_t default_label = 0;              // for codes the data file does not list
  std::array<uint8_t, 256> from_asprs{};  // code -> label (default_label filled in)
  std::vector<GeometryRule> geometry;
};

// A mapping by name ("asprs", "lod2", "lod3"); throws ArgumentError listing the valid names.
LabelMap label_map(const std::string& name);
std::vector<std::string> label_map_names();

// The features apply_labels needs for this mapping, in a fixed order ("planarity", "normal_z");
// empty for mappings without geometry rules.
std::vector<std::string> required_features(const LabelMap& map);

// Labels that no ASPRS code and no geometry rule of the mapping can produce (classes declared
// for finer annotations, e.g. lod2's chimney or vehicle), in increasing order.
std::vector<uint8_t> unproduced_labels(const LabelMap& map);

// labels[i] from classification[i] (and, for codes with geometry rules, planarity[i] and
// normal_z[i]; a NaN or infinite feature gives map.ignore). planarity / normal_z may be null when
// the mapping does not need them (or n = 0); null when it does throws ArgumentError naming the
// features.
void apply_labels(const LabelMap& map, const uint8_t* classification, const float* planarity,
                  const float* normal_z, size_t n, uint8_t* labels);

// The mapping as a JSON object (name, description, class_names, ignore_label, from_asprs,
// geometry, not_produced) for dataset metadata. Deterministic: same map, same text.
std::string label_map_json(const LabelMap& map);

}  // namespace lidarhd::patches
