// Writing a synthetic scene: LAS 1.4 / PDRF 6 header with the Lambert-93 WKT, records streamed
// from generate_points() into LasWriter (LAZ or LAS by the file name).
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/writer.hpp"
#include "lidarhd/synth/scene.hpp"

namespace lidarhd::synth {

const char* const kLambert93Wkt =
    "PROJCS[\"RGF93 v1 / Lambert-93\",GEOGCS[\"RGF93 v1\",DATUM[\"Reseau_Geodesique_Francais_"
    "1993_v1\",SPHEROID[\"GRS 1980\",6378137,298.257222101,AUTHORITY[\"EPSG\",\"7019\"]],"
    "AUTHORITY[\"EPSG\",\"6171\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],"
    "UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\","
    "\"4171\"]],PROJECTION[\"Lambert_Conformal_Conic_2SP\"],PARAMETER[\"latitude_of_origin\","
    "46.5],PARAMETER[\"central_meridian\",3],PARAMETER[\"standard_parallel_1\",49],"
    "PARAMETER[\"standard_parallel_2\",44],PARAMETER[\"false_easting\",700000],"
    "PARAMETER[\"false_northing\",6600000],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],"
    "AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"2154\"]]";

namespace {

bool ends_with_ci(const std::string& s, const std::string& tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - tail.size() + i])) != tail[i])
      return false;
  return true;
}

// Day of year and year of an adjusted standard GPS time (GPS seconds - 1e9; GPS epoch
// 1980-01-06). Leap seconds are ignored: a day's precision is all a LAS header holds.
void gps_date(double adjusted, uint16_t& day_of_year, uint16_t& year) {
  int64_t days = int64_t(std::floor((adjusted + 1e9) / 86400.0)) + 5;  // days since 1980-01-01
  int y = 1980;
  for (;;) {
    const int len = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365;
    if (days < len) break;
    days -= len;
    ++y;
  }
  day_of_year = uint16_t(days + 1);
  year = uint16_t(y);
}

}  // namespace

SceneReport write_scene(const Scene& scene, const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  io::WriteOptions wo;
  if (ends_with_ci(path, ".copc.laz"))
    throw ArgumentError("synth", path +
                                     ": writing COPC is not supported; name the output .laz "
                                     "or .las");
  if (ends_with_ci(path, ".laz"))
    wo.compressed = true;
  else if (!ends_with_ci(path, ".las"))
    throw ArgumentError("synth", path + ": the output name must end in .laz (compressed) or .las");
  wo.version_minor = 4;
  wo.threads = std::max(1u, scene.options.threads);

  io::LasFileInfo info = io::make_las_info(6, {0.01, 0.01, 0.01}, {0, 0, 0});
  io::LasHeader& h = info.header;
  h.system_id = "lidarhd synth";
  h.global_encoding = 0x11;  // adjusted standard GPS time, WKT CRS
  // The acquisition day, not today: the same options must give the same bytes.
  gps_date(scene.gps_start, h.creation_day, h.creation_year);
  io::Vlr wkt;
  wkt.user_id = "LASF_Projection";
  wkt.record_id = 2112;
  wkt.description = "OGC WKT Coordinate System";
  const std::string text = kLambert93Wkt;
  wkt.data.assign(text.begin(), text.end());
  wkt.data.push_back(0);
  wkt.data_size = wkt.data.size();
  info.vlrs.push_back(std::move(wkt));

  io::LasWriter writer(path, info, wo);
  SceneReport report;
  generate_points(scene, [&](const uint8_t* records, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) ++report.by_class[records[i * 30 + 16]];
    writer.write_records(records, n);
    report.points += n;
  });
  writer.close();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  report.file_bytes = ec ? 0 : uint64_t(bytes);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

SceneReport write_scene(const SceneOptions& options, const std::string& path) {
  return write_scene(build_scene(options), path);
}

}  // namespace lidarhd::synth
