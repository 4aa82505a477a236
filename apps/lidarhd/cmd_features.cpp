// `lidarhd features IN OUT`: per-point features (docs/features.md) of a LAS/LAZ/COPC tile,
// written as float32 extra dimensions of an enriched LAS/LAZ (one per feature, named as in the
// catalogue), with a run summary.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/features/catalog.hpp"
#include "lidarhd/features/features.hpp"
#include "lidarhd/io/reader.hpp"
#include "lidarhd/io/writer.hpp"

namespace lidarhd::cli {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kWriteBatch = uint64_t(1) << 18;

struct FeaturesCliOptions {
  std::string input, output;
  std::string set = "lod2";
  int k = 20;
  double radius = 0;
  std::string eigen_norm = "lambda1";
  std::string device = "cpu";
  unsigned threads = 0;
  std::string precision = "float32";
  double ground_cell = 1.0;
  int ground_class = 2;
  bool json = false;
};

bool ends_with_ci(const std::string& s, const std::string& tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - tail.size() + i])) != tail[i]) {
      return false;
    }
  }
  return true;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

const uint16_t* optional_u16(const io::PointTable& t, const char* name) {
  return t.has(name) ? t.column(name).data<uint16_t>() : nullptr;
}

bool is_ratio(features::Feature f) {
  using F = features::Feature;
  return f == F::kLinearity || f == F::kPlanarity || f == F::kSphericity ||
         f == F::kAnisotropy || f == F::kWallScore || f == F::kRoofScore;
}

// The extra dimension's description (32 bytes at most): unit, neighbourhood and, for the
// ratio features, the eigen_norm used (features.md asks the output to record it).
std::string describe(features::Feature f, const FeaturesCliOptions& o) {
  std::string d = features::feature_unit(f);
  d += o.radius > 0 ? " r=" + std::to_string(o.radius).substr(0, 4) : " k=" + std::to_string(o.k);
  if (is_ratio(f)) d += " norm=" + o.eigen_norm;
  return d.substr(0, 32);
}

void run_features(const FeaturesCliOptions& o) {
  const bool laz = ends_with_ci(o.output, ".laz");
  if (!laz && !ends_with_ci(o.output, ".las")) {
    throw ArgumentError("features", o.output + ": the output name must end in .las or .laz");
  }
  if (ends_with_ci(o.output, ".copc.laz")) {
    throw ArgumentError("features", o.output + ": writing COPC is not supported; use .laz");
  }
  features::FeatureOptions fo;
  fo.features = features::parse_feature_list(o.set);
  fo.k = o.k;
  if (o.radius > 0) {
    fo.neighborhood = features::Neighborhood::kRadius;
    fo.radius = o.radius;
    fo.max_k = features::kMaxNeighbors;
  }
  fo.eigen_norm = features::parse_eigen_norm(o.eigen_norm);
  fo.device = Device::parse(o.device);
  fo.threads = o.threads;
  if (o.precision == "float16") {
    fo.precision = features::Precision::kFloat16;
  } else if (o.precision != "float32") {
    throw ArgumentError("features", "--precision " + o.precision +
                                        " is not supported (float32 or float16)");
  }
  fo.ground_cell = o.ground_cell;
  fo.ground_class = static_cast<uint8_t>(o.ground_class);

  const auto t_read = Clock::now();
  io::ReadOptions ro;
  ro.threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  io::PointReader reader(o.input, ro);
  const io::LasFileInfo info = reader.info();
  for (const io::ExtraDim& d : info.extra_dims) {
    for (features::Feature f : fo.features) {
      if (d.name == features::feature_name(f)) {
        throw ArgumentError("features", o.input + " already has an extra dimension '" + d.name +
                                            "': write the features from the original tile");
      }
    }
  }
  const std::vector<uint8_t> records = reader.read_all_records();
  const uint64_t n = records.size() / std::max<uint32_t>(1, info.header.record_length);
  const io::PointTable table = io::records_to_table(info, records.data(), n);
  // Local origin before float32 (features.md): Lambert-93 northings do not fit a float.
  const features::LocalCoordinates local = features::to_local(
      table.column("X").data<int32_t>(), table.column("Y").data<int32_t>(),
      table.column("Z").data<int32_t>(), n, table.scale, table.offset);
  const double read_s = seconds_since(t_read);

  features::PointColumns pc;
  pc.x = local.x.data();
  pc.y = local.y.data();
  pc.z = local.z.data();
  pc.classification = table.column("classification").data<uint8_t>();
  pc.red = optional_u16(table, "red");
  pc.green = optional_u16(table, "green");
  pc.blue = optional_u16(table, "blue");
  pc.nir = optional_u16(table, "nir");
  pc.n = n;
  const features::FeatureTable ft = features::compute_features(pc, fo);
  const features::FeatureSummary& s = ft.summary;

  const auto t_write = Clock::now();
  io::WriteOptions wo;
  wo.compressed = laz;
  wo.threads = ro.threads;
  io::LasWriter writer(o.output, info, wo);
  std::vector<io::ExtraDim> dims;
  for (features::Feature f : fo.features) {
    io::ExtraDim d;
    d.name = features::feature_name(f);
    d.description = describe(f, o);
    d.type = io::ExtraType::kF32;
    dims.push_back(writer.add_extra_dim(d));
  }
  const io::RecordConverter conv(info, writer.header());
  const uint32_t in_len = info.header.record_length, out_len = writer.record_length();
  std::vector<uint8_t> out;
  std::vector<float> column_cache;
  for (uint64_t first = 0; first < n; first += kWriteBatch) {
    const uint64_t count = std::min(kWriteBatch, n - first);
    out.assign(count * out_len, 0);
    conv.convert(records.data() + first * in_len, count, out.data(), first);
    for (size_t j = 0; j < dims.size(); ++j) {
      for (uint64_t i = 0; i < count; ++i) {
        // LAS is little-endian, like every platform this builds for: a float32 extra
        // dimension without scale/offset is the float's own bytes.
        const float v = ft.value(j, first + i);
        std::memcpy(out.data() + i * out_len + dims[j].offset, &v, sizeof(v));
      }
    }
    writer.write_records(out.data(), count);
  }
  writer.close();
  const double write_s = seconds_since(t_write);

  const double rate = s.seconds > 0 ? static_cast<double>(n) / s.seconds : 0;
  json j;
  j["input"] = o.input;
  j["output"] = o.output;
  j["points"] = n;
  j["features"] = json::array();
  for (features::Feature f : fo.features) j["features"].push_back(features::feature_name(f));
  char radius[32];
  std::snprintf(radius, sizeof radius, "%g", o.radius);  // 0.7, not to_string's 0.700000
  j["neighborhood"] = o.radius > 0 ? "radius " + std::string(radius) + " m (max_k 64)"
                                   : "knn k=" + std::to_string(o.k);
  j["eigen_norm"] = o.eigen_norm;
  j["device"] = fo.device.to_string();
  j["precision"] = o.precision;
  j["origin"] = local.origin;
  j["read_seconds"] = read_s;
  j["compute_seconds"] = s.seconds;
  j["index_seconds"] = s.index_seconds;    // part of compute_seconds
  j["kernel_seconds"] = s.kernel_seconds;  // part of it too: device time on cuda
  j["write_seconds"] = write_s;
  j["points_per_second"] = rate;
  j["degenerate"] = s.degenerate;
  j["float64_fallback"] = s.float64_fallback;
  if (s.ground_requested) {
    j["ground_points"] = s.ground_points;
    j["ground_available"] = s.ground_available;
    j["ground_cell"] = s.ground_cell;
    j["points_without_ground"] = s.points_without_ground;
  }
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s -> %s\n", o.input.c_str(), o.output.c_str());
  std::printf("  %llu points, %zu features (%s), %s, eigen_norm %s, device %s, %s\n",
              static_cast<unsigned long long>(n), fo.features.size(), o.set.c_str(),
              j["neighborhood"].get<std::string>().c_str(), o.eigen_norm.c_str(),
              fo.device.to_string().c_str(), o.precision.c_str());
  std::printf("  read %.2f s, features %.3f s (%.2f M points/s; index %.3f s, kernel %.3f s%s), "
              "write %.2f s\n", read_s, s.seconds, rate / 1e6, s.index_seconds,
              s.kernel_seconds, fo.device.is_cuda() ? " of device time" : "", write_s);
  std::printf("  degenerate neighbourhoods: %llu; float64 re-solves: %llu\n",
              static_cast<unsigned long long>(s.degenerate),
              static_cast<unsigned long long>(s.float64_fallback));
  if (s.ground_requested) {
    if (!s.ground_available) {
      std::printf("  WARNING: no ground points (class %d) in this tile: height_above_ground is "
                  "NaN for every point\n", o.ground_class);
    } else {
      std::printf("  ground: %llu class-%d points, %.2f m grid; %llu points over cells without "
                  "ground points (interpolated)\n",
                  static_cast<unsigned long long>(s.ground_points), o.ground_class, s.ground_cell,
                  static_cast<unsigned long long>(s.points_without_ground));
    }
  }
}

}  // namespace

void register_features(CLI::App& app) {
  auto o = std::make_shared<FeaturesCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "features",
      "Per-point geometric features (docs/features.md) written as float32 extra dimensions");
  cmd->add_option("input", o->input, "LAS, LAZ or COPC tile")->required()->check(CLI::ExistingFile);
  cmd->add_option("output", o->output, "Enriched tile; .las writes uncompressed, .laz LAZ")
      ->required();
  cmd->add_option("--set", o->set,
                  "Feature set (minimal, lod2, lod3, full) or comma-separated feature names "
                  "(default: lod2)");
  auto* k = cmd->add_option("--k", o->k, "Neighbours per point, the point included (default 20)")
                ->check(CLI::Range(1, features::kMaxNeighbors));
  auto* r = cmd->add_option("--radius", o->radius,
                            "Radius neighbourhood in metres (at most 64 nearest) instead of k")
                ->check(CLI::PositiveNumber);
  k->excludes(r);
  cmd->add_option("--eigen-norm", o->eigen_norm,
                  "Ratio normalisation: lambda1 (default), sum or sqrt (PDAL's)")
      ->check(CLI::IsMember({"lambda1", "sum", "sqrt"}));
  cmd->add_option("--device", o->device, "cpu (default), cuda or cuda:N");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)")
      ->check(CLI::Range(0u, 1024u));
  cmd->add_option("--precision", o->precision,
                  "Feature storage while computing: float32 (default) or float16 (half the "
                  "memory; values rounded to 11 significant bits, still written as float32)")
      ->check(CLI::IsMember({"float32", "float16"}));
  cmd->add_option("--ground-cell", o->ground_cell,
                  "Ground grid cell for height_above_ground, metres (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ground-class", o->ground_class, "Ground class code (default 2)")
      ->check(CLI::Range(0, 255));
  cmd->add_flag("--json", o->json, "Print the run summary as one JSON object");
  cmd->callback([o] { run_features(*o); });
}

}  // namespace lidarhd::cli
