// `lidarhd info FILE`: what a LAS/LAZ/COPC file holds, and with --checksum the SHA-256 of every
// decoded record so users can check our decoder against any other.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "io/copc/copc.hpp"
#include "io/laz/laszip_vlr.hpp"
#include "lidarhd/core/point_stats.hpp"
#include "lidarhd/io/reader.hpp"
#include "util/sha256.hpp"

namespace lidarhd::cli {
namespace {

using json = nlohmann::ordered_json;

struct InfoOptions {
  std::string file;
  bool json = false;
  bool checksum = false;
  unsigned threads = 0;
};

const char* extra_type_name(io::ExtraType t) {
  static const char* names[] = {"bytes", "uint8", "int8",  "uint16", "int16",  "uint32",
                                "int32", "uint64", "int64", "float32", "float64"};
  const auto i = size_t(t);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

json header_json(const io::PointReader& reader) {
  const io::LasFileInfo& info = reader.info();
  const io::LasHeader& h = info.header;
  json j;
  j["file"] = info.path;
  j["file_size"] = info.file_size;
  j["version"] = std::to_string(h.version_major) + "." + std::to_string(h.version_minor);
  j["point_format"] = h.point_format;
  j["record_length"] = h.record_length;
  j["point_count"] = h.point_count;
  j["legacy_point_count"] = h.legacy_point_count;
  j["compressed"] = info.laszip.has_value();
  j["system_id"] = h.system_id;
  j["software"] = h.software;
  j["creation"] = {{"day", h.creation_day}, {"year", h.creation_year}};
  j["global_encoding"] = h.global_encoding;
  j["file_source_id"] = h.file_source_id;
  j["scale"] = h.scale;
  j["offset"] = h.offset;
  j["bounds"] = {{"min", h.min}, {"max", h.max}};
  j["points_by_return"] = h.points_by_return;
  j["crs"] = {{"epsg", info.crs.epsg},
              {"vertical_epsg", info.crs.vertical_epsg},
              {"name", info.crs.name},
              {"text", info.crs.to_string()},
              {"source", info.crs.source}};
  auto vlr_list = [](const std::vector<io::Vlr>& vlrs) {
    json a = json::array();
    for (const auto& v : vlrs)
      a.push_back({{"user_id", v.user_id},
                   {"record_id", v.record_id},
                   {"description", v.description},
                   {"size", v.data_size}});
    return a;
  };
  j["vlrs"] = vlr_list(info.vlrs);
  j["evlrs"] = vlr_list(info.evlrs);
  json dims = json::array();
  for (const auto& d : info.extra_dims) {
    json e = {{"name", d.name},         {"type", extra_type_name(d.type)},
              {"elements", d.elements}, {"offset", d.offset},
              {"size", d.size},         {"description", d.description}};
    if (d.has_scale()) e["scale"] = d.scale;
    if (d.has_offset()) e["offset_value"] = d.offset_value;
    if (d.no_data) e["no_data"] = *d.no_data;
    dims.push_back(e);
  }
  j["extra_dims"] = dims;
  if (info.laszip) {
    const auto& z = *info.laszip;
    json items = json::array();
    for (const auto& it : z.items)
      items.push_back({{"type", laz::item_type_name(it.type)}, {"size", it.size},
                       {"version", it.version}});
    j["laszip"] = {{"compressor", laz::compressor_name(z.compressor)},
                   {"version", std::to_string(z.version_major) + "." +
                                   std::to_string(z.version_minor) + "r" +
                                   std::to_string(z.version_revision)},
                   {"chunk_size", z.chunk_size},
                   {"variable_chunks", z.variable_chunks()},
                   {"chunks", reader.chunks().size()},
                   {"items", items}};
  }
  if (info.copc) {
    const auto& c = *info.copc;
    const auto nodes = reader.copc_nodes();
    int depth = 0;
    for (const auto& n : nodes) depth = std::max(depth, int(n.level));
    j["copc"] = {{"center", c.center},       {"halfsize", c.halfsize},
                 {"spacing", c.spacing},     {"gpstime", {c.gpstime_min, c.gpstime_max}},
                 {"nodes", nodes.size()},    {"max_depth", depth}};
  }
  return j;
}

// Streams every record once: digest, decoded bounds and class counts (the point_stats kernel).
json checksum_json(const InfoOptions& o, const io::LasFileInfo& info) {
  io::ReadOptions ro;
  ro.threads = o.threads;
  io::PointReader reader(o.file, ro);
  const auto t0 = std::chrono::steady_clock::now();
  util::Sha256 sha;
  std::vector<uint8_t> batch;
  std::vector<int32_t> x, y, z;
  std::vector<uint8_t> cls;
  const uint32_t rl = reader.record_length();
  const size_t cls_at = info.header.point_format >= 6 ? 16 : 15;
  const uint8_t cls_mask = info.header.point_format >= 6 ? 0xFF : 0x1F;
  PointStats total;
  uint64_t n;
  while ((n = reader.read_batch(batch, 1u << 20)) > 0) {
    sha.update(batch.data(), batch.size());
    x.resize(n), y.resize(n), z.resize(n), cls.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* r = batch.data() + i * rl;
      std::memcpy(&x[i], r, 4), std::memcpy(&y[i], r + 4, 4), std::memcpy(&z[i], r + 8, 4);
      cls[i] = r[cls_at] & cls_mask;
    }
    const PointStats s = compute_point_stats(x.data(), y.data(), z.data(), cls.data(), n);
    total.count += s.count;
    for (int a = 0; a < 3; ++a) {
      total.min[a] = std::min(total.min[a], s.min[a]);
      total.max[a] = std::max(total.max[a], s.max[a]);
    }
    for (int c = 0; c < 256; ++c) total.class_counts[c] += s.class_counts[c];
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json j;
  j["points_sha256"] = sha.hex_digest();
  j["decoded_points"] = total.count;
  j["decode_seconds"] = seconds;
  j["threads"] = o.threads;
  if (!total.empty()) {
    const auto& h = info.header;
    json mn = json::array(), mx = json::array();
    for (int a = 0; a < 3; ++a) {
      mn.push_back(total.min[a] * h.scale[a] + h.offset[a]);
      mx.push_back(total.max[a] * h.scale[a] + h.offset[a]);
    }
    j["decoded_bounds"] = {{"min", mn}, {"max", mx}};
  }
  json classes = json::object();
  for (int c = 0; c < 256; ++c)
    if (total.class_counts[c]) classes[std::to_string(c)] = total.class_counts[c];
  j["classification_counts"] = classes;
  return j;
}

void print_human(const json& j) {
  std::ostringstream s;
  s << j["file"].get<std::string>() << "\n";
  s << "  LAS " << j["version"].get<std::string>() << ", point format " << j["point_format"]
    << " (" << j["record_length"] << " bytes/point), " << j["point_count"] << " points"
    << (j["compressed"].get<bool>() ? ", LAZ" : "") << (j.contains("copc") ? ", COPC" : "")
    << "\n";
  s << "  CRS: " << j["crs"]["text"].get<std::string>();
  if (!j["crs"]["name"].get<std::string>().empty())
    s << " (" << j["crs"]["name"].get<std::string>() << ")";
  s << "\n  scale " << j["scale"].dump() << ", offset " << j["offset"].dump() << "\n";
  s << "  bounds (header): min " << j["bounds"]["min"].dump() << " max "
    << j["bounds"]["max"].dump() << "\n";
  s << "  software: " << j["software"].get<std::string>() << " / "
    << j["system_id"].get<std::string>() << "\n";
  s << "  VLRs (" << j["vlrs"].size() << "):";
  for (const auto& v : j["vlrs"])
    s << " " << v["user_id"].get<std::string>() << "/" << v["record_id"] << " (" << v["size"]
      << " B)";
  s << "\n";
  if (!j["evlrs"].empty()) {
    s << "  EVLRs (" << j["evlrs"].size() << "):";
    for (const auto& v : j["evlrs"])
      s << " " << v["user_id"].get<std::string>() << "/" << v["record_id"] << " (" << v["size"]
        << " B)";
    s << "\n";
  }
  if (j.contains("laszip")) {
    const auto& z = j["laszip"];
    s << "  LASzip " << z["version"].get<std::string>() << ", "
      << z["compressor"].get<std::string>() << ", "
      << (z["variable_chunks"].get<bool>() ? std::string("variable chunks")
                                           : "chunks of " + z["chunk_size"].dump())
      << ", " << z["chunks"] << " chunk(s), items:";
    for (const auto& it : z["items"])
      s << " " << it["type"].get<std::string>() << "(" << it["size"] << ",v" << it["version"]
        << ")";
    s << "\n";
  }
  if (j.contains("copc")) {
    const auto& c = j["copc"];
    s << "  COPC: center " << c["center"].dump() << ", halfsize " << c["halfsize"]
      << ", spacing " << c["spacing"] << ", " << c["nodes"] << " node(s), depth "
      << c["max_depth"] << "\n";
  }
  if (!j["extra_dims"].empty()) {
    s << "  extra dimensions:";
    for (const auto& d : j["extra_dims"])
      s << " " << d["name"].get<std::string>() << " (" << d["type"].get<std::string>() << ")";
    s << "\n";
  }
  if (j.contains("points_sha256")) {
    s << "  decoded " << j["decoded_points"] << " points in " << j["decode_seconds"]
      << " s with " << j["threads"] << " thread(s)\n";
    if (j.contains("decoded_bounds"))
      s << "  bounds (decoded): min " << j["decoded_bounds"]["min"].dump() << " max "
        << j["decoded_bounds"]["max"].dump() << "\n";
    s << "  classification counts: " << j["classification_counts"].dump() << "\n";
    s << "  points_sha256: " << j["points_sha256"].get<std::string>() << "\n";
  }
  std::cout << s.str();
}

void run_info(const InfoOptions& o) {
  io::PointReader reader(o.file);
  json j = header_json(reader);
  if (o.checksum) j.update(checksum_json(o, reader.info()));
  if (o.json) std::cout << j.dump(2) << "\n";
  else print_human(j);
}

}  // namespace

void register_info(CLI::App& app) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "info", "Describe a LAS/LAZ/COPC file: header, CRS, VLRs, LASzip items and chunks, COPC "
              "hierarchy, extra dimensions; optionally decode every point");
  cmd->add_option("file", opts->file, "LAS, LAZ or COPC file")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of text");
  cmd->add_flag("--checksum", opts->checksum,
                "Decode every point: SHA-256 of all records in file order (points_sha256), "
                "decoded bounds and classification counts");
  opts->threads = std::max(1u, std::thread::hardware_concurrency());
  cmd->add_option("--threads", opts->threads, "Threads decoding chunks in parallel (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  cmd->callback([opts] { run_info(*opts); });
}

}  // namespace lidarhd::cli
