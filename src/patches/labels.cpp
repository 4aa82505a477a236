#include "lidarhd/patches/labels.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "lidarhd/core/error.hpp"

namespace lidarhd::patches {
namespace detail {
extern const char* const kLabelsJson;  // data/labels.json, embedded by CMake (embedded.cpp)
}

namespace {

using Json = nlohmann::ordered_json;  // keeps the file's key order
enum class Kind { kNumber, kString, kObject, kArray };

bool is(const Json& v, Kind kind) {
  switch (kind) {
    case Kind::kNumber: return v.is_number();
    case Kind::kString: return v.is_string();
    case Kind::kObject: return v.is_object();
    case Kind::kArray: return v.is_array();
  }
  return false;
}

const char* const kWhat = "data/labels.json (embedded)";

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
  throw FormatError("labels", std::string(kWhat) + ": " + where + ": " + problem);
}

const Json& need(const Json& obj, const std::string& key, Kind kind, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) bad(where, "missing \"" + key + "\"");
  const Json& v = obj.at(key);
  if (!is(v, kind)) bad(where, "\"" + key + "\" has the wrong type");
  return v;
}

int integer(const Json& v, int lo, int hi, const std::string& where) {
  const double d = v.is_number() ? v.get<double>() : -1e300;
  if (d != std::floor(d) || d < lo || d > hi)
    bad(where, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return int(d);
}

int code_key(const std::string& key, const std::string& where) {
  int code = -1;
  const auto r = std::from_chars(key.data(), key.data() + key.size(), code);
  if (r.ec != std::errc() || r.ptr != key.data() + key.size() || code < 0 || code > 255)
    bad(where, "key \"" + key + "\" is not an ASPRS code 0-255");
  return code;
}

LabelFeature parse_feature(const std::string& name, const std::string& where) {
  if (name == "planarity") return LabelFeature::kPlanarity;
  if (name == "normal_z") return LabelFeature::kNormalZ;
  bad(where, "unknown feature \"" + name + "\" (rules may test planarity, normal_z)");
}

GeometryRule parse_rule(const Json& r, const LabelMap& map, const std::string& where) {
  if (!r.is_object()) bad(where, "a rule must be an object");
  GeometryRule rule;
  rule.code = uint8_t(integer(need(r, "asprs", Kind::kNumber, where), 0, 255, where + " asprs"));
  const int label = integer(need(r, "label", Kind::kNumber, where), 0, 255, where + " label");
  if (label != map.ignore && size_t(label) >= map.class_names.size())
    bad(where, "label " + std::to_string(label) + " is not a class");
  rule.label = uint8_t(label);
  for (const auto& [feature, range] : need(r, "when", Kind::kObject, where).items()) {
    LabelCondition c;
    c.feature = parse_feature(feature, where);
    if (!range.is_object() || range.empty())
      bad(where, "condition on " + feature + " must be an object of gt/ge/lt/le bounds");
    for (const auto& [op, value] : range.items()) {
      if (!value.is_number()) bad(where, feature + "." + op + " must be a number");
      if (op == "gt" || op == "ge") {
        c.lower = value.get<double>();
        c.lower_inclusive = op == "ge";
      } else if (op == "lt" || op == "le") {
        c.upper = value.get<double>();
        c.upper_inclusive = op == "le";
      } else {
        bad(where, "unknown bound \"" + op + "\" (gt, ge, lt, le)");
      }
    }
    rule.conditions.push_back(c);
  }
  if (rule.conditions.empty()) bad(where, "a rule needs at least one condition");
  return rule;
}

LabelMap parse_map(const std::string& name, const Json& m, uint8_t ignore) {
  const std::string where = "mapping \"" + name + "\"";
  if (!m.is_object()) bad(where, "must be an object");
  LabelMap map;
  map.name = name;
  map.ignore = ignore;
  map.description = need(m, "description", Kind::kString, where).get<std::string>();
  map.identity = m.contains("identity") && m.at("identity").is_boolean() && m.at("identity").get<bool>();
  if (map.identity) {
    map.class_names.resize(256);
    for (int code = 0; code < 256; ++code) {
      map.class_names[size_t(code)] = "class_" + std::to_string(code);
      map.from_asprs[size_t(code)] = uint8_t(code);
    }
    for (const auto& [key, value] : need(m, "class_names", Kind::kObject, where).items()) {
      if (!value.is_string() || value.get<std::string>().empty())
        bad(where, "class name of code " + key + " must be a non-empty string");
      map.class_names[size_t(code_key(key, where))] = value.get<std::string>();
    }
    map.default_label = 0;
    return map;
  }
  for (const Json& c : need(m, "classes", Kind::kArray, where)) {
    const std::string name = c.is_string() ? c.get<std::string>() : "";
    if (name.empty()) bad(where, "class names must be non-empty strings");
    for (const auto& other : map.class_names)
      if (other == name) bad(where, "class \"" + name + "\" is listed twice");
    map.class_names.push_back(name);
  }
  if (map.class_names.empty() || map.class_names.size() > 255)
    bad(where, "needs 1 to 255 classes (255 is the ignore label)");
  const int max_label = int(map.class_names.size()) - 1;
  const auto label_value = [&](const Json& v, const std::string& what) {
    const int label = integer(v, 0, 255, where + " " + what);
    if (label != ignore && label > max_label)
      bad(where, what + ": label " + std::to_string(label) + " is not a class (0-" +
                     std::to_string(max_label) + " or the ignore label " + std::to_string(ignore) +
                     ")");
    return uint8_t(label);
  };
  map.default_label = label_value(need(m, "default", Kind::kNumber, where), "default");
  map.from_asprs.fill(map.default_label);
  for (const auto& [key, value] : need(m, "from_asprs", Kind::kObject, where).items())
    map.from_asprs[size_t(code_key(key, where))] = label_value(value, "from_asprs." + key);
  if (m.contains("geometry")) {
    const Json& geometry = m.at("geometry");
    if (!geometry.is_array()) bad(where, "\"geometry\" must be an array");
    for (size_t i = 0; i < geometry.size(); ++i)
      map.geometry.push_back(
          parse_rule(geometry[i], map, where + " geometry[" + std::to_string(i) + "]"));
  }
  return map;
}

std::vector<LabelMap> load_maps() {
  Json doc;
  try {
    doc = Json::parse(detail::kLabelsJson);
  } catch (const Json::exception& e) {
    bad("document", e.what());
  }
  if (!doc.is_object()) bad("document", "must be an object");
  if (!doc.contains("format") || doc["format"] != "lidarhd-labels")
    bad("document", "\"format\" must be \"lidarhd-labels\"");
  if (integer(need(doc, "version", Kind::kNumber, "document"), 1, 1000, "version") != 1)
    bad("document", "unsupported version (this build reads version 1)");
  const uint8_t ignore =
      uint8_t(integer(need(doc, "ignore_label", Kind::kNumber, "document"), 0, 255, "ignore"));
  std::vector<LabelMap> maps;
  for (const auto& [name, m] : need(doc, "mappings", Kind::kObject, "document").items())
    maps.push_back(parse_map(name, m, ignore));
  if (maps.empty()) bad("document", "no mapping");
  return maps;
}

const std::vector<LabelMap>& all_maps() {
  static const std::vector<LabelMap> maps = load_maps();
  return maps;
}

// Bit f set when a rule for that code tests feature f.
std::array<uint8_t, 256> features_by_code(const LabelMap& map) {
  std::array<uint8_t, 256> used{};
  for (const GeometryRule& r : map.geometry)
    for (const LabelCondition& c : r.conditions) used[r.code] |= uint8_t(1u << int(c.feature));
  return used;
}

bool holds(const LabelCondition& c, double v) {
  const bool above = c.lower_inclusive ? v >= c.lower : v > c.lower;
  const bool below = c.upper_inclusive ? v <= c.upper : v < c.upper;
  return above && below;
}

void append_escaped(std::string& out, const std::string& s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

}  // namespace

const char* label_feature_name(LabelFeature f) {
  return f == LabelFeature::kPlanarity ? "planarity" : "normal_z";
}

std::vector<std::string> label_map_names() {
  std::vector<std::string> names;
  for (const LabelMap& m : all_maps()) names.push_back(m.name);
  return names;
}

LabelMap label_map(const std::string& name) {
  for (const LabelMap& m : all_maps())
    if (m.name == name) return m;
  std::string valid;
  for (const std::string& n : label_map_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw ArgumentError("labels", "unknown label mapping '" + name + "' (valid: " + valid + ")");
}

std::vector<std::string> required_features(const LabelMap& map) {
  uint8_t used = 0;
  for (const uint8_t u : features_by_code(map)) used |= u;
  std::vector<std::string> names;
  for (const LabelFeature f : {LabelFeature::kPlanarity, LabelFeature::kNormalZ})
    if (used & (1u << int(f))) names.push_back(label_feature_name(f));
  return names;
}

std::vector<uint8_t> unproduced_labels(const LabelMap& map) {
  std::vector<bool> produced(map.class_names.size(), false);
  const auto mark = [&](uint8_t label) {
    if (label < produced.size()) produced[label] = true;
  };
  for (const uint8_t label : map.from_asprs) mark(label);
  for (const GeometryRule& r : map.geometry) mark(r.label);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < produced.size(); ++i)
    if (!produced[i]) out.push_back(uint8_t(i));
  return out;
}

void apply_labels(const LabelMap& map, const uint8_t* classification, const float* planarity,
                  const float* normal_z, size_t n, uint8_t* labels) {
  const std::array<uint8_t, 256> used = features_by_code(map);
  const std::vector<std::string> needed = required_features(map);
  std::string missing;
  for (const std::string& f : n == 0 ? std::vector<std::string>{} : needed)
    if ((f == "planarity" && !planarity) || (f == "normal_z" && !normal_z))
      missing += (missing.empty() ? "" : " and ") + f;
  if (!missing.empty()) {
    std::string list;
    for (const std::string& f : needed) list += (list.empty() ? "" : ", ") + f;
    throw ArgumentError("labels", "label mapping '" + map.name + "' needs the features " + list +
                                      " (its geometry rules split building points); " + missing +
                                      " not given: add them to the feature list");
  }
  if (n > 0 && (!classification || !labels))
    throw ArgumentError("labels", "apply_labels: classification and labels must not be null");
  const float* column[2] = {planarity, normal_z};
  for (size_t i = 0; i < n; ++i) {
    const uint8_t code = classification[i];
    uint8_t label = map.from_asprs[code];
    if (used[code]) {
      // A missing or broken feature cannot say which part this is: ignore, never a guess.
      bool finite = true;
      for (int f = 0; f < 2; ++f)
        if ((used[code] & (1u << f)) && !std::isfinite(column[f][i])) finite = false;
      if (!finite) {
        label = map.ignore;
      } else {
        for (const GeometryRule& r : map.geometry) {
          if (r.code != code) continue;
          bool all = true;
          for (const LabelCondition& c : r.conditions)
            if (!holds(c, double(column[int(c.feature)][i]))) {
              all = false;
              break;
            }
          if (all) {
            label = r.label;
            break;
          }
        }
      }
    }
    labels[i] = label;
  }
}

std::string label_map_json(const LabelMap& map) {
  std::string out = "{\"name\": ";
  append_escaped(out, map.name);
  out += ", \"description\": ";
  append_escaped(out, map.description);
  out += ", \"num_classes\": " + std::to_string(map.class_names.size());
  out += ", \"class_names\": [";
  for (size_t i = 0; i < map.class_names.size(); ++i) {
    if (i) out += ", ";
    append_escaped(out, map.class_names[i]);
  }
  out += "], \"ignore_label\": " + std::to_string(map.ignore);
  out += std::string(", \"identity\": ") + (map.identity ? "true" : "false");
  if (!map.identity) {
    out += ", \"default_label\": " + std::to_string(map.default_label);
    out += ", \"from_asprs\": {";
    bool first = true;
    for (int code = 0; code < 256; ++code) {
      if (map.from_asprs[size_t(code)] == map.default_label) continue;
      out += (first ? "\"" : ", \"") + std::to_string(code) +
             "\": " + std::to_string(map.from_asprs[size_t(code)]);
      first = false;
    }
    out += "}";
  }
  out += ", \"geometry\": [";
  for (size_t i = 0; i < map.geometry.size(); ++i) {
    const GeometryRule& r = map.geometry[i];
    out += (i ? ", " : "") + std::string("{\"asprs\": ") + std::to_string(r.code) +
           ", \"label\": " + std::to_string(r.label) + ", \"when\": {";
    for (size_t j = 0; j < r.conditions.size(); ++j) {
      const LabelCondition& c = r.conditions[j];
      out += (j ? ", \"" : "\"") + std::string(label_feature_name(c.feature)) + "\": {";
      bool first = true;
      if (std::isfinite(c.lower)) {
        out += std::string(c.lower_inclusive ? "\"ge\": " : "\"gt\": ") + number(c.lower);
        first = false;
      }
      if (std::isfinite(c.upper))
        out += std::string(first ? "" : ", ") + (c.upper_inclusive ? "\"le\": " : "\"lt\": ") +
               number(c.upper);
      out += "}";
    }
    out += "}}";
  }
  out += "], \"not_produced\": [";
  const std::vector<uint8_t> none = unproduced_labels(map);
  for (size_t i = 0; i < none.size(); ++i) out += (i ? ", " : "") + std::to_string(none[i]);
  out += "]}";
  return out;
}

}  // namespace lidarhd::patches
