// The per-point feature catalogue of docs/features.md: names, named sets and options, shared by
// the library, the CLI and the patch writers so that a name always means the same column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lidarhd::features {

// Every feature, in the order of the `full` set. The values index per-point kernels' tables:
// append new features at the end (before kCount) and never reorder.
enum class Feature : uint8_t {
  kNormalX,
  kNormalY,
  kNormalZ,
  kEigenvalue1,
  kEigenvalue2,
  kEigenvalue3,
  kSumEigenvalues,
  kLinearity,
  kPlanarity,
  kSphericity,
  kAnisotropy,
  kOmnivariance,
  kEigenentropy,
  kChangeOfCurvature,
  kVerticality,
  kHorizontality,
  kRoughness,
  kDensity,
  kVerticalRange,
  kVerticalStd,
  kNumPoints2m,
  kHeightAboveGround,
  kWallScore,
  kRoofScore,
  kRed,
  kGreen,
  kBlue,
  kNir,
  kNdvi,
  kCount
};

constexpr int kFeatureCount = static_cast<int>(Feature::kCount);

// How linearity, planarity, sphericity and anisotropy are normalised (nothing else changes).
enum class EigenNorm : uint8_t {
  kLambda1,  // ratios over lambda1 (default)
  kSum,      // ratios over lambda1 + lambda2 + lambda3
  kSqrt,     // ratios of sigma_i = sqrt(lambda_i) over sigma1 (PDAL covariancefeatures default)
};

// Canonical output name ("planarity", "height_above_ground", ...).
const char* feature_name(Feature f);
// Unit or range as documented ("m", "m2", "[0,1]", ...).
const char* feature_unit(Feature f);
// True for the features computed from orthophoto colours (red, green, blue, nir, ndvi).
bool is_colour_feature(Feature f);
// True for the features set to 0 (normal to (0,0,1)) on a degenerate neighbourhood.
bool is_shape_feature(Feature f);

// One name, or the alias `curvature`; throws ArgumentError listing every valid name otherwise.
Feature parse_feature(const std::string& name);

// Names of the named sets: minimal, lod2, lod3, full.
const std::vector<std::string>& feature_set_names();
// A named set in column order; `colour` adds the orthophoto features the set includes when
// colourisation is on. Throws ArgumentError on an unknown set name.
std::vector<Feature> feature_set(const std::string& name, bool colour = false);

// What --set / a config takes: a set name, or a comma-separated list of feature and set names
// ("lod2,num_points_2m"); a name listed twice is kept once, at its first place. Empty items,
// an empty list and unknown names throw ArgumentError naming the valid choices.
std::vector<Feature> parse_feature_list(const std::string& spec, bool colour = false);

EigenNorm parse_eigen_norm(const std::string& text);  // lambda1 | sum | sqrt
const char* eigen_norm_name(EigenNorm norm);

}  // namespace lidarhd::features
