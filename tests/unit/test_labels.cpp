// Label mappings (data/labels.json, docs/labels.md): the lod2 split rule of building points on
// synthetic planarity/normal_z, noise and virtual points to the ignore label, bridges to "other"
// (never "vehicle" as the original tool did), lod3's declared-but-unproduced classes, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lidarhd/core/error.hpp"
#include "lidarhd/patches/labels.hpp"
#include <nlohmann/json.hpp>

namespace {

using namespace lidarhd::patches;

uint8_t one(const LabelMap& m, uint8_t code, float planarity = 0, float normal_z = 0) {
  uint8_t label = 0;
  apply_labels(m, &code, &planarity, &normal_z, 1, &label);
  return label;
}

size_t index_of(const LabelMap& m, const std::string& name) {
  for (size_t i = 0; i < m.class_names.size(); ++i)
    if (m.class_names[i] == name) return i;
  ADD_FAILURE() << name << " is not a class of " << m.name;
  return 999;
}

TEST(Labels, NamesAndSizes) {
  EXPECT_EQ(label_map_names(), (std::vector<std::string>{"asprs", "lod2", "lod3"}));
  EXPECT_EQ(label_map("lod2").class_names.size(), 15u);
  EXPECT_EQ(label_map("lod3").class_names.size(), 30u);
  EXPECT_EQ(label_map("asprs").class_names.size(), 256u);
  for (const std::string& name : label_map_names()) EXPECT_EQ(label_map(name).ignore, 255);
  const std::vector<std::string> lod2 = {
      "wall",           "roof_flat",       "roof_gable", "roof_hip",   "chimney",
      "dormer",         "balcony",         "overhang",   "foundation", "ground",
      "vegetation_low", "vegetation_high", "water",      "vehicle",    "other"};
  EXPECT_EQ(label_map("lod2").class_names, lod2);
}

TEST(Labels, UnknownNameListsValidOnes) {
  try {
    label_map("lod4");
    FAIL() << "no exception";
  } catch (const lidarhd::ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("labels: unknown label mapping 'lod4'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("asprs, lod2, lod3"), std::string::npos) << msg;
  }
}

TEST(Labels, AsprsIsIdentity) {
  const LabelMap m = label_map("asprs");
  EXPECT_TRUE(required_features(m).empty());
  std::vector<uint8_t> codes(256), labels(256);
  for (int i = 0; i < 256; ++i) codes[size_t(i)] = uint8_t(i);
  apply_labels(m, codes.data(), nullptr, nullptr, codes.size(), labels.data());
  EXPECT_EQ(labels, codes);
  EXPECT_EQ(m.class_names[6], "building");
  EXPECT_EQ(m.class_names[66], "virtual_point");
  EXPECT_EQ(m.class_names[200], "class_200");
}

TEST(Labels, Lod2FromAsprs) {
  const LabelMap m = label_map("lod2");
  EXPECT_EQ(one(m, 2), 9);   // ground
  EXPECT_EQ(one(m, 3), 10);  // low vegetation
  EXPECT_EQ(one(m, 4), 10);  // medium vegetation -> vegetation_low
  EXPECT_EQ(one(m, 5), 11);  // high vegetation
  EXPECT_EQ(one(m, 9), 12);  // water
  // Noise and IGN virtual points: ignored, never a vegetation class.
  EXPECT_EQ(one(m, 7), 255);
  EXPECT_EQ(one(m, 18), 255);
  EXPECT_EQ(one(m, 66), 255);
  // Bridges are "other", not "vehicle" (the original tool's mistake).
  EXPECT_EQ(one(m, 17), 14);
  EXPECT_NE(one(m, 17), index_of(m, "vehicle"));
  for (int code : {0, 1, 10, 11, 12, 13, 14, 15, 16, 17, 64, 65, 67, 8, 19, 22, 100, 254, 255})
    EXPECT_EQ(one(m, uint8_t(code)), 14) << "code " << code;
}

TEST(Labels, Lod2BuildingSplitRule) {
  const LabelMap m = label_map("lod2");
  EXPECT_EQ(required_features(m), (std::vector<std::string>{"planarity", "normal_z"}));
  struct Case {
    float planarity, normal_z;
    uint8_t label;
  };
  const Case cases[] = {
      {0.95f, 0.99f, 1},  // flat roof
      {0.86f, 0.91f, 1},
      {0.84f, 0.99f, 0},  // horizontal but not planar enough for roof_flat, nz > 0.9 -> wall
      {0.95f, 0.70f, 2},  // pitched
      {0.61f, 0.31f, 2},
      {0.61f, 0.90f, 2},  // nz <= 0.9 (0.9f is just below 0.9)
      {0.59f, 0.70f, 0},  // not planar -> wall
      {0.95f, 0.29f, 0},  // nz <= 0.3 -> wall
      {0.95f, 0.05f, 0},  // vertical plane
      {0.10f, 0.10f, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(one(m, 6, c.planarity, c.normal_z), c.label)
        << "planarity " << c.planarity << " normal_z " << c.normal_z;
  }
  // Thresholds compare the float value in double: 0.3f is 0.30000001 > 0.3, a pitched plane.
  EXPECT_EQ(one(m, 6, 0.95f, 0.30f), 2);
  EXPECT_EQ(one(m, 6, 0.95f, std::nextafter(0.3f, 0.0f)), 0);
  // Only building points use geometry: a planar horizontal ground point stays ground.
  EXPECT_EQ(one(m, 2, 0.99f, 0.99f), 9);
  // A broken feature cannot place a building point: ignored rather than a guess.
  EXPECT_EQ(one(m, 6, std::numeric_limits<float>::quiet_NaN(), 0.99f), 255);
  EXPECT_EQ(one(m, 6, 0.9f, std::numeric_limits<float>::infinity()), 255);
  // ... but does not matter for other codes.
  EXPECT_EQ(one(m, 5, std::numeric_limits<float>::quiet_NaN(), 0.5f), 11);
}

TEST(Labels, Lod2Columns) {
  const LabelMap m = label_map("lod2");
  const std::vector<uint8_t> cls = {2, 6, 6, 6, 7, 17, 66, 5};
  const std::vector<float> pl = {0, 0.9f, 0.7f, 0.2f, 0, 0, 0, 0};
  const std::vector<float> nz = {1, 0.95f, 0.6f, 0.1f, 0, 0, 0, 0};
  std::vector<uint8_t> labels(cls.size(), 77);
  apply_labels(m, cls.data(), pl.data(), nz.data(), cls.size(), labels.data());
  EXPECT_EQ(labels, (std::vector<uint8_t>{9, 1, 2, 0, 255, 14, 255, 11}));
  apply_labels(m, nullptr, nullptr, nullptr, 0, nullptr);  // n = 0: nothing to label
}

TEST(Labels, MissingFeaturesAreNamed) {
  const LabelMap m = label_map("lod2");
  const uint8_t code = 2;
  const float f = 0.5f;
  uint8_t label = 0;
  try {
    apply_labels(m, &code, &f, nullptr, 1, &label);
    FAIL() << "no exception";
  } catch (const lidarhd::ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'lod2' needs the features planarity, normal_z"), std::string::npos) << msg;
    EXPECT_NE(msg.find("normal_z not given"), std::string::npos) << msg;
  }
  EXPECT_THROW(apply_labels(m, &code, nullptr, nullptr, 1, &label), lidarhd::ArgumentError);
}

TEST(Labels, Lod3) {
  const LabelMap m = label_map("lod3");
  EXPECT_EQ(required_features(m), (std::vector<std::string>{"planarity", "normal_z"}));
  EXPECT_EQ(m.class_names[size_t(one(m, 6, 0.95f, 0.99f))], "roof_flat");
  EXPECT_EQ(m.class_names[size_t(one(m, 6, 0.80f, 0.70f))], "roof_gable");
  EXPECT_EQ(m.class_names[size_t(one(m, 6, 0.80f, 0.05f))], "wall");
  // Non-planar building points: an unresolved building part, not a guess at chimney/dormer.
  EXPECT_EQ(m.class_names[size_t(one(m, 6, 0.30f, 0.50f))], "building_other");
  EXPECT_EQ(m.class_names[size_t(one(m, 6, 0.70f, 0.95f))], "building_other");
  EXPECT_EQ(m.class_names[size_t(one(m, 2))], "ground");
  EXPECT_EQ(m.class_names[size_t(one(m, 11))], "road");
  EXPECT_EQ(m.class_names[size_t(one(m, 4))], "vegetation_medium");
  EXPECT_EQ(m.class_names[size_t(one(m, 17))], "bridge");
  EXPECT_EQ(m.class_names[size_t(one(m, 14))], "power_line");
  EXPECT_EQ(m.class_names[size_t(one(m, 15))], "tower");
  EXPECT_EQ(m.class_names[size_t(one(m, 64))], "other_structure");
  EXPECT_EQ(m.class_names[size_t(one(m, 1))], "other");
  EXPECT_EQ(m.class_names[size_t(one(m, 123))], "other");
  for (int code : {7, 18, 66}) EXPECT_EQ(one(m, uint8_t(code)), 255) << code;
  // The parts per-point geometry cannot tell apart are declared but never produced.
  std::vector<std::string> never;
  for (uint8_t l : unproduced_labels(m)) never.push_back(m.class_names[l]);
  EXPECT_EQ(never,
            (std::vector<std::string>{"roof_hip", "roof_mansard", "chimney", "dormer", "skylight",
                                      "roof_edge", "window", "door", "balcony", "overhang",
                                      "pillar", "foundation", "balustrade", "vehicle"}));
}

TEST(Labels, Lod2UnproducedClasses) {
  const LabelMap m = label_map("lod2");
  EXPECT_EQ(unproduced_labels(m), (std::vector<uint8_t>{3, 4, 5, 6, 7, 8, 13}));
  EXPECT_TRUE(unproduced_labels(label_map("asprs")).empty());
}

TEST(Labels, JsonRoundTrip) {
  for (const std::string& name : label_map_names()) {
    const LabelMap m = label_map(name);
    const std::string text = label_map_json(m);
    const auto v = nlohmann::json::parse(text);
    ASSERT_TRUE(v.contains("class_names"));
    EXPECT_EQ(v["class_names"].size(), m.class_names.size());
    EXPECT_EQ(v["name"], name);
    EXPECT_EQ(v["ignore_label"], 255);
    EXPECT_EQ(label_map_json(m), text);  // deterministic
  }
  const std::string lod2 = label_map_json(label_map("lod2"));
  EXPECT_NE(lod2.find("{\"asprs\": 6, \"label\": 2, \"when\": {\"planarity\": {\"gt\": 0.6}, "
                      "\"normal_z\": {\"gt\": 0.3, \"le\": 0.9}}}"),
            std::string::npos)
      << lod2;
  EXPECT_NE(lod2.find("\"7\": 255"), std::string::npos) << lod2;
  EXPECT_NE(lod2.find("\"not_produced\": [3, 4, 5, 6, 7, 8, 13]"), std::string::npos) << lod2;
}

}  // namespace
