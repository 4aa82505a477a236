// A patch as LAS 1.4 / LAZ: world coordinates, classification, colours in the standard fields
// and the features and the training label as extra dimensions, so that a patch opens in any LAS
// viewer (CloudCompare, QGIS) with its labels. No external dependency.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/writer.hpp"
#include "lidarhd/patches/dataset.hpp"

namespace lidarhd::patches {
namespace {

// laspy's names of the standard dimensions of point formats 6-8: an extra dimension must not
// reuse one (laspy refuses such files).
const char* const kStandardNames[] = {"x",
                                      "y",
                                      "z",
                                      "intensity",
                                      "return_number",
                                      "number_of_returns",
                                      "synthetic",
                                      "key_point",
                                      "withheld",
                                      "overlap",
                                      "scanner_channel",
                                      "scan_direction_flag",
                                      "edge_of_flight_line",
                                      "classification",
                                      "user_data",
                                      "scan_angle",
                                      "point_source_id",
                                      "gps_time",
                                      "red",
                                      "green",
                                      "blue",
                                      "nir",
                                      "classification_flags",
                                      "label"};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// IGN's convention: the 8-bit colour times 256 (value = 8-bit / 255 in [0,1]).
uint16_t colour16(float v) {
  if (!(v > 0)) return 0;  // also NaN
  return uint16_t(std::lround(std::min(v, 1.0f) * 255.0f) * 256);
}

template <class T>
void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));  // little-endian hosts only (io/las/le_bytes.hpp)
}

}  // namespace

void write_patch_laz(const std::string& path, const PatchRecord& r,
                     const std::array<double, 3>& scale, const std::string& crs_wkt) {
  validate_patch(r);
  const size_t n = r.size();
  const size_t c = r.feature_names.size();
  if (r.world_xyz.size() != 3 * n)
    throw ArgumentError("dataset",
                        path + ": a LAZ patch needs world coordinates (world_xyz: N x 3 = " +
                            std::to_string(3 * n) + " values, got " +
                            std::to_string(r.world_xyz.size()) + ")");
  const bool compressed = io::output_is_laz(path, "dataset");

  // Colour columns: the record's, else the colour features of the same name.
  const auto feature_index = [&](const char* name) -> long {
    for (size_t j = 0; j < c; ++j)
      if (r.feature_names[j] == name) return long(j);
    return -1;
  };
  const long fr = feature_index("red"), fg = feature_index("green"), fb = feature_index("blue");
  const long fn = feature_index("nir");
  const bool has_rgb = !r.rgb.empty() || (fr >= 0 && fg >= 0 && fb >= 0);
  const bool has_nir = !r.nir.empty() || fn >= 0;
  const uint8_t pdrf = has_nir ? 8 : has_rgb ? 7 : 6;

  std::array<double, 3> offset{0, 0, 0};
  if (n > 0) {
    for (int a = 0; a < 3; ++a) {
      double lo = r.world_xyz[size_t(a)];
      for (size_t i = 1; i < n; ++i) lo = std::min(lo, r.world_xyz[i * 3 + size_t(a)]);
      offset[size_t(a)] = std::isfinite(lo) ? std::floor(lo) : 0.0;
    }
  }
  io::LasFileInfo info = io::make_las_info(pdrf, scale, offset);
  info.header.system_id = "lidarhd patch";
  if (!crs_wkt.empty()) {
    io::Vlr wkt;
    wkt.user_id = "LASF_Projection";
    wkt.record_id = 2112;
    wkt.description = "OGC WKT Coordinate System";
    wkt.data.assign(crs_wkt.begin(), crs_wkt.end());
    wkt.data.push_back(0);
    wkt.data_size = wkt.data.size();
    info.vlrs.push_back(std::move(wkt));
  }
  io::WriteOptions wo;
  wo.compressed = compressed;
  wo.version_minor = 4;
  io::LasWriter writer(path, info, wo);

  // Extra dimensions: every feature not held by a standard field, ndvi when it is not a
  // feature, then the label.
  struct Column {
    io::ExtraDim dim;
    const float* values;  // strided
    size_t stride;
  };
  std::vector<Column> columns;
  const auto add = [&](const std::string& name, const std::string& description, const float* values,
                       size_t stride) {
    const std::string low = lower(name);
    for (const char* s : kStandardNames)
      if (low == s)
        throw ArgumentError("dataset", path + ": feature '" + name +
                                           "' has the name of a standard LAS dimension; "
                                           "rename it for LAZ patches");
    io::ExtraDim d;
    d.name = name;
    d.description = description;
    d.type = io::ExtraType::kF32;
    columns.push_back({writer.add_extra_dim(d), values, stride});
  };
  for (size_t j = 0; j < c; ++j) {
    const long jj = long(j);
    if ((jj == fr || jj == fg || jj == fb) && has_rgb) continue;
    if (jj == fn && has_nir) continue;
    add(r.feature_names[j], "feature", r.features.data() + j, c);
  }
  if (!r.ndvi.empty() && feature_index("ndvi") < 0) add("ndvi", "NDVI", r.ndvi.data(), 1);
  io::ExtraDim label;
  label.name = "label";
  label.description = "training label";
  label.type = io::ExtraType::kU8;
  label = writer.add_extra_dim(label);

  const size_t len = writer.record_length();
  std::vector<uint8_t> records(n * len, 0);
  for (size_t i = 0; i < n; ++i) {
    uint8_t* rec = records.data() + i * len;
    for (int a = 0; a < 3; ++a)
      put<int32_t>(rec + 4 * a, io::to_stored(r.world_xyz[i * 3 + size_t(a)], scale[size_t(a)],
                                              offset[size_t(a)], "xyz"[a]));
    rec[14] = 0x11;  // return 1 of 1
    rec[16] = r.classification[i];
    if (has_rgb) {
      for (int b = 0; b < 3; ++b) {
        const long f = b == 0 ? fr : b == 1 ? fg : fb;
        const float v = r.rgb.empty() ? r.features[i * c + size_t(f)] : r.rgb[i * 3 + size_t(b)];
        put<uint16_t>(rec + 30 + 2 * b, colour16(v));
      }
    }
    if (has_nir)
      put<uint16_t>(rec + 36, colour16(r.nir.empty() ? r.features[i * c + size_t(fn)] : r.nir[i]));
    for (const Column& col : columns) put<float>(rec + col.dim.offset, col.values[i * col.stride]);
    rec[label.offset] = r.labels[i];
  }
  writer.write_records(records.data(), n);
  writer.close();
}

}  // namespace lidarhd::patches
