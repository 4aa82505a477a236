// Names, units and named sets of the feature catalogue (docs/features.md).
#include "lidarhd/features/catalog.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "lidarhd/core/error.hpp"

namespace lidarhd::features {
namespace {

struct Entry {
  const char* name;
  const char* unit;
};

// Indexed by Feature; the static_assert below keeps it in step with the enum.
constexpr std::array<Entry, kFeatureCount> kEntries{{
    {"normal_x", "unit vector"},
    {"normal_y", "unit vector"},
    {"normal_z", "unit vector"},
    {"eigenvalue_1", "m2"},
    {"eigenvalue_2", "m2"},
    {"eigenvalue_3", "m2"},
    {"sum_eigenvalues", "m2"},
    {"linearity", "[0,1]"},
    {"planarity", "[0,1]"},
    {"sphericity", "[0,1]"},
    {"anisotropy", "[0,1]"},
    {"omnivariance", "m2"},
    {"eigenentropy", "[0,ln 3]"},
    {"change_of_curvature", "[0,1/3]"},
    {"verticality", "[0,1]"},
    {"horizontality", "[0,1]"},
    {"roughness", "m"},
    {"density", "points/m3"},
    {"vertical_range", "m"},
    {"vertical_std", "m"},
    {"num_points_2m", "count"},
    {"height_above_ground", "m"},
    {"wall_score", "[0,1]"},
    {"roof_score", "[0,1]"},
    {"red", "[0,1]"},
    {"green", "[0,1]"},
    {"blue", "[0,1]"},
    {"nir", "[0,1]"},
    {"ndvi", "[-1,1]"},
}};

std::string valid_names() {
  std::string out;
  for (const Entry& e : kEntries) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  out += " (alias: curvature = change_of_curvature); sets: ";
  bool first = true;
  for (const std::string& s : feature_set_names()) {
    out += (first ? "" : ", ") + s;
    first = false;
  }
  return out;
}

bool find_feature(const std::string& name, Feature& out) {
  if (name == "curvature") {
    out = Feature::kChangeOfCurvature;
    return true;
  }
  for (int i = 0; i < kFeatureCount; ++i) {
    if (name == kEntries[static_cast<size_t>(i)].name) {
      out = static_cast<Feature>(i);
      return true;
    }
  }
  return false;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

const char* feature_name(Feature f) {
  const auto i = static_cast<size_t>(f);
  return i < kEntries.size() ? kEntries[i].name : "?";
}

const char* feature_unit(Feature f) {
  const auto i = static_cast<size_t>(f);
  return i < kEntries.size() ? kEntries[i].unit : "?";
}

bool is_colour_feature(Feature f) { return f >= Feature::kRed && f <= Feature::kNdvi; }

bool is_shape_feature(Feature f) {
  switch (f) {
    case Feature::kDensity:
    case Feature::kVerticalRange:
    case Feature::kVerticalStd:
    case Feature::kNumPoints2m:
    case Feature::kHeightAboveGround:
      return false;
    default:
      return !is_colour_feature(f) && f < Feature::kCount;
  }
}

Feature parse_feature(const std::string& name) {
  Feature f{};
  if (!find_feature(name, f)) {
    throw ArgumentError("features", "unknown feature '" + name + "'; valid names: " +
                                        valid_names());
  }
  return f;
}

const std::vector<std::string>& feature_set_names() {
  static const std::vector<std::string> names{"minimal", "lod2", "lod3", "full"};
  return names;
}

std::vector<Feature> feature_set(const std::string& name, bool colour) {
  using F = Feature;
  if (name == "minimal") {
    return {F::kNormalZ, F::kPlanarity, F::kHeightAboveGround, F::kDensity};
  }
  if (name == "lod2" || name == "lod3") {
    std::vector<F> s{F::kNormalX,       F::kNormalY,       F::kNormalZ,
                     F::kPlanarity,     F::kLinearity,     F::kAnisotropy,
                     F::kVerticality,   F::kHorizontality, F::kHeightAboveGround,
                     F::kWallScore,     F::kRoofScore,     F::kDensity};
    if (colour) s.insert(s.end(), {F::kRed, F::kGreen, F::kBlue, F::kNdvi});
    if (name == "lod3") {
      s.insert(s.end(), {F::kSphericity, F::kOmnivariance, F::kEigenentropy, F::kEigenvalue1,
                         F::kEigenvalue2, F::kEigenvalue3, F::kSumEigenvalues,
                         F::kChangeOfCurvature, F::kRoughness, F::kVerticalRange,
                         F::kVerticalStd, F::kNumPoints2m});
      if (colour) s.push_back(F::kNir);
    }
    return s;
  }
  if (name == "full") {
    std::vector<F> s;
    for (int i = 0; i < kFeatureCount; ++i) {
      const auto f = static_cast<F>(i);
      if (colour || !is_colour_feature(f)) s.push_back(f);
    }
    return s;
  }
  throw ArgumentError("features", "unknown feature set '" + name + "'; valid names: " +
                                      valid_names());
}

std::vector<Feature> parse_feature_list(const std::string& spec, bool colour) {
  std::vector<Feature> out;
  auto add = [&out](Feature f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  size_t start = 0;
  while (true) {
    const size_t comma = spec.find(',', start);
    const std::string item =
        trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) {
      throw ArgumentError("features", "empty name in feature list '" + spec + "'; valid names: " +
                                          valid_names());
    }
    const auto& sets = feature_set_names();
    if (std::find(sets.begin(), sets.end(), item) != sets.end()) {
      for (Feature f : feature_set(item, colour)) add(f);
    } else {
      add(parse_feature(item));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

EigenNorm parse_eigen_norm(const std::string& text) {
  if (text == "lambda1") return EigenNorm::kLambda1;
  if (text == "sum") return EigenNorm::kSum;
  if (text == "sqrt") return EigenNorm::kSqrt;
  throw ArgumentError("features", "unknown eigen_norm '" + text +
                                      "' (expected lambda1, sum or sqrt)");
}

const char* eigen_norm_name(EigenNorm norm) {
  switch (norm) {
    case EigenNorm::kSum:
      return "sum";
    case EigenNorm::kSqrt:
      return "sqrt";
    default:
      return "lambda1";
  }
}

}  // namespace lidarhd::features
