// Config loading with yaml-cpp: every layer is a YAML tree merged onto the defaults' tree, keys
// checked against it; the merged tree is then read into the typed Config and validated.
#include "lidarhd/pipeline/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "lidarhd/core/error.hpp"
#include "lidarhd/features/catalog.hpp"

namespace lidarhd::pipeline {
namespace {

// Overlays per preset: feature set and label mapping (docs/pipeline.md explains the choice).
const std::map<std::string, std::string>& presets() {
  static const std::map<std::string, std::string> p = {
      {"minimal", "features: {set: minimal}\nlabels: asprs\n"},
      {"lod2", "features: {set: lod2}\nlabels: lod2\n"},
      {"lod3", "features: {set: lod3}\nlabels: lod3\n"},
      {"full", "features: {set: full}\nlabels: lod3\n"},
      {"asprs", "features: {set: lod2}\nlabels: asprs\n"},
  };
  return p;
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ArgumentError("config", where + ": " + what);
}

std::string keys_of(const YAML::Node& map) {
  std::string out;
  for (const auto& kv : map) out += (out.empty() ? "" : ", ") + kv.first.as<std::string>();
  return out;
}

// Copies `over` onto `base`, refusing keys the defaults do not have.
void merge(YAML::Node base, const YAML::Node& over, const std::string& where,
           const std::string& prefix) {
  if (!over || over.IsNull()) return;
  if (!over.IsMap()) fail(where, (prefix.empty() ? "the document" : "'" + prefix + "'") + " must be a mapping");
  for (const auto& kv : over) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    bool known = false;
    for (const auto& b : base) known = known || b.first.as<std::string>() == key;
    if (!known) fail(where, "unknown key '" + path + "' (valid here: " + keys_of(base) + ")");
    YAML::Node slot = base[key];
    if (slot.IsMap()) {
      merge(slot, kv.second, where, path);
    } else {
      if (kv.second.IsMap()) fail(where, "'" + path + "' takes a value, not a mapping");
      base[key] = kv.second;
    }
  }
}

template <class T>
T get(const YAML::Node& root, const std::string& path) {
  YAML::Node node = YAML::Clone(root);
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    node = node[path.substr(start, dot == std::string::npos ? dot : dot - start)];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    fail("key '" + path + "'", "cannot read '" + YAML::Dump(node) + "' as the expected type");
  }
}

YAML::Node parse(const std::string& text, const std::string& where) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(where, std::string("invalid YAML: ") + e.what());
  }
}

void check_member(const std::string& key, const std::string& value,
                  const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), value) != valid.end()) return;
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  fail("key '" + key + "'", "'" + value + "' is not one of " + list);
}

void validate(const Config& c) {
  check_member("mode", c.mode, {"patches", "enriched", "both"});
  check_member("colors.method", c.colors.method, {"nearest", "bilinear"});
  check_member("patches.sampling", c.patches.sampling, {"random", "fps", "voxel"});
  check_member("patches.normalize", c.patches.normalize, {"none", "center", "unit_sphere"});
  check_member("patches.format", c.patches.format, {"npz", "hdf5", "laz"});
  check_member("features.eigen_norm", c.features.eigen_norm, {"lambda1", "sum", "sqrt"});
  features::parse_feature_list(c.features.set);  // throws naming the valid names
  if (c.features.k < 1 || c.features.k > 64) fail("key 'features.k'", "must be 1-64");
  if (c.features.radius < 0) fail("key 'features.radius'", "must be >= 0");
  if (!(c.patches.size > 0)) fail("key 'patches.size'", "must be > 0");
  if (!(c.patches.overlap >= 0 && c.patches.overlap < 1)) fail("key 'patches.overlap'", "must be in [0, 1)");
  if (c.patches.num_points < 1) fail("key 'patches.num_points'", "must be >= 1");
  if (!(c.patches.voxel_size > 0)) fail("key 'patches.voxel_size'", "must be > 0");
  if (c.patches.augment.copies < 0) fail("key 'patches.augment.copies'", "must be >= 0");
  if (!(c.patches.augment.dropout >= 0 && c.patches.augment.dropout < 1))
    fail("key 'patches.augment.dropout'", "must be in [0, 1)");
  if (!(c.halo >= 0)) fail("key 'halo'", "must be >= 0");
  if (!(c.split.train >= 0 && c.split.val >= 0 && c.split.train + c.split.val <= 1))
    fail("key 'split'", "train and val must be >= 0 with train + val <= 1");
  if (!(c.colors.fill >= 0 && c.colors.fill <= 255)) fail("key 'colors.fill'", "must be 0-255");
}

Config from_node(const YAML::Node& n) {
  Config c;
  c.preset = get<std::string>(n, "preset");
  c.mode = get<std::string>(n, "mode");
  c.features.set = get<std::string>(n, "features.set");
  c.features.k = get<int>(n, "features.k");
  c.features.radius = get<double>(n, "features.radius");
  c.features.eigen_norm = get<std::string>(n, "features.eigen_norm");
  c.colors.rgb = get<std::string>(n, "colors.rgb");
  c.colors.irc = get<std::string>(n, "colors.irc");
  c.colors.method = get<std::string>(n, "colors.method");
  c.colors.cache = get<std::string>(n, "colors.cache");
  c.colors.offline = get<bool>(n, "colors.offline");
  c.colors.raster_crs = get<std::string>(n, "colors.raster_crs");
  c.colors.fill = get<double>(n, "colors.fill");
  c.labels = get<std::string>(n, "labels");
  c.patches.size = get<double>(n, "patches.size");
  c.patches.overlap = get<double>(n, "patches.overlap");
  c.patches.min_points = get<uint64_t>(n, "patches.min_points");
  c.patches.num_points = get<uint32_t>(n, "patches.num_points");
  c.patches.sampling = get<std::string>(n, "patches.sampling");
  c.patches.voxel_size = get<double>(n, "patches.voxel_size");
  c.patches.normalize = get<std::string>(n, "patches.normalize");
  c.patches.format = get<std::string>(n, "patches.format");
  c.patches.augment.copies = get<int>(n, "patches.augment.copies");
  c.patches.augment.rotate = get<bool>(n, "patches.augment.rotate");
  c.patches.augment.jitter_sigma = get<double>(n, "patches.augment.jitter_sigma");
  c.patches.augment.jitter_clip = get<double>(n, "patches.augment.jitter_clip");
  c.patches.augment.scale_min = get<double>(n, "patches.augment.scale_min");
  c.patches.augment.scale_max = get<double>(n, "patches.augment.scale_max");
  c.patches.augment.dropout = get<double>(n, "patches.augment.dropout");
  c.split.train = get<double>(n, "split.train");
  c.split.val = get<double>(n, "split.val");
  c.halo = get<double>(n, "halo");
  c.seed = get<uint64_t>(n, "seed");
  c.device = get<std::string>(n, "device");
  c.threads = get<unsigned>(n, "threads");
  return c;
}

}  // namespace

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names = {"minimal", "lod2", "lod3", "full", "asprs"};
  return names;
}

std::string preset_yaml(const std::string& name) {
  const auto it = presets().find(name);
  if (it == presets().end()) {
    std::string list;
    for (const auto& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
    throw ArgumentError("config", "unknown preset '" + name + "' (valid: " + list + ")");
  }
  return it->second;
}

Config load_config(const std::string& preset, const std::string& file,
                   const std::vector<std::string>& overrides) {
  YAML::Node root = YAML::Load(to_yaml(Config{}));
  YAML::Node from_file;
  if (!file.empty()) {
    if (!std::filesystem::is_regular_file(file)) throw IoError("config", file + ": no such file");
    try {
      from_file = YAML::LoadFile(file);
    } catch (const YAML::Exception& e) {
      fail(file, std::string("invalid YAML: ") + e.what());
    }
  }
  // The preset: the command line's, else the file's, else the default's.
  std::string name = preset;
  if (name.empty() && from_file && from_file.IsMap() && from_file["preset"]) {
    name = from_file["preset"].as<std::string>();
  }
  if (name.empty()) name = root["preset"].as<std::string>();
  merge(root, parse(preset_yaml(name), "preset " + name), "preset " + name, "");
  merge(root, from_file, file, "");
  root["preset"] = name;
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0) fail("--set " + o, "expected key=value (e.g. patches.size=100)");
    // a.b.c=v -> {a: {b: {c: v}}}
    YAML::Node value = parse(o.substr(eq + 1), "--set " + o);
    const std::string key = o.substr(0, eq);
    std::vector<std::string> parts;
    for (size_t s = 0, d; ; s = d + 1) {
      d = key.find('.', s);
      parts.push_back(key.substr(s, d == std::string::npos ? d : d - s));
      if (d == std::string::npos) break;
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      YAML::Node wrap;
      wrap[*it] = value;
      value = wrap;
    }
    merge(root, value, "--set " + o, "");
  }
  const Config c = from_node(root);
  validate(c);
  return c;
}

std::string to_yaml(const Config& c) {
  YAML::Emitter e;
  e.SetDoublePrecision(15);  // 0.1, not 0.10000000000000001
  e << YAML::BeginMap;
  e << YAML::Key << "preset" << YAML::Value << c.preset;
  e << YAML::Key << "mode" << YAML::Value << c.mode;
  e << YAML::Key << "features" << YAML::Value << YAML::BeginMap
    << YAML::Key << "set" << YAML::Value << c.features.set
    << YAML::Key << "k" << YAML::Value << c.features.k
    << YAML::Key << "radius" << YAML::Value << c.features.radius
    << YAML::Key << "eigen_norm" << YAML::Value << c.features.eigen_norm << YAML::EndMap;
  e << YAML::Key << "colors" << YAML::Value << YAML::BeginMap
    << YAML::Key << "rgb" << YAML::Value << c.colors.rgb
    << YAML::Key << "irc" << YAML::Value << c.colors.irc
    << YAML::Key << "method" << YAML::Value << c.colors.method
    << YAML::Key << "cache" << YAML::Value << c.colors.cache
    << YAML::Key << "offline" << YAML::Value << c.colors.offline
    << YAML::Key << "raster_crs" << YAML::Value << c.colors.raster_crs
    << YAML::Key << "fill" << YAML::Value << c.colors.fill << YAML::EndMap;
  e << YAML::Key << "labels" << YAML::Value << c.labels;
  const AugmentConfig& a = c.patches.augment;
  e << YAML::Key << "patches" << YAML::Value << YAML::BeginMap
    << YAML::Key << "size" << YAML::Value << c.patches.size
    << YAML::Key << "overlap" << YAML::Value << c.patches.overlap
    << YAML::Key << "min_points" << YAML::Value << c.patches.min_points
    << YAML::Key << "num_points" << YAML::Value << c.patches.num_points
    << YAML::Key << "sampling" << YAML::Value << c.patches.sampling
    << YAML::Key << "voxel_size" << YAML::Value << c.patches.voxel_size
    << YAML::Key << "normalize" << YAML::Value << c.patches.normalize
    << YAML::Key << "format" << YAML::Value << c.patches.format
    << YAML::Key << "augment" << YAML::Value << YAML::BeginMap
    << YAML::Key << "copies" << YAML::Value << a.copies
    << YAML::Key << "rotate" << YAML::Value << a.rotate
    << YAML::Key << "jitter_sigma" << YAML::Value << a.jitter_sigma
    << YAML::Key << "jitter_clip" << YAML::Value << a.jitter_clip
    << YAML::Key << "scale_min" << YAML::Value << a.scale_min
    << YAML::Key << "scale_max" << YAML::Value << a.scale_max
    << YAML::Key << "dropout" << YAML::Value << a.dropout << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "split" << YAML::Value << YAML::BeginMap
    << YAML::Key << "train" << YAML::Value << c.split.train
    << YAML::Key << "val" << YAML::Value << c.split.val << YAML::EndMap;
  e << YAML::Key << "halo" << YAML::Value << c.halo;
  e << YAML::Key << "seed" << YAML::Value << c.seed;
  e << YAML::Key << "device" << YAML::Value << c.device;
  e << YAML::Key << "threads" << YAML::Value << c.threads;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace lidarhd::pipeline
